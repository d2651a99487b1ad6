// Goals (language.md §9, runtime.md §1 step 2-3): evaluation once per tick, the goal that
// may act, whether an attempt is due, termination and oscillation detection.
#include "vm/runtime/runtime_impl.h"

#include <algorithm>

namespace ved::vm {

// The instance's whole state for oscillation detection: its fields, its mailbox and
// its random generator's position (language.md §9: the generator is part of the state,
// so a strategy driven by rand() that comes back to the same fields has not cycled).
uint64_t Runtime::Impl::state_and_mailbox_hash(const Instance& in) const {
  std::vector<Value> parts{in.state, Value::integer(static_cast<int64_t>(in.random.seed())),
                          Value::integer(static_cast<int64_t>(in.random.draws()))};
  for (const auto* lane : {&in.high, &in.normal})
    for (const Message& m : *lane) {
      // Positions are not part of the value: the same queue is the same mailbox.
      parts.push_back(Value::integer(m.transition));
      parts.push_back(Value::list(m.args));
    }
  return static_cast<uint64_t>(hash_value(Value::list(std::move(parts))));
}

// Evaluates every goal of instance `i` (once per tick). False if a predicate faulted
// (the instance is then FAULTED).
bool Runtime::Impl::evaluate_goals(size_t i) {
  Instance& in = instances[i];
  const DomainInfo& d = p.domains[in.key.domain];
  for (size_t g = 0; g < d.goals.size(); ++g) {
    GoalProgress& gp = in.goals[g];
    if (gp.terminated) continue;
    InstanceEnv env;
    Value state = in.state;
    Observer observer = observer_for(i);
    env.state = &state;
    env.tick = tick;
    env.observations = &observer;
    CallResult r = interp.call(d.goals[g].predicate, {}, o.slice_budget, env);
    if (!r.ok) {
      fault(i, r.fault, "goal " + d.goals[g].name);
      return false;
    }
    const bool sat = r.value.as_bool();
    if (sat && !gp.satisfied) {
      record(i, "goal", d.goals[g].name + " satisfied", {},
             [&] { return TraceFields{{"goal", text(d.goals[g].name)}, {"event", text("satisfied")}}; });
      gp.attempts = 0;
      gp.seen.clear();
      gp.next_attempt = 0;
      mark(i);
    } else if (!sat && gp.satisfied) {
      record(i, "goal", d.goals[g].name + " unsatisfied", {},
             [&] { return TraceFields{{"goal", text(d.goals[g].name)}, {"event", text("unsatisfied")}}; });
      gp.unsatisfied_since = tick;
      mark(i);
    }
    gp.satisfied = sat;
  }
  return true;
}

// Called when goal `g` is about to start an attempt: is the instance's (state, mailbox)
// back at a value it had when an earlier attempt started, after a different one, with
// no input from outside since? Records the value otherwise. (A fixpoint, the same value
// again, is not an oscillation: terminate_after handles it.)
bool Runtime::Impl::oscillating(size_t i, size_t g) {
  static constexpr size_t kRemembered = 4096;
  Instance& in = instances[i];
  GoalProgress& gp = in.goals[g];
  if (p.domains[in.key.domain].goals[g].terminate_kind == 0) return false;
  const uint64_t hash = state_and_mailbox_hash(in);
  if (gp.outside_input) {
    gp.seen.clear();
    gp.outside_input = false;
  }
  if (!gp.seen.empty() && hash == gp.last_hash) return false;
  if (std::find(gp.seen.begin(), gp.seen.end(), hash) != gp.seen.end()) return true;
  if (gp.seen.size() == kRemembered) gp.seen.erase(gp.seen.begin());
  gp.seen.push_back(hash);
  gp.last_hash = hash;
  mark(i);
  return false;
}

void Runtime::Impl::terminate(size_t i, size_t g, const std::string& reason) {
  Instance& in = instances[i];
  GoalProgress& gp = in.goals[g];
  gp.terminated = true;
  gp.reason = reason;
  mark(i);
  const std::string& goal = p.domains[in.key.domain].goals[g].name;
  record(i, "goal", goal + " terminated: " + reason, {}, [&] {
    return TraceFields{{"goal", text(goal)}, {"event", text("terminated")}, {"reason", text(reason)}};
  });
}

// The goal that may act now: the highest-priority unsatisfied, non-terminated one
// (ties: declaration order).
std::optional<size_t> Runtime::Impl::acting_goal(const Instance& in) const {
  const DomainInfo& d = p.domains[in.key.domain];
  std::optional<size_t> best;
  for (size_t g = 0; g < d.goals.size(); ++g) {
    const GoalProgress& gp = in.goals[g];
    if (gp.satisfied || gp.terminated) continue;
    if (!best || d.goals[g].priority > d.goals[*best].priority) best = g;
  }
  return best;
}

bool Runtime::Impl::strategy_pending(const Instance& in, const GoalInfo& goal) const {
  for (uint32_t t : goal.strategy) {
    if (in.continuation && in.continuation->transition == t) return true;
    if (!in.queued.empty() && in.queued[t] > 0) return true;
  }
  return false;
}

// Whether the acting goal would start an attempt now (or be terminated trying).
bool Runtime::Impl::goal_can_act(const Instance& in, size_t g) const {
  const GoalInfo& goal = p.domains[in.key.domain].goals[g];
  const GoalProgress& gp = in.goals[g];
  return !goal.strategy.empty() && !strategy_pending(in, goal) && in.effects_in_flight == 0 &&
         tick >= gp.next_attempt;
}

}  // namespace ved::vm
