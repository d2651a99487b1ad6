// What the runtime keeps for each domain instance: its state, mailbox, continuation,
// timers, random generator and goal bookkeeping. Everything that decides what an
// instance does next is here, so that persisting instances is persisting the run.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vm/program.h"
#include "vm/random.h"
#include "vm/runtime/queue.h"
#include "vm/value.h"

namespace ved::vm {

// An instance: a domain and an id (unit for the default instance, or an int or string).
struct InstanceKey {
  uint32_t domain = 0;
  Value id;  // unit, int or string
};

// Instance ids order as: the default instance, then ints numerically, then strings
// bytewise (language.md §3).
int compare_ids(const Value& a, const Value& b);
// `Counter`, `Worker[3]`, `Worker["eu"]`.
std::string describe_instance(const Program& program, const InstanceKey& key);
// The same, appended to `out`.
void append_instance_name(const Program& program, const InstanceKey& key, std::string& out);
bool same_instance(const InstanceKey& a, const InstanceKey& b);

struct Message {
  uint64_t position = 0;    // its place in the receiver's mailbox (the storage key's order)
  uint32_t transition = 0;  // in the receiving instance's domain
  std::vector<Value> args;
  bool high_lane = false;
  bool from_instance = false;  // sent by an instance (else: the runtime: start, goals, timers, outcomes)
  InstanceKey sender;          // when from_instance
  // Where the sender was in this process's instance list when it sent: a hint that
  // delivery checks against `sender` before using (it saves a lookup per message), never
  // stored, and meaningless in another process.
  size_t sender_hint = SIZE_MAX;
  bool self_attempt = false;   // appended by a goal attempt
  bool outcome = false;        // an effect's outcome: the effect is in flight until it is handled
};

struct Timer {
  int64_t due = 0;  // tick
  uint64_t sequence = 0;  // order among timers due at the same tick
  Message message;
};

struct PendingTransition {
  uint32_t transition = 0;
  uint32_t next_slice = 0;
  std::vector<Value> registers;
  Message message;  // the message being processed (for `reply`)
};

struct GoalProgress {
  int64_t attempts = 0;       // since it last became unsatisfied
  bool satisfied = false;     // at the last evaluation
  bool terminated = false;
  std::string reason;         // why it was terminated
  int64_t unsatisfied_since = 0;  // tick
  int64_t next_attempt = 0;   // backoff: no attempt before this tick
  // Oscillation: hashes of (state, mailbox) seen since the last input from outside the
  // instance, while the goal stayed unsatisfied.
  std::vector<uint64_t> seen;   // at the start of each attempt (at most 4096, the latest)
  uint64_t last_hash = 0;
  bool outside_input = false;   // since its last attempt
};

// A message that could not be delivered because its target's mailbox was full: it waits
// in its sender's outbox (runtime.md §2).
struct OutboxEntry {
  InstanceKey target;
  Message message;
};

// A fault in parts (`vedvm inspect --json`, `--trace=json`); Instance::last_fault says the
// same as one line of text: `<where>: <kind> at <file:line:col or function>: <message>`.
struct FaultInfo {
  std::string where;     // what ran: "goal Stable", "Step slice 0 of message Step()", "the field defaults"
  std::string kind;      // bytecode::fault_kind_name: "division by zero", "budget", ...
  std::string message;
  std::string function;  // the function it happened in
  std::string file;      // its source position; "" (and line 0) when the bundle has none
  uint32_t line = 0;
  uint32_t column = 0;
};

struct Instance {
  InstanceKey key;
  Value state;
  bool faulted = false;
  Queue<Message> high;
  Queue<Message> normal;
  uint64_t next_position = 0;  // of the next message enqueued
  // How many queued messages name each transition (empty while the mailbox is, and in a
  // domain without goals): whether a goal's strategy is pending is asked every tick, and
  // must not scan the mailbox. Derived from the lanes, never stored.
  std::vector<uint32_t> queued;
  // A transition between its slices. Held by pointer: most instances have none, and an
  // idle instance should cost little memory.
  std::unique_ptr<PendingTransition> continuation;
  std::vector<Timer> timers;
  Random random;
  std::vector<GoalProgress> goals;
  Queue<OutboxEntry> outbox;
  int64_t effects_in_flight = 0;
  // For the exit summary (runtime.md §1): the last fault, the last effect that failed,
  // and how many of its messages or outcomes became dead letters.
  std::string last_fault;
  // last_fault in parts; null when there is none or its parts are not known (a fault
  // stored by a vedvm that kept only the text). Held by pointer: most instances never fault.
  std::unique_ptr<FaultInfo> last_fault_info;
  std::string last_failed_effect;
  int64_t dead_letters = 0;
  bool dirty = true;  // changed since it was last written
  // What its stored record adds to the data dir's digest (RunStore), 0 before it is
  // stored: subtracted when the record is replaced.
  uint64_t stored_digest = 0;
  // Mailbox entries are stored one key each (runtime.md §5): what was enqueued and dequeued
  // since the last commit. An entry is encoded when it is committed, and only if it is
  // still queued then: most messages are consumed in the tick they arrive.
  struct MailboxChange {
    bool high = false;
    uint64_t position = 0;
  };
  std::vector<MailboxChange> mailbox_added;
  std::vector<MailboxChange> mailbox_removed;

  size_t mailbox_size() const { return high.size() + normal.size(); }
};

}  // namespace ved::vm
