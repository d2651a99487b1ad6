// Shared by the adapter tests: a program compiled in-process (the standard library's
// effects and observations are declared in every program), and a scratch directory.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "vm/effects/adapter.h"
#include "vm/program.h"

#include "../support/scratch_dir.h"

namespace ved::effects_test {

// Compiles and loads `source`; throws std::runtime_error with the diagnostics if it fails.
std::unique_ptr<vm::Program> compile_program(const std::string& source);

// The index of effect `name` in `program` (throws if it has none).
uint32_t effect_index(const vm::Program& program, const std::string& name);

// A request for effect `name` with `args`, as the runtime would make it.
vm::EffectRequest request_for(const vm::Program& program, const std::string& name, std::vector<vm::Value> args,
                              uint64_t ordinal = 0);

using ScratchDir = test_support::ScratchDir;

}  // namespace ved::effects_test
