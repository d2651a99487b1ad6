// Delivery and mailboxes (runtime.md §2): every enqueue and dequeue, the outboxes that
// hold messages back from a full mailbox, and the inputs delivered at the start of a tick.
#include "vm/runtime/runtime_impl.h"

#include <algorithm>

namespace ved::vm {

// Every enqueue and dequeue goes through these two, which remember what the next
// commit must add to and delete from the stored mailbox.
void Runtime::Impl::enqueue(size_t target, Message m) {
  Instance& in = instances[target];
  m.position = in.next_position++;
  in.mailbox_added.push_back(Instance::MailboxChange{m.high_lane, m.position});
  const uint32_t transition = m.transition;
  (m.high_lane ? in.high : in.normal).push_back(std::move(m));
  count_queued(in, transition, +1);
  mark(target);
}

void Runtime::Impl::count_queued(Instance& in, uint32_t transition, int delta) const {
  // Only a goal's strategy asks (strategy_pending): a domain without goals counts nothing.
  if (p.domains[in.key.domain].goals.empty()) return;
  if (in.queued.empty()) in.queued.assign(p.domains[in.key.domain].transitions.size(), 0);
  in.queued[transition] = static_cast<uint32_t>(static_cast<int64_t>(in.queued[transition]) + delta);
  if (in.mailbox_size() == 0) std::vector<uint32_t>().swap(in.queued);  // idle instances hold nothing
}

Message Runtime::Impl::dequeue(size_t target) {
  Instance& in = instances[target];
  Queue<Message>& lane = !in.high.empty() ? in.high : in.normal;
  Message m = std::move(lane.front());
  lane.pop_front();
  in.mailbox_removed.push_back(Instance::MailboxChange{&lane == &in.high, m.position});
  count_queued(in, m.transition, -1);
  mark(target);
  return m;
}

void Runtime::Impl::hold_back(size_t sender) {
  held_back.try_emplace(instances[sender].outbox.front().target, InstanceOrder{this}).first->second.insert(sender);
}

void Runtime::Impl::release_held(size_t sender) {
  auto it = held_back.find(instances[sender].outbox.front().target);
  if (it == held_back.end()) return;
  it->second.erase(sender);
  if (it->second.empty()) held_back.erase(it);
}

// During the outbox phase mailboxes only fill (nothing is dequeued), so a target full at
// its start stays full: none of its senders can drain, and of those of a target with room
// for r messages, at most the first r (each delivers at least one before the next one's
// turn) can. The rest would find the target full, exactly as if they had been asked.
std::vector<size_t> Runtime::Impl::drainable_senders() const {
  std::vector<size_t> out;
  for (const auto& [target_key, senders] : held_back) {
    auto target = find(target_key);
    size_t room = senders.size();
    if (target && !instances[*target].faulted) {
      const size_t size = instances[*target].mailbox_size();
      room = size >= o.mailbox_capacity ? 0 : std::min(room, o.mailbox_capacity - size);
    }
    for (auto it = senders.begin(); room > 0; ++it, --room) out.push_back(*it);
  }
  std::sort(out.begin(), out.end(), [&](size_t a, size_t b) { return instance_less(a, b); });
  return out;
}

// Delivers one message. A full mailbox keeps it in the sender's outbox (returns false).
// A message to oneself is never held back: the sender is the one that would have to
// drain the mailbox, and a held-back sender is not scheduled.
bool Runtime::Impl::deliver(const InstanceKey& target_key, Message&& m, std::optional<size_t> sender) {
  size_t target = find_or_activate(target_key);
  Instance& in = instances[target];
  const std::string& transition = p.domains[in.key.domain].transitions[m.transition].name;
  if (in.mailbox_size() >= o.mailbox_capacity && sender != target) {
    if (in.faulted || !sender) {
      record(target, "dead_letter", transition + (in.faulted ? " (target faulted)" : " (mailbox full)"), {}, [&] {
        return TraceFields{{"letter", text("message")},
                           {"transition", text(transition)},
                           {"reason", text(in.faulted ? "target faulted" : "mailbox full")}};
      });
      ++in.dead_letters;
      // An outcome that never reaches the mailbox is no longer in flight either.
      if (m.outcome && in.effects_in_flight > 0) --in.effects_in_flight;
      mark(target);
      return true;
    }
    return false;
  }
  if (sender && *sender != target) note_outside_input(target);
  enqueue(target, std::move(m));
  return true;
}

std::optional<size_t> Runtime::Impl::sender_of(const Message& m) const {
  const size_t hint = m.sender_hint;
  if (hint < instances.size() && same_instance(instances[hint].key, m.sender)) return hint;
  return find(m.sender);
}

bool Runtime::Impl::deliver_inputs(TickInputs inputs) {
  bool any = false;
  // Outboxes that can drain, in instance order.
  for (size_t i : drainable_senders()) {
    Instance& in = instances[i];
    release_held(i);
    while (!in.outbox.empty()) {
      OutboxEntry& e = in.outbox.front();
      if (!deliver(e.target, std::move(e.message), i)) break;
      in.outbox.pop_front();
      mark(i);
      any = true;
    }
    if (!in.outbox.empty()) hold_back(i);
  }
  // Messages sent during the previous tick, in the order they were sent.
  std::vector<Delivery>& now = delivering;  // its room is kept from tick to tick
  now.clear();
  now.swap(pending);
  any = any || !now.empty();
  for (Delivery& d : now) {
    const bool from_instance = d.message.from_instance;
    std::optional<size_t> sender = from_instance ? sender_of(d.message) : std::nullopt;
    if (!deliver(d.target, std::move(d.message), sender)) {
      Instance& s = instances[*sender];
      const uint32_t held = d.message.transition;
      s.outbox.push_back(OutboxEntry{d.target, std::move(d.message)});
      if (s.outbox.size() == 1) hold_back(*sender);
      mark(*sender);
      record(*sender, "backpressure", "a message waits in the outbox: the target's mailbox is full", {}, [&] {
        return TraceFields{{"to", text(describe_instance(p, d.target))},
                           {"transition", text(p.domains[d.target.domain].transitions[held].name)}};
      });
    } else if (!from_instance) {
      // Effect outcomes come from outside the instance.
      if (auto t = find(d.target)) note_outside_input(*t);
    }
  }
  now.clear();
  // Timers due now: the instances that have one, in instance order, and each one's in
  // (due, sequence) order. Every timer due by now is fired, so its filing goes with it.
  const auto due_end = due_timers.upper_bound(tick);
  std::vector<size_t> due_now;
  for (auto it = due_timers.begin(); it != due_end; ++it) due_now.push_back(it->second);
  due_timers.erase(due_timers.begin(), due_end);
  std::sort(due_now.begin(), due_now.end(), [&](size_t a, size_t b) { return instance_less(a, b); });
  due_now.erase(std::unique(due_now.begin(), due_now.end()), due_now.end());
  for (size_t i : due_now) {
    Instance& in = instances[i];
    std::stable_sort(in.timers.begin(), in.timers.end(), [](const Timer& a, const Timer& b) {
      return a.due != b.due ? a.due < b.due : a.sequence < b.sequence;
    });
    while (!in.timers.empty() && in.timers.front().due <= tick) {
      enqueue(i, std::move(in.timers.front().message));
      in.timers.erase(in.timers.begin());
      note_outside_input(i);
      any = true;
    }
  }
  // Effect outcomes, then messages from outside the program, in the order they came.
  any = any || !inputs.outcomes.empty() || !inputs.submitted.empty();
  for (Arrival& a : inputs.outcomes) deliver_outcome(std::move(a));
  for (Delivery& d : inputs.submitted) {
    const std::string transition = p.domains[d.target.domain].transitions[d.message.transition].name;
    record(describe_instance(p, d.target), "input", transition, {}, [&] {
      return TraceFields{{"transition", text(transition)}, {"args", Value::list(d.message.args)}};
    });
    deliver(d.target, std::move(d.message), std::nullopt);
    if (auto t = find(d.target)) note_outside_input(*t);
  }
  return any;
}

}  // namespace ved::vm
