// The scalar semantics (bytecode/semantics.h): what the interpreter, the constant folder
// and the JIT's fault paths all compute. The engines are compared with each other by the
// differential tests; these pin the definition itself, edge cases first.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "bytecode/operands.h"
#include "bytecode/semantics.h"

using namespace ved::bytecode;
using namespace ved::bytecode::semantics;

namespace {
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
}  // namespace

TEST_CASE("add/sub/mul: checked, never wrap") {
  int64_t out = 0;
  CHECK(add_i64(kMax - 1, 1, out) == FaultKind::None);
  CHECK(out == kMax);
  CHECK(add_i64(kMax, 1, out) == FaultKind::Overflow);
  CHECK(add_i64(kMin, -1, out) == FaultKind::Overflow);
  CHECK(sub_i64(kMin, 1, out) == FaultKind::Overflow);
  CHECK(sub_i64(0, kMin, out) == FaultKind::Overflow);
  CHECK(sub_i64(-1, kMax, out) == FaultKind::None);
  CHECK(out == kMin);
  CHECK(mul_i64(kMin, -1, out) == FaultKind::Overflow);
  CHECK(mul_i64(int64_t{1} << 32, int64_t{1} << 31, out) == FaultKind::Overflow);
  CHECK(mul_i64(-(int64_t{1} << 32), int64_t{1} << 31, out) == FaultKind::None);
  CHECK(out == kMin);
  // A fault leaves `out` alone.
  out = 7;
  CHECK(add_i64(kMax, kMax, out) == FaultKind::Overflow);
  CHECK(out == 7);
}

TEST_CASE("div: truncates toward zero, by zero and INT64_MIN / -1 fault") {
  int64_t out = 0;
  CHECK(div_i64(7, 2, out) == FaultKind::None);
  CHECK(out == 3);
  CHECK(div_i64(-7, 2, out) == FaultKind::None);
  CHECK(out == -3);
  CHECK(div_i64(7, -2, out) == FaultKind::None);
  CHECK(out == -3);
  CHECK(div_i64(kMin, 1, out) == FaultKind::None);
  CHECK(out == kMin);
  CHECK(div_i64(kMax, -1, out) == FaultKind::None);
  CHECK(out == -kMax);
  CHECK(div_i64(1, 0, out) == FaultKind::DivisionByZero);
  CHECK(div_i64(0, 0, out) == FaultKind::DivisionByZero);
  CHECK(div_i64(kMin, 0, out) == FaultKind::DivisionByZero);
  CHECK(div_i64(kMin, -1, out) == FaultKind::Overflow);
}

TEST_CASE("rem: sign of the dividend, INT64_MIN % -1 is 0, by zero faults") {
  int64_t out = 99;
  CHECK(rem_i64(7, 3, out) == FaultKind::None);
  CHECK(out == 1);
  CHECK(rem_i64(-7, 3, out) == FaultKind::None);
  CHECK(out == -1);
  CHECK(rem_i64(7, -3, out) == FaultKind::None);
  CHECK(out == 1);
  CHECK(rem_i64(kMin, -1, out) == FaultKind::None);
  CHECK(out == 0);
  CHECK(rem_i64(5, -1, out) == FaultKind::None);
  CHECK(out == 0);
  CHECK(rem_i64(kMin, kMax, out) == FaultKind::None);
  CHECK(out == -1);
  CHECK(rem_i64(1, 0, out) == FaultKind::DivisionByZero);
}

// Operands that fit in 32 unsigned bits are divided as 32-bit numbers (a faster
// instruction); across that boundary, and with either sign, the answers must be the
// 64-bit ones. (Built from hex so that the expected values come from 64-bit arithmetic
// in this file, not from the function under test.)
TEST_CASE("div and rem: the same answers on both sides of the 32-bit fast path") {
  const int64_t edges[] = {0, 1, 2, 3, 7, 1000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x100000000,
                           0x100000001, 0x1ffffffff, kMax, -1, -2, -1000, -0x80000000LL, -0xffffffffLL,
                           -0x100000000LL, kMin};
  for (int64_t x : edges) {
    for (int64_t y : edges) {
      if (y == 0 || y == -1) continue;  // the special cases have their own tests above
      CAPTURE(x);
      CAPTURE(y);
      int64_t q = 0, r = 0;
      REQUIRE(div_i64(x, y, q) == FaultKind::None);
      REQUIRE(rem_i64(x, y, r) == FaultKind::None);
      CHECK(q == x / y);
      CHECK(r == x % y);
    }
  }
}

