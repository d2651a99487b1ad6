// Lists, maps, optionals and records: literals, lookups and their faults, in-place updates
// and copy-on-write (an update through one name is never seen through another), key
// order (maps iterate and list their keys in key order: ints numerically, strings
// bytewise, whatever the insertion order).
#include <doctest/doctest.h>

#include "exec_support.h"

using namespace ved::exec;

TEST_CASE("lists: literals, indexing, built-ins, loops, updates") {
  const std::string index = "fn f(xs: list<int>, i: int) -> int { return xs[i] }";                       // 1:45
  const std::string set = "fn f(i: int) -> list<int> { let xs = [1, 2, 3] xs[i] = 0 return xs }";         // 1:48
  const std::string rm = "fn f(xs: list<int>, i: int) -> list<int> { return remove(xs, i) }";           // 1:51
  const std::vector<FnCase> cases = {
      {"fn f() -> list<int> { return [1, 2, 3] }", "f", {}, "[1, 2, 3]"},
      {"fn f() -> list<string> { return [\"a\", \"b\",] }", "f", {}, "[\"a\", \"b\"]"},  // trailing comma
      {"fn f() -> int { return [10, 20, 30][1] }", "f", {}, "20"},
      {index, "f", {L({I(5), I(6)}), I(0)}, "5"},
      {index, "f", {L({I(5), I(6)}), I(2)}, "fault index at 1:45", "index 2 out of range for a list of length 2"},
      {index, "f", {L({I(5), I(6)}), I(-1)}, "fault index at 1:45"},
      {index, "f", {L({}), I(0)}, "fault index at 1:45"},
      {"fn f() -> list<int> { return append([1], 2) }", "f", {}, "[1, 2]"},
      {"fn f() -> list<int> { let xs: list<int> = [] xs = append(xs, 7) xs = append(xs, 8) return xs }", "f", {},
       "[7, 8]"},
      {rm, "f", {L({I(1), I(2), I(3)}), I(1)}, "[1, 3]"},
      {rm, "f", {L({I(1), I(2), I(3)}), I(3)}, "fault index at 1:51", "index 3 out of range"},
      {rm, "f", {L({I(1)}), I(-1)}, "fault index at 1:51"},
      {"fn f() -> list<int> { return slice([1, 2, 3, 4], 1, 3) }", "f", {}, "[2, 3]"},
      {"fn f() -> list<int> { return slice([1, 2, 3, 4], 3, 99) }", "f", {}, "[4]"},
      {"fn f() -> list<int> { return slice([1, 2, 3], -2, 0) }", "f", {}, "[]"},
      {"fn f(x: int) -> bool { return contains([1, 2, 3], x) }", "f", {I(2)}, "true"},
      {"fn f(x: int) -> bool { return contains([1, 2, 3], x) }", "f", {I(4)}, "false"},
      {"fn f() -> bool { return contains([[1], [2, 3]], [2, 3]) }", "f", {}, "true"},  // structural equality
      {"fn f() -> int { let xs: list<int> = [] return len(xs) + len([4, 5]) }", "f", {}, "2"},
      {"fn f(xs: list<int>) -> int { let s = 0 for x in xs { s = s * 10 + x } return s }", "f",
       {L({I(1), I(2), I(3)})}, "123"},  // in order
      {"fn f() -> int { let m = [[1, 2], [3]] return m[0][1] * 10 + m[1][0] }", "f", {}, "23"},
      {"fn f(xs: list<list<int>>) -> int { return xs[1][2] }", "f", {L({L({I(1)}), L({I(2)})})},
       "fault index at 1:43"},
      {"fn f() -> list<list<int>> { let m = [[1, 2], [3]] m[1][0] = 7 m[0] = append(m[0], 9) return m }", "f",
       {}, "[[1, 2, 9], [7]]"},
      {set, "f", {I(2)}, "[1, 2, 0]"},
      {set, "f", {I(3)}, "fault index at 1:48"},
      {"fn f() -> list<int> { let xs = [1, 2, 3] xs[0] += 10 xs[2] *= 3 return xs }", "f", {}, "[11, 2, 9]"},
      {"fn f() -> bool { return [1, 2] == [1, 2] && [1, 2] != [2, 1] }", "f", {}, "true"},
      // copy-on-write
      {"fn f() -> list<int> { let a = [1, 2] let b = a b[0] = 9 return a }", "f", {}, "[1, 2]"},
      {"fn f() -> list<int> { let a = [1, 2] let b = a b[0] = 9 return b }", "f", {}, "[9, 2]"},
      {"fn f() -> list<int> { let a = [1, 2] let b = append(a, 3) b[0] = 0 return a }", "f", {}, "[1, 2]"},
      {"fn g(xs: list<int>) -> int { xs[0] = 100 return xs[0] }\n"
       "fn f() -> list<int> { let a = [1, 2] let n = g(a) a[1] = n return a }",
       "f", {}, "[1, 100]"},
      {"fn f() -> list<list<int>> { let inner = [1] let outer = [inner, inner] outer[0][0] = 5 return append(outer, inner) }",
       "f", {}, "[[5], [1], [1]]"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("maps: lookups, missing keys, updates, key order, copy-on-write") {
  const std::string lookup = "fn f(k: string) -> int { let m = {\"a\": 1, \"b\": 2} return m[k] }";  // 1:58
  const std::string ilookup = "fn f(k: int) -> string { let m = {-1: \"x\"} return m[k] }";          // 1:51
  const std::string bump = "fn f(k: string) -> map<string, int> { let m = {\"a\": 1} m[k] += 1 return m }";  // 1:56
  // Inserted out of key order on purpose.
  const std::string ints = "let m = {3: \"c\", -10: \"a\", 0: \"b\", 25: \"d\"}";
  const std::string strs = "let m = {\"pear\": 1, \"apple\": 2, \"Zed\": 3, \"fig\": 4}";
  const std::vector<FnCase> cases = {
      {lookup, "f", {S("b")}, "2"},
      {lookup, "f", {S("c")}, "fault missing key at 1:58"},
      {lookup, "f", {S("")}, "fault missing key at 1:58"},
      {ilookup, "f", {I(-1)}, "x"},
      {ilookup, "f", {I(1)}, "fault missing key at 1:51"},
      {bump, "f", {S("a")}, "{\"a\": 2}"},
      {bump, "f", {S("b")}, "fault missing key at 1:56"},
      {"fn f() -> map<string, int> { let m = {\"b\": 1} m[\"a\"] = 5 m[\"b\"] = 6 return m }", "f", {},
       "{\"a\": 5, \"b\": 6}"},
      {"fn f(k: string) -> bool { return contains({\"a\": 1}, k) }", "f", {S("a")}, "true"},
      {"fn f(k: string) -> bool { return contains({\"a\": 1}, k) }", "f", {S("A")}, "false"},
      {"fn f() -> int { return len({1: 1, 2: 2, 3: 3}) }", "f", {}, "3"},
      {"fn f() -> list<int> { " + ints + " return keys(m) }", "f", {}, "[-10, 0, 3, 25]"},
      {"fn f() -> list<string> { " + ints + " return values(m) }", "f", {}, "[\"a\", \"b\", \"c\", \"d\"]"},
      {"fn f() -> list<string> { " + strs + " return keys(m) }", "f", {}, "[\"Zed\", \"apple\", \"fig\", \"pear\"]"},
      {"fn f() -> list<int> { " + strs + " return values(m) }", "f", {}, "[3, 2, 4, 1]"},
      {"fn f() -> string { " + ints + " let s = \"\" for k, v in m { s = s + str(k) + v + \" \" } return s }", "f",
       {}, "-10a 0b 3c 25d "},
      {"fn f() -> string { " + strs + " let s = \"\" for k, v in m { s = s + k + \"=\" + str(v) + \";\" } return s }",
       "f", {}, "Zed=3;apple=2;fig=4;pear=1;"},
      // keys added by assignment land in key order too
      {"fn f() -> list<int> { let m: map<int, bool> = {} m[5] = true m[-5] = false m[0] = true return keys(m) }",
       "f", {}, "[-5, 0, 5]"},
      {"fn f() -> map<int, int> { let m = {2: 20, 1: 10} return m }", "f", {}, "{1: 10, 2: 20}"},
      {"fn f() -> map<string, int> { return remove({\"a\": 1, \"b\": 2}, \"a\") }", "f", {}, "{\"b\": 2}"},
      {"fn f() -> map<string, int> { return remove({\"a\": 1}, \"zz\") }", "f", {}, "{\"a\": 1}"},  // absent: unchanged
      {"fn f() -> int { let m = {\"x\": {\"y\": 1}} m[\"x\"][\"y\"] = 41 m[\"x\"][\"y\"] += 1 return m[\"x\"][\"y\"] }", "f", {},
       "42"},
      {"fn f() -> bool { return {\"a\": 1, \"b\": 2} == {\"b\": 2, \"a\": 1} }", "f", {}, "true"},
      // copy-on-write
      {"fn f() -> map<string, int> { let a = {\"k\": 1} let b = a b[\"k\"] = 2 b[\"n\"] = 3 return a }", "f", {},
       "{\"k\": 1}"},
      {"fn f() -> map<string, int> { let a = {\"k\": 1} let b = a b[\"k\"] = 2 return b }", "f", {}, "{\"k\": 2}"},
      {"fn f() -> map<string, int> { let a = {\"k\": 1} let b = remove(a, \"k\") return a }", "f", {}, "{\"k\": 1}"},
      {"fn f() -> map<string, list<int>> { let xs = [1] let m = {\"a\": xs} m[\"a\"][0] = 2 m[\"b\"] = xs return m }", "f",
       {}, "{\"a\": [2], \"b\": [1]}"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("optionals: none, ??, comparison with none") {
  const std::string fallback = "fn f(x: int?) -> int { return x ?? 5 }";
  const std::vector<FnCase> cases = {
      {fallback, "f", {N()}, "5"},
      {fallback, "f", {I(3)}, "3"},
      {fallback, "f", {I(0)}, "0"},
      {"fn f(x: int?) -> bool { return x == none }", "f", {N()}, "true"},
      {"fn f(x: int?) -> bool { return x == none }", "f", {I(1)}, "false"},
      {"fn f(x: int?) -> bool { return x != none }", "f", {I(1)}, "true"},
      // `??` binds tighter than comparison, looser than arithmetic.
      {"fn f(x: int?) -> int { return x ?? 0 + 1 }", "f", {N()}, "1"},
      {"fn f(x: int?) -> int { return x ?? 0 + 1 }", "f", {I(7)}, "7"},
      {"fn f(x: int?) -> bool { return x ?? 0 > 3 }", "f", {I(5)}, "true"},
      {"fn f(x: int?, y: int?) -> int { return x ?? y ?? 9 }", "f", {N(), I(4)}, "4"},
      {"fn f(x: int?, y: int?) -> int { return x ?? y ?? 9 }", "f", {N(), N()}, "9"},
      {"fn f(b: bool) -> int? { if b { return 1 } return none }", "f", {B(false)}, "none"},
      {"fn f(b: bool) -> int? { if b { return 1 } return none }", "f", {B(true)}, "1"},
      {"fn f() -> string { let s: string? = none return s ?? \"dflt\" }", "f", {}, "dflt"},
      {"fn f() -> list<int?> { let xs: list<int?> = [1, none] xs[0] = none return xs }", "f", {}, "[none, none]"},
      // The right side of ?? runs only when the left is none.
      {"fn f(x: int?, d: int) -> int { return x ?? 10 / d }", "f", {I(1), I(0)}, "1"},
      {"fn f(x: int?, d: int) -> int { return x ?? 10 / d }", "f", {N(), I(0)}, "fault division by zero at 1:47"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}

TEST_CASE("records: construction, fields, defaults, updates, copy-on-write") {
  const std::string types =
      "type Point { x: int, y: int }\n"
      "type Box { label: string = \"box\", size: int = 3, tag: string?, corner: Point }\n"
      "type Outer { inner: Box, n: int }\n";
  const std::vector<FnCase> cases = {
      {types + "fn f() -> Point { return Point(x = 1, y = 2) }", "f", {}, "Point(x: 1, y: 2)"},
      {types + "fn f() -> Point { return Point(x: 3, y: 4) }", "f", {}, "Point(x: 3, y: 4)"},
      {types + "fn f() -> Point { return Point(y = 2, x = 1) }", "f", {}, "Point(x: 1, y: 2)"},
      {types + "fn f(a: int) -> int { let p = Point(x = a, y = a * 2) return p.x + p.y }", "f", {I(5)}, "15"},
      {types + "fn f() -> Point { let p = Point(x = 1, y = 2) p.x = 10 p.y += 5 return p }", "f", {},
       "Point(x: 10, y: 7)"},
      // Defaults for fields with `=`; zero values otherwise: none, and for a record "a record
      // of zero values" (spec §3), so an omitted Box inside an Outer has label "" and size 0,
      // not Box's own defaults.
      {types + "fn f() -> Box { return Box() }", "f", {},
       "Box(label: \"box\", size: 3, tag: none, corner: Point(x: 0, y: 0))"},
      {types + "fn f() -> Box { return Box(size = 9, tag = \"t\") }", "f", {},
       "Box(label: \"box\", size: 9, tag: \"t\", corner: Point(x: 0, y: 0))"},
      {types + "fn f() -> string { return Box().tag ?? \"untagged\" }", "f", {}, "untagged"},
      {types + "fn f() -> Outer { let o = Outer(n = 1) o.inner.corner.y = 4 o.inner.label = \"l\" return o }", "f",
       {}, "Outer(inner: Box(label: \"l\", size: 0, tag: none, corner: Point(x: 0, y: 4)), n: 1)"},
      {types + "fn f() -> Point { let p = Point(x = 1, y = 2) let q = p q.x = 5 return p }", "f", {},
       "Point(x: 1, y: 2)"},
      {types + "fn f() -> Outer { let o = Outer(n = 1) let c = o.inner c.size = 0 o.n = c.size return o }", "f", {},
       "Outer(inner: Box(label: \"\", size: 0, tag: none, corner: Point(x: 0, y: 0)), n: 0)"},
      {types + "fn f() -> bool { return Point(x = 1, y = 2) == Point(x: 1, y: 2) }", "f", {}, "true"},
      {types + "fn f() -> bool { return Point(x = 1, y = 2) == Point(x: 2, y: 1) }", "f", {}, "false"},
      {types + "fn f() -> list<Point> { let ps = [Point(x = 1, y = 1), Point(x = 2, y = 2)] ps[1].x = 9 return ps }",
       "f", {}, "[Point(x: 1, y: 1), Point(x: 9, y: 2)]"},
      {types + "fn f() -> map<string, Point> { let m = {\"o\": Point(x = 0, y = 0)} m[\"o\"].y = -1 return m }", "f",
       {}, "{\"o\": Point(x: 0, y: -1)}"},
      {types + "fn shift(p: Point, d: int) -> Point { p.x += d return p }\n"
               "fn f() -> list<Point> { let a = Point(x = 1, y = 1) let b = shift(a, 2) return [a, b] }",
       "f", {}, "[Point(x: 1, y: 1), Point(x: 3, y: 1)]"},
  };
  CHECK(run_fn_cases(cases) == cases.size());
}
