// `vedvm test app.ved`: run the program's `test` blocks (language.md §12), one line per
// test, then `N passed, N failed`.
#include <iostream>

#include "tools/vedvm/commands.h"
#include "vm/interpreter.h"
#include "vm/runtime/simulation.h"

namespace vedvm {

int test(const TestCommandOptions& o) {
  ved::vm::Program program;
  std::string bundle;
  if (!load_program(o.program, program, bundle)) return kExitError;
  // Every test makes its own interpreters; they share the program's JIT while one holds
  // it (vm/jit/shared.h). This one holds it for the whole command, so that under
  // --jit=all the program is compiled once, not once per test. (Under --jit and --interp
  // it makes no JIT: nothing is hot yet.)
  const ved::vm::Interpreter keeps_the_jit(program);
  ved::vm::SimulationOptions options;
  options.seed = o.seed;
  int passed = 0, failed = 0;
  for (size_t t = 0; t < program.tests.size(); ++t) {
    if (!o.filter.empty() && program.tests[t].name.find(o.filter) == std::string::npos) continue;
    ved::vm::SimulationResult r = ved::vm::run_simulation_test(program, bundle, t, options);
    if (r.passed) {
      ++passed;
      std::cout << "ok    " << r.name << " (" << r.ticks << " ticks)\n";
    } else {
      ++failed;
      std::cout << "FAIL  " << r.name << " (" << r.ticks << " ticks)\n";
      for (const std::string& why : r.failures) std::cout << "      " << why << "\n";
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? kExitOk : kExitUnsatisfied;
}

}  // namespace vedvm
