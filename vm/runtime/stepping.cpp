// Driving a run tick by tick, in memory (simulation tests, replay).
#include "vm/runtime/runtime_impl.h"

#include <algorithm>

namespace ved::vm {

// As attach() does for a new run, minus the store: what exists before tick 1 is the
// starting point, not a change of tick 1.
void Runtime::Impl::start_in_memory() {
  activate_initial();
  for (Instance& in : instances) in.dirty = false;
  dirty.clear();
  journal.clear();
}

bool Runtime::Impl::step_to(int64_t number, std::string& error) {
  if (number != 0 && number <= tick) {
    error = "tick " + std::to_string(number) + " is not after tick " + std::to_string(tick);
    return false;
  }
  if (number > kLastTick) {
    error = "tick " + std::to_string(number) + " is past tick 2^62, the last tick a run may reach";
    return false;
  }
  if (number > tick + 1) tick = number - 1;
  return guarded_tick(last_step_progressed, error, /*keep_tick=*/true);
}

// Goals are evaluated at the start of a tick, so a tick that did something may have
// made one false: only a tick that did nothing proves the run is at rest.
bool Runtime::Impl::all_quiescent() const {
  if (last_step_progressed) return false;
  if (!pending.empty() || !submitted.empty() || !arrived.empty() || (pool && pool->outstanding() > 0)) return false;
  return std::all_of(instances.begin(), instances.end(), [&](const Instance& in) { return quiescent(in); });
}

}  // namespace ved::vm
