#include "ir/passes.h"

#include "bytecode/operands.h"
#include "bytecode/semantics.h"

#include <cmath>
#include <cstring>
#include <map>
#include <optional>

namespace ved::ir {

using bytecode::kNoRegister;

bool is_terminator(Op op) { return bytecode::op_info(op).terminator; }

std::vector<uint32_t> successors(const Instr& t) {
  // YIELD and ADVANCE end a slice: the next one starts at a slice entry, which is a root
  // of its own (remove_unreachable_blocks), not a successor within the slice.
  const bytecode::Successors s = bytecode::successors_of(t);
  return std::vector<uint32_t>(s.begin(), s.end());
}

namespace {

void retarget(Instr& t, const std::vector<uint32_t>& renumber) {
  bytecode::rename_blocks(t, [&](uint32_t block) { return renumber[block]; });
}

// The registers an instruction reads (bytecode/operands.h), as pointers into it for
// single operands, and as a range [first, first + count).
struct Reads {
  std::vector<uint32_t*> single;
  uint32_t range_first = 0;
  uint32_t range_count = 0;
};

Reads reads_of(Instr& i) {
  const bytecode::OperandRoles roles = bytecode::operand_roles(i.op);
  Reads r;
  if (roles.reads_a && !(roles.a_may_be_absent && i.a == kNoRegister)) r.single.push_back(&i.a);
  if (roles.reads_b) r.single.push_back(&i.b);
  if (roles.reads_c) r.single.push_back(&i.c);
  if (roles.reads_range) {
    r.range_first = i.b;
    r.range_count = roles.range_of_pairs ? 2 * i.c : i.c;
  }
  return r;
}

// The register an instruction writes (or updates in place, or empties), if any.
std::optional<uint32_t> write_of(const Instr& i) {
  const bytecode::OperandRoles roles = bytecode::operand_roles(i.op);
  if (roles.writes_a || roles.updates_a || roles.kills_a) return i.a;
  return std::nullopt;
}

// Updated in place: read as well as written.
bool updates_in_place(Op op) { return bytecode::operand_roles(op).updates_a; }

// No side effect, no fault, no fuel beyond its block's: safe to delete when unused.
bool removable(Op op) {
  switch (op) {
    case Op::MOVE: case Op::LOAD_CONST: case Op::LOAD_INT: case Op::LOAD_BOOL: case Op::LOAD_NONE:
    case Op::LOAD_UNIT: case Op::WRAP: case Op::ADD_F64: case Op::SUB_F64: case Op::MUL_F64: case Op::NEG_F64:
    case Op::I2F: case Op::EQ_I64: case Op::LT_I64: case Op::LE_I64: case Op::EQ_F64: case Op::LT_F64:
    case Op::LE_F64: case Op::EQ_STR: case Op::LT_STR: case Op::LE_STR: case Op::EQ_ANY: case Op::NOT:
    case Op::IS_NONE: case Op::CONCAT: case Op::LIST_NEW: case Op::LEN: case Op::MAP_NEW: case Op::RECORD_NEW:
    case Op::FIELD_GET: case Op::STATE_GET: case Op::TICK: case Op::INTENT_NEW: case Op::LIST_APPEND:
    case Op::MAP_HAS:
      return true;
    default: return false;
  }
}

// What the folder knows of a register: a scalar constant (bytecode/semantics.h).
using Known = bytecode::semantics::Scalar;

}  // namespace

// Blocks are reached from the first slice's entry, and from the entry of each slice that a
// reached YIELD or ADVANCE names. A slice no reached instruction names can never run (a
// `yield` after `assert false`): its code is dropped and its entry becomes a lone END, so
// the slice table keeps its shape and no code is left that reads registers no path wrote
// (the verifier would rightly refuse it).
void remove_unreachable_blocks(Function& f) {
  std::vector<bool> seen(f.blocks.size(), false);
  std::vector<bool> slice_reached(f.slice_entries.size(), false);
  std::vector<uint32_t> work;
  auto reach_slice = [&](uint32_t k) {
    if (k < slice_reached.size() && !slice_reached[k]) {
      slice_reached[k] = true;
      work.push_back(f.slice_entries[k]);
    }
  };
  reach_slice(0);
  while (!work.empty()) {
    uint32_t b = work.back();
    work.pop_back();
    if (seen[b]) continue;
    seen[b] = true;
    const auto& code = f.blocks[b].code;
    if (code.empty() || !is_terminator(code.back().op)) continue;
    for (uint32_t s : successors(code.back())) work.push_back(s);
    if (code.back().op == Op::YIELD || code.back().op == Op::ADVANCE) reach_slice(code.back().d);
  }
  for (size_t k = 1; k < f.slice_entries.size(); ++k) {
    if (slice_reached[k]) continue;
    const Span span = f.blocks[f.slice_entries[k]].code.empty() ? Span{} : f.blocks[f.slice_entries[k]].code.front().span;
    Block never;
    never.code.push_back(Instr{Op::END, 0, 0, 0, 0, span});
    f.slice_entries[k] = static_cast<uint32_t>(f.blocks.size());
    f.blocks.push_back(std::move(never));
    seen.push_back(true);
  }
  std::vector<uint32_t> renumber(f.blocks.size(), 0);
  std::vector<Block> kept;
  for (size_t b = 0; b < f.blocks.size(); ++b) {
    if (!seen[b]) continue;
    renumber[b] = static_cast<uint32_t>(kept.size());
    kept.push_back(std::move(f.blocks[b]));
  }
  for (Block& b : kept) retarget(b.code.back(), renumber);
  for (uint32_t& e : f.slice_entries) e = renumber[e];
  f.blocks = std::move(kept);
}

void fold_constants(Module& m, Function& f) {
  TypeTable& T = m.types;
  for (Block& block : f.blocks) {
    std::map<uint32_t, Known> known;
    auto get = [&](uint32_t r) -> const Known* {
      auto it = known.find(r);
      return it == known.end() ? nullptr : &it->second;
    };
    auto load_int = [&](Instr& i, int64_t v) {
      if (v >= INT32_MIN && v <= INT32_MAX) {
        i = Instr{Op::LOAD_INT, i.a, 0, 0, static_cast<uint32_t>(static_cast<int32_t>(v)), i.span};
      } else {
        Constant c;
        c.i = v;
        i = Instr{Op::LOAD_CONST, i.a, 0, 0, m.add_constant(c), i.span};
      }
    };
    auto load_float = [&](Instr& i, double v) {
      Constant c;
      c.kind = Constant::Kind::Float;
      c.f = v;
      i = Instr{Op::LOAD_CONST, i.a, 0, 0, m.add_constant(c), i.span};
    };
    auto load_bool = [&](Instr& i, bool v) { i = Instr{Op::LOAD_BOOL, i.a, 0, 0, v ? 1u : 0u, i.span}; };
    for (Instr& i : block.code) {
      // The operation itself is evaluated by the one definition the interpreter runs
      // (bytecode/semantics.h); an instruction that would fault is left in place, so that
      // it faults at run time, where and when the interpreter would.
      const Known* x = nullptr;
      const Known* y = nullptr;
      if (i.op != Op::LOAD_CONST && i.op != Op::LOAD_INT && i.op != Op::LOAD_BOOL) {
        x = get(i.b);
        y = get(i.c);
      }
      switch (i.op) {
        case Op::ADD_I64: case Op::SUB_I64: case Op::MUL_I64: case Op::DIV_I64: case Op::REM_I64:
        case Op::NEG_I64: case Op::ADD_F64: case Op::SUB_F64: case Op::MUL_F64: case Op::NEG_F64:
        case Op::I2F: case Op::EQ_I64: case Op::LT_I64: case Op::LE_I64: case Op::EQ_F64: case Op::LT_F64:
        case Op::LE_F64: case Op::NOT: {
          // Unary operations ignore y; a binary one needs both operands known.
          const bool unary = bytecode::op_info(i.op).layout == bytecode::Layout::RR;
          if (!x || (!unary && !y)) break;
          auto e = bytecode::semantics::evaluate(i.op, *x, unary ? *x : *y);
          if (!e || e->fault != bytecode::FaultKind::None) break;
          switch (e->value.kind) {
            case Known::Kind::Int: load_int(i, e->value.i); break;
            case Known::Kind::Float: load_float(i, e->value.f); break;
            case Known::Kind::Bool: load_bool(i, e->value.b); break;
          }
          break;
        }
        case Op::JMP_IF:
          if (const Known* c = get(i.a); c && c->kind == Known::Kind::Bool)
            i = Instr{Op::JMP, 0, 0, 0, c->b ? i.b : i.c, i.span};
          break;
        case Op::BR_LT_I64: case Op::BR_LE_I64: case Op::BR_EQ_I64: {
          const Known* a = get(i.a);
          const Known* b = get(i.b);
          if (a && b && a->kind == Known::Kind::Int && b->kind == Known::Kind::Int) {
            const bool taken = bytecode::semantics::branch_taken(i.op, a->i, b->i);
            i = Instr{Op::JMP, 0, 0, 0, taken ? i.c : i.d, i.span};
          }
          break;
        }
        default: break;
      }
      // What this instruction leaves in its destination.
      auto w = write_of(i);
      if (!w) continue;
      known.erase(*w);
      switch (i.op) {
        case Op::LOAD_INT: known[i.a] = Known::integer(static_cast<int32_t>(i.d)); break;
        case Op::LOAD_BOOL: known[i.a] = Known::boolean(i.d != 0); break;
        case Op::LOAD_CONST: {
          const Constant& c = m.constants[i.d];
          if (c.kind == Constant::Kind::Int && f.registers[i.a] == T.integer()) known[i.a] = Known::integer(c.i);
          if (c.kind == Constant::Kind::Float) known[i.a] = Known::floating(c.f);
          break;
        }
        case Op::MOVE:
          if (const Known* src = get(i.b)) known[i.a] = *src;
          break;
        default: break;
      }
    }
  }
}

void propagate_copies(Function& f) {
  for (Block& block : f.blocks) {
    std::map<uint32_t, uint32_t> copy_of;  // a -> b after `MOVE a, b`
    for (Instr& i : block.code) {
      Reads r = reads_of(i);
      for (uint32_t* operand : r.single) {
        if (auto it = copy_of.find(*operand); it != copy_of.end()) *operand = it->second;
      }
      auto w = write_of(i);
      if (!w) continue;
      // Forget copies that involve the written register.
      copy_of.erase(*w);
      for (auto it = copy_of.begin(); it != copy_of.end();) {
        it = it->second == *w ? copy_of.erase(it) : std::next(it);
      }
      if (i.op == Op::MOVE && i.a != i.b) copy_of[i.a] = i.b;
    }
  }
}

void eliminate_dead_code(Function& f) {
  bool changed = true;
  while (changed) {
    changed = false;
    std::vector<uint32_t> uses(f.registers.size(), 0);
    for (Block& block : f.blocks) {
      for (Instr& i : block.code) {
        Reads r = reads_of(i);
        for (uint32_t* operand : r.single) ++uses[*operand];
        for (uint32_t k = 0; k < r.range_count; ++k) ++uses[r.range_first + k];
        if (updates_in_place(i.op)) ++uses[i.a];
      }
    }
    for (Block& block : f.blocks) {
      auto& code = block.code;
      size_t out = 0;
      for (size_t k = 0; k < code.size(); ++k) {
        Instr& i = code[k];
        const bool dead = removable(i.op) && (uses[i.a] == 0 || (i.op == Op::MOVE && i.a == i.b));
        if (dead && k + 1 < code.size()) {  // never the terminator
          changed = true;
          continue;
        }
        code[out++] = i;
      }
      code.resize(out);
    }
  }
}

void optimize(Module& m) {
  for (Function& f : m.functions) {
    for (int round = 0; round < 4; ++round) {
      fold_constants(m, f);
      propagate_copies(f);
      eliminate_dead_code(f);
    }
    remove_unreachable_blocks(f);
    thread_jumps(f);
    remove_unreachable_blocks(f);
    hoist_loop_constants(m, f);
  }
}

}  // namespace ved::ir
