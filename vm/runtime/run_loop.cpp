// Running until every instance is quiescent (runtime.md §1): idle ticks skipped, time
// jumping to the next timer, waiting for off-core outcomes, serving.
#include "vm/runtime/runtime_impl.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace ved::vm {

bool Runtime::Impl::run(RunSummary& summary, std::string& error, const std::function<bool()>& stop) {
  const int64_t start_tick = tick;
  if (!release(recovered, error)) return false;
  recovered.clear();
  // Outcomes stored before a restart and those of intents dispatched again now: in
  // emission order, as an uninterrupted run delivers between-ticks outcomes.
  std::stable_sort(arrived.begin(), arrived.end(), [](const Arrival& a, const Arrival& b) { return a.intent < b.intent; });
  while (true) {
    if (stop && stop()) break;
    if (o.max_ticks > 0 && tick >= o.max_ticks) {
      // Cut off only if something was left to do.
      // (An instance waiting only for its timers sleeps: timers_pending() sees it.)
      const bool idle = pending.empty() && held_back.empty() && !timers_pending() &&
                        std::all_of(awake.begin(), awake.end(), [&](size_t i) { return quiescent(instances[i]); });
      summary.max_ticks_reached = !idle;
      break;
    }
    bool progressed = false;
    // Serving, time passes even when nothing happens (timers, backoff and tick() goals
    // must see it); the idle tick still writes nothing.
    if (!guarded_tick(progressed, error, /*keep_tick=*/o.serve)) return false;
    if (progressed) continue;
    // Nothing ran and nothing arrived. With timers pending, or goals waiting out a
    // backoff, time jumps to the next one due.
    const int64_t next_due = next_due_tick();
    if (next_due < kLastTick && next_due > tick + 1 && !o.serve) {
      tick = next_due - 1;
      continue;
    }
    // Waiting for the outside world: an off-core outcome, or (serving) the next tick.
    const bool waiting_for_outcome = pool && pool->outstanding() > 0;
    if (!waiting_for_outcome && !o.serve) break;
    // Nothing gathered in a group waits for the outside world.
    if (storage && !storage->flush(error)) return false;
    wait_for_outside(stop);
  }
  // A run that ends normally leaves every tick it committed on disk, whatever --sync says.
  if (storage && !storage->sync_committed(error)) return false;
  // Statistics, not state: a failure to store them does not fail the run.
  if (storage) {
    std::string ignored;
    storage->add_slice_times(collected_slice_times(), ignored);
    // Only a process that ran slices used an engine (as only one that ran slices stores
    // slice times, under which `vedvm stats` lists the engines).
    if (slices_run > 0) {
      const EngineStats engine = interp.engine_stats();
      storage->add_engine_stats(engine.engine, engine.functions_compiled, engine.instructions_compiled,
                                static_cast<uint64_t>(engine.compile_seconds * 1e6), engine.compile_error, ignored);
    }
  }
  slice_buckets.clear();
  summary.ticks = tick - start_tick;
  summary.slices = slices_run;
  summarize(summary);
  return true;
}

// The next tick at which a timer or the end of a backoff is due; kLastTick when none
// is (waits that end at the last tick, a saturated backoff, never end).
int64_t Runtime::Impl::next_due_tick() const {
  int64_t next_due = kLastTick;
  for (const auto& [due, i] : due_timers) {
    if (instances[i].faulted) continue;  // its timers fire, but time does not jump for them
    next_due = std::min(next_due, due);
    break;
  }
  for (size_t i : awake) {
    const Instance& in = instances[i];
    if (in.faulted) continue;
    for (const GoalProgress& g : in.goals)
      if (!g.satisfied && !g.terminated && g.next_attempt > tick) next_due = std::min(next_due, g.next_attempt);
  }
  return next_due;
}

// After a tick that did nothing, with nothing from outside on its way: moves time on by
// at most `most` ticks, to just before the next tick at which something is due, as a
// run jumps over idle time. Returns the ticks skipped.
int64_t Runtime::Impl::skip_idle(int64_t most) {
  if (last_step_progressed || !pending.empty() || !submitted.empty() || !arrived.empty() ||
      (pool && pool->outstanding() > 0))
    return 0;
  const int64_t target = std::min(next_due_tick() - 1, most > kLastTick - tick ? kLastTick : tick + most);
  if (target <= tick) return 0;
  const int64_t skipped = target - tick;
  tick = target;
  return skipped;
}

// Sleeps until an off-core outcome arrives, `stop` says so, or (serving) the tick
// period passes. Wall-clock time decides only when the next tick starts; what it sees
// is journaled.
void Runtime::Impl::wait_for_outside(const std::function<bool()>& stop) {
  using namespace std::chrono;
  const auto until = clock.now() + milliseconds(o.serve ? std::max<int64_t>(o.tick_ms, 1) : 3'600'000);
  while (clock.now() < until) {
    if (stop && stop()) return;
    const auto slice = std::min<steady_clock::duration>(milliseconds(50), until - clock.now());
    if (pool && pool->outstanding() > 0) {
      if (pool->wait(duration_cast<milliseconds>(slice))) return;
    } else {
      clock.sleep_for(slice);
    }
  }
}

SliceTimes Runtime::Impl::collected_slice_times() const {
  SliceTimes times;
  for (size_t d = 0; d < slice_buckets.size(); ++d) {
    const SliceTimes::Buckets& b = slice_buckets[d];
    if (std::any_of(b.begin(), b.end(), [](uint64_t n) { return n > 0; })) times.per_domain[p.domains[d].name] = b;
  }
  return times;
}

}  // namespace ved::vm
