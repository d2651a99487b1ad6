// Opening a data dir: a new run (instances activated, written before tick 1) or the
// run it holds, recovered as its last committed tick left it.
#include "vm/runtime/runtime_impl.h"

#include <algorithm>

#include "vm/effects/simulated_adapter.h"

namespace ved::vm {

// The bindings as `NAME=spec` lines in name order (`meta/effects`).
std::string Runtime::Impl::describe_bindings() const {
  std::string out;
  for (const auto& [name, spec] : o.effect_specs) out += name + "=" + spec + "\n";
  return out;
}

bool Runtime::Impl::attach(Store& s, bool& resumed, std::string& error) {
  storage.emplace(p, s, o.sync, clock);
  // A printed trace line must never run ahead of the data dir: traced, every tick is
  // written as it commits.
  if (trace || o.group_ms == 0) storage->set_max_group_ticks(1);
  storage->set_max_group_age(std::chrono::milliseconds(o.group_ms));
  if (o.checkpoint_bytes > 0) storage->set_checkpoint_bytes(o.checkpoint_bytes);
  storage->set_replicator(o.replicator);
  if (!storage->holds_run(resumed, error)) return false;
  if (!resumed) {
    activate_initial();
    if (!storage->begin(bundle, o.seed, o.slice_budget, describe_bindings(), record_start(), error)) return false;
    for (Instance& in : instances) in.dirty = false;
    dirty.clear();
    journal.clear();
    return true;
  }
  LoadedRun run;
  if (!storage->load(run, error)) return false;
  return adopt(std::move(run), error);
}

bool Runtime::Impl::adopt(LoadedRun run, std::string& error) {
  // Simulated adapters decide outcomes, so they are part of the run: a resumed run
  // keeps its own, and other bindings are refused rather than silently mixed in.
  if (!o.effect_specs.empty() && describe_bindings() != run.effect_bindings) {
    std::string given = run.effect_bindings;
    std::replace(given.begin(), given.end(), '\n', ' ');
    while (!given.empty() && given.back() == ' ') given.pop_back();
    error = "the run was started with " + (given.empty() ? std::string("no --effect") : "--effect " + given) +
            "; resume it with the same bindings (or none), or start over with --fresh";
    return false;
  }
  if (o.effect_specs.empty() && !run.effect_bindings.empty()) {
    std::string rest = run.effect_bindings;
    while (!rest.empty()) {
      std::string one = rest.substr(0, rest.find('\n'));
      rest = rest.find('\n') == std::string::npos ? "" : rest.substr(rest.find('\n') + 1);
      const size_t eq = one.find('=');
      std::shared_ptr<EffectAdapter> adapter;
      if (eq == std::string::npos ||
          !(adapter = parse_simulated_adapter(p, one.substr(0, eq), one.substr(eq + 1), error))) {
        error = "the data dir is damaged: meta/effects: " + error;
        return false;
      }
      o.adapters.bind_effect(one.substr(0, eq), std::move(adapter));
      o.effect_specs[one.substr(0, eq)] = one.substr(eq + 1);
    }
  }
  tick = run.tick;
  o.seed = run.seed;
  if (run.slice_budget > 0) o.slice_budget = run.slice_budget;
  timer_sequence = run.timer_sequence;
  last_foreground_tick = run.last_foreground_tick;
  pending = std::move(run.pending);
  for (Instance& in : run.instances) {
    in.dirty = false;
    for (const auto* lane : {&in.high, &in.normal})
      for (const Message& m : *lane) count_queued(in, m.transition, +1);
    const size_t index = instances.size();
    by_key[in.key] = index;
    instances.push_back(std::move(in));
    // Goals are evaluated again in the first tick after recovery; everything else
    // that can act is woken. (The sets order by instance: it must be in the vector.)
    if (!instances[index].faulted) awake.insert(index);
    for (const Timer& t : instances[index].timers) due_timers.emplace(t.due, index);
    if (!instances[index].outbox.empty()) hold_back(index);
  }
  effect_counts = std::move(run.effect_counts);
  last_observed = std::move(run.observed);
  // Intents journaled without an outcome are dispatched again, with the same id and key,
  // when the run goes on (runtime.md §6).
  // Those whose outcome arrived and was stored are delivered instead.
  for (Intent& x : run.open_intents) {
    const IntentKey key{x.tick, x.index};
    if (!find(x.instance)) {
      error = "the data dir is damaged: intent " + x.id() + " belongs to " + describe_instance(p, x.instance) +
              ", which does not exist";
      return false;
    }
    if (x.arrived) arrived.push_back(Arrival{key, x.outcome});
    else recovered.push_back(key);
    open_intents.emplace(key, std::move(x));
  }
  return true;
}

// The run as it stands after the last tick, handed over in the terms a data dir loads
// it in (replay takes it across an upgrade): instances in instance order, intents in
// emission order, an outcome that arrived but is not delivered yet marked so.
void Runtime::Impl::release_run(LoadedRun& out) {
  out.tick = tick;
  out.seed = o.seed;
  out.slice_budget = o.slice_budget;
  out.timer_sequence = timer_sequence;
  out.last_foreground_tick = last_foreground_tick;
  out.effect_bindings = describe_bindings();
  for (size_t i : ordered_indices()) out.instances.push_back(std::move(instances[i]));
  out.pending = std::move(pending);
  for (const Arrival& a : arrived) {
    auto it = open_intents.find(a.intent);
    if (it == open_intents.end()) continue;
    it->second.arrived = true;
    it->second.outcome = a.outcome;
  }
  for (auto& [key, x] : open_intents) out.open_intents.push_back(std::move(x));
  out.effect_counts = std::move(effect_counts);
  out.observed = std::move(last_observed);
  instances.clear();
  by_key.clear();
  open_intents.clear();
  arrived.clear();
}

}  // namespace ved::vm
