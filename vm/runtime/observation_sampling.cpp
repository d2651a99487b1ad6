// Observations (language.md §8): sampled at most once per instance per tick, journaled
// when the value changes, and fed back from the journal when replaying.
#include "vm/runtime/runtime_impl.h"

#include "vm/runtime/instance_codec.h"

namespace ved::vm {

// Samples observation `observation` for instance `i` (at most once per instance per
// tick), journaling the value when it differs from the last one journaled; replaying,
// takes the value the recorded run journaled.
FaultKind Runtime::Impl::observe(size_t i, uint32_t observation, std::span<const Value> args, Value& out, std::string& message) {
  const ExternalInfo& info = p.observations[observation];
  std::vector<Value> arguments(args.begin(), args.end());
  const std::string key = encode_observation(observation, arguments, Value());
  if (auto it = sampled.find({i, key}); it != sampled.end()) {
    out = it->second;
    return FaultKind::None;
  }
  auto last = last_observed.find(key);
  // `Name(args)` for the journal: built only when something is journaled, not on every
  // sample of a goal that is evaluated every tick.
  auto shown = [&] {
    std::string text = info.name + "(";
    for (size_t k = 0; k < arguments.size(); ++k) text += (k ? ", " : "") + literal(arguments[k]);
    return text + ")";
  };
  Value value;
  std::string failure;
  bool journal_it = false;
  if (o.replay) {
    bool found = false;
    auto it = o.replay->observations.find(tick);
    if (it != o.replay->observations.end()) {
      for (size_t k = 0; k < it->second.size() && !found; ++k) {
        const auto& r = it->second[k];
        if (replay_observation_used[k] || r.observation != observation || r.instance != name(i)) continue;
        if (encode_observation(r.observation, r.args, Value()) != key) continue;
        replay_observation_used[k] = true;
        value = r.value;
        failure = r.failure;
        found = journal_it = true;
      }
    }
    if (!found && last == last_observed.end()) {
      message = "the journal has no value of `" + info.name + "` for " + name(i) + " at tick " + std::to_string(tick);
      return FaultKind::Observation;
    }
    if (!found) value = last->second;
  } else {
    ObservationAdapter* adapter = o.adapters.observation(info.name);
    std::string error;
    if (!adapter) {
      failure = "no adapter serves the observation `" + info.name + "`";
    } else if (!adapter->sample(info.name, args, info.result, value, error)) {
      failure = "`" + info.name + "`: " + (error.empty() ? "failed" : error);
    } else if (!value_conforms(p, value, info.result)) {
      failure = "observation `" + info.name + "` returned a value of the wrong type";
    }
    // A failure is an input too (the code that read it faults): always journaled.
    journal_it = !failure.empty() || last == last_observed.end() || !values_equal(last->second, value);
  }
  if (!failure.empty()) {
    note_outside_input(i);
    record(i, "observe", shown() + " failed: " + failure, encode_observation(observation, arguments, Value(), failure),
           [&] {
             return TraceFields{
                 {"observation", text(info.name)}, {"args", Value::list(arguments)}, {"failure", text(failure)}};
           });
    message = failure;
    return FaultKind::Observation;
  }
  if (journal_it) {
    const std::string bytes = encode_observation(observation, arguments, value);
    record(i, "observe", shown() + " = " + literal(value), bytes, [&] {
      return TraceFields{{"observation", text(info.name)}, {"args", Value::list(arguments)}, {"value", value}};
    });
    last_observed[key] = value;
    observed_changed.emplace_back(key, bytes);
    // A new value from outside: what the instance does next is not a cycle of its own.
    note_outside_input(i);
  }
  sampled[{i, key}] = value;
  out = std::move(value);
  return FaultKind::None;
}

}  // namespace ved::vm
