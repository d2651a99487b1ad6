// Committing a tick: what it changed, as a tick record (tick_record.h), applied to the
// store. Building the record reads the live run and writes nothing durable; the store's
// apply is the only writer.
#include "vm/runtime/runtime_impl.h"

#include <algorithm>
#include <stdexcept>

#include "vm/runtime/instance_codec.h"
#include "vm/runtime/journal_render.h"

namespace ved::vm {

// The instance's new record and its mailbox's changes since it was last recorded: what
// was enqueued and still is is new, what was dequeued and had been recorded is gone.
void Runtime::Impl::record_instance(size_t i, TickRecord& r) {
  Instance& in = instances[i];
  // Made for each record, not kept: a key per instance would cost idle instances memory.
  std::string key = instance_storage_key(p, in.key);
  // Entries leave a lane in the order they entered it, so what was enqueued and not
  // dequeued since the last record is still queued, at the lane's tail; what was dequeued
  // and not enqueued since had been recorded.
  std::vector<std::pair<bool, uint64_t>>& gone = mailbox_gone;  // (reused: no allocation per instance)
  gone.clear();
  for (const auto& x : in.mailbox_removed) gone.emplace_back(x.high, x.position);
  std::sort(gone.begin(), gone.end());
  for (const auto& a : in.mailbox_added) {
    auto it = std::lower_bound(gone.begin(), gone.end(), std::make_pair(a.high, a.position));
    if (it != gone.end() && *it == std::make_pair(a.high, a.position)) {
      gone.erase(it);  // enqueued and dequeued within the tick
      continue;
    }
    const Queue<Message>& lane = a.high ? in.high : in.normal;
    auto queued = std::lower_bound(lane.begin(), lane.end(), a.position,
                                   [](const Message& m, uint64_t position) { return m.position < position; });
    if (queued == lane.end() || queued->position != a.position)
      throw std::logic_error("a mailbox entry enqueued since the last commit is neither queued nor dequeued");
    r.enqueued.push_back(TickRecord::Put{mailbox_storage_key(key, a.high, a.position), encode_message(*queued)});
  }
  for (const auto& [high, position] : gone) r.dequeued.push_back(mailbox_storage_key(key, high, position));
  in.mailbox_added.clear();
  in.mailbox_removed.clear();
  TickRecord::InstanceWrite w{std::move(key), encode_instance(in), in.stored_digest, 0, std::nullopt};
  in.stored_digest = record_digest(w.key, w.value);
  w.digest = in.stored_digest;
  r.instances.push_back(std::move(w));
}

// The record of the tick just computed: changed instances in instance order (each one's
// `state` journal line rendered from its record, after the tick's events); the messages to deliver next; intents emitted or completed;
// observations journaled; the effect counts when they changed.
TickRecord Runtime::Impl::record_tick() {
  // Mostly marked in the order the instances ran, which is instance order within a lane.
  auto less = [&](size_t a, size_t b) { return instance_less(a, b); };
  if (!std::is_sorted(dirty.begin(), dirty.end(), less)) std::sort(dirty.begin(), dirty.end(), less);
  TickRecord r;
  r.tick = tick;
  r.timer_sequence = timer_sequence;
  r.last_foreground_tick = last_foreground_tick;
  for (size_t i : dirty) {
    record_instance(i, r);
    r.instances.back().line = static_cast<uint32_t>(journal.size());
  }
  r.pending = encode_pending(pending);
  for (const IntentKey& k : emitted)
    r.intents.push_back(TickRecord::IntentWrite{k.first, k.second, encode_intent(open_intents.at(k)), false});
  for (const Intent& x : completed) r.intents.push_back(TickRecord::IntentWrite{x.tick, x.index, encode_intent(x), true});
  if (!emitted.empty()) {  // the counts change only on emit
    std::string counts;
    for (const auto& [effect, count] : effect_counts) counts += std::to_string(effect) + " " + std::to_string(count) + "\n";
    r.effect_counts = std::move(counts);
  }
  for (const auto& [key, value] : observed_changed) r.observed.push_back(TickRecord::Put{"obs/" + hex_bytes(key), value});
  r.journal = std::move(journal);
  journal.clear();  // (moved from: empty, but say so)
  return r;
}

// Writes the tick. `append`: the tick was committed already (a `resume` between runs).
bool Runtime::Impl::commit(std::string& error, bool append) {
  TickRecord r = record_tick();
  if (!storage) {
    // A run in memory (replay, simulation) keeps the tick's journal as text, rendered
    // as a stored record is: what replay compares with the recorded one.
    // Instance write k is of dirty[k] (record_tick writes them in that order).
    interleave_state_lines(r, [&](size_t k, std::string& line) {
      line = state_line(name(dirty[k]), instances[dirty[k]].state);
      return true;
    }, rendered);
  } else if (!storage->apply(std::move(r), append, error)) {
    return false;
  }
  for (size_t i : dirty) instances[i].dirty = false;
  dirty.clear();
  completed.clear();
  observed_changed.clear();
  return true;
}

// What exists before tick 1, as tick 0's record: the instances activated at the start.
TickRecord Runtime::Impl::record_start() {
  TickRecord r = record_tick();
  r.tick = 0;
  r.journal.clear();
  for (TickRecord::InstanceWrite& w : r.instances) w.line = TickRecord::kNoStateLine;
  return r;
}

}  // namespace ved::vm
