// Upgrades in process (docs/upgrades.md): the storage workload stopped at every tick and
// taken over by its next version (a migrated domain, a rewritten transition), with its
// messages, timers and intents as they are at that tick; the run then ends as the
// workload does and replays from tick 1. A power cut during the upgrade leaves the old
// run or the upgraded one, and either way the run ends as the uninterrupted upgrade. An
// intent in flight whose effect changed refuses the upgrade.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "exec_support.h"
#include "fault_env.h"
#include "in_process_run.h"
#include "vm/runtime/data_dir_upgrade.h"
#include "vm/runtime/replay.h"
#include "vm/runtime/run_store.h"
#include "vm/runtime/run_upgrade.h"

namespace ved::storage_test {

namespace {

// A version of the workload from tests/storage/programs/`file`, compiled under the
// workload's own name (a program's name is its file's).
Workload compile_version(const std::string& file) {
  std::ifstream in(std::string(VED_STORAGE_PROGRAMS) + "/" + file);
  std::stringstream source;
  source << in.rdbuf();
  exec::Compiled c = exec::compile(source.str(), "workload.ved");
  REQUIRE_MESSAGE(c.ok(), c.describe());
  return Workload{std::move(c.program), std::move(c.bundle)};
}

// Opens the data dir (as a run does) and upgrades it to `w`.
bool upgrade(const std::string& dir, FaultEnv& env, const Workload& w, std::string& error) {
  vm::Status status;
  auto store = vm::Store::open(dir, vm::StoreMode::Run, status, env);
  if (!store) {
    error = status.message();
    return false;
  }
  vm::DataDirUpgrade done;
  return vm::upgrade_data_dir(*store, *w.program, w.bundle, done, error);
}

// v1 to tick `at`, the upgrade, v2 to the end: the journal it leaves.
struct Upgraded {
  RunEnd end;
  std::string journal;
};
Upgraded upgraded_run(const Workload& v1, const Workload& v2, int64_t at) {
  ScratchDir tmp;
  FaultEnv env;
  const std::string dir = tmp / "data";
  const RunEnd first = run_workload(v1, dir, env, v1.options(), [&](int64_t tick) { return tick >= at; });
  REQUIRE_MESSAGE(first.ok, first.error);
  std::string error;
  REQUIRE_MESSAGE(upgrade(dir, env, v2, error), error);
  Upgraded u;
  u.end = run_workload(v2, dir, env, v2.options());
  REQUIRE_MESSAGE(u.end.ok, u.end.error);
  u.journal = journal_of(dir, env);
  vm::Status status;
  auto store = vm::Store::open(dir, vm::StoreMode::Inspect, status);
  REQUIRE(store);
  vm::ReplayReport report;
  REQUIRE_MESSAGE(vm::replay_run(*store, vm::ReplayOptions{}, report, error), error);
  CHECK_MESSAGE(!report.diverged, report.explanation);
  return u;
}

bool has(const std::vector<std::string>& lines, const std::string& text) {
  for (const std::string& line : lines)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("upgrade in process: at every tick of the workload, v2 takes the run over, ends as v1 would and replays") {
  const Workload v1 = compile_workload("workload.ved");
  const Workload v2 = compile_version("workload_v2.ved");
  ScratchDir tmp;
  FaultEnv env;
  const RunEnd whole = run_workload(v1, tmp / "data", env, v1.options());
  REQUIRE(whole.ok);
  REQUIRE(whole.tick > 5);
  for (int64_t at = 1; at < whole.tick; ++at) {
    INFO("upgraded after tick " << at);
    const Upgraded u = upgraded_run(v1, v2, at);
    // The Hub ends as v1's does; each relay carries the field its migration wrote.
    CHECK(has(u.end.instances, "Hub.State(launched: true, machines: 2, tokens: 4"));
    CHECK(u.journal.find(" upgrade\tworkload\tfrom ") != std::string::npos);
    // Determinism: the same history, upgraded twice, leaves the same journal.
    if (at % 7 == 1) CHECK(upgraded_run(v1, v2, at).journal == u.journal);
  }
}

TEST_CASE("upgrade in process: a power cut during the upgrade leaves the old run or the new one, and either ends as the uninterrupted upgrade") {
  const Workload v1 = compile_workload("workload.ved");
  const Workload v2 = compile_version("workload_v2.ved");
  const int64_t at = 4;
  const Upgraded want = upgraded_run(v1, v2, at);
  for (const bool at_marker : {false, true}) {
    INFO((at_marker ? "dies after the batch, before VED-DATA-DIR" : "dies at the batch's sync"));
    ScratchDir tmp;
    FaultEnv env;
    const std::string dir = tmp / "data";
    REQUIRE(run_workload(v1, dir, env, v1.options(), [&](int64_t tick) { return tick >= at; }).ok);
    if (at_marker) env.die_at_marker_write(env.marker_writes());
    else env.die_at_log_sync(env.log_syncs());
    std::string error;
    upgrade(dir, env, v2, error);  // succeeds or not: the process is dead either way
    REQUIRE(env.dead());
    env.power_cut();
    env.revive();
    // The old run (then the upgrade is done again) or the upgraded one, never damage.
    vm::Status status;
    {
      auto store = vm::Store::open(dir, vm::StoreMode::Run, status, env);
      REQUIRE_MESSAGE(store, status.message());
      uint64_t stored = 0;
      const bool old = vm::holds_other_program(*store, *v2.program, stored, error);
      CHECK(old == !at_marker);
      if (old) {
        vm::DataDirUpgrade done;
        REQUIRE_MESSAGE(vm::upgrade_data_dir(*store, *v2.program, v2.bundle, done, error), error);
      }
    }
    const RunEnd end = run_workload(v2, dir, env, v2.options());
    REQUIRE_MESSAGE(end.ok, end.error);
    CHECK(end.instances == want.end.instances);
    CHECK(journal_of(dir, env) == want.journal);
  }
}

TEST_CASE("upgrade in process: an intent in flight whose effect changed refuses the upgrade, naming both") {
  const Workload v1 = compile_workload("workload.ved");
  std::string changed_source;
  {
    std::ifstream in(std::string(VED_STORAGE_PROGRAMS) + "/workload.ved");
    std::stringstream s;
    s << in.rdbuf();
    changed_source = s.str();
  }
  const std::string from = "effect Infra.Provision(size: string)";
  changed_source.replace(changed_source.find(from), from.size(), "effect Infra.Provision(size: int)");
  const std::string call = "Infra.Provision(size: \"small\"";
  changed_source.replace(changed_source.find(call), call.size(), "Infra.Provision(size: 1");
  exec::Compiled changed = exec::compile(changed_source, "workload.ved");
  REQUIRE_MESSAGE(changed.ok(), changed.describe());
  bool refused = false;
  for (int64_t at = 1; at < 10 && !refused; ++at) {
    ScratchDir tmp;
    FaultEnv env;
    const std::string dir = tmp / "data";
    REQUIRE(run_workload(v1, dir, env, v1.options(), [&](int64_t tick) { return tick >= at; }).ok);
    vm::Status status;
    auto store = vm::Store::open(dir, vm::StoreMode::Run, status, env);
    REQUIRE(store);
    vm::LoadedRun run;
    std::string error;
    vm::RunStore stored(*v1.program, *store, true);
    REQUIRE_MESSAGE(stored.load(run, error), error);
    if (run.open_intents.empty()) continue;
    vm::UpgradeResult result;
    CHECK_FALSE(vm::upgrade_run(*v1.program, *changed.program, std::move(run), 1'000'000, result, error));
    REQUIRE(result.refusals.size() == 1);
    CHECK(result.refusals[0].find("of effect `Infra.Provision` is in flight, and the effect changed (parameter `size` "
                                  "string -> int)") != std::string::npos);
    CHECK(error.find("cannot take over the data dir of `workload`") != std::string::npos);
    refused = true;
  }
  CHECK(refused);
}

}  // namespace ved::storage_test