// The interpreter takes `x % y` by a positive constant y without a divide when x fits in
// 32 unsigned bits (vm/interpreter.cpp, kRemByConstant): it must be `%` exactly.
TEST_CASE("rem by a constant's magic number is the remainder, for every kind of operand") {
  const uint32_t divisors[] = {1, 2, 3, 7, 10, 1000, 1024, 65535, 65536, 99991, 0x7fffffff};
  const uint32_t dividends[] = {0, 1, 2, 6, 7, 8, 999, 1000, 1001, 65535, 65536, 1234567, 0x7ffffffe, 0x7fffffff,
                                0x80000000, 0xfffffffe, 0xffffffff};
  for (uint32_t y : divisors) {
    const uint64_t magic = remainder_magic(y);
    for (uint32_t x : dividends) {
      CAPTURE(x);
      CAPTURE(y);
      CHECK(rem_u32_by_magic(x, y, magic) == x % y);
    }
    // And every dividend of the top of the range (several multiples of the small y).
    const uint64_t span = std::min<uint64_t>(3 * uint64_t{y}, 1 << 16);
    for (uint64_t x = 0xffffffffull - span; x <= 0xffffffffull; ++x)
      CHECK(rem_u32_by_magic(static_cast<uint32_t>(x), y, magic) == static_cast<uint32_t>(x) % y);
  }
  for (uint32_t x = 0; x < 5000; ++x) CHECK(rem_u32_by_magic(x, 1000, remainder_magic(1000)) == x % 1000);
}

TEST_CASE("neg and the loop step") {
  int64_t out = 0;
  CHECK(neg_i64(kMax, out) == FaultKind::None);
  CHECK(out == -kMax);
  CHECK(neg_i64(kMin, out) == FaultKind::Overflow);
  CHECK(step_i64(kMax - 1, out) == FaultKind::None);
  CHECK(out == kMax);
  CHECK(step_i64(kMax, out) == FaultKind::Overflow);
}

TEST_CASE("float division and remainder: IEEE, except that zero divisors fault") {
  double out = 0;
  CHECK(div_f64(1.0, 4.0, out) == FaultKind::None);
  CHECK(out == 0.25);
  CHECK(div_f64(1.0, INFINITY, out) == FaultKind::None);
  CHECK(out == 0.0);
  CHECK(div_f64(1e308, 1e-308, out) == FaultKind::None);
  CHECK(std::isinf(out));
  CHECK(div_f64(1.0, 0.0, out) == FaultKind::DivisionByZero);
  CHECK(div_f64(1.0, -0.0, out) == FaultKind::DivisionByZero);
  CHECK(div_f64(0.0, 0.0, out) == FaultKind::DivisionByZero);
  CHECK(rem_f64(5.5, 2.0, out) == FaultKind::None);
  CHECK(out == 1.5);
  CHECK(rem_f64(-5.5, 2.0, out) == FaultKind::None);
  CHECK(out == -1.5);
  CHECK(rem_f64(5.5, -2.0, out) == FaultKind::None);
  CHECK(out == 1.5);
  CHECK(rem_f64(1.0, 0.0, out) == FaultKind::DivisionByZero);
  CHECK(rem_f64(1.0, -0.0, out) == FaultKind::DivisionByZero);
  CHECK(std::isnan(sub_f64(INFINITY, INFINITY)));
  CHECK(std::signbit(neg_f64(0.0)));
}

TEST_CASE("comparisons: NaN is unequal and unordered") {
  CHECK_FALSE(eq_f64(NAN, NAN));
  CHECK_FALSE(lt_f64(NAN, 1.0));
  CHECK_FALSE(le_f64(NAN, NAN));
  CHECK(eq_f64(0.0, -0.0));
  CHECK(le_i64(kMin, kMin));
  CHECK_FALSE(lt_i64(kMax, kMin));
  CHECK(branch_taken(Op::BR_LT_I64, 1, 2));
  CHECK_FALSE(branch_taken(Op::BR_LE_I64, 3, 2));
  CHECK(branch_taken(Op::BR_EQ_I64, 5, 5));
}

