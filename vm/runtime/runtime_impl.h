// The runtime's inside: the state of a run and the parts of the tick loop
// (runtime.md §1), one idea per file. One tick:
//
//  1. deliver inputs: outboxes that can drain, then messages sent during the previous
//     tick (in the order they were sent), timers due now, effect outcomes (delivery.cpp);
//  2. evaluate every live instance's goals once (goals.cpp), and order the runnable
//     instances by (effective priority desc, authority depth asc, domain name asc,
//     instance id asc) (scheduling.cpp);
//  3. run at most one slice per instance, in that order: its continuation, or else a
//     goal attempt (if due) and the head of its mailbox; after each slice, check the
//     invariants; a slice that faults or breaks one is rolled back (slices.cpp);
//  4. record the tick as a value — changed instances, what is to be delivered next tick,
//     intents, the journal lines — and apply it to the store (commit.cpp, tick_record.h,
//     RunStore::apply); then release the tick's effect intents to their adapters
//     (effects.cpp).
//
// Everything that decides the future is in the instances and the pending deliveries,
// which are what a tick commits; a run killed at any point and restarted continues from
// the last committed tick exactly as if it had not stopped (attach.cpp).
//
// Only the runtime's own .cpp files include this header.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vm/runtime/instance_codec.h"
#include "vm/runtime/instance_set.h"
#include "vm/runtime/run_store.h"
#include "vm/runtime/runtime.h"
#include "vm/runtime/summary.h"
#include "vm/runtime/worker_pool.h"
#include "vm/runtime_library.h"

namespace ved::vm {

inline constexpr int kLaneHigh = 200;
inline constexpr int kLaneNormal = 100;
inline constexpr uint32_t kNoHandler = UINT32_MAX;

using IntentKey = std::pair<int64_t, uint32_t>;  // (tick, index)

struct Runtime::Impl {
  Impl(const Program& program, std::string bytes, RuntimeOptions options, TraceSink sink);

  const Program& p;
  std::string bundle;
  RuntimeOptions o;
  Clock& clock;  // o.clock, or the machine's
  TraceSink trace;
  Interpreter interp;
  std::optional<RunStore> storage;  // absent: a run in memory only

  int64_t tick = 0;
  // A deque: instances never move once activated (indices and references stay valid),
  // and growing it neither copies them nor leaves half of it unused.
  std::deque<Instance> instances;
  // Instances by key: looked up for every message sent, so hashed (it was an ordered
  // map: about 20 key comparisons, each a cache miss, at a million instances). It is
  // never iterated: instance order is `instances`' own. A std::unordered_map rather than
  // abseil's table: an activation that runs out of memory mid-insert must leave it whole
  // (libstdc++'s rehash is exception-safe; abseil's is not), since the run then stops
  // cleanly and destroys it.
  struct KeyOrder {
    bool operator()(const InstanceKey& a, const InstanceKey& b) const {
      return a.domain != b.domain ? a.domain < b.domain : compare_ids(a.id, b.id) < 0;
    }
  };
  struct KeyHash {
    size_t operator()(const InstanceKey& k) const { return map_key_hash(k.id) * 0x9E3779B97F4A7C15ull ^ k.domain; }
  };
  struct KeyEqual {
    bool operator()(const InstanceKey& a, const InstanceKey& b) const { return same_instance(a, b); }
  };
  // -> index in `instances`. Open addressing: every delivery looks its target up, and a
  // node-based table's lookups were cache misses at 100,000 instances. Never iterated.
  absl::flat_hash_map<InstanceKey, size_t, KeyHash, KeyEqual> by_key;
  std::vector<Delivery> pending;         // delivered at the start of the next tick
  std::vector<Delivery> next_pending;    // sent during this tick
  std::vector<Delivery> delivering;      // deliver_inputs' list (pending, taken over)
  std::vector<std::string> journal;      // this tick's event lines
  std::vector<std::string> rendered;     // in memory: the last commit's journal as text
  // Instance indices ordered as instances are (domain name, then id), not by index:
  // indices follow activation order in a run but storage order after a recovery, and
  // the journal must not tell the two apart.
  struct InstanceOrder {
    const Impl* impl;
    bool operator()(size_t a, size_t b) const { return impl->instance_less(a, b); }
  };
  // Instances that may have something to do: a message, a continuation, a timer, an
  // unsatisfied goal, a state that changed, or goals that read the tick (evaluated
  // every tick). Only these are looked at in a tick, so an idle instance costs nothing.
  InstanceSet awake;
  // Every pending timer filed under its due tick (instance index as the value): a tick
  // looks only at the timers due in it, not at every instance that has one.
  std::multimap<int64_t, size_t> due_timers;
  // Domains whose goal predicates read tick() or observations: never asleep.
  std::vector<bool> always_awake;
  // Each domain's place in name order: instance order compares domains by name, and the
  // sets above compare instances often enough that comparing names showed in profiles.
  std::vector<uint32_t> domain_rank;
  std::vector<size_t> dirty;             // changed since the last commit (written then)
  InstanceSet touched;                   // a slice ran or it was activated in this tick
  uint64_t timer_sequence = 0;
  int64_t tick_outputs_left = kMaxTickOutputs;  // what this tick may still create (Outputs)
  int64_t slices_run = 0;
  // This process's slice times, by domain index (a slice adds to its domain's buckets
  // without looking its name up); collected_slice_times() names them.
  std::vector<SliceTimes::Buckets> slice_buckets;
  SliceTimes collected_slice_times() const;
  // A reused buffer for the text of a journal line about to be recorded.
  std::string event_detail;
  uint32_t effect_error_record = UINT32_MAX;

