// A tick's inputs: everything from outside the program that it consumes, gathered in one
// value before it computes (runtime.md §1 step 1), so that what a tick does is a function
// of the committed state and this value. The source is the live run's adapters and
// submissions, or, replaying, the recorded journal.
#include "vm/runtime/runtime_impl.h"

namespace ved::vm {

auto Runtime::Impl::gather_inputs() -> TickInputs {
  TickInputs inputs;
  // Effect outcomes: those of between-ticks adapters (stored as they arrived), those the
  // off-core workers finished since, and, replaying, the ones the recorded run journaled
  // in this tick.
  std::vector<Arrival>& now = inputs.outcomes;
  now.swap(arrived);
  if (pool) {
    std::vector<WorkerPool::Completion> done;
    pool->collect(done);
    for (auto& c : done) {
      if (auto it = open_intents.find({c.tick, c.index}); it != open_intents.end()) {
        it->second.arrived = true;
        it->second.outcome = c.outcome;
      }
      now.push_back(Arrival{{c.tick, c.index}, std::move(c.outcome)});
    }
  }
  if (o.replay) {
    auto it = o.replay->outcomes.find(tick);
    if (it != o.replay->outcomes.end()) {
      std::map<std::string, IntentKey> by_id;
      for (const auto& [key, x] : open_intents) by_id.emplace(x.id(), key);
      for (const auto& r : it->second)
        if (auto k = by_id.find(r.intent); k != by_id.end()) now.push_back(Arrival{k->second, r.outcome});
    }
  }
  // Messages from outside the program, in the order they came.
  inputs.submitted.swap(submitted);
  return inputs;
}

}  // namespace ved::vm