TEST_CASE("fault messages are the interpreter's, built from the operands") {
  CHECK(fault_message(Op::ADD_I64, FaultKind::Overflow, kMax, 1) == "integer overflow in 9223372036854775807 + 1");
  CHECK(fault_message(Op::SUB_I64, FaultKind::Overflow, kMin, 1) == "integer overflow in -9223372036854775808 - 1");
  CHECK(fault_message(Op::MUL_I64, FaultKind::Overflow, 2, kMax) == "integer overflow in 2 * 9223372036854775807");
  CHECK(fault_message(Op::DIV_I64, FaultKind::DivisionByZero, 1, 0) == "division by zero");
  CHECK(fault_message(Op::DIV_I64, FaultKind::Overflow, kMin, -1) == "integer overflow in -9223372036854775808 / -1");
  CHECK(fault_message(Op::REM_I64, FaultKind::DivisionByZero, 1, 0) == "remainder by zero");
  CHECK(fault_message(Op::NEG_I64, FaultKind::Overflow, kMin, 0) == "integer overflow in -(-9223372036854775808)");
  CHECK(fault_message(Op::DIV_F64, FaultKind::DivisionByZero, 0, 0) == "division by zero");
  CHECK(fault_message(Op::REM_F64, FaultKind::DivisionByZero, 0, 0) == "remainder by zero");
  CHECK(fault_message(Op::FOR_STEP, FaultKind::Overflow, kMax, 1) == "loop counter overflow");
}

TEST_CASE("evaluate: what the folder folds, and the faults it must leave in place") {
  auto I = Scalar::integer;
  auto F = Scalar::floating;
  auto e = evaluate(Op::ADD_I64, I(2), I(3));
  REQUIRE(e);
  CHECK(e->fault == FaultKind::None);
  CHECK(e->value.i == 5);
  e = evaluate(Op::ADD_I64, I(kMax), I(1));
  REQUIRE(e);
  CHECK(e->fault == FaultKind::Overflow);
  e = evaluate(Op::DIV_I64, I(1), I(0));
  REQUIRE(e);
  CHECK(e->fault == FaultKind::DivisionByZero);
  e = evaluate(Op::REM_I64, I(kMin), I(-1));
  REQUIRE(e);
  CHECK(e->fault == FaultKind::None);
  CHECK(e->value.i == 0);
  e = evaluate(Op::LT_F64, F(1.0), F(2.0));
  REQUIRE(e);
  CHECK(e->value.kind == Scalar::Kind::Bool);
  CHECK(e->value.b);
  e = evaluate(Op::NOT, Scalar::boolean(true), Scalar::boolean(true));
  REQUIRE(e);
  CHECK_FALSE(e->value.b);
  // Operands of the wrong kind, and operations that are not scalar: nothing.
  CHECK_FALSE(evaluate(Op::ADD_I64, I(1), F(1.0)));
  CHECK_FALSE(evaluate(Op::CONCAT, I(1), I(1)));
}

TEST_CASE("successors come from the layout: every terminator with block operands") {
  Instr jmp{Op::JMP, 0, 0, 0, 7};
  auto s = successors_of(jmp);
  REQUIRE(s.count == 1);
  CHECK(s.block[0] == 7);
  Instr br{Op::JMP_IF, 1, 4, 5, 0};
  s = successors_of(br);
  REQUIRE(s.count == 2);
  CHECK(s.block[0] == 4);
  CHECK(s.block[1] == 5);
  Instr step{Op::FOR_STEP, 1, 2, 8, 9};
  s = successors_of(step);
  REQUIRE(s.count == 2);
  CHECK(s.block[0] == 8);
  CHECK(s.block[1] == 9);
  rename_blocks(step, [](uint32_t b) { return b + 100; });
  CHECK(step.c == 108);
  CHECK(step.d == 109);
  CHECK(step.a == 1);
  CHECK(step.b == 2);
  CHECK(successors_of(Instr{Op::RET, 0, 0, 0, 0}).count == 0);
  CHECK(successors_of(Instr{Op::YIELD, 0, 0, 0, 3}).count == 0);
  // Every opcode whose layout names blocks is a terminator, and every branch-like
  // terminator names blocks.
  for (uint16_t o = 0; o < kOpCount; ++o) {
    const Op op = static_cast<Op>(o);
    if (block_operands(op).count > 0) CHECK(op_info(op).terminator);
  }
  for (Op op : {Op::JMP, Op::JMP_IF, Op::BR_LT_I64, Op::BR_LE_I64, Op::BR_EQ_I64, Op::BR_NONE, Op::FOR_STEP})
    CHECK(block_operands(op).count > 0);
}
