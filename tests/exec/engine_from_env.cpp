// VED_ENGINE=interp | jit | jit=all sets the default engine of this test binary, so that
// CTest runs every execution test under each engine (tests/CMakeLists.txt registers the
// binary twice) and the same expectations (values, fault kinds and positions, fuel)
// hold under both.
#include <cstdlib>
#include <string>

#include "vm/interpreter.h"

namespace {

const bool engine_set = [] {
  const char* name = std::getenv("VED_ENGINE");
  if (!name) return false;
  ved::vm::EngineOptions engine;
  const std::string n = name;
  if (n == "jit") {
    engine.mode = ved::vm::EngineOptions::Mode::Tiered;
    engine.tier_fuel = 1;  // compile after the first run: the engines mix within a test
  } else if (n == "jit=all") {
    engine.mode = ved::vm::EngineOptions::Mode::All;
  }
  ved::vm::set_default_engine(engine);
  return true;
}();

}  // namespace
