// Control flow, built-ins, faults and fuel.
#include <doctest/doctest.h>

#include <climits>

#include "exec_support.h"
#include "vm/runtime_library.h"

using namespace ved::exec;

namespace {

constexpr int64_t kMax = INT64_MAX;
constexpr int64_t kMin = INT64_MIN;

const std::string kFib = "fn fib(n: int) -> int { if n < 2 { return n } return fib(n - 1) + fib(n - 2) }";
// `*` at 1:55.
const std::string kFact = "fn f(n: int) -> int { if n <= 1 { return 1 } return n * f(n - 1) }";
const std::string kEvenOdd =
    "fn is_even(n: int) -> bool { if n == 0 { return true } return is_odd(n - 1) }\n"
    "fn is_odd(n: int) -> bool { if n == 0 { return false } return is_even(n - 1) }";
const std::string kDepth = "fn down(n: int) -> int { if n == 0 { return 0 } return 1 + down(n - 1) }";
const std::string kCountRange = "fn f(a: int, b: int) -> int { let c = 0 let s = 0 for i in a..b { c += 1 s = s * 10 + i } return c * 1000 + s }";

}  // namespace

TEST_CASE("control flow: if chains, loops, ranges, early return, recursion") {
  const std::string classify =
      "fn f(n: int) -> string {\n"
      "    if n < 0 { return \"neg\" } else if n == 0 { return \"zero\" } else if n < 10 { return \"small\" }\n"
      "    else { return \"big\" }\n"
      "}";
  const std::string fizzbuzz =
      "fn f(n: int) -> string {\n"
      "    let out: list<string> = []\n"
      "    for i in 1..n + 1 {\n"
      "        if i % 15 == 0 { out = append(out, \"FizzBuzz\") }\n"
      "        else if i % 3 == 0 { out = append(out, \"Fizz\") }\n"
      "        else if i % 5 == 0 { out = append(out, \"Buzz\") }\n"
      "        else { out = append(out, str(i)) }\n"
      "    }\n"
      "    return join(out, \" \")\n"
      "}";
  const std::string find =
      "fn f(xs: list<int>, x: int) -> int { for i in 0..len(xs) { if xs[i] == x { return i } } return -1 }";
  const std::vector<FnCase> cases = {
      {classify, "f", {I(-3)}, "neg"},
      {classify, "f", {I(0)}, "zero"},
      {classify, "f", {I(9)}, "small"},
      {classify, "f", {I(10)}, "big"},
      {"fn f(n: int) -> int { let r = 0 if n > 5 { r = 1 } return r }", "f", {I(5)}, "0"},
      {"fn f(n: int) -> int { let s = 0 let i = 1 while i <= n { s += i i += 1 } return s }", "f", {I(10)}, "55"},
      {"fn f(n: int) -> int { let s = 0 let i = 1 while i <= n { s += i i += 1 } return s }", "f", {I(0)}, "0"},
      {"fn f(a: int, b: int) -> int { while b != 0 { let t = b b = a % b a = t } return a }", "f", {I(48), I(18)},
       "6"},
      {"fn f(n: int) -> int { let steps = 0 while n != 1 { if n % 2 == 0 { n = n / 2 } else { n = 3 * n + 1 } "
       "steps += 1 } return steps }",
       "f", {I(27)}, "111"},
      // Ranges are half-open; a..b with a >= b is empty.
      {kCountRange, "f", {I(0), I(0)}, "0"},
      {kCountRange, "f", {I(3), I(1)}, "0"},
      {kCountRange, "f", {I(2), I(5)}, "3234"},        // 2, 3, 4
      {kCountRange, "f", {I(-3), I(0)}, "2679"},       // c = 3, s = ((-3*10)-2)*10-1 = -321
      {"fn f() -> int { let s = 0 for i in -3..1 { s += i } return s }", "f", {}, "-6"},
      {"fn f() -> int { let c = 0 for i in 0..4 { for j in i + 1..4 { c += 1 } } return c }", "f", {}, "6"},
      {"fn f() -> int { let s = 0 for i in 0..3 { for j in 0..3 { s += i * j } } return s }", "f", {}, "9"},
      {fizzbuzz, "f", {I(15)}, "1 2 Fizz 4 Buzz Fizz 7 8 Fizz Buzz 11 Fizz 13 14 FizzBuzz"},
      {find, "f", {L({I(4), I(7), I(7)}), I(7)}, "1"},
      {find, "f", {L({I(4), I(7)}), I(5)}, "-1"},
      {kFib, "fib", {I(0)}, "0"},
      {kFib, "fib", {I(1)}, "1"},
      {kFib, "fib", {I(20)}, "6765"},
      {kFact, "f", {I(0)}, "1"},
      {kFact, "f", {I(20)}, "2432902008176640000"},
      {kFact, "f", {I(21)}, "fault overflow at 1:55"},
      {kEvenOdd, "is_even", {I(10)}, "true"},
      {kEvenOdd, "is_even", {I(7)}, "false"},
      {kEvenOdd, "is_odd", {I(7)}, "true"},
      {kDepth, "down", {I(5000)}, "5000"},
      {kDepth, "down", {I(9999)}, "9999", "", INT64_MAX},  // 10,000 nested calls: the limit
      {"fn sq(x: int) -> int { return x * x }\nfn f(n: int) -> int { return sq(sq(n) + 1) }", "f", {I(2)}, "25"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("built-ins: min, max, abs, conversions, str, hash") {
  const std::string int_of = "fn f(s: string) -> int { return int(s) }";        // int at 1:33
  const std::string float_of = "fn f(s: string) -> float { return float(s) }";  // float at 1:35
  const std::string abs_of = "fn f(a: int) -> int { return abs(a) }";           // abs at 1:30
  const std::vector<FnCase> cases = {
      {"fn f() -> int { return min(3, -1) }", "f", {}, "-1"},
      {"fn f() -> int { return max(3, -1) }", "f", {}, "3"},
      {"fn f() -> float { return min(1.5, 0.5) }", "f", {}, "0.5"},
      {"fn f(a: int, b: float) -> float { return min(a, b) }", "f", {I(2), F(2.5)}, "2.0"},  // mixed: a float
      {"fn f(a: float, b: float) -> float { return min(a, b) }", "f", {F(0.0), F(-0.0)}, "-0.0"},
      {"fn f(a: float, b: float) -> float { return max(a, b) }", "f", {F(-0.0), F(0.0)}, "0.0"},
      {"fn f() -> int { return min([4, 2, 8]) }", "f", {}, "2"},
      {"fn f() -> int { return max([4, 2, 8]) }", "f", {}, "8"},
      {"fn f() -> float { return max([1.5, -2.5]) }", "f", {}, "1.5"},
      {"fn f(xs: list<int>) -> int { return min(xs) }", "f", {L({})}, "fault index at 1:37", "min of an empty list"},
      {"fn f(xs: list<float>) -> float { return max(xs) }", "f", {L({})}, "fault index at 1:41",
       "max of an empty list"},
      {abs_of, "f", {I(-5)}, "5"},
      {abs_of, "f", {I(kMax)}, "9223372036854775807"},
      {abs_of, "f", {I(kMin + 1)}, "9223372036854775807"},
      {abs_of, "f", {I(kMin)}, "fault overflow at 1:30"},
      {"fn f(x: float) -> float { return abs(x) }", "f", {F(-2.5)}, "2.5"},
      {int_of, "f", {S("12")}, "12"},
      {int_of, "f", {S("-7")}, "-7"},
      {int_of, "f", {S("+8")}, "8"},
      {int_of, "f", {S("-9223372036854775808")}, "-9223372036854775808"},
      {int_of, "f", {S("12a")}, "fault conversion at 1:33", "int(\"12a\"): not a whole number"},
      {int_of, "f", {S(" 1")}, "fault conversion at 1:33"},
      {int_of, "f", {S("")}, "fault conversion at 1:33"},
      {int_of, "f", {S("1_000")}, "fault conversion at 1:33"},
      {int_of, "f", {S("9223372036854775808")}, "fault overflow at 1:33"},
      {"fn f(b: bool) -> int { return int(b) + int(!b) * 10 }", "f", {B(true)}, "1"},
      {float_of, "f", {S("1.5")}, "1.5"},
      {float_of, "f", {S(".5")}, "0.5"},
      {float_of, "f", {S("1e3")}, "1000.0"},
      {float_of, "f", {S("-2")}, "-2.0"},
      {float_of, "f", {S("+1")}, "fault conversion at 1:35"},
      {float_of, "f", {S("abc")}, "fault conversion at 1:35"},
      {float_of, "f", {S("1e400")}, "fault conversion at 1:35"},
      {"fn f(b: bool) -> float { return float(b) }", "f", {B(true)}, "1.0"},
      {"fn f() -> string { return str(42) + str(-7) + str(true) }", "f", {}, "42-7true"},
      // A lone int takes format_value_within's short path, an int in a list the loop: the
      // same text at the edges.
      {"fn f(i: int) -> string { return str(i) + \"|\" + str([i]) + \"|\" + format(\"{}\", i) }", "f", {I(kMin)},
       "-9223372036854775808|[-9223372036854775808]|-9223372036854775808"},
      {"fn f(i: int) -> string { return str(i) + \"|\" + str([i]) }", "f", {I(INT64_MAX)}, "9223372036854775807|[9223372036854775807]"},
      {"fn f(i: int) -> string { return str(i) + str(-i) }", "f", {I(0)}, "00"},
      {"fn f() -> string { return str([1, 2]) + str({\"a\": \"b\"}) }", "f", {}, "[1, 2]{\"a\": \"b\"}"},
      {"fn f(x: int?) -> string { return str(x) }", "f", {N()}, "none"},
      {"fn f() -> bool { return hash([1, 2]) == hash([1, 2]) }", "f", {}, "true"},
      {"fn f() -> bool { return hash(\"a\") == hash(\"b\") }", "f", {}, "false"},
      {"fn f() -> bool { return hash({\"a\": 1, \"b\": 2}) == hash({\"b\": 2, \"a\": 1}) }", "f", {}, "true"},
      {"fn f() -> bool { let xs = [3] xs = append(xs, 4) return hash(xs) == hash([3, 4]) }", "f", {}, "true"},
      {"type P { x: int, y: int }\nfn f() -> bool { return hash(P(x = 1, y = 2)) == hash(P(y: 2, x: 1)) }", "f", {},
       "true"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("hash() is XXH64 of the canonical encoding, the same in every run") {
  // The language promises a fixed function of the value (spec §9); the runtime library
  // documents it as XXH64 of the canonical encoding, so the compiled program and the
  // library must agree, and two separate compilations and runs must agree.
  struct Row {
    const char* expr;
    Value value;
  };
  const std::vector<Row> rows = {
      {"42", I(42)},
      {"\"hello\"", S("hello")},
      {"[1, 2, 3]", L({I(1), I(2), I(3)})},
      {"{\"b\": 2, \"a\": 1}", M({{S("a"), I(1)}, {S("b"), I(2)}})},
      {"true", B(true)},
  };
  for (const auto& row : rows) {
    CAPTURE(row.expr);
    const std::string source = std::string("fn f() -> int { return hash(") + row.expr + ") }";
    Compiled a = compile(source);
    Compiled b = compile(source);
    REQUIRE_MESSAGE(a.ok(), a.describe());
    REQUIRE(b.ok());
    Outcome first = call(*a.program, "f", {});
    Outcome second = call(*b.program, "f", {});
    CHECK(first.ok);
    CHECK(first.value == second.value);
    CHECK(first.value == std::to_string(ved::vm::hash_value(row.value)));
  }
}

TEST_CASE("faults: fail, assert, budget, call depth") {
  const std::string failing = "fn f(a: int) -> int { if a < 0 { fail \"negative: \" + str(a) } return a }";  // 1:34
  const std::string asserting = "fn f(a: int) -> int { assert a > 0, \"must be positive\" return a }";       // 1:23
  const std::vector<FnCase> cases = {
      {failing, "f", {I(3)}, "3"},
      {failing, "f", {I(-2)}, "fault fail at 1:34", "negative: -2"},
      {"fn f() -> int {\n    let x = 1\n    fail \"stop here\"\n}", "f", {}, "fault fail at 3:5", "stop here"},
      {asserting, "f", {I(1)}, "1"},
      {asserting, "f", {I(0)}, "fault assert at 1:23", "must be positive"},
      {"fn f(xs: list<int>) -> int {\n  for x in xs {\n    assert x != 3, \"no threes\"\n  }\n  return len(xs)\n}", "f",
       {L({I(1), I(2), I(3)})}, "fault assert at 3:5", "no threes"},
      // Fuel: a loop that never ends runs out of it; so does a loop that is too long.
      {"fn f() -> int { while true { } return 0 }", "f", {}, "fault budget", "", 1000},
      {"fn f(n: int) -> int { let s = 0 for i in 0..n { s += i } return s }", "f", {I(1'000'000)},
       "fault budget", "", 10'000},
      // More than 10,000 nested calls is a budget fault whatever the fuel.
      {kDepth, "down", {I(10'000)}, "fault budget", "calls nested deeper than 10000", INT64_MAX},
      {kDepth, "down", {I(20'000)}, "fault budget", "nested", INT64_MAX},
      {"fn r(n: int) -> int { return r(n + 1) }", "r", {I(0)}, "fault budget", "nested", INT64_MAX},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("fuel: the same run uses the same fuel, and the limit is exact") {
  const std::string sum = "fn f(n: int) -> int { let s = 0 for i in 0..n { s += i } return s }";
  Compiled c = compile(sum);
  REQUIRE_MESSAGE(c.ok(), c.describe());
  Outcome small = call(*c.program, "f", {I(10)});
  Outcome large = call(*c.program, "f", {I(20)});
  REQUIRE(small.ok);
  REQUIRE(large.ok);
  CHECK(small.value == "45");
  CHECK(small.fuel_used > 0);
  CHECK(large.fuel_used > small.fuel_used);
  // Each iteration costs the same: the loop's blocks.
  Outcome larger = call(*c.program, "f", {I(30)});
  CHECK(larger.fuel_used - large.fuel_used == large.fuel_used - small.fuel_used);
  // Exactly the fuel a run used is enough; one less is not.
  Outcome exact = call(*c.program, "f", {I(10)}, small.fuel_used);
  CHECK(exact == small);
  Outcome short_by_one = call(*c.program, "f", {I(10)}, small.fuel_used - 1);
  CHECK(short_by_one.fault == FaultKind::Budget);
  // A budget fault happens at the same place, with the same fuel, every time.
  Outcome a = call(*c.program, "f", {I(1'000'000)}, 5000);
  Outcome b = call(*c.program, "f", {I(1'000'000)}, 5000);
  CHECK(a.fault == FaultKind::Budget);
  CHECK(a == b);
  Compiled again = compile(sum);
  REQUIRE(again.ok());
  CHECK(call(*again.program, "f", {I(1'000'000)}, 5000) == a);
}

TEST_CASE("no source construct unwraps none: `??` never faults, optionals do not fit their value type") {
  // FaultKind::NoneValue ("`none` unwrapped") exists in the VM, but the only UNWRAP the
  // compiler emits is in the not-none branch of `??`; elsewhere an optional where its
  // value type is wanted is a compile error.
  Compiled ok = compile("fn f(x: int?) -> int { return (x ?? 1) + (x ?? 2) }");
  REQUIRE(ok.ok());
  CHECK(summary(call(*ok.program, "f", {N()})) == "3");
  CHECK(summary(call(*ok.program, "f", {I(5)})) == "10");
  const std::vector<CompileErrorCase> rejected = {
      {"fn f(x: int?) -> int { return x + 1 }", "V-TYP-008 at 1:33"},
      {"fn f(x: int?) -> int { return x }", "V-TYP-012 at 1:31"},
      {"fn f(x: int?) -> int { let y: int = x return y }", "V-TYP-002 at 1:37"},
  };
  CHECK(run_compile_error_cases(rejected) == rejected.size());
}
