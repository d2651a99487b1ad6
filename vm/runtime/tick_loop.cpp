// One tick (runtime.md §1): deliver, evaluate goals, run slices in order, commit.
#include "vm/runtime/runtime_impl.h"

#include <algorithm>
#include <system_error>

#include "vm/value_codec.h"

namespace ved::vm {

bool Runtime::Impl::quiescent(const Instance& in) const {
  return in.faulted || (waits_for_input(in) && in.timers.empty());
}

bool Runtime::Impl::waits_for_input(const Instance& in) const {
  if (in.faulted) return true;
  if (in.mailbox_size() > 0 || in.continuation || in.effects_in_flight > 0 || !in.outbox.empty()) return false;
  for (const GoalProgress& g : in.goals)
    if (!g.satisfied && !g.terminated) return false;
  return true;
}

bool Runtime::Impl::timers_pending() const {
  return std::any_of(due_timers.begin(), due_timers.end(),
                     [&](const auto& entry) { return !instances[entry.second].faulted; });
}

bool Runtime::Impl::background_waiting() const {
  if (background_may_run()) return false;
  const std::vector<Runnable> all = candidates();
  return std::any_of(all.begin(), all.end(), [](const Runnable& r) { return r.background_only; });
}

// One tick; `progressed` says whether anything ran or arrived. With `keep_tick` the
// tick counts even if nothing happened (a test advancing time, replay).
bool Runtime::Impl::run_tick(bool& progressed, std::string& error, bool keep_tick) {
  if (tick >= kLastTick) {
    error = "the run reached tick 2^62, the last tick a run may reach";
    return false;
  }
  ++tick;
  tick_outputs_left = kMaxTickOutputs;
  journal.clear();
  rendered.clear();
  touched.clear();
  sampled.clear();
  emitted.clear();
  observed_changed.clear();
  if (o.replay) {
    auto it = o.replay->observations.find(tick);
    replay_observation_used.assign(it == o.replay->observations.end() ? 0 : it->second.size(), false);
  }
  inputs_delivered = deliver_inputs(gather_inputs());
  // In instance order: goal events are journaled as they are found.
  const std::vector<size_t> evaluated = awake.ordered([&](size_t a, size_t b) { return instance_less(a, b); });
  for (size_t i : evaluated)
    if (!instances[i].faulted) evaluate_goals(i);
  std::vector<Runnable> order = runnable();
  const int64_t slices_before = slices_run;
  for (const Runnable& r : order) {
    if (instances[r.index].faulted) continue;
    touched.insert(r.index);
    step(r.index);
    if (!r.background_only) last_foreground_tick = tick;
  }
  // What was sent this tick is delivered next tick.
  // (Swapped when nothing is pending, as after delivery: the lists keep their room.)
  if (pending.empty()) {
    pending.swap(next_pending);
  } else {
    for (auto& d : next_pending) pending.push_back(std::move(d));
    next_pending.clear();
  }
  progressed = inputs_delivered || slices_run > slices_before || !dirty.empty() || !journal.empty();
  // Instances with nothing left to do and no change this tick sleep until a message,
  // a timer or a resume wakes them. One waiting only for its timers sleeps too: a timer
  // due is found through `due_timers` and wakes it (enqueue).
  awake.erase_if([&](size_t i) {
    const Instance& in = instances[i];
    // A held-back sender sleeps too: it is not scheduled, its state cannot change, and
    // deliver_inputs finds it through `held_back` when its target has room.
    const bool at_rest = waits_for_input(in) || !in.outbox.empty();
    return at_rest && !touched.contains(i) && (in.faulted || !always_awake[in.key.domain]);
  });
  if (!progressed) {
    // Background work held back by the background rule runs next tick: this tick passes,
    // empty, and (like every tick in which nothing happens) is not written. A restart
    // recomputes it from the committed state, which decides the rule the same way.
    if (background_waiting()) {
      progressed = true;
      return true;
    }
    // Nothing happened: the tick is not committed (runtime.md §1: the VM never spins).
    if (!keep_tick) --tick;
    return true;
  }
  return commit(error) && release(emitted, error);
}

// A tick whose state or messages cannot be stored (a value nested deeper than the store
// reads back) stops the run before anything of it is written: the data dir stays at
// the last tick, readable, and the error says why.
bool Runtime::Impl::guarded_tick(bool& progressed, std::string& error, bool keep_tick) {
  try {
    return run_tick(progressed, error, keep_tick);
  } catch (const ValueTooDeep& e) {
    error = "tick " + std::to_string(tick) + ": " + e.what() + " (nothing of this tick was written)";
  } catch (const MachineOutOfMemory& e) {
    error = "tick " + std::to_string(tick) + ": " + e.what() + out_of_memory_advice();
  } catch (const std::bad_alloc&) {
    error = "tick " + std::to_string(tick) + ": the machine ran out of memory" + out_of_memory_advice();
  } catch (const std::length_error&) {
    error = "tick " + std::to_string(tick) + ": the machine ran out of memory" + out_of_memory_advice();
  } catch (const std::system_error& e) {
    // A thread the system would not start (the room for its stack, under a memory limit).
    error = "tick " + std::to_string(tick) + ": the system refused a thread (" + e.what() + ")" +
            out_of_memory_advice();
  }
  return false;
}

// Memory is the machine's, not the program's: never a fault (it would be journaled,
// and differ between machines), always a stop before the tick is written.
std::string Runtime::Impl::out_of_memory_advice() const {
  return std::string(" (nothing of this tick was written: the data dir is as the last committed tick left it;"
                     " run it again on a machine with more memory)");
}

}  // namespace ved::vm
