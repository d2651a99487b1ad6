// Group commit is decided by the clock (`--group-ms`), and only the number of writes may
// depend on it: with a ManualClock the groups of a run are the test's choice, and every
// choice leaves the same data dir.
#include <doctest/doctest.h>

#include <chrono>

#include "fault_env.h"
#include "in_process_run.h"
#include "vm/runtime/clock.h"

namespace ved::storage_test {

namespace {

struct Counted {
  RunEnd end;
  std::string journal;
  int64_t log_syncs = 0;
};

Counted run_with_clock(const Workload& w, std::chrono::milliseconds step_per_tick) {
  ScratchDir dir;
  FaultEnv env;
  vm::RuntimeOptions options = w.options();
  options.sync = true;
  options.group_ms = 5;
  Counted c;
  c.end = run_with_clock_steps(w, dir / "data", env, options, step_per_tick);
  REQUIRE_MESSAGE(c.end.ok, c.end.error);
  c.journal = journal_of(dir / "data", env);
  c.log_syncs = env.log_syncs();
  return c;
}

}  // namespace

TEST_CASE("group commit: the clock decides how many writes a run takes, never what it writes") {
  const Workload w = compile_workload("workload.ved");
  const Counted still = run_with_clock(w, std::chrono::milliseconds(0));
  const Counted slow = run_with_clock(w, std::chrono::milliseconds(10));
  const Counted medium = run_with_clock(w, std::chrono::milliseconds(2));
  // A clock that never moves: ticks wait for something to be released (the effect's two
  // intents) or for the end of the run. Each of those syncs the tick-record log and then
  // the checkpoint in the database: two syncs; the run's start and its statistics, one each.
  CHECK(still.log_syncs < 12);
  int64_t committed_ticks = 0;  // ticks in which nothing happened are not written
  for (int64_t t = 1; t <= slow.end.tick; ++t)
    if (slow.journal.find("\n" + std::to_string(t) + " ") != std::string::npos || slow.journal.rfind(std::to_string(t) + " ", 0) == 0)
      ++committed_ticks;
  REQUIRE(committed_ticks > 10);
  // A group's age is looked at when a tick commits: a clock 10 ms on at every tick closes
  // a 5 ms group at its second tick — unless the group before it is still being written
  // (GroupWriter), when it goes on gathering. So a moving clock makes more writes than a
  // still one, and how many more depends also on how fast the disk is.
  CHECK(slow.log_syncs > still.log_syncs);
  CHECK(slow.log_syncs <= committed_ticks);
  CHECK(medium.log_syncs > still.log_syncs);
  CHECK(still.end.instances == slow.end.instances);
  CHECK(still.journal == slow.journal);
  CHECK(medium.journal == slow.journal);
  CHECK(still.end.tick == slow.end.tick);
}

}  // namespace ved::storage_test
