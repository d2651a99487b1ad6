// An effect intent as the runtime keeps it between its emission and its outcome
// (runtime.md §5 `fx/`, §7): who emitted it, what it asks, how often it was handed to an
// adapter, and, once journaled, what came back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vm/effects/adapter.h"
#include "vm/runtime/instance.h"

namespace ved::vm {

struct Intent {
  int64_t tick = 0;    // emitted during this tick
  uint32_t index = 0;  // the index-th intent emitted in that tick
  InstanceKey instance;
  uint32_t effect = 0;
  std::vector<Value> args;
  Value idempotency_key;  // a string, or unit when the emit gave none
  uint64_t ordinal = 0;   // the ordinal-th intent of this effect in the run
  uint32_t dispatches = 0;  // times handed to an adapter (more than 1 only after crashes)
  // Its outcome came back and is stored (`fx/`), not yet journaled: a restart delivers it
  // rather than executing the intent again. Between-ticks adapters store each outcome as
  // soon as it arrives, so that a kill re-executes at most the one intent it interrupted.
  bool arrived = false;
  bool completed = false;   // its outcome is journaled
  EffectOutcome outcome;    // when arrived or completed

  // `<tick>-<index>`: unique in the run, the same after any restart.
  std::string id() const { return std::to_string(tick) + "-" + std::to_string(index); }
};

}  // namespace ved::vm
