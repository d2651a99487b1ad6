// `vedvm test FILE` (language.md §12): every `test` block runs in a fresh in-memory
// runtime; one line per test, its failures under it, and a closing `N passed, N failed`.
// Tests that must fail are reported as failing, naming the expectation and the tick.
#include <doctest/doctest.h>

#include <sstream>

#include "runtime_support.h"

using namespace ved::rt;

namespace {

std::string example(const std::string& rel) { return std::string(VED_EXAMPLES_DIR) + "/" + rel; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("vedvm test: examples/tests/pool.ved passes three tests and reports the failing one") {
  Result r = vedvm_run({"test", example("tests/pool.ved")});
  CHECK(r.exit_code == 2);
  const auto lines = lines_of(r.out);
  REQUIRE_MESSAGE(lines.size() == 8, r.out << r.err);
  CHECK(lines[0] == "ok    the pool grows to its desired size (6 ticks)");
  CHECK(lines[1] == "ok    the pool degrades when provisioning fails (50 ticks)");
  CHECK(lines[2] == "ok    a resize message grows the pool again (12 ticks)");
  CHECK(lines[3] == "FAIL  deliberately wrong: the pool never exceeds one machine (8 ticks)");
  CHECK(contains(lines[4], "always PoolManager.current <= 1 ("));
  CHECK(contains(lines[4], "pool.ved:78:9) failed at tick 4"));
  CHECK(contains(lines[5], "eventually PoolManager.status == \"degraded\" ("));
  CHECK(contains(lines[5], "never held, at the end (tick 8)"));
  CHECK(contains(lines[6], "PoolManager.current == 1 ("));
  CHECK(contains(lines[6], "does not hold at the end (tick 8)"));
  CHECK(lines[7] == "3 passed, 1 failed");
  // Deterministic: the same report again; --filter runs a subset.
  CHECK(vedvm_run({"test", example("tests/pool.ved")}).out == r.out);
  Result one = vedvm_run({"test", example("tests/pool.ved"), "--filter", "degrades"});
  CHECK(one.exit_code == 0);
  CHECK(lines_of(one.out) == std::vector<std::string>{"ok    the pool degrades when provisioning fails (50 ticks)",
                                                      "1 passed, 0 failed"});
}

TEST_CASE("vedvm test: given states, scripted sends, advance_ticks, rand in a script, always/eventually/final") {
  TempDir tmp;
  write_file(tmp.path() / "t.ved", R"(
domain Counter {
    state { n: int  target: int = 3  seen: list<int> }
    goal Reach { predicate: n >= target  strategy: Step }
    transition Step() { n = n + 1 }
    transition Add(k: int) { target = target + k  seen = append(seen, k) }
}
test "counts to its target" {
    expect { always Counter.n <= Counter.target  Counter.n == 3 }
}
test "given overrides defaults" {
    given { domain Counter { n = 7, target = 7 } }
    expect { always Counter.n == 7 }
}
test "sends arrive, time advances" {
    simulate {
        advance_ticks(10)
        send Counter.Add(k: 2)
        advance_ticks(1)
        let r = rand(5)
        send Counter.Add(k: 10 + r - r)
    }
    expect {
        eventually Counter.n == 3
        eventually Counter.target == 5
        Counter.n == 15
        len(Counter.seen) == 2
    }
}
test "fails: eventually never" {
    simulate { advance_ticks(5) }
    expect { eventually Counter.n == 4 }
}
test "fails: always, broken at the first tick" {
    expect { always Counter.n == 0 }
}
test "fails: final" {
    expect { Counter.n == 2 }
}
)");
  Result r = vedvm_run({"test", tmp / "t.ved"});
  CHECK(r.exit_code == 2);
  const auto lines = lines_of(r.out);
  REQUIRE_MESSAGE(lines.size() >= 7, r.out << r.err);
  CHECK(lines[0].starts_with("ok    counts to its target"));
  CHECK(lines[1].starts_with("ok    given overrides defaults"));
  CHECK_MESSAGE(lines[2].starts_with("ok    sends arrive, time advances"), r.out);
  CHECK(lines[3].starts_with("FAIL  fails: eventually never (5 ticks)"));
  CHECK(contains(lines[4], "eventually Counter.n == 4"));
  CHECK(contains(r.out, "always Counter.n == 0"));
  CHECK(contains(r.out, "failed at tick 1"));
  CHECK(contains(r.out, "Counter.n == 2"));
  CHECK(lines.back() == "3 passed, 3 failed");
}

TEST_CASE("vedvm test: no tests, a compile error") {
  TempDir tmp;
  write_file(tmp.path() / "none.ved", "state { n: int }\ntransition T() { n = n + 1 }\n");
  Result none = vedvm_run({"test", tmp / "none.ved"});
  CHECK(none.exit_code == 0);
  CHECK(none.out == "0 passed, 0 failed\n");
  write_file(tmp.path() / "bad.ved", "state { n: int }\ntest \"x\" { expect { Main.n == \"a\" } }\n");
  Result bad = vedvm_run({"test", tmp / "bad.ved"});
  CHECK(bad.exit_code == 1);
  CHECK(contains(bad.err, "error"));
  CHECK(vedvm_run({"test"}).exit_code == 64);
}
