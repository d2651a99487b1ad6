// Replay (runtime.md §6): re-execute a stored run from its start, feeding the effect
// outcomes and observations its journal recorded instead of calling adapters, and compare
// every tick's journal records (state hashes included) with the recorded ones. The first
// difference is reported by tick, instance and, for a state, field. Replaying against a
// *new* program build shows whether a change alters behaviour.
#pragma once

#include <cstdint>
#include <string>

#include "vm/runtime/store.h"

namespace ved::vm {

struct ReplayOptions {
  int64_t from = 0;  // compare ticks >= from (all are re-executed: there are no snapshots)
  int64_t to = 0;    // stop after this tick; 0: the last recorded one
  std::string program_bundle;  // empty: the program stored with the run
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

}  // namespace ved::vm
