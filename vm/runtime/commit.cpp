// Committing a tick: what changed, as one batch for the store (run_store.cpp decides
// the keys and encodings).
#include "vm/runtime/runtime_impl.h"

#include <algorithm>

namespace ved::vm {

// Writes the tick. `append`: the tick was committed already (a `resume` between runs).
bool Runtime::Impl::commit(std::string& error, bool append) {
  std::sort(dirty.begin(), dirty.end(), [&](size_t a, size_t b) { return instance_less(a, b); });
  TickWrite w;
  for (size_t i : dirty) {
    w.changed.push_back(&instances[i]);
    journal.push_back(state_record(instances[i]));
  }
  w.tick = tick;
  w.timer_sequence = timer_sequence;
  w.last_foreground_tick = last_foreground_tick;
  w.pending = &pending;
  w.journal = &journal;
  w.append = append;
  for (const IntentKey& k : emitted) w.intents.push_back(&open_intents.at(k));
  for (const Intent& x : completed) w.intents.push_back(&x);
  w.effect_counts = emitted.empty() ? nullptr : &effect_counts;  // they change only on emit
  w.observed = &observed_changed;
  if (storage && !storage->commit(w, error)) return false;
  for (Instance* in : w.changed) in->dirty = false;
  dirty.clear();
  completed.clear();
  observed_changed.clear();
  return true;
}

}  // namespace ved::vm
