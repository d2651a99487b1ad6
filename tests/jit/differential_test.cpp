// The differential fuzzer: random well-typed programs (program_generator.h) run under the
// interpreter, the JIT with everything compiled, and the tiered JIT (interpreted, then
// compiled, in one interpreter), which must agree exactly: value, or fault kind,
// message, position and instruction, and fuel.
//
// Which seeds: VED_JIT_FUZZ_FIRST (default 1) and VED_JIT_FUZZ_COUNT (default 0: none), so
// that CTest runs fixed ranges (the same programs every time: a red run is reproducible)
// and scripts/fuzz-jit.sh explores others. A finding prints its seed and program; it
// becomes a row of tests/jit/regressions_test.cpp.
#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "exec_support.h"
#include "program_generator.h"
#include "slice_runner.h"
#include "vm/interpreter.h"
#include "vm/test_driver.h"

using namespace ved::exec;

namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

}  // namespace

TEST_CASE("differential: random programs give the same outcome under every engine") {
  const uint64_t first = env_or("VED_JIT_FUZZ_FIRST", 1);
  const uint64_t count = env_or("VED_JIT_FUZZ_COUNT", 0);
  size_t compiled = 0, runs = 0, faults = 0, budget_faults = 0;
  std::map<std::string, size_t> kinds;  // what faulted, for tuning the generator
  for (uint64_t seed = first; seed < first + count; ++seed) {
    const std::string source = ved::jit_test::generate_program(seed);
    Compiled c = compile(source, "fuzz.ved");
    // The generator's programs are meant to compile; the few that do not (a check the
    // generator does not model) are counted, and must stay rare.
    if (!c.ok()) {
      if (env_or("VED_JIT_FUZZ_VERBOSE", 0)) std::cerr << "seed " << seed << " does not compile:\n" << c.describe() << source << "\n";
      continue;
    }
    ++compiled;
    ved::jit_test::Rng rng(seed ^ 0xA5A5A5A5ull);
    // One interpreter per engine for all runs of the program (a JIT is made once): the
    // tiered one runs the first call interpreted and the later ones compiled.
    using Mode = ved::vm::EngineOptions::Mode;
    auto driver = [&](Mode mode) {
      ved::vm::EngineOptions engine;
      engine.mode = mode;
      engine.tier_fuel = 1;
      return std::make_unique<ved::vm::TestDriver>(*c.program, engine);
    };
    // (The tiered engine for every third program only: each JIT costs an LLVM
    // compilation, most of the test's time.)
    const bool with_tiered = seed % 3 == 0;
    auto interp = driver(Mode::Interpret), all = driver(Mode::All);
    auto tiered = with_tiered ? driver(Mode::Tiered) : nullptr;
    for (int k = 0; k < 3; ++k) {
      const int64_t n = static_cast<int64_t>(rng.below(20)) - 5;
      // Plenty, or little enough that the budget runs out somewhere inside.
      const int64_t fuel = rng.chance(30) ? 1 + rng.below(400) : 1'000'000;
      const Outcome o = outcome_of(*c.program, interp->call("main", {I(n)}, fuel));
      const std::string expected = to_string(o);
      std::string differ;
      const std::pair<const char*, ved::vm::TestDriver*> engines[] = {{"jit=all", all.get()}, {"jit (tiered)", tiered.get()}};
      for (const auto& [name, d] : engines) {
        if (!d) continue;
        const std::string got = to_string(outcome_of(*c.program, d->call("main", {I(n)}, fuel)));
        d->interpreter().wait_for_compiles();  // the tiered JIT's next run is machine code
        if (got != expected) differ += std::string(name) + ": " + got + "\n  interp: " + expected + "\n";
        const std::string error = d->interpreter().engine_stats().error;
        if (!error.empty()) differ += std::string(name) + ": JIT error: " + error + "\n";
      }
      if (!differ.empty())
        std::cerr << "seed " << seed << " main(" << n << ") fuel " << fuel << ":\n" << differ << "program:\n" << source << "\n";
      CHECK_MESSAGE(differ.empty(), "seed " << seed << " main(" << n << ") fuel " << fuel << "\n" << differ);
      ++runs;
      if (!o.ok) ++faults;
      if (!o.ok) ++kinds[std::string(ved::bytecode::fault_kind_name(o.fault))];
      if (!o.ok && o.fault == FaultKind::Budget) ++budget_faults;
    }
  }
  MESSAGE("seeds " << first << ".." << first + count - 1 << ": " << compiled << " programs compiled, " << runs
                   << " runs, " << faults << " faulted (" << budget_faults << " out of fuel)");
  for (const auto& [kind, n] : kinds) MESSAGE("  " << kind << ": " << n);
  // Most programs compile, and the runs exercise both outcomes.
  CHECK(compiled * 10 >= count * 9);
  if (runs >= 100) {
    CHECK(faults * 20 >= runs);
    CHECK(faults * 20 <= runs * 19);
  }
}

namespace {

// Every slice of D.Go(n) from the initial state, slice s under engines[s % size].
std::string run_transition(const ved::vm::Program& p, int64_t n, int64_t fuel,
                           const std::vector<ved::vm::Interpreter*>& interpreters) {
  return ved::jit_test::run_slices(
      p, n, fuel, 16, [&](size_t s) -> ved::vm::Interpreter& { return *interpreters[s % interpreters.size()]; },
      [](size_t) {});
}

}  // namespace

TEST_CASE("differential: random transitions give the same slices and continuations under mixed engines") {
  using Mode = ved::vm::EngineOptions::Mode;
  const uint64_t first = env_or("VED_JIT_FUZZ_FIRST", 1);
  // One in five of the seeds' worth of programs (seeds first, first + 1, ...).
  const uint64_t count = env_or("VED_JIT_FUZZ_COUNT", 0) / 5;
  size_t compiled = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    const std::string source = ved::jit_test::generate_transition_program(seed);
    Compiled c = compile(source, "fuzz.ved");
    if (!c.ok()) {
      if (env_or("VED_JIT_FUZZ_VERBOSE", 0)) std::cerr << "seed " << seed << " does not compile:\n" << c.describe() << source << "\n";
      continue;
    }
    ++compiled;
    ved::jit_test::Rng rng(seed ^ 0x5A5A5A5Aull);
    const int64_t n = static_cast<int64_t>(rng.below(20)) - 5;
    const int64_t fuel = rng.chance(30) ? 1 + rng.below(300) : 1'000'000;
    // One interpreter per engine (one JIT per program), combined per slice.
    ved::vm::EngineOptions e;
    ved::vm::Interpreter interp(*c.program, e);
    e.mode = Mode::All;
    ved::vm::Interpreter all(*c.program, e);
    const std::string expected = run_transition(*c.program, n, fuel, {&interp});
    for (const auto& engines : std::vector<std::vector<ved::vm::Interpreter*>>{{&all}, {&interp, &all}, {&all, &interp}}) {
      const std::string got = run_transition(*c.program, n, fuel, engines);
      if (got != expected) std::cerr << "seed " << seed << " Go(" << n << ") fuel " << fuel << ":\n" << source << "\n";
      CHECK_MESSAGE(got == expected, "seed " << seed << " Go(" << n << ") fuel " << fuel << "\ngot:\n" << got << "interp:\n" << expected);
    }
    CHECK_MESSAGE(all.engine_stats().error.empty(), all.engine_stats().error);
  }
  MESSAGE("transitions: " << compiled << " of " << count << " compiled");
  CHECK(compiled * 10 >= count * 9);
}
