// A tick as a value (runtime.md "The tick record"): everything one committed tick
// changed, as a plain encodable value, computed without touching durable state.
//
// Computing a tick (the tick loop) produces one; `RunStore::apply` applies it to the store,
// the one way a tick reaches storage — for a live run, for a `resume` that adds to the
// last tick and, later, for a cluster follower that applies its owner's records without
// running any code. The store keeps every record (in the tick-record log, record_log.h;
// tick 0's and upgrades' as `tick/<tick>`): they are the journal, and a record holds what
// its tick wrote, not only what it printed, so that a replica or an audit can apply or
// compare the history without re-executing it.
//
// The record speaks in storage terms (keys and encoded values): an instance's new record,
// the mailbox entries enqueued and dequeued, the messages to deliver next tick, intents
// emitted or completed, observations journaled, and the tick's journal lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ved::vm {

struct TickRecord {
  int64_t tick = 0;
  uint64_t timer_sequence = 0;     // the next timer's sequence number after the tick
  int64_t last_foreground_tick = -1;  // the background rule's memory (runtime.md §1 step 2)

  struct Put {
    std::string key;
    std::string value;
  };
  // An instance's new record. `replaces` is the live-record digest part of the record it
  // replaces (0 for a new instance): the store's digest moves by the difference, and a
  // replica holding the same state has the same part.
  // Its `state` journal line is not stored: it is rendered from `value` (journal_render.h)
  // and goes before journal[line]; kNoStateLine: it has none (tick 0's instances are the
  // starting point, not a change the journal shows).
  static constexpr uint32_t kNoStateLine = UINT32_MAX;
  struct InstanceWrite {
    std::string key;
    std::string value;
    uint64_t replaces = 0;
    uint32_t line = 0;
    // record_digest(key, value), when whoever made the record has it already (the live
    // run does, for the instance's next `replaces`). Not encoded: apply computes it for a
    // record read back.
    std::optional<uint64_t> digest;
  };
  std::vector<InstanceWrite> instances;  // in instance order
  std::vector<Put> enqueued;             // mailbox entries that are new (written once)
  std::vector<std::string> dequeued;     // mailbox entries consumed (their keys)
  std::string pending;                   // the messages delivered at the next tick, encoded
  struct IntentWrite {
    int64_t tick = 0;  // of its emission
    uint32_t index = 0;
    std::string value;      // the intent record
    bool completed = false;  // its outcome is journaled in this tick (else it is new, open)
  };
  std::vector<IntentWrite> intents;
  std::vector<Put> observed;                  // `obs/` records journaled in the tick
  std::optional<std::string> effect_counts;   // when an intent was emitted
  std::vector<std::string> journal;           // the tick's event lines, in order (no `state` lines)

  // Adds a later part of the same tick (a `resume` between runs adds to the last tick):
  // its writes go after these, its journal lines after these, its head replaces this one.
  void append(TickRecord&& later);
};

// The record as bytes: a format byte, then every part length-prefixed (little-endian).
std::string encode_tick_record(const TickRecord& record);
// The same, appended to `out` (a log frame's payload, built in place).
void append_tick_record(std::string& out, const TickRecord& record);
// False with `error` naming the part that does not fit (a damaged record).
bool decode_tick_record(std::string_view bytes, TickRecord& out, std::string& error);

// `tick/<tick in 16 hex digits>`: the records sort as the ticks they hold.
std::string tick_record_key(int64_t tick);

}  // namespace ved::vm
