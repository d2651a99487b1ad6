// A crash loses only work nobody saw, and recovery recomputes it identically
// (docs/runtime.md "Storage"): the runtime runs in process on a data dir written through
// FaultEnv, loses power at a chosen instant, and a new run on what is left must end
// exactly as a run that never stopped — the same final tick, instances and journal, byte
// for byte.
#include <doctest/doctest.h>

#include <chrono>

#include "fault_env.h"
#include "in_process_run.h"
#include "vm/runtime/clock.h"

namespace ved::storage_test {

namespace {

using std::chrono::milliseconds;

struct Reference {
  RunEnd end;
  std::string journal;
  int64_t log_syncs = 0;
};

// The uninterrupted run under the same options (and the same clock steps).
Reference reference_run(const Workload& w, vm::RuntimeOptions options, milliseconds step) {
  ScratchDir dir;
  FaultEnv env;
  Reference r;
  r.end = run_with_clock_steps(w, dir / "data", env, options, step);
  REQUIRE_MESSAGE(r.end.ok, r.end.error);
  r.journal = journal_of(dir / "data", env);
  r.log_syncs = env.log_syncs();
  return r;
}

// Recovers the data dir `env` left and checks that the run ends as the reference did.
void check_recovery(const Workload& w, const std::string& data, FaultEnv& env, vm::RuntimeOptions options,
                    milliseconds step, const Reference& want) {
  env.revive();
  const RunEnd end = run_with_clock_steps(w, data, env, options, step);
  REQUIRE_MESSAGE(end.ok, end.error);
  CHECK(end.tick == want.end.tick);
  CHECK(end.instances == want.end.instances);
  CHECK(journal_of(data, env) == want.journal);
}

struct Policy {
  const char* name;
  bool sync;
  int64_t group_ms;
  milliseconds step;  // the manual clock's step per tick
  size_t checkpoint_bytes = 0;  // 0: the default (none is due in so short a run)
};

// Every tick its own group; groups of three ticks (5 ms groups, a clock moving 2 ms a tick);
// one group for the whole run (a clock that never moves); each with and without fsync.
// Then a checkpoint with every group, so that a power cut also lands between a group's
// log write and its checkpoint, and recovery starts from checkpoints all along the run.
const Policy kPolicies[] = {
    {"--sync=tick, a group a tick", true, 0, milliseconds(2)},
    {"--sync=tick, groups of 3 ticks", true, 5, milliseconds(2)},
    {"--sync=tick, one group", true, 5, milliseconds(0)},
    {"--sync=none, a group a tick", false, 0, milliseconds(2)},
    {"--sync=none, groups of 3 ticks", false, 5, milliseconds(2)},
    {"--sync=tick, groups of 3 ticks, a checkpoint a group", true, 5, milliseconds(2), 1},
    {"--sync=none, a group a tick, a checkpoint a group", false, 0, milliseconds(2), 1},
};

}  // namespace

TEST_CASE("power cut: at every tick, under every group policy, recovery ends as the uninterrupted run") {
  const Workload w = compile_workload("workload.ved");
  for (const Policy& policy : kPolicies) {
    const std::string policy_name = policy.name;
    CAPTURE(policy_name);
    vm::RuntimeOptions options = w.options();
    options.sync = policy.sync;
    options.group_ms = policy.group_ms;
    options.checkpoint_bytes = policy.checkpoint_bytes;
    const Reference want = reference_run(w, options, policy.step);
    REQUIRE(want.end.tick > 10);
    for (int64_t cut = 1; cut < want.end.tick; ++cut) {
      CAPTURE(cut);
      ScratchDir dir;
      FaultEnv env;
      vm::ManualClock clock;
      vm::RuntimeOptions first = options;
      first.clock = &clock;
      const RunEnd dying = run_workload(w, dir / "data", env, first, [&](int64_t tick) {
        clock.advance(policy.step);
        if (tick < cut) return false;
        env.die();
        return true;
      });
      REQUIRE_MESSAGE(dying.ok, dying.error);
      REQUIRE(dying.tick == cut);
      env.power_cut();
      check_recovery(w, dir / "data", env, options, policy.step, want);
    }
  }
}

TEST_CASE("power cut: a group's write torn at every byte is dropped whole, and recovery ends as the uninterrupted run") {
  const Workload w = compile_workload("workload.ved");
  vm::RuntimeOptions options = w.options();
  options.sync = true;
  options.group_ms = 0;  // a group a tick: each log sync is one tick's record
  const Reference want = reference_run(w, options, milliseconds(1));
  REQUIRE(want.log_syncs > 8);
  // The first tick's group, one in the middle, the last one.
  for (int64_t n : {int64_t{1}, want.log_syncs / 2, want.log_syncs - 1}) {
    CAPTURE(n);
    // A run that dies at its n-th log sync: the write it was syncing is its last.
    auto die_at_sync = [&](const std::string& data, FaultEnv& env) {
      vm::ManualClock clock;  // slice times (`vedvm stats`, written at the end) are then the same every run
      vm::RuntimeOptions dying = options;
      dying.clock = &clock;
      env.die_at_log_sync(n);
      run_workload(w, data, env, dying);  // its result is lost with it
      REQUIRE(env.dying_write());
      return *env.dying_write();
    };
    // Where the n-th synced write lies in its log file.
    FaultEnv::LogWrite write;
    {
      ScratchDir dir;
      FaultEnv env;
      write = die_at_sync(dir / "data", env);
      REQUIRE(write.length > write.synced);
    }
    for (uint64_t at = write.synced; at <= write.length; ++at) {
      CAPTURE(at);
      ScratchDir dir;
      FaultEnv env;
      REQUIRE(die_at_sync(dir / "data", env).length == write.length);
      const std::string file = (dir.path() / "data" / std::filesystem::path(write.file).filename()).string();
      env.power_cut(FaultEnv::Torn{file, at});
      check_recovery(w, dir / "data", env, options, milliseconds(1), want);
    }
  }
}

TEST_CASE("group commit: a group whose background write fails stops the run, a restart ends as the uninterrupted run") {
  // Under --sync=tick, groups are written by the GroupWriter while the next is computed:
  // its failure must stop the run (with the disk's reason), never be lost, and VED-DATA-DIR
  // must never claim the group it failed to write.
  const Workload w = compile_workload("workload.ved");
  vm::RuntimeOptions options = w.options();
  options.sync = true;
  options.group_ms = 5;
  const Reference want = reference_run(w, options, milliseconds(2));
  REQUIRE(want.log_syncs > 4);
  // The first group after tick 0's and one in the middle (the run's last syncs write its
  // statistics, which are not the run's: their failure is not an error of it).
  for (int64_t n : {int64_t{1}, want.log_syncs / 2}) {
    CAPTURE(n);
    ScratchDir dir;
    FaultEnv env;
    env.fail_log_syncs_from(n);
    const RunEnd failed = run_with_clock_steps(w, dir / "data", env, options, milliseconds(2));
    CHECK_FALSE(failed.ok);
    CHECK_MESSAGE(failed.error.find("cannot write") != std::string::npos, failed.error);
    CHECK_MESSAGE(failed.error.find("injected: the disk refused the sync") != std::string::npos, failed.error);
    env.die();
    env.power_cut();
    check_recovery(w, dir / "data", env, options, milliseconds(2), want);
  }
}

TEST_CASE("power cut: a disk that loses a synced write is refused as damaged, not silently re-run") {
  const Workload w = compile_workload("workload.ved");
  vm::RuntimeOptions options = w.options();
  options.sync = true;
  options.group_ms = 0;
  ScratchDir dir;
  FaultEnv env;
  // How many log syncs there were after each tick: the last tick's writes are the syncs
  // between the last two counts (its group first), whatever the end of the run writes after.
  std::vector<size_t> syncs_after_tick;
  const RunEnd whole = run_workload(w, dir / "data", env, options, [&](int64_t) {
    syncs_after_tick.push_back(env.log_sync_history().size());
    return false;
  });
  REQUIRE_MESSAGE(whole.ok, whole.error);
  REQUIRE(syncs_after_tick.size() > 3);
  // The disk lies: the last tick's synced write is gone (and all written after it),
  // though VED-DATA-DIR says it was durable. The database alone cannot tell (LevelDB
  // drops a torn tail, as it must after a crash); the marker can.
  const std::vector<FaultEnv::LogWrite> syncs = env.log_sync_history();
  const size_t last_tick_first_sync = syncs_after_tick[syncs_after_tick.size() - 2];
  REQUIRE(last_tick_first_sync < syncs_after_tick.back());
  const FaultEnv::LogWrite& last_tick = syncs[last_tick_first_sync];
  env.power_cut(FaultEnv::Torn{last_tick.file, last_tick.synced + 7});
  env.revive();
  const RunEnd again = run_workload(w, dir / "data", env, options);
  CHECK_FALSE(again.ok);
  CHECK_MESSAGE(again.error.find("damaged") != std::string::npos, again.error);
}

TEST_CASE("power cut: after a failed sync, the frames a restarted run read back are made durable before anything depends on them") {
  // A sync fails and the process lives on (the run stops; a cluster node starts it again
  // in the same process): the log's tail is in the page cache only, and reads back whole.
  // The restarted run recovers from it and goes on: its checkpoint, and the segments it
  // appends, must not come to depend on that tail before the tail is durable, or a later
  // power cut leaves a data dir refused as damaged ("the journal has lost frame ...").
  // The whole-cluster simulation found this (tests/cluster/simulation/).
  const Workload w = compile_workload("workload.ved");
  vm::RuntimeOptions options = w.options();
  options.sync = false;  // a group a tick, synced only before a checkpoint (an intent's release)
  options.group_ms = 0;
  const Reference want = reference_run(w, options, milliseconds(2));
  REQUIRE(want.log_syncs > 2);
  for (int64_t n = 1; n < want.log_syncs; ++n) {
    CAPTURE(n);
    ScratchDir dir;
    FaultEnv env;
    env.fail_log_syncs_from(n);
    const RunEnd failed = run_with_clock_steps(w, dir / "data", env, options, milliseconds(2));
    REQUIRE_FALSE(failed.ok);
    // The disk takes syncs again; the same process starts the run again, which runs a few
    // ticks past the recovered ones (and so into a new segment), then the power goes.
    env.fail_log_syncs_from(-1);
    int64_t ticks = 0;
    vm::ManualClock clock;
    vm::RuntimeOptions again = options;
    again.clock = &clock;
    const RunEnd more = run_workload(w, dir / "data", env, again, [&](int64_t) {
      clock.advance(milliseconds(2));
      return ++ticks >= 3;
    });
    REQUIRE_MESSAGE(more.ok, more.error);
    env.die();
    env.power_cut();
    check_recovery(w, dir / "data", env, options, milliseconds(2), want);
  }
}

}  // namespace ved::storage_test
