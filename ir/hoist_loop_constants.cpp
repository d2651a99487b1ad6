// Loop constants: a scalar constant loaded inside a loop (`i % 1000`, `m[k] + 1`) is
// loaded once, on entry to the function, into a register of its own, instead of on
// every iteration. Lowering loads every literal into a temporary where it is used, and
// temporaries are reused for other values, so the load cannot simply move: the pass
// gives the constant a fresh register and renames the load's readers to it.
//
// A load moves only when every reader of its value is found in the same block (the
// register is written again later in the block, or is dead at its end) and reads it as
// a single operand (not as part of an argument range, which must stay consecutive, nor
// as an operand updated in place). Only int, float and bool registers: the constant is
// immutable, and shared by every iteration.
//
// Loads can neither fault nor have effects, so moving them changes no value and no fault;
// fuel is what the bundle's block costs say: one instruction less in the loop's block,
// one more in the entry block.
//
// Functions that run in several slices are left alone: each slice starts at its own
// entry, and the first slice's entry is not where the later ones begin.
#include <map>
#include <tuple>

#include "ir/liveness.h"
#include "ir/passes.h"

namespace ved::ir {

namespace {

// Whether block `from` can be reached again from itself by following branches.
bool on_a_cycle(const Function& f, uint32_t from) {
  std::vector<bool> seen(f.blocks.size(), false);
  std::vector<uint32_t> work;
  auto push_successors = [&](uint32_t b) {
    const auto& code = f.blocks[b].code;
    if (code.empty()) return;
    for (uint32_t s : successors(code.back())) work.push_back(s);
  };
  push_successors(from);
  while (!work.empty()) {
    const uint32_t b = work.back();
    work.pop_back();
    if (b == from) return true;
    if (seen[b]) continue;
    seen[b] = true;
    push_successors(b);
  }
  return false;
}

bool is_constant_load(const Module& m, const Function& f, const Instr& i) {
  // (The opcode first: other instructions' `a` need not be a register, SEND's may be
  // kNoRegister.)
  if (i.op != Op::LOAD_INT && i.op != Op::LOAD_BOOL && i.op != Op::LOAD_CONST) return false;
  const TypeKind kind = m.types[f.registers[i.a]].kind;
  if (kind != TypeKind::Int && kind != TypeKind::Float && kind != TypeKind::Bool) return false;
  return i.op != Op::LOAD_CONST || m.constants[i.d].kind != Constant::Kind::String;
}

}  // namespace

void hoist_loop_constants(Module& m, Function& f) {
  if (f.blocks.empty() || f.slice_entries.size() > 1) return;
  if (!f.slice_entries.empty() && f.slice_entries[0] != 0) return;
  // The entry block runs once per call only if no branch leads back to it.
  if (on_a_cycle(f, 0)) return;
  // (Registers are 16-bit operands in the bundle: stay well clear of the limit.)
  constexpr size_t kMostRegisters = 60000;

  std::vector<std::vector<bool>> live;  // computed on first need
  std::map<std::tuple<Op, uint32_t, TypeId>, uint32_t> hoisted;  // (op, d, type) -> register
  std::vector<Instr> loads;  // for the entry block, in the order first met

  for (uint32_t b = 1; b < f.blocks.size(); ++b) {
    auto& code = f.blocks[b].code;
    bool looked = false, in_loop = false;
    size_t k = 0;
    while (k + 1 < code.size()) {  // (never the terminator)
      if (!is_constant_load(m, f, code[k])) {
        ++k;
        continue;
      }
      if (!looked) {
        looked = true;
        in_loop = on_a_cycle(f, b);
      }
      if (!in_loop) break;
      const uint32_t r = code[k].a;
      // The operands that read this load's value, until r is written again.
      std::vector<uint32_t*> readers;
      bool movable = true, rewritten = false;
      for (size_t j = k + 1; j < code.size() && movable && !rewritten; ++j) {
        Instr& i = code[j];
        const bytecode::OperandRoles roles = bytecode::operand_roles(i.op);
        if (roles.updates_a && i.a == r) movable = false;
        for_each_read(i, [&](uint32_t reg, bool range) {
          if (reg == r && range) movable = false;
        });
        const bool reads_a = roles.reads_a && !(roles.a_may_be_absent && i.a == bytecode::kNoRegister);
        if (reads_a && i.a == r) readers.push_back(&i.a);
        if (roles.reads_b && i.b == r) readers.push_back(&i.b);
        if (roles.reads_c && i.c == r) readers.push_back(&i.c);
        if ((roles.writes_a || roles.kills_a) && i.a == r) rewritten = true;
      }
      if (movable && !rewritten) {
        // Liveness from before this pass moved anything stays conservative: a moved load
        // took all of its readers with it, so it made no register live that was not.
        if (live.empty()) live = live_out(f);
        movable = !live[b][r];
      }
      if (!movable) {
        ++k;
        continue;
      }
      const auto key = std::make_tuple(code[k].op, code[k].d, f.registers[r]);
      auto found = hoisted.find(key);
      if (found == hoisted.end()) {
        if (f.registers.size() >= kMostRegisters) {
          ++k;
          continue;
        }
        const auto c = static_cast<uint32_t>(f.registers.size());
        f.registers.push_back(f.registers[r]);
        f.register_names.emplace_back();
        Instr load = code[k];
        load.a = c;
        loads.push_back(load);
        found = hoisted.emplace(key, c).first;
      }
      for (uint32_t* operand : readers) *operand = found->second;
      code.erase(code.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  auto& entry = f.blocks[0].code;
  entry.insert(entry.begin(), loads.begin(), loads.end());
}

}  // namespace ved::ir
