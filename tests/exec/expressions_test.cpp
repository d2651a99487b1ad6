// Expressions: integer and float arithmetic, booleans and short circuit, strings.
//
// Expected values come from the language definition (../shared/spec/language.md §5, §9,
// docs/language.md, the built-ins' definition at the top of vm/runtime_library.cpp):
// `/` truncates toward zero, `%` takes the sign of the dividend, int overflow and
// division by zero (also for floats) fault at the operator, strings count code points.
// Fault positions are "LINE:COL" with 1-based columns counted in code points.
#include <doctest/doctest.h>

#include <climits>

#include "exec_support.h"

using namespace ved::exec;

namespace {

constexpr int64_t kMax = INT64_MAX;
constexpr int64_t kMin = INT64_MIN;

// `fn f(a: int, b: int) -> int { return a OP b }`: the operator is at 1:40.
std::string binop(const std::string& op) { return "fn f(a: int, b: int) -> int { return a " + op + " b }"; }
// The same for floats: the operator is at 1:46.
std::string fbinop(const std::string& op, const std::string& result = "float") {
  return "fn f(a: float, b: float) -> " + result + " { return a " + op + " b }";
}

}  // namespace

TEST_CASE("integer arithmetic: precedence, truncation, remainder sign") {
  const std::vector<FnCase> cases = {
      {"fn f() -> int { return 1 + 2 * 3 }", "f", {}, "7"},
      {"fn f() -> int { return (1 + 2) * 3 }", "f", {}, "9"},
      {"fn f() -> int { return 10 - 4 - 3 }", "f", {}, "3"},              // left associative
      {"fn f() -> int { return 100 / 10 / 5 }", "f", {}, "2"},            // (100 / 10) / 5
      {"fn f() -> int { return -2 * 3 + 10 % 4 }", "f", {}, "-4"},        // -6 + 2
      {"fn f() -> int { return 2 - -3 }", "f", {}, "5"},
      {"fn f() -> int { return 0x1F + 30_000 }", "f", {}, "30031"},
      {"fn f() -> int { return 1 + 2 * 3 - 8 / 4 % 3 }", "f", {}, "5"},  // 1 + 6 - ((8/4)%3)
      {binop("/"), "f", {I(7), I(2)}, "3"},
      {binop("/"), "f", {I(-7), I(2)}, "-3"},
      {binop("/"), "f", {I(7), I(-2)}, "-3"},
      {binop("/"), "f", {I(-7), I(-2)}, "3"},
      {binop("%"), "f", {I(-7), I(2)}, "-1"},
      {binop("%"), "f", {I(7), I(-2)}, "1"},
      {binop("%"), "f", {I(-7), I(-2)}, "-1"},
      {binop("%"), "f", {I(6), I(3)}, "0"},
      {binop("%"), "f", {I(kMin), I(-1)}, "0"},  // the remainder is 0, which is an int
      {binop("-"), "f", {I(kMin + 1), I(1)}, "-9223372036854775808"},
      {binop("+"), "f", {I(kMax - 1), I(1)}, "9223372036854775807"},
      {"fn f() -> int { return -9223372036854775808 }", "f", {}, "-9223372036854775808"},
      // a = a * 2 + 1 as a statement sequence
      {"fn f(n: int) -> int { let x = n x = x * 2 x += 1 x -= 3 x *= 5 return x }", "f", {I(4)}, "30"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

// `%` by a register that only ever holds one positive constant is taken without a divide
// by the interpreter when the dividend fits in 32 unsigned bits (vm/interpreter.cpp);
// every other dividend, and every divisor that is not such a constant, is REM_I64's.
TEST_CASE("integer remainder by a constant: every dividend, and divisors that only look constant") {
  const std::string by_1000 = "fn f(x: int) -> int { return x % 1000 }";
  const std::string reassigned = "fn f(x: int) -> int { let d = 7 if x > 5 { d = 0 } return x % d }";
  const std::vector<FnCase> cases = {
      {by_1000, "f", {I(123456)}, "456"},
      {by_1000, "f", {I(0)}, "0"},
      {by_1000, "f", {I(4294967295)}, "295"},          // the largest 32-bit dividend
      {by_1000, "f", {I(4294967296)}, "296"},          // the smallest that is not
      {by_1000, "f", {I(1099511627781)}, "781"},       // 2^40 + 5
      {by_1000, "f", {I(-7)}, "-7"},                   // the sign of the dividend
      {by_1000, "f", {I(-123456)}, "-456"},
      {by_1000, "f", {I(kMin)}, "-808"},
      {by_1000, "f", {I(kMax)}, "807"},
      {"fn f(x: int) -> int { return x % 1 }", "f", {I(99)}, "0"},
      {"fn f(x: int) -> int { return x % 2147483647 }", "f", {I(4294967295)}, "1"},
      {"fn f(x: int) -> int { return x % -3 }", "f", {I(7)}, "1"},
      {"fn f(x: int) -> int { return x % -3 }", "f", {I(-7)}, "-1"},
      {"fn f(x: int, y: int) -> int { return x % y + x % 10 }", "f", {I(25), I(7)}, "9"},
      {reassigned, "f", {I(3)}, "3"},
      {reassigned, "f", {I(9)}, "fault division by zero at 1:" + std::to_string(reassigned.find("% d") + 1)},
      {"fn f(n: int) -> int { let s = 0 for i in 0..n { s += i % 3 } return s }", "f", {I(10)}, "9"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("integer overflow and division by zero fault at the operator") {
  const std::vector<FnCase> cases = {
      {binop("+"), "f", {I(kMax), I(1)}, "fault overflow at 1:40", "overflow"},
      {binop("+"), "f", {I(kMin), I(-1)}, "fault overflow at 1:40"},
      {binop("-"), "f", {I(kMin), I(1)}, "fault overflow at 1:40"},
      {binop("-"), "f", {I(0), I(kMin)}, "fault overflow at 1:40"},
      {binop("*"), "f", {I(4611686018427387904), I(2)}, "fault overflow at 1:40"},
      {binop("*"), "f", {I(kMin), I(-1)}, "fault overflow at 1:40"},
      {binop("*"), "f", {I(-4611686018427387904), I(2)}, "-9223372036854775808"},  // exactly INT64_MIN
      {binop("/"), "f", {I(kMin), I(-1)}, "fault overflow at 1:40"},
      {binop("/"), "f", {I(1), I(0)}, "fault division by zero at 1:40"},
      {binop("%"), "f", {I(1), I(0)}, "fault division by zero at 1:40"},
      {binop("/"), "f", {I(0), I(0)}, "fault division by zero at 1:40"},
      {"fn f(a: int) -> int { return -a }", "f", {I(kMin)}, "fault overflow at 1:30"},
      {"fn f(a: int) -> int { return -a }", "f", {I(kMax)}, "-9223372036854775807"},
      // Constants are not folded into something that does not fault.
      {"fn f() -> int { return 9223372036854775807 + 1 }", "f", {}, "fault overflow at 1:44"},
      {"fn f() -> int { return -9223372036854775807 - 2 }", "f", {}, "fault overflow at 1:45"},
      {"fn f() -> int { return 1 / 0 }", "f", {}, "fault division by zero at 1:26"},
      {"fn f() -> int { return 5 % 0 }", "f", {}, "fault division by zero at 1:26"},
      // The line and column of the operator that faults, not of the statement.
      {"fn f(n: int) -> int {\n    let x = n * 2\n    return x + n\n}", "f", {I(4611686018427387904)},
       "fault overflow at 2:15"},
      {"fn f(n: int) -> int {\n    let x = n * 2\n    return x + n\n}", "f", {I(3074457345618258603)},
       "fault overflow at 3:14"},
      {"fn f(n: int) -> int {\n    let d = n - 5\n    return 100 /\n        d\n}", "f", {I(5)},
       "fault division by zero at 3:16"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("compound assignment overflow is located at its operator") {
  // Like `x = x + 1`, whose fault is at its `+` (once placed at the target, 1:33).
  const std::vector<FnCase> cases = {
      {"fn f(a: int) -> int { let x = a x += 1 return x }", "f", {I(kMax)}, "fault overflow at 1:35"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("floats: mixed arithmetic, formatting, comparison, division by zero") {
  const std::vector<FnCase> cases = {
      {"fn f(a: int) -> float { return a * 0.5 }", "f", {I(3)}, "1.5"},
      {"fn f(a: int) -> float { return 0.25 + a }", "f", {I(-1)}, "-0.75"},
      {"fn f(x: float) -> string { return str(x) }", "f", {F(2.0)}, "2.0"},
      {"fn f(x: float) -> string { return str(x) }", "f", {F(-0.5)}, "-0.5"},
      {"fn f(x: float) -> string { return str(x) }", "f", {F(1e301)}, "1e+301"},
      {"fn f() -> string { return str(0.1 + 0.2) }", "f", {}, "0.30000000000000004"},
      {"fn f(a: float, b: float) -> float { return a + b }", "f", {F(0.1), F(0.2)}, "0.30000000000000004"},
      {fbinop("/"), "f", {F(7.5), F(2.5)}, "3.0"},
      {fbinop("/"), "f", {F(1.0), F(4.0)}, "0.25"},
      {fbinop("%"), "f", {F(7.5), F(2.0)}, "1.5"},
      {fbinop("%"), "f", {F(-7.5), F(2.0)}, "-1.5"},  // fmod: sign of the dividend
      {fbinop("*"), "f", {F(1e308), F(10.0)}, "inf"},  // IEEE: no fault for floats out of range
      {fbinop("-"), "f", {F(-1e308), F(1e308)}, "-inf"},
      {fbinop("/"), "f", {F(1.0), F(0.0)}, "fault division by zero at 1:46"},
      {fbinop("/"), "f", {F(1.0), F(-0.0)}, "fault division by zero at 1:46"},
      {fbinop("%"), "f", {F(1.0), F(0.0)}, "fault division by zero at 1:46"},
      {fbinop("==", "bool"), "f", {F(0.1 + 0.2), F(0.3)}, "false"},
      {fbinop("==", "bool"), "f", {F(0.0), F(-0.0)}, "true"},
      {fbinop("<", "bool"), "f", {F(-0.5), F(0.25)}, "true"},
      {fbinop(">=", "bool"), "f", {F(0.25), F(0.25)}, "true"},
      {fbinop("!=", "bool"), "f", {F(1.5), F(1.5)}, "false"},
      {"fn f() -> bool { return 0.1 + 0.2 > 0.3 }", "f", {}, "true"},
      {"fn f(x: float) -> int { return int(x) }", "f", {F(2.9)}, "2"},
      {"fn f(x: float) -> int { return int(x) }", "f", {F(-2.9)}, "-2"},  // toward zero
      {"fn f(x: float) -> int { return int(x) }", "f", {F(1e19)}, "fault overflow at 1:32"},
      {"fn f(n: int) -> float { return float(n) / 0.5 }", "f", {I(3)}, "6.0"},
      {"fn f(n: int) -> string { return str(float(n)) }", "f", {I(-3)}, "-3.0"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("floats: integral-valued float constants") {
  // A float constant with an integral value (`2.0`, `-0.0`, the `1` of `0.5 < 1` or of
  // `x * 2` converted to a float) once made a bundle the VM rejected: msgpack-c writes
  // whole-number doubles as integers unless told otherwise.
  const std::vector<FnCase> cases = {
      {"fn f() -> float { return 2.0 }", "f", {}, "2.0"},
      {"fn f() -> string { return str(2.0) }", "f", {}, "2.0"},
      {"fn f() -> bool { return 0.5 < 1 }", "f", {}, "true"},
      {"fn f(x: float) -> float { return x * 2 }", "f", {F(1.25)}, "2.5"},
      {"fn f() -> float { return 1.5 + 0.5 }", "f", {}, "2.0"},
      {"fn f() -> bool { return -0.0 == 0.0 }", "f", {}, "true"},
      {"fn f() -> float { return 1 + 2.5 }", "f", {}, "3.5"},                     // 1 becomes 1.0
      {"fn f(n: int) -> float { return float(n) / 4 }", "f", {I(3)}, "0.75"},     // 4 becomes 4.0
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("booleans: precedence, not and !, short circuit") {
  // `a != 0 && b / a > 1`: the division is at 1:51 and must not run when a == 0.
  const std::string guarded_and = "fn f(a: int, b: int) -> bool { return a != 0 && b / a > 1 }";
  const std::string guarded_or = "fn f(a: int, b: int) -> bool { return a == 0 || b / a > 1 }";
  const std::string unguarded = "fn f(a: int, b: int) -> bool { return b / a > 1 || a == 0 }";
  const std::vector<FnCase> cases = {
      {"fn f() -> bool { return true && false || true }", "f", {}, "true"},   // (t && f) || t
      {"fn f() -> bool { return true || false && false }", "f", {}, "true"},  // t || (f && f)
      {"fn f() -> bool { return not true or true }", "f", {}, "true"},        // (not t) or t
      {"fn f() -> bool { return !(1 < 2) }", "f", {}, "false"},
      {"fn f(x: bool) -> bool { return !x }", "f", {B(false)}, "true"},
      {"fn f(x: bool) -> bool { return not x and true }", "f", {B(true)}, "false"},
      {"fn f(a: bool, b: bool) -> bool { return a == b }", "f", {B(true), B(false)}, "false"},
      {"fn f(a: bool, b: bool) -> bool { return a != b }", "f", {B(true), B(false)}, "true"},
      {"fn f(a: int) -> bool { return a > 1 && a < 5 }", "f", {I(5)}, "false"},
      {guarded_and, "f", {I(0), I(10)}, "false"},
      {guarded_and, "f", {I(2), I(10)}, "true"},
      {guarded_or, "f", {I(0), I(10)}, "true"},
      {guarded_or, "f", {I(20), I(10)}, "false"},
      {unguarded, "f", {I(0), I(10)}, "fault division by zero at 1:41"},
      {"fn f(a: int, b: int) -> bool { return a != 0 and b % a == 0 }", "f", {I(0), I(7)}, "false"},
      {"fn f(xs: list<int>, i: int) -> bool { return i < len(xs) && xs[i] > 0 }", "f", {L({I(1)}), I(3)}, "false"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("strings: code points, concatenation, comparison, built-ins") {
  const std::string index = "fn f(s: string, i: int) -> string { return s[i] }";  // s[i] at 1:44
  const std::string fmt = "fn f(f: string) -> string { return format(f, 1, \"a\") }";  // format at 1:36
  const std::vector<FnCase> cases = {
      {"fn f() -> string { return \"ab\" + \"cd\" + \"\" }", "f", {}, "abcd"},
      {"fn f() -> int { return len(\"héllo\") }", "f", {}, "5"},
      {"fn f() -> int { return len(\"日本語\") }", "f", {}, "3"},
      {"fn f() -> int { return len(\"\") }", "f", {}, "0"},
      {"fn f() -> string { return \"héllo\"[1] }", "f", {}, "é"},
      {"fn f() -> string { return \"日本語\"[2] }", "f", {}, "語"},
      {index, "f", {S("héllo"), I(4)}, "o"},
      {index, "f", {S("héllo"), I(5)}, "fault index at 1:44", "index 5 out of range"},
      {index, "f", {S("abc"), I(-1)}, "fault index at 1:44"},
      {index, "f", {S(""), I(0)}, "fault index at 1:44"},
      {"fn f() -> bool { return \"abc\" < \"abd\" }", "f", {}, "true"},
      {"fn f() -> bool { return \"Z\" < \"a\" }", "f", {}, "true"},  // bytewise
      {"fn f() -> bool { return \"ab\" < \"a\" }", "f", {}, "false"},
      {"fn f() -> bool { return \"é\" == \"\\u{e9}\" }", "f", {}, "true"},
      {"fn f(a: string) -> bool { return a + \"x\" != \"yx\" }", "f", {S("y")}, "false"},
      {"fn f() -> string { return slice(\"héllo\", 1, 3) }", "f", {}, "él"},
      {"fn f() -> string { return slice(\"abc\", -5, 10) }", "f", {}, "abc"},  // clamped
      {"fn f() -> string { return slice(\"abc\", 2, 1) }", "f", {}, ""},
      {"fn f() -> list<string> { return split(\"a,,b\", \",\") }", "f", {}, "[\"a\", \"\", \"b\"]"},
      {"fn f() -> list<string> { return split(\"\", \",\") }", "f", {}, "[\"\"]"},
      {"fn f() -> list<string> { return split(\"héllo\", \"\") }", "f", {}, "[\"h\", \"é\", \"l\", \"l\", \"o\"]"},
      {"fn f() -> list<string> { return split(\"a::b::\", \"::\") }", "f", {}, "[\"a\", \"b\", \"\"]"},
      {"fn f() -> string { return join([\"a\", \"b\", \"c\"], \"-\") }", "f", {}, "a-b-c"},
      {"fn f() -> string { let xs: list<string> = [] return join(xs, \", \") }", "f", {}, ""},
      {"fn f() -> string { return join(split(\"x y z\", \" \"), \"+\") }", "f", {}, "x+y+z"},
      {"fn f() -> string { return upper(\"héllo w1\") }", "f", {}, "HéLLO W1"},  // ASCII letters only
      {"fn f() -> string { return lower(\"ABC Déf\") }", "f", {}, "abc déf"},
      {"fn f() -> bool { return starts_with(\"hello\", \"he\") }", "f", {}, "true"},
      {"fn f() -> bool { return starts_with(\"he\", \"hello\") }", "f", {}, "false"},
      {"fn f() -> bool { return ends_with(\"hello\", \"lo\") }", "f", {}, "true"},
      {"fn f() -> bool { return ends_with(\"hello\", \"\") }", "f", {}, "true"},
      {"fn f() -> bool { return contains(\"hello\", \"ell\") }", "f", {}, "true"},
      {"fn f() -> bool { return contains(\"hello\", \"elo\") }", "f", {}, "false"},
      {"fn f() -> string { return format(\"{}-{}\", 1, \"a\") }", "f", {}, "1-a"},
      {"fn f() -> string { return format(\"{}|{}|{}\", [\"x\"], true, 1.5) }", "f", {}, "[\"x\"]|true|1.5"},
      {"fn f() -> string { return format(\"no holes\") }", "f", {}, "no holes"},
      {fmt, "f", {S("{}-{}")}, "1-a"},
      {fmt, "f", {S("{}")}, "fault conversion at 1:36", "has 1 `{}` but 2 arguments"},
      {fmt, "f", {S("{}{}{}")}, "fault conversion at 1:36", "has 3 `{}` but 2 arguments"},
      {"fn f() -> string { return str(\"a\\\"b\") + str([\"a\\\"b\"]) }", "f", {}, "a\"b[\"a\\\"b\"]"},
      {"fn f() -> string { return \"tab\\there\\n\" }", "f", {}, "tab\there\n"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}