  // ---- effects (runtime.md §7)
  std::map<IntentKey, Intent> open_intents;  // emitted; outcome not journaled yet
  std::vector<IntentKey> emitted;            // in this tick, in order: released after its commit
  std::vector<IntentKey> recovered;          // open when the run was loaded: released again
  std::vector<Intent> completed;             // outcomes journaled in this tick
  std::map<uint32_t, uint64_t> effect_counts;  // intents emitted so far, per effect
  struct Arrival {
    IntentKey intent;
    EffectOutcome outcome;
  };
  std::vector<Arrival> arrived;  // outcomes to deliver at the start of the next tick
  struct TickInputs {
    std::vector<Arrival> outcomes;    // in the order they arrived
    std::vector<Delivery> submitted;  // in the order they came
  };
  std::unique_ptr<WorkerPool> pool;  // off-core adapters; started when first needed
  // Messages from outside the program (a test's `send`), delivered at the next tick.
  std::vector<Delivery> submitted;

  // ---- observations (language.md §8)
  // The last journaled value of each observation, by observation and arguments: a value
  // is journaled when it differs (runtime.md §5).
  std::map<std::string, Value> last_observed;  // stored (`obs/`), so a restart does not re-journal
  std::vector<std::pair<std::string, std::string>> observed_changed;  // this tick: key, record
  // Sampled in this tick, by instance and observation: at most once per instance per tick.
  std::map<std::pair<size_t, std::string>, Value> sampled;
  std::vector<bool> replay_observation_used;  // of this tick's recorded observations

  struct Observer final : ObservationSource {
    Observer(Impl* r, size_t i) : rt(r), instance(i) {}
    Impl* rt;
    size_t instance;
    FaultKind sample(uint32_t observation, std::span<const Value> args, Value& out, std::string& message) override {
      return rt->observe(instance, observation, args, out, message);
    }
  };
  Observer observer_for(size_t i) { return Observer(this, i); }

  // Input from outside the instance (another instance's message, a timer, an outcome):
  // what oscillation detection must not mistake for the instance going round in circles.
  void note_outside_input(size_t i) {
    for (GoalProgress& g : instances[i].goals) g.outside_input = true;
  }

  void mark(size_t i) {
    if (!instances[i].dirty) {
      instances[i].dirty = true;
      dirty.push_back(i);
    }
    awake.insert(i);
  }

  // ---- events

