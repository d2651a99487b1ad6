// Running one slice of one instance (runtime.md §1 step 3-4): its continuation or the
// head of its mailbox (after a goal attempt, if one is due), invariants, faults and
// rollback, and what the slice sent, spawned, emitted and scheduled.
#include "vm/runtime/runtime_impl.h"

#include <algorithm>
#include <chrono>

#include "vm/invariants.h"

namespace ved::vm {

std::string Runtime::Impl::fault_text(const Fault& f) const {
  return std::string(bytecode::fault_kind_name(f.kind)) + " at " + describe_fault_location(p, f) + ": " + f.message;
}

FaultInfo Runtime::Impl::fault_info(const std::string& where, const Fault& f) const {
  FaultInfo info;
  info.where = where;
  info.kind = std::string(bytecode::fault_kind_name(f.kind));
  info.message = f.message;
  if (f.function < p.functions.size()) info.function = p.functions[f.function].name;
  if (f.position.line != 0 && f.position.file < p.sources.size()) {
    info.file = p.sources[f.position.file];
    info.line = f.position.line;
    info.column = f.position.column;
  }
  return info;
}

void Runtime::Impl::fault(size_t i, const Fault& f, const std::string& where) {
  Instance& in = instances[i];
  in.faulted = true;
  in.continuation.reset();
  in.last_fault = where + ": " + fault_text(f);
  in.last_fault_info = std::make_unique<FaultInfo>(fault_info(where, f));
  mark(i);
  record(i, "fault", in.last_fault, {},
         [&] { return TraceFields{fault_field("fault", in.last_fault, in.last_fault_info.get())}; });
}

// Runs one slice for instance `i`: its continuation, or a goal attempt and the head of
// its mailbox.
void Runtime::Impl::step(size_t i) {
  Instance& in = instances[i];
  const DomainInfo& d = p.domains[in.key.domain];
  if (!in.continuation) {
    if (auto g = acting_goal(in); g && goal_can_act(in, *g)) {
      const GoalInfo& goal = d.goals[*g];
      GoalProgress& gp = in.goals[*g];
      const bool out_of_attempts = goal.terminate_kind == 1 && gp.attempts >= goal.terminate_count;
      const bool out_of_time = goal.terminate_kind == 2 && tick - gp.unsatisfied_since >= goal.terminate_count;
      if (out_of_attempts || out_of_time) {
        terminate(i, *g, out_of_attempts ? "after " + std::to_string(gp.attempts) + " attempts"
                                         : "after " + std::to_string(goal.terminate_count) + " ticks");
      } else if (oscillating(i, *g)) {
        terminate(i, *g, "oscillation: the instance came back to an earlier state after " +
                             std::to_string(gp.attempts) + " attempts");
      } else {
        ++gp.attempts;
        if (goal.backoff_max > 0) {
          const int64_t wait = gp.attempts >= 62 ? goal.backoff_max
                                                 : std::min<int64_t>(int64_t{1} << (gp.attempts - 1), goal.backoff_max);
          // Saturated at the last tick: a wait that long is a goal that never tries again.
          gp.next_attempt = wait >= kLastTick - tick ? kLastTick : tick + wait;
        }
        for (uint32_t t : goal.strategy) {
          Message m;
          m.transition = t;
          m.self_attempt = true;
          enqueue(i, std::move(m));
        }
        mark(i);
        record(i, "goal", goal.name + " attempt " + std::to_string(gp.attempts), {}, [&] {
          return TraceFields{{"goal", text(goal.name)}, {"event", text("attempt")}, {"attempt", Value::integer(gp.attempts)}};
        });
      }
    }
    if (in.mailbox_size() == 0) return;
    Message m = dequeue(i);
    // An effect is in flight until its outcome is handled, so that a goal does not start
    // another attempt while the answer to the last one waits in the mailbox.
    if (m.outcome && in.effects_in_flight > 0) --in.effects_in_flight;
    std::vector<Value> args = m.args;
    run_slice(i, m.transition, 0, std::move(args), std::move(m));
    return;
  }
  PendingTransition c = std::move(*in.continuation);
  in.continuation.reset();
  run_slice(i, c.transition, c.next_slice, std::move(c.registers), std::move(c.message));
}

void Runtime::Impl::run_slice(size_t i, uint32_t transition, uint32_t slice, std::vector<Value> registers, Message message) {
  const DomainInfo& d = p.domains[instances[i].key.domain];
  const TransitionInfo& t = d.transitions[transition];
  const FunctionInfo& f = p.functions[t.function];
  Value working = instances[i].state;
  Random random = instances[i].random;
  Outputs out;
  const int64_t outputs_left_before = tick_outputs_left;
  out.tick_outputs_left = &tick_outputs_left;
  InstanceEnv env;
  Observer observer = observer_for(i);
  env.state = &working;
  env.tick = tick;
  env.random = &random;
  env.outputs = &out;
  env.observations = &observer;
  const int64_t budget = t.budget > 0 ? t.budget : o.slice_budget;
  ++slices_run;
  // ` (name)` after the slice's number, for a named slice (made only when shown).
  auto slice_name = [&] { return f.slice_names[slice].empty() ? std::string() : " (" + f.slice_names[slice] + ")"; };
  if (slice == 0 && !t.escalation.empty())
    record(i, "escalation", t.name + ": " + t.escalation, {},
           [&] { return TraceFields{{"transition", text(t.name)}, {"escalation", text(t.escalation)}}; });
  // Wall-clock time is measured for `vedvm stats` only; nothing in the run reads it.
  const auto started = clock.now();
  SliceResult r = interp.run_slice(t.function, slice, std::move(registers), budget, env);
  if (slice_buckets.size() < p.domains.size()) slice_buckets.resize(p.domains.size());
  SliceTimes::add(slice_buckets[instances[i].key.domain],
                  std::chrono::duration_cast<std::chrono::microseconds>(clock.now() - started).count());
  if (r.status != SliceResult::Status::Faulted && !d.invariants.empty()) {
    if (auto broken = check_invariants(interp, p, d, working, tick, budget, "slice " + std::to_string(slice) + slice_name())) {
      r.status = SliceResult::Status::Faulted;
      r.fault = std::move(*broken);
    }
  }
  if (r.status == SliceResult::Status::Faulted) {
    tick_outputs_left = outputs_left_before;  // a rolled-back slice created nothing
    // The message is consumed (runtime.md §3): the fault record keeps it.
    std::string text = t.name + "(";
    for (size_t k = 0; k < message.args.size(); ++k) text += (k ? ", " : "") + show(message.args[k]);
    fault(i, r.fault, t.name + " slice " + std::to_string(slice) + slice_name() + " of message " + text + ")");
    return;
  }
  Instance& in = instances[i];
  const bool yielded = r.status == SliceResult::Status::Yielded;
  // The journal line: `slice Increment value=3`, the transition (and its slice when it
  // has several) and the fields the slice changed.
  std::string& detail = event_detail;
  detail.assign(t.name);
  if (slice > 0 || f.slice_entries.size() > 1) {
    detail += '#';
    detail += std::to_string(slice);
  }
  if (!f.slice_names[slice].empty()) detail += slice_name();
  if (yielded) detail += " yield";
  std::vector<size_t> changed;
  const auto& before = in.state.as_record().fields;
  const auto& after = working.as_record().fields;
  const auto& field_names = p.records[d.state_record].fields;
  for (size_t k = 0; k < after.size() && k < before.size(); ++k)
    if (!values_equal(before[k], after[k])) {
      detail += ' ';
      detail += field_names[k];
      detail += '=';
      append_shown(after[k], detail);
      if (trace) changed.push_back(k);
    }
  in.state = std::move(working);
  in.random = random;
  mark(i);
  record(i, "slice", detail, {}, [&] {
    TraceFields fields;
    for (size_t k : changed) fields.emplace_back(field_names[k], in.state.as_record().fields[k]);
    return TraceFields{{"transition", text(t.name)},
                       {"slice", Value::integer(slice)},
                       {"slice_name", f.slice_names[slice].empty() ? Value::none() : text(f.slice_names[slice])},
                       {"yielded", Value::boolean(yielded)},
                       {"changes", std::move(fields)}};
  });
  if (r.status == SliceResult::Status::Yielded) {
    in.continuation = std::make_unique<PendingTransition>(
        PendingTransition{transition, r.continuation.next_slice, std::move(r.continuation.registers), message});
  }
  apply_outputs(i, out, message);
}

void Runtime::Impl::apply_outputs(size_t i, Outputs& out, const Message& processing) {
  const InstanceKey self = instances[i].key;
  for (SentMessage& s : out.sends) {
    const MessageInfo& info = p.messages[s.message];
    Message m;
    m.args = std::move(s.args);
    m.high_lane = info.high_lane;
    m.from_instance = true;
    m.sender = self;
    m.sender_hint = i;
    InstanceKey target;
    if (info.domain >= 0) {
      target = InstanceKey{static_cast<uint32_t>(info.domain), s.instance_id};
      m.transition = static_cast<uint32_t>(info.transition);
    } else {
      // A reply goes to whoever sent the message being processed.
      if (!processing.from_instance) {
        record(i, "dead_letter", "reply " + info.name + " (the message being processed has no sender)", {}, [&] {
          return TraceFields{{"letter", text("reply")}, {"reply", text(info.name)}, {"reason", text("no sender")}};
        });
        continue;
      }
      target = processing.sender;
      const DomainInfo& td = p.domains[target.domain];
      auto it = std::find_if(td.transitions.begin(), td.transitions.end(),
                             [&](const TransitionInfo& t) { return t.name == info.name; });
      bool fits = it != td.transitions.end() && it->params.size() == m.args.size();
      for (size_t k = 0; fits && k < m.args.size(); ++k) fits = p.same_type(it->params[k].type, info.args[k]);
      if (!fits) {
        record(describe_instance(p, target), "dead_letter",
               "reply " + info.name + " (no such transition with these arguments)", {}, [&] {
                 return TraceFields{
                     {"letter", text("reply")}, {"reply", text(info.name)}, {"reason", text("no such transition")}};
               });
        continue;
      }
      m.transition = static_cast<uint32_t>(it - td.transitions.begin());
    }
    const std::string& sent = p.domains[target.domain].transitions[m.transition].name;
    std::string& detail = event_detail;
    detail.clear();
    append_instance_name(p, target, detail);
    detail += '.';
    detail += sent;
    record(i, "send", detail, {}, [&] {
      return TraceFields{{"to", text(describe_instance(p, target))},
                         {"transition", text(sent)},
                         {"args", Value::list(m.args)},
                         {"lane", text(m.high_lane ? "high" : "normal")}};
    });
    next_pending.push_back(Delivery{target, std::move(m)});
  }
  for (Value& intent : out.intents) emit(i, intent);
  for (SpawnRequest& s : out.spawns) {
    const SpawnInfo& shape = p.spawns[s.spawn];
    InstanceKey key{shape.domain, s.instance_id};
    if (find(key)) {
      record(i, "spawn", describe_instance(p, key) + " exists already: nothing done", {}, [&] {
        return TraceFields{{"target", text(describe_instance(p, key))}, {"existed", Value::boolean(true)}};
      });
      continue;
    }
    std::vector<std::pair<uint32_t, Value>> fields;
    for (size_t k = 0; k < shape.fields.size(); ++k) fields.emplace_back(shape.fields[k], std::move(s.values[k]));
    activate(key, fields);
  }
  for (ScheduledMessage& s : out.schedules) {
    Message m;
    m.transition = static_cast<uint32_t>(p.messages[s.message].transition);
    m.args = std::move(s.args);
    // The interpreter refused delays past the last tick, so this cannot overflow.
    const int64_t due = tick + s.delay;
    instances[i].timers.push_back(Timer{due, timer_sequence++, std::move(m)});
    due_timers.emplace(due, i);
  }
}

}  // namespace ved::vm
