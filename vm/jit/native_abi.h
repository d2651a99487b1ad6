// The contract between compiled code and the C++ around it: the context every compiled
// function receives, the one signature every compiled function has, and the thunks it
// calls. No LLVM types: the interpreter includes this.
//
// A compiled function is
//
//   int64_t f(NativeContext* cx, int64_t depth, int64_t base, Value* R, Value* dst, uint32_t slice)
//
//   depth  the index of its frame in the interpreter's terms (0 for the outermost), so
//          that the call-depth limit is the same comparison at the same CALL;
//   base   the index of its first register in the one register stack of the run, so that
//          the register-stack limit is too (its registers themselves are at R);
//   R      its registers: the interpreter's stack for the function a run or an
//          interpreted CALL enters, NativeContext::registers + base for a compiled callee;
//   dst    where a heap-typed result goes (a scalar result is the return value's bits:
//          an int, a double's bits, 0/1 for a bool, 0 for unit);
//   slice  the slice to start (0 for a call).
//
// Fuel lives in cx->fuel between calls. A fault sets cx->kind (and message, function,
// pc) and every compiled caller returns at once; the C++ that entered compiled code
// turns it into a Fault as the interpreter does.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "bytecode/format.h"
#include "vm/value.h"

namespace ved::vm {
struct Program;
struct InstanceEnv;
struct BuiltinContext;
}  // namespace ved::vm

namespace ved::vm::jit {

// How a compiled run ended when it did not fault.
enum class NativeExit : uint32_t { Return = 0, Yield = 1, End = 2 };

// cx->kind when a thunk ran out of memory: not a fault of the program (the interpreter
// throws MachineOutOfMemory for it), carried out of compiled code, which has no unwind
// tables, as a code and rethrown in C++.
inline constexpr uint32_t kOutOfMemory = 255;

struct NativeContext {
  // Offsets of the first fields are part of the ABI (compiler.cpp reads and writes
  // them): keep them first and in this order.
  int64_t fuel = 0;
  uint32_t kind = 0;            // a bytecode::FaultKind, or kOutOfMemory; 0: no fault
  NativeExit exit = NativeExit::Return;
  uint32_t yield_to = 0;        // after YIELD / ADVANCE: the next slice
  uint32_t pad = 0;
  int64_t advance = 0;          // after ADVANCE: the ticks to run first
  Value* registers = nullptr;   // the compiled frames' register stack (base-indexed)
  int64_t high_water = 0;       // registers[0, high_water) may hold references

  // Read by thunks only. (A pointer, not a string, so that the struct is standard
  // layout and offsetof is defined for the fields compiled code uses.)
  std::string* message = nullptr;
  uint32_t fault_function = 0;
  uint32_t fault_pc = 0;
  const Program* program = nullptr;
  const BuiltinContext* builtins = nullptr;
  InstanceEnv* env = nullptr;
};

static_assert(std::is_standard_layout_v<NativeContext>);

using NativeFunction = int64_t (*)(NativeContext* cx, int64_t depth, int64_t base, Value* R, Value* dst,
                                   uint32_t slice);

}  // namespace ved::vm::jit

// The thunks compiled code calls (vm/jit/thunks.cpp). Each does what the interpreter does
// for the same instruction, by calling the same C++ (bytecode/semantics.h,
// vm/instructions.h); none throws.
extern "C" {
// Runs data instruction `pc` of function `fn` (vm/instructions.h) on registers R.
// Returns 0, or a fault kind (already recorded in cx).
uint32_t ved_jit_data(ved::vm::jit::NativeContext* cx, ved::vm::Value* R, uint32_t fn, uint32_t pc);
// Records the fault of scalar instruction `pc` of `fn` on operands x, y (their bits):
// its kind and message are what bytecode/semantics.h says for them.
void ved_jit_scalar_fault(ved::vm::jit::NativeContext* cx, uint32_t fn, uint32_t pc, int64_t x, int64_t y);
// Records a fault that is not a scalar operation's: `what` is a CallFault.
void ved_jit_fault(ved::vm::jit::NativeContext* cx, uint32_t fn, uint32_t pc, uint32_t what, ved::vm::Value* R);
// A heap register's copy (init: the destination holds no reference) and release.
void ved_jit_copy_init(ved::vm::Value* dst, const ved::vm::Value* src);
void ved_jit_move(ved::vm::Value* dst, ved::vm::Value* src);
void ved_jit_release(ved::vm::Value* v);
double ved_jit_fmod(double x, double y);
}

namespace ved::vm::jit {
// The `what` of ved_jit_fault.
enum class CallFault : uint32_t { Budget = 0, Depth = 1, Registers = 2, Fail = 3, Assert = 4, NegativeAdvance = 5 };
}  // namespace ved::vm::jit
