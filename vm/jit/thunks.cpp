// What compiled code calls instead of having its own copy: each thunk runs the C++ the
// interpreter runs for the same instruction (vm/instructions.h, bytecode/semantics.h)
// and records a fault in the context the way the interpreter's `faulted` label does.
//
// Compiled code has no unwind tables, so nothing may throw through it: an allocation
// that fails is caught here and carried out as kOutOfMemory (native_abi.h).
#include <cmath>
#include <cstring>
#include <new>
#include <stdexcept>

#include "bytecode/semantics.h"
#include "vm/instructions.h"
#include "vm/jit/native_abi.h"

using ved::vm::Value;
using ved::bytecode::FaultKind;
using ved::bytecode::Op;
using ved::vm::jit::CallFault;
using ved::vm::jit::NativeContext;
namespace semantics = ved::bytecode::semantics;
namespace data = ved::vm::data;

namespace {

void record(NativeContext* cx, FaultKind kind, std::string message, uint32_t fn, uint32_t pc) {
  cx->kind = static_cast<uint32_t>(kind);
  *cx->message = std::move(message);
  cx->fault_function = fn;
  cx->fault_pc = pc;
}

// The fault kind of scalar instruction `op` on operands x, y (as bits), computed by the
// definition itself, so that which of two faults a DIV raises is never the JIT's guess.
FaultKind scalar_fault_kind(Op op, int64_t x, int64_t y) {
  int64_t r = 0;
  double d = 0;
  double fx, fy;
  std::memcpy(&fx, &x, 8);
  std::memcpy(&fy, &y, 8);
  switch (op) {
    case Op::ADD_I64: return semantics::add_i64(x, y, r);
    case Op::SUB_I64: return semantics::sub_i64(x, y, r);
    case Op::MUL_I64: return semantics::mul_i64(x, y, r);
    case Op::DIV_I64: return semantics::div_i64(x, y, r);
    case Op::REM_I64: return semantics::rem_i64(x, y, r);
    case Op::NEG_I64: return semantics::neg_i64(x, r);
    case Op::FOR_STEP: return semantics::step_i64(x, r);
    case Op::DIV_F64: return semantics::div_f64(fx, fy, d);
    case Op::REM_F64: return semantics::rem_f64(fx, fy, d);
    default: return FaultKind::None;
  }
}

}  // namespace

extern "C" {

uint32_t ved_jit_data(NativeContext* cx, Value* R, uint32_t fn, uint32_t pc) {
  const ved::vm::Program& p = *cx->program;
  const ved::vm::Instr& in = p.functions[fn].code[pc];
  try {
    const data::Context x{p, *cx->builtins, *cx->env};
    std::string message;
    const FaultKind k = data::execute(in, R, x, message);
    if (k == FaultKind::None) return 0;
    record(cx, k, std::move(message), fn, pc);
    return cx->kind;
  } catch (const std::bad_alloc&) {
  } catch (const std::length_error&) {
  }
  cx->kind = ved::vm::jit::kOutOfMemory;
  cx->fault_function = fn;
  cx->fault_pc = pc;
  return cx->kind;
}

void ved_jit_scalar_fault(NativeContext* cx, uint32_t fn, uint32_t pc, int64_t x, int64_t y) {
  const Op op = cx->program->functions[fn].code[pc].op;
  FaultKind k = scalar_fault_kind(op, x, y);
  // Compiled code calls this only when the operation faults; a disagreement would be a
  // bug of the compiler, reported rather than hidden as a success.
  if (k == FaultKind::None) {
    record(cx, FaultKind::Conversion, "internal error: the JIT reported a fault the semantics do not raise", fn, pc);
    return;
  }
  record(cx, k, semantics::fault_message(op, k, x, y), fn, pc);
}

void ved_jit_fault(NativeContext* cx, uint32_t fn, uint32_t pc, uint32_t what, Value* R) {
  const ved::vm::Instr& in = cx->program->functions[fn].code[pc];
  switch (static_cast<CallFault>(what)) {
    case CallFault::Budget: record(cx, FaultKind::Budget, data::fuel_exhausted_message(), fn, pc); return;
    case CallFault::Depth: record(cx, FaultKind::Budget, data::call_depth_message(), fn, pc); return;
    case CallFault::Registers: record(cx, FaultKind::Budget, data::call_registers_message(), fn, pc); return;
    case CallFault::Fail: record(cx, FaultKind::Fail, R[in.a].as_string(), fn, pc); return;
    case CallFault::Assert: record(cx, FaultKind::Assert, R[in.a].as_string(), fn, pc); return;
    case CallFault::NegativeAdvance:
      record(cx, FaultKind::Conversion, data::negative_advance_message(R[in.a].as_int()), fn, pc);
      return;
  }
}

void ved_jit_copy_init(Value* dst, const Value* src) { dst->init_from(*src); }

void ved_jit_move(Value* dst, Value* src) {
  if (dst != src) *dst = std::move(*src);
}

void ved_jit_release(Value* v) { *v = Value(); }

double ved_jit_fmod(double x, double y) {
  double out = 0;
  semantics::rem_f64(x, y, out);  // y != 0: compiled code tested it
  return out;
}

}  // extern "C"
