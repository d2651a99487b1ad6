// The order in which instances run in a tick (runtime.md §1 step 2).
#include "vm/runtime/runtime_impl.h"

#include <algorithm>

namespace ved::vm {

// Instance order: domain name, then id.
std::vector<size_t> Runtime::Impl::ordered_indices() const {
  std::vector<size_t> order(instances.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return instance_less(a, b); });
  return order;
}

// The background rule (runtime.md §1 step 2): an instance whose only reason to run is a
// background goal runs only if no instance ran a non-background slice in the previous tick
// and no input is delivered in this one. Both are known from the state committed at the
// start of the tick and the tick's inputs, never from this tick's goal results, so any
// node holding that state decides it the same way.
bool Runtime::Impl::background_may_run() const { return last_foreground_tick != tick - 1 && !inputs_delivered; }

auto Runtime::Impl::candidates() const -> std::vector<Runnable> {
  std::vector<Runnable> out;
  for (size_t i : awake) {
    const Instance& in = instances[i];
    if (in.faulted || !in.outbox.empty()) continue;
    int priority = -1;
    bool other_reason = false;
    if (in.continuation) {
      priority = kLaneNormal;
      other_reason = true;
    }
    if (!in.high.empty()) priority = std::max(priority, kLaneHigh), other_reason = true;
    else if (!in.normal.empty()) priority = std::max(priority, kLaneNormal), other_reason = true;
    if (auto g = acting_goal(in)) {
      const GoalInfo& goal = p.domains[in.key.domain].goals[*g];
      if (goal_can_act(in, *g) || other_reason) {
        priority = std::max(priority, static_cast<int>(goal.priority));
        if (goal.priority > 0) other_reason = true;
      }
    }
    if (priority < 0) continue;
    out.push_back(Runnable{i, priority, !other_reason});
  }
  return out;
}

auto Runtime::Impl::runnable() const -> std::vector<Runnable> {
  std::vector<Runnable> out = candidates();
  if (!background_may_run()) {
    out.erase(std::remove_if(out.begin(), out.end(), [](const Runnable& r) { return r.background_only; }), out.end());
  }
  auto before = [&](const Runnable& a, const Runnable& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    const InstanceKey &x = instances[a.index].key, &y = instances[b.index].key;
    const DomainInfo &dx = p.domains[x.domain], &dy = p.domains[y.domain];
    if (dx.scope_depth != dy.scope_depth) return dx.scope_depth < dy.scope_depth;
    return instance_less(a.index, b.index);
  };
  // The awake set was just put in instance order (run_tick), so with one priority and
  // scope the candidates are in order already: checked in one pass, not sorted again.
  if (!std::is_sorted(out.begin(), out.end(), before)) std::sort(out.begin(), out.end(), before);
  return out;
}

}  // namespace ved::vm
