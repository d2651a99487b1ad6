// Running a program in process on a data dir written through an injected StorageEnv
// (fault_env.h), and reading back what a run left: for the storage tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vm/program.h"
#include "vm/runtime/runtime.h"
#include "vm/runtime/storage_env.h"
#include "vm/runtime/store.h"

#include "../support/scratch_dir.h"

namespace ved::storage_test {

using ScratchDir = test_support::ScratchDir;

// The workload of tests/storage/programs/, compiled in process, with its simulated
// adapter bound (Infra.Provision=ok:vm-1).
struct Workload {
  std::unique_ptr<vm::Program> program;
  std::string bundle;
  vm::RuntimeOptions options() const;
};
Workload compile_workload(const std::string& name);

struct RunEnd {
  bool ok = false;
  std::string error;
  bool resumed = false;
  int64_t tick = 0;                     // the runtime's tick when it stopped
  std::vector<std::string> instances;  // Runtime::describe_instances
};

// Opens `dir` through `env`, attaches, and runs until quiescent or until
// `between_ticks(tick)` says stop (it is called between ticks, with the last tick run).
RunEnd run_workload(const Workload& w, const std::string& dir, vm::StorageEnv& env, vm::RuntimeOptions options,
                    const std::function<bool(int64_t)>& between_ticks = nullptr);

// run_workload to the end on a ManualClock moved `step` on at every tick: the group
// boundaries of the run are then the test's choice, and its slice times all zero.
RunEnd run_with_clock_steps(const Workload& w, const std::string& dir, vm::StorageEnv& env, vm::RuntimeOptions options,
                            std::chrono::milliseconds step);

// Opens `dir` through the system's files, or fails the test naming why.
std::unique_ptr<vm::Store> open_store(const std::string& dir, vm::StoreMode mode);

// The whole journal a data dir holds, one record a line, each prefixed with its tick
// (opened through `env`, as a run opens it: `vedvm inspect`'s private copy would fsync).
std::string journal_of(const std::string& dir, vm::StorageEnv& env);

}  // namespace ved::storage_test
