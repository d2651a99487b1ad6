// Replay (runtime.md §6): re-execute a stored run from its start, feeding the effect
// outcomes and observations its journal recorded instead of calling adapters, and compare
// every tick's journal records (state hashes included) with the recorded ones. The first
// difference is reported by tick, instance and, for a state, field. Replaying against a
// *new* program build shows whether a change alters behaviour.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vm/runtime/program_history.h"
#include "vm/runtime/runtime.h"
#include "vm/runtime/store.h"

namespace ved::vm {

struct ReplayOptions {
  int64_t from = 0;  // compare ticks >= from (all are re-executed: there are no snapshots)
  int64_t to = 0;    // stop after this tick; 0: the last recorded one
  std::string program_bundle;  // empty: the program stored with the run
  // Receives the replayed run's events, as `vedvm --trace` prints them when it runs.
  TraceSink trace;
};

struct ReplayReport {
  int64_t ticks = 0;  // ticks compared
  bool diverged = false;
  int64_t tick = 0;          // of the first divergence
  std::string instance;      // where it shows, when it is one instance's
  std::string field;         // the first field whose hash differs, for a state
  std::string explanation;   // for people: what was recorded, what the replay did
};

// False with `error` when the run cannot be replayed at all (a damaged journal record,
// a program that cannot be loaded); a divergence is a report, not an error.
bool replay_run(const Store& store, const ReplayOptions& options, ReplayReport& report, std::string& error);

// A replay that goes on as the run does: each advance() re-executes the ticks the
// store's journal holds past those replayed before (a run still being written, as a
// cluster client following a program sees it, docs/cluster.md "Following a run").
// replay_run is one session advanced once.
class ReplaySession {
 public:
  explicit ReplaySession(ReplayOptions options);
  ~ReplaySession();
  // False with `error` as replay_run; a divergence ends the session (report.diverged).
  bool advance(const Store& store, ReplayReport& report, std::string& error);
  int64_t last_tick() const { return last_tick_; }  // the last tick replayed (-1: none)
  // The build the replayed run has now (after an upgrade, the new one); valid once
  // advance() has begun.
  const Program& program() const { return *replayed_[epoch_]; }

 private:
  bool begin(const Store& store, std::string& error);

  ReplayOptions o_;
  ProgramHistory history_;
  std::vector<const Program*> recorded_, replayed_;
  std::vector<std::string> bundles_;
  std::unique_ptr<Program> candidate_;
  RuntimeOptions ro_;
  ReplayInputs inputs_;
  std::unique_ptr<Runtime> runtime_;
  size_t epoch_ = 0;
  int64_t last_tick_ = -1;
  bool begun_ = false;
};

}  // namespace ved::vm