  // A journal record is `kind TAB instance TAB detail`; the trace prints the same event.
  // Inputs (outcomes, observations) carry their value as a fourth field, `data` in hex,
  // which is what replay feeds back.
  // The instance and detail are escaped (a string field's value, an adapter's message may
  // hold tabs and line breaks), so that a record is always one line of at most four fields.
  // `parts()` makes the event's parts for `--trace=json` (docs/json.md): called only when
  // a trace sink is set, so that an untraced run builds none.
  // The line is built in place: a run journals one or more every tick.
  template <class AppendWho, class MakeParts>
  void record_line(AppendWho&& append_who, std::string_view kind, std::string_view detail, std::string_view data,
                   MakeParts&& parts) {
    std::string& line = journal.emplace_back();
    line.reserve(kind.size() + 24 + detail.size() + 3 + 2 * data.size());
    line.append(kind);
    line += '\t';
    const size_t who_at = line.size();
    append_who(line);
    const size_t who_end = line.size();
    line += '\t';
    append_controls_escaped(detail, line);
    if (trace) {
      std::string who = line.substr(who_at, who_end - who_at), what = line.substr(who_end + 1);
      trace(TraceEvent{tick, std::move(who), std::string(kind), std::move(what), parts()});
    }
    if (!data.empty()) {
      line += '\t';
      line += hex_bytes(data);
    }
  }
  template <class MakeParts>
  void record(std::string_view instance, std::string_view kind, std::string_view detail, std::string_view data,
              MakeParts&& parts) {
    record_line([&](std::string& line) { append_controls_escaped(instance, line); }, kind, detail, data, parts);
  }
  void record(std::string_view instance, std::string_view kind, std::string_view detail, std::string_view data = {}) {
    record(instance, kind, detail, data, [] { return TraceFields{}; });
  }
  // The same for instance `i`, its name written straight into the line (a name has
  // nothing to escape: ids that are strings are quoted and escaped already).
  template <class MakeParts>
  void record(size_t i, std::string_view kind, std::string_view detail, std::string_view data, MakeParts&& parts) {
    record_line([&](std::string& line) { append_instance_name(p, instances[i].key, line); }, kind, detail, data,
                parts);
  }
  void record(size_t i, std::string_view kind, std::string_view detail, std::string_view data = {}) {
    record(i, kind, detail, data, [] { return TraceFields{}; });
  }
  // A value as the journal shows it: whole up to kShownBytes, and beyond that its first
  // kShownBytes and its hash, so that a tick that changes a 32 MiB field journals a line,
  // not the field (replay compares state hashes, which cover the whole value).
  static constexpr size_t kShownBytes = 1024;


  // ---- instances (activation.cpp)
  std::optional<size_t> find(const InstanceKey& key) const;
  size_t activate(const InstanceKey& key, const std::vector<std::pair<uint32_t, Value>>& fields);
  size_t find_or_activate(const InstanceKey& key);
  void activate_initial();

  // ---- delivery and mailboxes (delivery.cpp)
  void enqueue(size_t target, Message m);
  void count_queued(Instance& in, uint32_t transition, int delta) const;
  Message dequeue(size_t target);
  // Senders held back by a full mailbox (runtime.md §2), by the target at the head of
  // their outbox, in instance order. They sleep (a held-back sender is not scheduled),
  // and only as many of them as the target has room for are looked at in a tick, so
  // that 90,000 senders waiting on one mailbox cost nothing per tick.
  std::map<InstanceKey, std::set<size_t, InstanceOrder>, KeyOrder> held_back;
  void hold_back(size_t sender);     // its outbox's head is new: file it under its target
  void release_held(size_t sender);  // before its outbox's head is delivered
  // The held-back senders that may drain in this tick, in instance order: for each
  // target, as many as it has room for (a faulted target takes every one: their
  // messages become dead letters).
  std::vector<size_t> drainable_senders() const;
  // Moves `m` into the target's mailbox; when it returns false, `m` is left as it was.
  bool deliver(const InstanceKey& target_key, Message&& m, std::optional<size_t> sender);
  // The index of an instance's message's sender (Message::sender_hint, checked; else looked up).
  std::optional<size_t> sender_of(const Message& m) const;
  // Delivers what is due at the start of the tick — outboxes that can drain, the
  // messages of the previous tick, timers due now — and the tick's inputs; true if there
  // was any (a message, a timer, an outcome).
  bool deliver_inputs(TickInputs inputs);

  // ---- the tick's inputs (tick_inputs.cpp)
  // Everything from outside the program that a tick consumes, gathered before it computes
  // from one source: live (outcomes as adapters gave them, messages submitted from
  // outside) or recorded (replay: the outcomes the journal holds for the tick). Timers,
  // the previous tick's messages and outboxes are not inputs: they are committed state.
  // Observations are not gathered ahead: a predicate samples them when it reads them
  // (observe(); replay takes them from the journal), since which ones a tick reads is
  // known only by evaluating it.
  TickInputs gather_inputs();

  // ---- goals (goals.cpp)
  uint64_t state_and_mailbox_hash(const Instance& in) const;
  bool evaluate_goals(size_t i);
  bool oscillating(size_t i, size_t g);
  void terminate(size_t i, size_t g, const std::string& reason);
  std::optional<size_t> acting_goal(const Instance& in) const;
  bool strategy_pending(const Instance& in, const GoalInfo& goal) const;
  bool goal_can_act(const Instance& in, size_t g) const;

