// Simulation tests (language.md §12): each `test` block runs in a fresh runtime that
// lives in memory, with its `given` states, its scripted effect stubs (every other
// effect fails with NoAdapter; no observation is served), its `simulate` script (sends
// from outside, `advance_ticks(n)`), and its expectations: `always` checked before the
// first tick and after every tick, `eventually` at the same points until it holds once,
// the others at the end.
//
// After the script, the program settles (runs until every instance is quiescent, at most
// `settle_ticks`) if the script never advanced time or sent messages after it last did;
// otherwise the test ends where the script ends.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vm/program.h"

namespace ved::vm {

struct SimulationOptions {
  uint64_t seed = 0;
  int64_t settle_ticks = 10'000;
  int64_t fuel = 1'000'000;  // per slice, per script step, per expectation
};

struct SimulationResult {
  std::string name;
  bool passed = false;
  int64_t ticks = 0;                  // logical time at the end
  std::vector<std::string> failures;  // for people: which expectation, when, why
};

SimulationResult run_simulation_test(const Program& program, const std::string& bundle, size_t test,
                                     const SimulationOptions& options);

}  // namespace ved::vm
