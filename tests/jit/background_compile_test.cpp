// The tiered JIT compiles on a thread of its own (vm/jit/shared.h): a function that
// becomes hot is queued, the interpreter goes on running it, and its machine code takes
// over at a later call or slice, whenever the thread is done. These tests hold that
// when that happens shows in no result, and that an interpreter that goes away while a
// compile is in flight neither crashes nor hangs. No timing is asserted: where a test
// needs the code ready it waits for it (Interpreter::wait_for_compiles).
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "exec_support.h"
#include "slice_runner.h"
#include "vm/interpreter.h"
#include "vm/test_driver.h"

using namespace ved::exec;
using Mode = ved::vm::EngineOptions::Mode;

namespace {

// `main` calls `mix` n times (hot at its 1,000th call), and faults on a hash of 0 mod
// 97 for some n: results, faults and fuel all vary with n.
const char* const kCalls = R"(
fn mix(h: int, k: int) -> int {
    return (h * 31 + k) % 1000003
}
fn main(n: int) -> int {
    let h = n
    for k in 0..n { h = mix(h, k) }
    assert h % 97 != 0
    return h
}
)";

// Ten slices (`yield` stands between top-level statements only, so they are written
// out); each calls `mix` 150 times, so that mix is queued during the seventh.
std::string slices_program() {
  std::string body;
  for (int i = 0; i < 10; ++i)
    body += "        for k in 0..150 { h = mix(h, k + " + std::to_string(i) + ") }\n        log = append(log, h)\n        yield\n";
  return R"(
fn mix(h: int, k: int) -> int {
    return (h * 31 + k) % 1000003
}
domain D {
    state { hash: int  log: list<int> }
    transition Go(n: int) {
        let h = n
)" + body + R"(        hash = h
    }
}
)";
}

ved::vm::EngineOptions tiered() {
  ved::vm::EngineOptions e;
  e.mode = Mode::Tiered;
  e.tier_fuel = 1;  // every function is queued at its second run
  return e;
}

// Every slice of D.Go(n) under `interp`, with `between(s)` called after slice s.
template <class Between>
std::string run_go(const ved::vm::Program& p, ved::vm::Interpreter& interp, int64_t n, Between between) {
  return ved::jit_test::run_slices(p, n, 1'000'000, 20, [&](size_t) -> ved::vm::Interpreter& { return interp; },
                                   between);
}

}  // namespace

TEST_CASE("background compile: calls give the interpreter's results whenever the machine code arrives") {
  Compiled c = compile(kCalls);
  REQUIRE_MESSAGE(c.ok(), c.describe());
  ved::vm::TestDriver interp(*c.program), jit(*c.program, tiered());
  // Many short calls: the compile finishes somewhere among them (or not: either way the
  // results must be the interpreter's).
  for (int64_t n = 0; n < 300; ++n) {
    INFO("main(" << n << ")");
    const std::string expected = to_string(outcome_of(*c.program, interp.call("main", {I(n)}, 1'000'000)));
    CHECK(to_string(outcome_of(*c.program, jit.call("main", {I(n)}, 1'000'000))) == expected);
    // Little enough fuel that some runs stop part-way.
    const std::string short_of_fuel = to_string(outcome_of(*c.program, interp.call("main", {I(n)}, 40 * n)));
    CHECK(to_string(outcome_of(*c.program, jit.call("main", {I(n)}, 40 * n))) == short_of_fuel);
  }
  // Once the thread is done, the calls are machine code, with the same results.
  jit.interpreter().wait_for_compiles();
  const ved::vm::EngineStats stats = jit.interpreter().engine_stats();
  CHECK_MESSAGE(stats.error.empty(), stats.error);
  CHECK_MESSAGE(stats.compile_error.empty(), stats.compile_error);
  CHECK(stats.functions_compiled == 2);
  for (int64_t n : {0, 5, 1000, 4000})
    CHECK(to_string(outcome_of(*c.program, jit.call("main", {I(n)}, 1'000'000))) ==
          to_string(outcome_of(*c.program, interp.call("main", {I(n)}, 1'000'000))));
}

TEST_CASE("background compile: a transition switches to machine code at whichever slice it is ready") {
  Compiled c = compile(slices_program());
  REQUIRE_MESSAGE(c.ok(), c.describe());
  const auto& p = *c.program;
  ved::vm::Interpreter reference(p, ved::vm::EngineOptions{});
  const std::string expected = run_go(p, reference, 7, [](size_t) {});
  CHECK(expected.find("\n0 fuel") != std::string::npos);  // it finished
  // The machine code made ready after slice `ready` (a fresh interpreter, and so a fresh
  // JIT, each time), and never waited for.
  for (size_t ready = 0; ready < 10; ++ready) {
    INFO("compiled code ready after slice " << ready);
    ved::vm::Interpreter interp(p, tiered());
    // The transition is queued at its second slice (tier_fuel 1), mix at its 1,000th call.
    CHECK(run_go(p, interp, 7, [&](size_t s) {
            if (s == ready) interp.wait_for_compiles();
          }) == expected);
    // Go was queued before its second slice: from `ready` on, it ran compiled.
    if (ready >= 1) CHECK(interp.engine_stats().functions_compiled == 2);
  }
  ved::vm::Interpreter free_running(p, tiered());
  CHECK(run_go(p, free_running, 7, [](size_t) {}) == expected);
}

TEST_CASE("background compile: an interpreter that goes away while its JIT compiles stops cleanly") {
  Compiled c = compile(kCalls);
  REQUIRE_MESSAGE(c.ok(), c.describe());
  for (int round = 0; round < 5; ++round) {
    INFO("round " << round);
    // Gone at once after queueing: LLVM is still loading, or compiling.
    {
      ved::vm::TestDriver jit(*c.program, tiered());
      CHECK(outcome_of(*c.program, jit.call("main", {I(3)}, 1'000'000)).ok);
      CHECK(outcome_of(*c.program, jit.call("main", {I(3)}, 1'000'000)).ok);  // queues main
    }
    // Two interpreters share the JIT: the first goes while it compiles, the second
    // still gets the machine code.
    auto first = std::make_unique<ved::vm::TestDriver>(*c.program, tiered());
    ved::vm::TestDriver second(*c.program, tiered());
    CHECK(outcome_of(*c.program, first->call("main", {I(2000)}, 1'000'000)).ok);  // queues mix
    CHECK(outcome_of(*c.program, second.call("main", {I(2000)}, 1'000'000)).ok);  // the same JIT
    first.reset();
    CHECK(outcome_of(*c.program, second.call("main", {I(2000)}, 1'000'000)).ok);
    second.interpreter().wait_for_compiles();
    CHECK(second.interpreter().engine_stats().functions_compiled >= 1);
  }
}
