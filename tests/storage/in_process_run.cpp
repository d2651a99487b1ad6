#include "in_process_run.h"

#include <doctest/doctest.h>

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "exec_support.h"
#include "vm/effects/simulated_adapter.h"
#include "vm/runtime/clock.h"
#include "vm/runtime/run_store.h"
#include "vm/runtime/store.h"

namespace ved::storage_test {

vm::RuntimeOptions Workload::options() const {
  vm::RuntimeOptions o;
  std::string error;
  auto adapter = vm::parse_simulated_adapter(*program, "Infra.Provision", "ok:vm-1", error);
  REQUIRE_MESSAGE(adapter, error);
  o.adapters.bind_effect("Infra.Provision", adapter);
  o.effect_specs["Infra.Provision"] = "ok:vm-1";
  return o;
}

Workload compile_workload(const std::string& name) {
  const std::string path = std::string(VED_STORAGE_PROGRAMS) + "/" + name;
  std::ifstream in(path);
  std::stringstream source;
  source << in.rdbuf();
  exec::Compiled c = exec::compile(source.str(), name);
  REQUIRE_MESSAGE(c.ok(), c.describe());
  return Workload{std::move(c.program), std::move(c.bundle)};
}

RunEnd run_workload(const Workload& w, const std::string& dir, vm::StorageEnv& env, vm::RuntimeOptions options,
                    const std::function<bool(int64_t)>& between_ticks) {
  RunEnd end;
  vm::Status status;
  auto store = vm::Store::open(dir, vm::StoreMode::Run, status, env);
  if (!store) {
    end.error = status.message();
    return end;
  }
  vm::Runtime runtime(*w.program, w.bundle, options);
  if (!runtime.attach(*store, end.resumed, end.error)) return end;
  vm::RunSummary summary;
  end.ok = runtime.run(summary, end.error, [&] { return between_ticks && between_ticks(runtime.tick()); });
  end.tick = runtime.tick();
  end.instances = runtime.describe_instances();
  return end;
}

RunEnd run_with_clock_steps(const Workload& w, const std::string& dir, vm::StorageEnv& env, vm::RuntimeOptions options,
                            std::chrono::milliseconds step) {
  vm::ManualClock clock;
  options.clock = &clock;
  return run_workload(w, dir, env, options, [&](int64_t) {
    clock.advance(step);
    return false;
  });
}

std::unique_ptr<vm::Store> open_store(const std::string& dir, vm::StoreMode mode) {
  vm::Status status;
  auto store = vm::Store::open(dir, mode, status);
  REQUIRE_MESSAGE(store, status.message());
  return store;
}

std::string journal_of(const std::string& dir, vm::StorageEnv& env) {
  vm::Status status;
  auto store = vm::Store::open(dir, vm::StoreMode::Existing, status, env);
  REQUIRE_MESSAGE(store, status.message());
  std::string error;
  std::string out;
  const bool ok = vm::scan_journal(*store, 0, std::numeric_limits<int64_t>::max(), [&](int64_t tick, std::string_view record) {
    out += std::to_string(tick) + " " + std::string(record) + "\n";
    return true;
  }, error);
  REQUIRE_MESSAGE(ok, error);
  return out;
}

}  // namespace ved::storage_test
