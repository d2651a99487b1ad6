// Which registers an instruction reads and writes, and which blocks a terminator goes
// to: one table for the compiler's passes (ir/passes.cpp: copy propagation, dead code,
// unreachable blocks), the VM's verifier (definite assignment), the interpreter's
// prepared code and the JIT, so that none of them can disagree about an opcode.
#pragma once

#include "bytecode/opcodes.h"

namespace ved::bytecode {

struct OperandRoles {
  bool reads_a = false, reads_b = false, reads_c = false;
  // A run of argument registers: b .. b + c (pairs: b .. b + 2c).
  bool reads_range = false;
  bool range_of_pairs = false;
  // a is written (a destination), updated in place (read and written: LIST_SET's list,
  // FOR_STEP's counter), or emptied (DROP).
  bool writes_a = false;
  bool updates_a = false;
  bool kills_a = false;
  // a may be kNoRegister (SEND/SPAWN to a default instance).
  bool a_may_be_absent = false;
};

constexpr OperandRoles operand_roles(Op op) {
  OperandRoles r;
  r.writes_a = op_info(op).has_dst;
  switch (op) {
    case Op::MOVE: case Op::WRAP: case Op::UNWRAP: case Op::NEG_I64: case Op::NEG_F64: case Op::I2F:
    case Op::NOT: case Op::IS_NONE: case Op::LEN: case Op::RAND: case Op::FIELD_GET:
      r.reads_b = true;
      break;
    case Op::ADD_I64: case Op::SUB_I64: case Op::MUL_I64: case Op::DIV_I64: case Op::REM_I64:
    case Op::ADD_F64: case Op::SUB_F64: case Op::MUL_F64: case Op::DIV_F64: case Op::REM_F64:
    case Op::EQ_I64: case Op::LT_I64: case Op::LE_I64: case Op::EQ_F64: case Op::LT_F64: case Op::LE_F64:
    case Op::EQ_STR: case Op::LT_STR: case Op::LE_STR: case Op::EQ_ANY: case Op::CONCAT:
    case Op::LIST_GET: case Op::STR_GET: case Op::MAP_GET: case Op::MAP_HAS: case Op::LIST_APPEND:
      r.reads_b = r.reads_c = true;
      break;
    case Op::LIST_SET: case Op::MAP_SET:
      r.updates_a = r.reads_b = r.reads_c = true;
      break;
    case Op::FIELD_SET:
      r.updates_a = r.reads_b = true;
      break;
    case Op::LIST_NEW: case Op::RECORD_NEW: case Op::INTENT_NEW: case Op::CALL_BUILTIN: case Op::OBSERVE:
    case Op::CALL:
      r.reads_range = true;
      break;
    case Op::MAP_NEW:
      r.reads_range = r.range_of_pairs = true;
      break;
    case Op::SEND: case Op::SPAWN: case Op::SCHEDULE:
      r.reads_a = r.reads_range = true;
      r.a_may_be_absent = op != Op::SCHEDULE;
      break;
    case Op::EMIT: case Op::RET: case Op::FAIL: case Op::ASSERT_FAIL: case Op::STATE_SET: case Op::JMP_IF:
    case Op::BR_NONE: case Op::ADVANCE:
      r.reads_a = true;
      break;
    case Op::BR_LT_I64: case Op::BR_LE_I64: case Op::BR_EQ_I64:
      r.reads_a = r.reads_b = true;
      break;
    case Op::FOR_STEP:
      r.updates_a = r.reads_b = true;
      break;
    case Op::DROP:
      r.kills_a = true;
      break;
    default: break;
  }
  return r;
}

// ---- branch targets ---------------------------------------------------------------
// Which fields of a terminator name blocks, derived from its layout (opcodes.h) rather
// than listed per opcode, so that a new branch opcode cannot be forgotten by one of the
// places that follow branches. YIELD and ADVANCE name a slice, not a block: the next
// slice starts afresh, so they have no successor within the function's control flow.
enum class Field : uint8_t { A, B, C, D };

struct BlockOperands {
  uint8_t count = 0;    // 0, 1 (JMP) or 2 (the first target is taken when the test holds)
  Field first = Field::D;
  Field second = Field::D;
};

constexpr BlockOperands block_operands(Op op) {
  switch (op_info(op).layout) {
    case Layout::B: return {1, Field::D, Field::D};
    case Layout::RBB: return {2, Field::B, Field::C};
    case Layout::RRBB: return {2, Field::C, Field::D};
    default: return {};
  }
}

// A field of an instruction (bytecode::Instr or the compiler's ir::Instr), by name.
template <class I>
constexpr uint32_t field_of(const I& i, Field f) {
  switch (f) {
    case Field::A: return i.a;
    case Field::B: return i.b;
    case Field::C: return i.c;
    case Field::D: return i.d;
  }
  return 0;
}
template <class I, class V>
constexpr void set_field(I& i, Field f, V v) {
  switch (f) {
    case Field::A: i.a = static_cast<decltype(i.a)>(v); break;
    case Field::B: i.b = static_cast<decltype(i.b)>(v); break;
    case Field::C: i.c = static_cast<decltype(i.c)>(v); break;
    case Field::D: i.d = static_cast<decltype(i.d)>(v); break;
  }
}

// The blocks terminator `t` may go to, in operand order (at most two).
struct Successors {
  uint32_t block[2] = {0, 0};
  uint8_t count = 0;
  const uint32_t* begin() const { return block; }
  const uint32_t* end() const { return block + count; }
};
template <class I>
constexpr Successors successors_of(const I& t) {
  const BlockOperands ops = block_operands(t.op);
  Successors s;
  s.count = ops.count;
  if (ops.count > 0) s.block[0] = field_of(t, ops.first);
  if (ops.count > 1) s.block[1] = field_of(t, ops.second);
  return s;
}

// Renames the blocks `t` goes to with `rename(block) -> new value` (renumbering after
// unreachable blocks are removed; instruction indices in the interpreter's copy).
template <class I, class F>
constexpr void rename_blocks(I& t, F&& rename) {
  const BlockOperands ops = block_operands(t.op);
  if (ops.count > 0) set_field(t, ops.first, rename(field_of(t, ops.first)));
  if (ops.count > 1) set_field(t, ops.second, rename(field_of(t, ops.second)));
}

}  // namespace ved::bytecode