  // ---- scheduling order (scheduling.cpp)
  struct Runnable {
    size_t index;
    int priority;
    bool background_only;  // its only reason to run is a background goal
  };
  // Inline, with integer ids (virtual instances) compared directly: every tick sorts the
  // instances it woke, ran and changed.
  bool instance_less(size_t a, size_t b) const {
    const InstanceKey &x = instances[a].key, &y = instances[b].key;
    if (x.domain != y.domain) return domain_rank[x.domain] < domain_rank[y.domain];
    if (x.id.tag() == Tag::Int && y.id.tag() == Tag::Int) return x.id.as_int() < y.id.as_int();
    return compare_ids(x.id, y.id) < 0;
  }
  std::vector<size_t> ordered_indices() const;
  bool background_may_run() const;
  // Every instance that has a reason to run now, whatever the background rule says.
  std::vector<Runnable> candidates() const;
  // The instances that run in this tick, in order.
  std::vector<Runnable> runnable() const;
  // The last tick in which an instance ran a non-background slice (committed with the tick),
  // and whether this tick delivered an input: what the background rule reads.
  int64_t last_foreground_tick = -1;
  bool inputs_delivered = false;

  // ---- slices and faults (slices.cpp)
  std::string fault_text(const Fault& f) const;
  FaultInfo fault_info(const std::string& where, const Fault& f) const;
  void fault(size_t i, const Fault& f, const std::string& where);
  void step(size_t i);
  void run_slice(size_t i, uint32_t transition, uint32_t slice, std::vector<Value> registers, Message message);
  void apply_outputs(size_t i, Outputs& out, const Message& processing);

  // ---- effects and intents (effects.cpp)
  void emit(size_t i, const Value& intent);
  static Intent clone_intent(const Intent& x);
  EffectRequest request_for(const Intent& x) const;
  bool release(const std::vector<IntentKey>& keys, std::string& error);
  void deliver_outcome(Arrival a);

  // ---- observations (observation_sampling.cpp)
  FaultKind observe(size_t i, uint32_t observation, std::span<const Value> args, Value& out, std::string& message);

  // ---- one tick (tick_loop.cpp)
  // Nothing left to do, timers included.
  bool quiescent(const Instance& in) const;
  // Nothing to do until something arrives: a message, an outcome, or one of its timers.
  bool waits_for_input(const Instance& in) const;
  // Whether a live instance has a timer still to fire.
  bool timers_pending() const;
  // Whether an instance would run for a background goal but the background rule held it back.
  bool background_waiting() const;
  bool run_tick(bool& progressed, std::string& error, bool keep_tick = false);
  bool guarded_tick(bool& progressed, std::string& error, bool keep_tick);
  std::string out_of_memory_advice() const;

  // ---- the tick record and its commit (commit.cpp)
  void record_instance(size_t i, TickRecord& record);
  std::vector<std::pair<bool, uint64_t>> mailbox_gone;  // record_instance's scratch list
  TickRecord record_tick();   // of the tick just computed; writes nothing durable
  TickRecord record_start();  // tick 0: the instances activated before tick 1
  bool commit(std::string& error, bool append = false);

  // ---- journal and trace events (journal_events.cpp)
  static Value text(std::string s) { return Value::string(std::move(s)); }
  static TraceField named(std::string name, const std::vector<FieldInfo>& names, const std::vector<Value>& values);
  // An instance's name as the journal shows it. Made each time, not kept: short names
  // need no allocation, and a kept one would cost every idle instance its memory.
  std::string name(size_t i) const { return describe_instance(p, instances[i].key); }
  std::string show(const Value& v) const { return format_value_shown(v, p.records, p.effect_names, kShownBytes); }
  void append_shown(const Value& v, std::string& out) const {
    append_value_shown(v, p.records, p.effect_names, kShownBytes, out);
  }
  std::string literal(const Value& v) const;

  // ---- opening a data dir: a new run or a recovered one (attach.cpp)
  std::string describe_bindings() const;
  bool attach(Store& s, bool& resumed, std::string& error);
  // Takes over a run as a data dir holds it (attach, and replay across an upgrade).
  bool adopt(LoadedRun run, std::string& error);
  void release_run(LoadedRun& out);

  // ---- running until quiescent (run_loop.cpp)
  bool run(RunSummary& summary, std::string& error, const std::function<bool()>& stop);
  int64_t next_due_tick() const;
  int64_t skip_idle(int64_t most);
  void summarize(RunSummary& summary) const { summarize_run(p, instances, ordered_indices(), summary); }
  void wait_for_outside(const std::function<bool()>& stop);

  // ---- driving a run tick by tick: simulation tests, replay (stepping.cpp)
  bool last_step_progressed = true;  // activation counts: the first tick may have work
  void start_in_memory();
  bool step_to(int64_t number, std::string& error);
  bool all_quiescent() const;
};

}  // namespace ved::vm
