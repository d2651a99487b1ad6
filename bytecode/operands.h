// Which registers an instruction reads and writes: one table for the compiler's passes
// (ir/passes.cpp: copy propagation, dead code) and the VM's verifier (definite
// assignment), so that the two can never disagree about an opcode.
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

}  // namespace ved::bytecode
