// What the scalar instructions compute, and how they fault: the one definition that the
// interpreter's handlers (vm/interpreter.cpp), the compiler's constant folder
// (ir/passes.cpp) and the JIT (vm/jit/, through its fault thunks) all call, so that the
// three can never drift apart. Integer arithmetic used to be written three times.
//
// Each checked operation returns FaultKind::None and writes `out`, or returns the fault
// kind and leaves `out` alone. The message of a fault is fault_message(op, x, y): it
// depends on the operands, so a fast path (the JIT's overflow intrinsics) need not build
// it; the slow path calls it with the same operands and gets the interpreter's words.
//
// Header-only (ved_bytecode is an interface library): the interpreter's handlers inline
// these, so keeping one definition costs no call.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "bytecode/format.h"
#include "bytecode/opcodes.h"

namespace ved::bytecode::semantics {

inline constexpr int64_t kIntMin = INT64_MIN;

// ---- integers: checked, never wrap ---------------------------------------------------
inline FaultKind add_i64(int64_t x, int64_t y, int64_t& out) {
  int64_t r;
  if (__builtin_add_overflow(x, y, &r)) return FaultKind::Overflow;
  out = r;
  return FaultKind::None;
}
inline FaultKind sub_i64(int64_t x, int64_t y, int64_t& out) {
  int64_t r;
  if (__builtin_sub_overflow(x, y, &r)) return FaultKind::Overflow;
  out = r;
  return FaultKind::None;
}
inline FaultKind mul_i64(int64_t x, int64_t y, int64_t& out) {
  int64_t r;
  if (__builtin_mul_overflow(x, y, &r)) return FaultKind::Overflow;
  out = r;
  return FaultKind::None;
}
// Operands that both fit in 32 unsigned bits (counters, indices, `i % 1000`) are divided
// as such: the quotient and remainder are the same, and on many x86 cores a 64-bit
// divide has several times the latency of a 32-bit one (most of the `maps` benchmark's
// time was one 64-bit `idiv` per iteration).
inline bool fits_u32(int64_t x, int64_t y) { return (static_cast<uint64_t>(x) | static_cast<uint64_t>(y)) >> 32 == 0; }
// Truncates toward zero. INT64_MIN / -1 is the one quotient that is not an int.
inline FaultKind div_i64(int64_t x, int64_t y, int64_t& out) {
  if (y == 0) return FaultKind::DivisionByZero;
  if (fits_u32(x, y)) {
    out = static_cast<uint32_t>(x) / static_cast<uint32_t>(y);
    return FaultKind::None;
  }
  if (y == -1 && x == kIntMin) return FaultKind::Overflow;
  out = x / y;
  return FaultKind::None;
}
// The sign of the dividend. INT64_MIN % -1 is undefined behaviour in C++ (it traps on
// x86), yet its value, 0, is an ordinary int: any divisor of -1 gives 0.
inline FaultKind rem_i64(int64_t x, int64_t y, int64_t& out) {
  if (y == 0) return FaultKind::DivisionByZero;
  if (fits_u32(x, y)) {
    out = static_cast<uint32_t>(x) % static_cast<uint32_t>(y);
    return FaultKind::None;
  }
  out = y == -1 ? 0 : x % y;
  return FaultKind::None;
}
// x % y for 32-bit unsigned operands without a divide instruction, given
// remainder_magic(y) (y != 0): Lemire, Kaser and Kurz, "Faster Remainder by Direct
// Computation" (2019), exact for every 32-bit x and y. The interpreter uses it for `%` by
// a constant (`i % 1000`), where the magic is computed once when the code is prepared.
inline uint64_t remainder_magic(uint32_t y) { return UINT64_MAX / y + 1; }
inline uint32_t rem_u32_by_magic(uint32_t x, uint32_t y, uint64_t magic) {
  const uint64_t low = magic * x;
  return static_cast<uint32_t>((static_cast<unsigned __int128>(low) * y) >> 64);
}
inline FaultKind neg_i64(int64_t x, int64_t& out) {
  if (x == kIntMin) return FaultKind::Overflow;
  out = -x;
  return FaultKind::None;
}
// FOR_STEP's counter: `a += 1` before the loop test.
inline FaultKind step_i64(int64_t x, int64_t& out) { return add_i64(x, 1, out); }

// ---- floats: IEEE binary64, no contraction (the build has -ffp-contract=off) ---------
inline double add_f64(double x, double y) { return x + y; }
inline double sub_f64(double x, double y) { return x - y; }
inline double mul_f64(double x, double y) { return x * y; }
inline double neg_f64(double x) { return -x; }
inline double i2f(int64_t x) { return static_cast<double>(x); }
// Division and remainder by zero (either sign of zero) fault, unlike IEEE.
inline FaultKind div_f64(double x, double y, double& out) {
  if (y == 0.0) return FaultKind::DivisionByZero;
  out = x / y;
  return FaultKind::None;
}
inline FaultKind rem_f64(double x, double y, double& out) {
  if (y == 0.0) return FaultKind::DivisionByZero;
  out = std::fmod(x, y);
  return FaultKind::None;
}

// ---- comparisons (floats: IEEE, so NaN is unequal and unordered) ------------------------
inline bool eq_i64(int64_t x, int64_t y) { return x == y; }
inline bool lt_i64(int64_t x, int64_t y) { return x < y; }
inline bool le_i64(int64_t x, int64_t y) { return x <= y; }
inline bool eq_f64(double x, double y) { return x == y; }
inline bool lt_f64(double x, double y) { return x < y; }
inline bool le_f64(double x, double y) { return x <= y; }

// The message of a fault of a scalar instruction, from its operands (floats' faults do
// not depend on them; FOR_STEP's names no operand). Cold: only a fault builds it.
[[gnu::cold]] inline std::string fault_message(Op op, FaultKind kind, int64_t x, int64_t y) {
  auto overflow = [&](const char* sign) {
    return "integer overflow in " + std::to_string(x) + " " + sign + " " + std::to_string(y);
  };
  switch (op) {
    case Op::ADD_I64: return overflow("+");
    case Op::SUB_I64: return overflow("-");
    case Op::MUL_I64: return overflow("*");
    case Op::DIV_I64: return kind == FaultKind::DivisionByZero ? "division by zero" : overflow("/");
    case Op::REM_I64: return "remainder by zero";
    case Op::NEG_I64: return "integer overflow in -(" + std::to_string(x) + ")";
    case Op::DIV_F64: return "division by zero";
    case Op::REM_F64: return "remainder by zero";
    case Op::FOR_STEP: return "loop counter overflow";
    default: return "fault in " + std::string(op_info(op).name);
  }
}

// ---- evaluation on known operands (the constant folder) -------------------------------
// A scalar as the folder knows it: the bits of an int, a float or a bool.
struct Scalar {
  enum class Kind : uint8_t { Int, Float, Bool } kind = Kind::Int;
  int64_t i = 0;
  double f = 0;
  bool b = false;

