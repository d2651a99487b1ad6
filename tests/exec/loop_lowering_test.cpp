// What the compiler does to make loops cheaper must not change what they compute: `let`
// evaluated straight into its local, jumps to a lone terminator threaded (an `if` in a
// `for` steps the loop from each arm), and constants loaded in a loop moved to the
// function's entry (ir/passes.h). Every row runs under each engine (the exec-jit tests).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "exec_support.h"

using namespace ved::exec;

namespace {

// "fault KIND at LINE:COL" for the first `needle` of a one-line source.
std::string fault_at(const std::string& kind, const std::string& source, const std::string& needle) {
  return "fault " + kind + " at 1:" + std::to_string(source.find(needle) + 1);
}

}  // namespace

TEST_CASE("let: the value goes straight into the new local, and still reads the outer name") {
  const std::string div = "fn f(y: int) -> int { let x = 10 / y return x }";
  const std::vector<FnCase> cases = {
      {"fn f(x: int) -> int { let y = 0 if x > 0 { let x = x + 1 y = x * 2 } return y + x }", "f", {I(3)}, "11"},
      {"fn f(x: int?) -> int { let y: int? = x let z = y ?? 4 return z }", "f", {N()}, "4"},
      {"fn f(x: int) -> int? { let y: int? = x return y }", "f", {I(6)}, "6"},
      {"fn g(a: int) -> int { return a * 3 } fn f(x: int) -> int { let y = g(x) let z = y return z + y }", "f",
       {I(2)}, "12"},
      {"fn f() -> list<int> { let a = [1, 2] let b = a b[0] = 9 return a }", "f", {}, "[1, 2]"},
      {"fn f(n: int) -> int { let s = 0 for i in 0..n { let k = i * i s += k } return s }", "f", {I(5)}, "30"},
      // Docs style: a first assignment declares the local, the same way.
      {"fn f(x: int) -> int { y = x + 1 y = y * 2 return y }", "f", {I(4)}, "10"},
      {div, "f", {I(5)}, "2"},
      {div, "f", {I(0)}, fault_at("division by zero", div, "/")},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("loops: constants loaded once give the same values, whatever reads them") {
  const std::string counter = "fn f(k: int, x: int) -> int { let m = {1: 10} m[k] = m[k] + x return m[1] }";
  const std::string maps =
      "fn f(n: int) -> int { let m: map<int, int> = {} for i in 0..n { let k = i % 3 "
      "if contains(m, k) { m[k] = m[k] + 1 } else { m[k] = 1 } } return m[2] }";
  const std::vector<FnCase> cases = {
      {"fn f(n: int) -> int { let s = 0 for i in 0..n { s = s + i % 7 * 3 } return s }", "f", {I(10)}, "72"},
      // The constant's register is read after the loop: it must stay where it is.
      {"fn f(n: int) -> int { let s = 0 let c = 0 for i in 0..n { c = 5 s += c } return s + c }", "f", {I(3)},
       "20"},
      {"fn f(n: int) -> int { let s = 0 let c = 0 for i in 0..n { c = 5 s += c } return s + c }", "f", {I(0)},
       "0"},
      // As a call argument (a run of registers) and as a built-in's argument.
      {"fn g(a: int, b: int) -> int { return a * 10 + b } "
       "fn f(n: int) -> int { let s = 0 for i in 0..n { s += g(i, 3) } return s }",
       "f", {I(3)}, "39"},
      {"fn f(n: int) -> string { let s = \"\" for i in 0..n { s = s + str(7) } return s }", "f", {I(3)}, "777"},
      {"fn f(n: int) -> list<bool> { let xs: list<bool> = [] for i in 0..n { xs = append(xs, true) } return xs }",
       "f", {I(2)}, "[true, true]"},
      {"fn f(n: int) -> float { let x = 0.0 for i in 0..n { x = x + 0.5 } return x }", "f", {I(3)}, "1.5"},
      // Nested loops, while loops, and the same constant in several places.
      {"fn f(n: int) -> int { let s = 0 let i = 0 while i < n { let j = 0 while j < 3 { s += 2 j += 1 } i += 1 } "
       "return s }",
       "f", {I(4)}, "24"},
      {"fn f(n: int) -> int { let s = 0 for i in 0..n { for j in 0..2 { s = s + 2 * j + 2 } } return s }", "f",
       {I(3)}, "18"},
      // An `if` in a `for`: each arm steps the loop itself.
      {maps, "f", {I(10)}, "3"},
      {maps, "f", {I(2)}, fault_at("missing key", maps, "m[2]")},
      {"fn f(n: int) -> int { let s = 0 for i in 0..n { if i % 2 == 0 { s += 1 } else { s += 10 } } return s }", "f",
       {I(5)}, "23"},
      // The interpreter runs `if contains(m, k)` as one step; the result is still there to
      // read afterwards, and a string key takes the same path.
      {"fn f(k: int) -> string { let m = {1: 2, 3: 4} let c = contains(m, k) if c { return str(c) + \"!\" } "
       "return str(c) }",
       "f", {I(3)}, "true!"},
      {"fn f(k: int) -> string { let m = {1: 2, 3: 4} let c = contains(m, k) if c { return str(c) + \"!\" } "
       "return str(c) }",
       "f", {I(2)}, "false"},
      {"fn f(k: string) -> int { let m = {\"a\": 1} if contains(m, k) { return m[k] } return -1 }", "f", {S("a")},
       "1"},
      {"fn f(k: string) -> int { let m = {\"a\": 1} if contains(m, k) { return m[k] } return -1 }", "f", {S("b")},
       "-1"},
      // And `m[k] = m[k] + x` as one step: its faults are still raised by the lookup and
      // by the addition, where each is written.
      {counter, "f", {I(1), I(5)}, "15"},
      {counter, "f", {I(2), I(5)}, fault_at("missing key", counter, "m[k] + x")},
      {counter, "f", {I(1), I(INT64_MAX)}, fault_at("overflow", counter, "+ x")},
      {"fn f(n: int) -> map<int, int> { let m = {0: 0, 1: 0} for i in 0..n { m[i % 2] += 3 } return m }", "f",
       {I(5)}, "{0: 9, 1: 6}"},
      // Out of fuel inside the loop: at the same place, with the same fuel, every run.
      {maps, "f", {I(1'000'000)}, "fault budget", "fuel exhausted", 200},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

// The map update of bench/vm/maps.ved, a key that is there already: `let k = i % 2`, the
// `contains` and its branch, then `m[k] = m[k] + 1` and the loop's step. Seven
// instructions, so seven fuel, per iteration (eleven before `let` wrote its local
// directly, the `1` and the `2` were loaded outside the loop and the arm stepped the
// loop itself). A change that makes this loop dearer fails here.
TEST_CASE("loops: a map update costs seven instructions of fuel per iteration") {
  Compiled c = compile(
      "fn f(n: int) -> int { let m: map<int, int> = {} for i in 0..n { let k = i % 2 "
      "if contains(m, k) { m[k] = m[k] + 1 } else { m[k] = 1 } } return m[0] }");
  REQUIRE_MESSAGE(c.ok(), c.describe());
  Outcome ten = call(*c.program, "f", {I(10)});
  Outcome twenty = call(*c.program, "f", {I(20)});
  REQUIRE(ten.ok);
  REQUIRE(twenty.ok);
  CHECK(ten.value == "5");
  CHECK(twenty.value == "10");
  CHECK(twenty.fuel_used - ten.fuel_used == 10 * 7);
}