  static Scalar integer(int64_t v) { return Scalar{Kind::Int, v, 0, false}; }
  static Scalar floating(double v) { return Scalar{Kind::Float, 0, v, false}; }
  static Scalar boolean(bool v) { return Scalar{Kind::Bool, 0, 0, v}; }
};

// What `op` gives on operands x (b) and y (c; ignored by unary ops): the value, or the
// fault it raises. nullopt when `op` is not a scalar operation or the operands are not
// of its types (the folder then leaves the instruction alone).
struct Evaluated {
  FaultKind fault = FaultKind::None;
  Scalar value;
};
inline std::optional<Evaluated> evaluate(Op op, const Scalar& x, const Scalar& y) {
  using K = Scalar::Kind;
  const bool ints = x.kind == K::Int && y.kind == K::Int;
  const bool floats = x.kind == K::Float && y.kind == K::Float;
  Evaluated e;
  int64_t r = 0;
  double d = 0;
  // (The operation runs first, then its result is read: not both as arguments of one
  // call, whose evaluation order C++ leaves open.)
  auto checked_int = [&](FaultKind k) {
    e.fault = k;
    if (k == FaultKind::None) e.value = Scalar::integer(r);
    return e;
  };
  auto checked_float = [&](FaultKind k) {
    e.fault = k;
    if (k == FaultKind::None) e.value = Scalar::floating(d);
    return e;
  };
  switch (op) {
    case Op::ADD_I64: if (ints) return checked_int(add_i64(x.i, y.i, r)); break;
    case Op::SUB_I64: if (ints) return checked_int(sub_i64(x.i, y.i, r)); break;
    case Op::MUL_I64: if (ints) return checked_int(mul_i64(x.i, y.i, r)); break;
    case Op::DIV_I64: if (ints) return checked_int(div_i64(x.i, y.i, r)); break;
    case Op::REM_I64: if (ints) return checked_int(rem_i64(x.i, y.i, r)); break;
    case Op::NEG_I64: if (x.kind == K::Int) return checked_int(neg_i64(x.i, r)); break;
    case Op::ADD_F64: if (floats) { d = add_f64(x.f, y.f); return checked_float(FaultKind::None); } break;
    case Op::SUB_F64: if (floats) { d = sub_f64(x.f, y.f); return checked_float(FaultKind::None); } break;
    case Op::MUL_F64: if (floats) { d = mul_f64(x.f, y.f); return checked_float(FaultKind::None); } break;
    case Op::DIV_F64: if (floats) return checked_float(div_f64(x.f, y.f, d)); break;
    case Op::REM_F64: if (floats) return checked_float(rem_f64(x.f, y.f, d)); break;
    case Op::NEG_F64: if (x.kind == K::Float) { d = neg_f64(x.f); return checked_float(FaultKind::None); } break;
    case Op::I2F: if (x.kind == K::Int) { d = i2f(x.i); return checked_float(FaultKind::None); } break;
    case Op::EQ_I64: if (ints) { e.value = Scalar::boolean(eq_i64(x.i, y.i)); return e; } break;
    case Op::LT_I64: if (ints) { e.value = Scalar::boolean(lt_i64(x.i, y.i)); return e; } break;
    case Op::LE_I64: if (ints) { e.value = Scalar::boolean(le_i64(x.i, y.i)); return e; } break;
    case Op::EQ_F64: if (floats) { e.value = Scalar::boolean(eq_f64(x.f, y.f)); return e; } break;
    case Op::LT_F64: if (floats) { e.value = Scalar::boolean(lt_f64(x.f, y.f)); return e; } break;
    case Op::LE_F64: if (floats) { e.value = Scalar::boolean(le_f64(x.f, y.f)); return e; } break;
    case Op::NOT: if (x.kind == K::Bool) { e.value = Scalar::boolean(!x.b); return e; } break;
    default: break;
  }
  return std::nullopt;
}

// Which way a fused compare-and-branch goes (BR_LT_I64, BR_LE_I64, BR_EQ_I64): true for
// its first target.
inline bool branch_taken(Op op, int64_t x, int64_t y) {
  return op == Op::BR_LT_I64 ? lt_i64(x, y) : op == Op::BR_LE_I64 ? le_i64(x, y) : eq_i64(x, y);
}

}  // namespace ved::bytecode::semantics
