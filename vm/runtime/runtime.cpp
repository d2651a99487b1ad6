// The tick loop (runtime.md §1). One tick:
//
//  1. deliver inputs: outboxes that can drain, then messages sent during the previous
//     tick (in the order they were sent), timers due now, effect outcomes;
//  2. evaluate every live instance's goals once, and order the runnable instances by
//     (effective priority desc, authority depth asc, domain name asc, instance id asc);
//  3. run at most one slice per instance, in that order: its continuation, or else a
//     goal attempt (if due) and the head of its mailbox; after each slice, check the
//     invariants; a slice that faults or breaks one is rolled back;
//  4. commit the tick as one batch: changed instances, what is to be delivered next
//     tick, the journal records, the tick number.
//
// Everything that decides the future is in the instances and the pending deliveries,
// which are what a tick commits; a run killed at any point and restarted continues from
// the last committed tick exactly as if it had not stopped.
#include "vm/runtime/runtime.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "vm/effects/simulated_adapter.h"
#include "vm/invariants.h"
#include "vm/runtime/instance_codec.h"
#include "vm/runtime/run_store.h"
#include "vm/runtime/summary.h"
#include "vm/runtime/worker_pool.h"
#include "vm/value_codec.h"

namespace ved::vm {

namespace {

constexpr int kLaneHigh = 200;
constexpr int kLaneNormal = 100;
constexpr uint32_t kNoHandler = UINT32_MAX;

using IntentKey = std::pair<int64_t, uint32_t>;  // (tick, index)

}  // namespace

int compare_ids(const Value& a, const Value& b) {
  auto rank = [](const Value& v) { return v.tag() == Tag::Int ? 1 : v.tag() == Tag::String ? 2 : 0; };
  if (rank(a) != rank(b)) return rank(a) < rank(b) ? -1 : 1;
  if (a.tag() == Tag::Int) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
  if (a.tag() == Tag::String) return a.as_string().compare(b.as_string()) < 0 ? -1 : a.as_string() == b.as_string() ? 0 : 1;
  return 0;
}

bool same_instance(const InstanceKey& a, const InstanceKey& b) {
  return a.domain == b.domain && compare_ids(a.id, b.id) == 0;
}

std::string describe_instance(const Program& p, const InstanceKey& key) {
  std::string name = p.domains[key.domain].name;
  if (key.id.tag() == Tag::Int) return name + "[" + std::to_string(key.id.as_int()) + "]";
  // Quoted and escaped, so that an id cannot break a trace line or a journal record.
  if (key.id.tag() == Tag::String) return name + "[" + quote_string(key.id.as_string()) + "]";
  return name;
}

TraceField fault_field(const std::string& name, const std::string& text, const FaultInfo* parts_of) {
  TraceFields parts{{"text", Value::string(text)}};
  if (parts_of) {
    const FaultInfo& info = *parts_of;
    parts.emplace_back("kind", Value::string(info.kind));
    parts.emplace_back("message", Value::string(info.message));
    parts.emplace_back("where", Value::string(info.where));
    parts.emplace_back("function", Value::string(info.function));
    if (info.line == 0) {
      parts.emplace_back("position", Value::none());
    } else {
      parts.emplace_back("position", TraceFields{{"file", Value::string(info.file)},
                                                 {"line", Value::integer(info.line)},
                                                 {"column", Value::integer(info.column)}});
    }
  }
  return TraceField(name, std::move(parts));
}

struct Runtime::Impl {
  Impl(const Program& program, std::string bytes, RuntimeOptions options, TraceSink sink)
      : p(program), bundle(std::move(bytes)), o(options), trace(std::move(sink)), interp(program) {
    for (size_t r = 0; r < p.records.size(); ++r)
      if (p.records[r].name == "EffectError") effect_error_record = static_cast<uint32_t>(r);
    // Functions that read the tick or the outside world, directly or through calls.
    std::vector<bool> reads_time(p.functions.size(), false);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t f = 0; f < p.functions.size(); ++f) {
        if (reads_time[f]) continue;
        for (const Instr& i : p.functions[f].code) {
          if (i.op == Op::TICK || i.op == Op::OBSERVE || (i.op == Op::CALL && reads_time[i.d])) {
            reads_time[f] = changed = true;
            break;
          }
        }
      }
    }
    for (const DomainInfo& d : p.domains)
      always_awake.push_back(std::any_of(d.goals.begin(), d.goals.end(), [&](const GoalInfo& g) { return reads_time[g.predicate]; }));
  }

  const Program& p;
  std::string bundle;
  RuntimeOptions o;
  TraceSink trace;
  Interpreter interp;
  std::optional<RunStore> storage;  // absent: a run in memory only

  int64_t tick = 0;
  // A deque: instances never move once activated (indices and references stay valid),
  // and growing it neither copies them nor leaves half of it unused.
  std::deque<Instance> instances;
  struct KeyOrder {
    bool operator()(const InstanceKey& a, const InstanceKey& b) const {
      return a.domain != b.domain ? a.domain < b.domain : compare_ids(a.id, b.id) < 0;
    }
  };
  std::map<InstanceKey, size_t, KeyOrder> by_key;  // -> index in `instances`
  std::vector<Delivery> pending;         // delivered at the start of the next tick
  std::vector<Delivery> next_pending;    // sent during this tick
  std::vector<std::string> journal;      // this tick's records
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
  std::set<size_t, InstanceOrder> awake{InstanceOrder{this}};
  std::set<size_t, InstanceOrder> timed{InstanceOrder{this}};  // instances with timers
  // Domains whose goal predicates read tick() or observations: never asleep.
  std::vector<bool> always_awake;
  std::vector<size_t> dirty;             // changed since the last commit (written then)
  std::set<size_t> touched;              // a slice ran or it was activated in this tick
  uint64_t timer_sequence = 0;
  int64_t tick_outputs_left = kMaxTickOutputs;  // what this tick may still create (Outputs)
  int64_t slices_run = 0;
  SliceTimes slice_times;  // of this process's slices, per domain
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
  template <class MakeParts>
  void record(const std::string& instance, const std::string& kind, const std::string& detail, std::string_view data,
              MakeParts&& parts) {
    std::string who = escape_controls(instance), what = escape_controls(detail);
    journal.push_back(kind + "\t" + who + "\t" + what + (data.empty() ? "" : "\t" + hex_bytes(data)));
    if (trace) trace(TraceEvent{tick, std::move(who), kind, std::move(what), parts()});
  }
  void record(const std::string& instance, const std::string& kind, const std::string& detail,
              std::string_view data = {}) {
    record(instance, kind, detail, data, [] { return TraceFields{}; });
  }
  static Value text(std::string s) { return Value::string(std::move(s)); }
  // Named values as one part: `{"param": value, ...}`.
  static TraceField named(std::string name, const std::vector<FieldInfo>& names, const std::vector<Value>& values) {
    TraceFields parts;
    for (size_t k = 0; k < values.size() && k < names.size(); ++k) parts.emplace_back(names[k].name, values[k]);
    return TraceField(std::move(name), std::move(parts));
  }
  std::string name(size_t i) const { return describe_instance(p, instances[i].key); }
  // A value as the journal shows it: whole up to kShownBytes, and beyond that its first
  // kShownBytes and its hash, so that a tick that changes a 32 MiB field journals a line,
  // not the field (replay compares state hashes, which cover the whole value).
  static constexpr size_t kShownBytes = 1024;
  std::string show(const Value& v) const { return format_value_shown(v, p.records, p.effect_names, kShownBytes); }
  // As a literal: strings quoted (arguments, observed values, outcome values).
  std::string literal(const Value& v) const {
    if (v.tag() != Tag::String) return show(v);
    const std::string_view text = v.as_string();
    if (text.size() <= kShownBytes) return quote_string(text);
    return quote_string(text.substr(0, utf8_prefix_length(text, kShownBytes))) + "... (hash " +
           hex_u64(static_cast<uint64_t>(hash_value(v))) + ")";
  }

  // ---- instances

  std::optional<size_t> find(const InstanceKey& key) const {
    auto it = by_key.find(key);
    if (it == by_key.end()) return std::nullopt;
    return it->second;
  }

  // A new instance with its fields' defaults (and `fields` over them), its start message
  // at the head of its mailbox.
  size_t activate(const InstanceKey& key, const std::vector<std::pair<uint32_t, Value>>& fields) {
    Instance in;
    in.key = key;
    const DomainInfo& d = p.domains[key.domain];
    InstanceEnv env;
    CallResult init = interp.call(d.initializer, {}, o.slice_budget, env);
    // A default that faults leaves the instance FAULTED with every field at its zero
    // value, so that its state always has its type (and can be stored and resumed).
    in.state = init.ok ? init.value : zero_value(p, d.state_type);
    in.random = Random(static_cast<uint64_t>(
        hash_value(Value::list({Value::integer(static_cast<int64_t>(o.seed)), Value::string(d.name), key.id}))));
    in.goals.resize(d.goals.size());
    for (auto& g : in.goals) g.unsatisfied_since = tick;
    size_t index = instances.size();
    in.dirty = false;
    instances.push_back(std::move(in));
    by_key[key] = index;
    mark(index);
    touched.insert(index);
    Instance& added = instances.back();
    if (!init.ok) {
      added.faulted = true;
      added.last_fault = "the field defaults: " + fault_text(init.fault);
      added.last_fault_info = std::make_unique<FaultInfo>(fault_info("the field defaults", init.fault));
      record(name(index), "fault", added.last_fault, {},
             [&] { return TraceFields{fault_field("fault", added.last_fault, added.last_fault_info.get())}; });
      return index;
    }
    for (const auto& [field, value] : fields) added.state.mutable_record_fields()[field] = value;
    for (uint32_t t = 0; t < d.transitions.size(); ++t) {
      if (d.transitions[t].is_start) {
        // The mailbox is empty: the start message is at its head.
        Message start;
        start.transition = t;
        enqueue(index, std::move(start));
        break;
      }
    }
    record(name(index), "activate", "");
    return index;
  }

  size_t find_or_activate(const InstanceKey& key) {
    if (auto i = find(key)) return *i;
    return activate(key, {});
  }

  void activate_initial() {
    if (p.has_system) {
      for (const StartInfo& s : p.system) {
        InstanceKey key{s.domain, s.id_constant >= 0 ? p.constants[s.id_constant] : Value()};
        std::vector<std::pair<uint32_t, Value>> fields;
        for (const auto& [f, c] : s.fields) fields.emplace_back(f, p.constants[c]);
        if (!find(key)) activate(key, fields);
      }
      return;
    }
    for (uint32_t d = 0; d < p.domains.size(); ++d)
      if (p.domains[d].activated_by_default) activate(InstanceKey{d, Value()}, {});
  }

  // ---- delivery

  // Every enqueue and dequeue goes through these two, which remember what the next
  // commit must add to and delete from the stored mailbox.
  void enqueue(size_t target, Message m) {
    Instance& in = instances[target];
    m.position = in.next_position++;
    in.mailbox_added.push_back(Instance::MailboxChange{m.high_lane, m.position, encode_message(m)});
    const uint32_t transition = m.transition;
    (m.high_lane ? in.high : in.normal).push_back(std::move(m));
    count_queued(in, transition, +1);
    mark(target);
  }

  void count_queued(Instance& in, uint32_t transition, int delta) const {
    if (in.queued.empty()) in.queued.assign(p.domains[in.key.domain].transitions.size(), 0);
    in.queued[transition] = static_cast<uint32_t>(static_cast<int64_t>(in.queued[transition]) + delta);
    if (in.mailbox_size() == 0) std::vector<uint32_t>().swap(in.queued);  // idle instances hold nothing
  }

  Message dequeue(size_t target) {
    Instance& in = instances[target];
    Queue<Message>& lane = !in.high.empty() ? in.high : in.normal;
    Message m = std::move(lane.front());
    lane.pop_front();
    in.mailbox_removed.push_back(Instance::MailboxChange{&lane == &in.high, m.position, {}});
    count_queued(in, m.transition, -1);
    mark(target);
    return m;
  }

  bool outbox_can_drain(size_t i) const {
    const Instance& in = instances[i];
    if (in.outbox.empty()) return false;
    auto target = find(in.outbox.front().target);
    return !target || instances[*target].mailbox_size() < o.mailbox_capacity;
  }

  // Delivers one message. A full mailbox keeps it in the sender's outbox (returns false).
  // A message to oneself is never held back: the sender is the one that would have to
  // drain the mailbox, and a held-back sender is not scheduled.
  bool deliver(const InstanceKey& target_key, Message m, std::optional<size_t> sender) {
    size_t target = find_or_activate(target_key);
    Instance& in = instances[target];
    const std::string& transition = p.domains[in.key.domain].transitions[m.transition].name;
    if (in.mailbox_size() >= o.mailbox_capacity && sender != target) {
      if (in.faulted || !sender) {
        record(name(target), "dead_letter", transition + (in.faulted ? " (target faulted)" : " (mailbox full)"), {}, [&] {
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

  void deliver_inputs() {
    // Outboxes that can drain, in instance order.
    std::vector<size_t> senders;
    for (size_t i : awake)
      if (!instances[i].outbox.empty()) senders.push_back(i);
    std::sort(senders.begin(), senders.end(), [&](size_t a, size_t b) { return instance_less(a, b); });
    for (size_t i : senders) {
      Instance& in = instances[i];
      while (!in.outbox.empty()) {
        OutboxEntry& e = in.outbox.front();
        if (!deliver(e.target, e.message, i)) break;
        in.outbox.pop_front();
        mark(i);
      }
    }
    // Messages sent during the previous tick, in the order they were sent.
    std::vector<Delivery> now;
    now.swap(pending);
    for (Delivery& d : now) {
      const bool from_instance = d.message.from_instance;
      std::optional<size_t> sender = from_instance ? find(d.message.sender) : std::nullopt;
      if (!deliver(d.target, d.message, sender)) {
        Instance& s = instances[*sender];
        const uint32_t held = d.message.transition;
        s.outbox.push_back(OutboxEntry{d.target, std::move(d.message)});
        mark(*sender);
        record(name(*sender), "backpressure", "a message waits in the outbox: the target's mailbox is full", {}, [&] {
          return TraceFields{{"to", text(describe_instance(p, d.target))},
                             {"transition", text(p.domains[d.target.domain].transitions[held].name)}};
        });
      } else if (!from_instance) {
        // Effect outcomes come from outside the instance.
        if (auto t = find(d.target)) note_outside_input(*t);
      }
    }
    // Timers due now, in (due, sequence) order.
    for (size_t i : std::vector<size_t>(timed.begin(), timed.end())) {
      Instance& in = instances[i];
      if (in.timers.empty()) {
        timed.erase(i);
        continue;
      }
      std::stable_sort(in.timers.begin(), in.timers.end(), [](const Timer& a, const Timer& b) {
        return a.due != b.due ? a.due < b.due : a.sequence < b.sequence;
      });
      while (!in.timers.empty() && in.timers.front().due <= tick) {
        enqueue(i, std::move(in.timers.front().message));
        in.timers.erase(in.timers.begin());
        note_outside_input(i);
      }
      if (in.timers.empty()) timed.erase(i);
    }
    // Effect outcomes, then messages from outside the program, in the order they came.
    for (Arrival& a : take_arrivals()) deliver_outcome(std::move(a));
    std::vector<Delivery> outside;
    outside.swap(submitted);
    for (Delivery& d : outside) {
      const std::string transition = p.domains[d.target.domain].transitions[d.message.transition].name;
      record(describe_instance(p, d.target), "input", transition, {}, [&] {
        return TraceFields{{"transition", text(transition)}, {"args", Value::list(d.message.args)}};
      });
      deliver(d.target, std::move(d.message), std::nullopt);
      if (auto t = find(d.target)) note_outside_input(*t);
    }
  }

  // ---- goals

  // The instance's whole state for oscillation detection: its fields, its mailbox and
  // its random generator's position (language.md §9: the generator is part of the state,
  // so a strategy driven by rand() that comes back to the same fields has not cycled).
  uint64_t state_and_mailbox_hash(const Instance& in) const {
    std::ostringstream rng;
    rng << in.random.engine();
    std::vector<Value> parts{in.state, Value::string(rng.str())};
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
  bool evaluate_goals(size_t i) {
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
        record(name(i), "goal", d.goals[g].name + " satisfied", {},
               [&] { return TraceFields{{"goal", text(d.goals[g].name)}, {"event", text("satisfied")}}; });
        gp.attempts = 0;
        gp.seen.clear();
        gp.next_attempt = 0;
        mark(i);
      } else if (!sat && gp.satisfied) {
        record(name(i), "goal", d.goals[g].name + " unsatisfied", {},
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
  bool oscillating(size_t i, size_t g) {
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

  void terminate(size_t i, size_t g, const std::string& reason) {
    Instance& in = instances[i];
    GoalProgress& gp = in.goals[g];
    gp.terminated = true;
    gp.reason = reason;
    mark(i);
    const std::string& goal = p.domains[in.key.domain].goals[g].name;
    record(name(i), "goal", goal + " terminated: " + reason, {}, [&] {
      return TraceFields{{"goal", text(goal)}, {"event", text("terminated")}, {"reason", text(reason)}};
    });
  }

  // The goal that may act now: the highest-priority unsatisfied, non-terminated one
  // (ties: declaration order).
  std::optional<size_t> acting_goal(const Instance& in) const {
    const DomainInfo& d = p.domains[in.key.domain];
    std::optional<size_t> best;
    for (size_t g = 0; g < d.goals.size(); ++g) {
      const GoalProgress& gp = in.goals[g];
      if (gp.satisfied || gp.terminated) continue;
      if (!best || d.goals[g].priority > d.goals[*best].priority) best = g;
    }
    return best;
  }

  bool strategy_pending(const Instance& in, const GoalInfo& goal) const {
    for (uint32_t t : goal.strategy) {
      if (in.continuation && in.continuation->transition == t) return true;
      if (!in.queued.empty() && in.queued[t] > 0) return true;
    }
    return false;
  }

  // Whether the acting goal would start an attempt now (or be terminated trying).
  bool goal_can_act(const Instance& in, size_t g) const {
    const GoalInfo& goal = p.domains[in.key.domain].goals[g];
    const GoalProgress& gp = in.goals[g];
    return !goal.strategy.empty() && !strategy_pending(in, goal) && in.effects_in_flight == 0 &&
           tick >= gp.next_attempt;
  }

  // ---- scheduling

  // Instance order: domain name, then id.
  bool instance_less(size_t a, size_t b) const {
    const InstanceKey &x = instances[a].key, &y = instances[b].key;
    if (x.domain != y.domain) return p.domains[x.domain].name < p.domains[y.domain].name;
    return compare_ids(x.id, y.id) < 0;
  }

  std::vector<size_t> ordered_indices() const {
    std::vector<size_t> order(instances.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return instance_less(a, b); });
    return order;
  }

  struct Runnable {
    size_t index;
    int priority;
    bool background_only;
  };

  std::vector<Runnable> runnable() const {
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
    const bool others = std::any_of(out.begin(), out.end(), [](const Runnable& r) { return !r.background_only; });
    if (others) out.erase(std::remove_if(out.begin(), out.end(), [](const Runnable& r) { return r.background_only; }), out.end());
    std::sort(out.begin(), out.end(), [&](const Runnable& a, const Runnable& b) {
      if (a.priority != b.priority) return a.priority > b.priority;
      const InstanceKey &x = instances[a.index].key, &y = instances[b.index].key;
      const DomainInfo &dx = p.domains[x.domain], &dy = p.domains[y.domain];
      if (dx.scope_depth != dy.scope_depth) return dx.scope_depth < dy.scope_depth;
      if (dx.name != dy.name) return dx.name < dy.name;
      return compare_ids(x.id, y.id) < 0;
    });
    return out;
  }

  // ---- slices

  std::string fault_text(const Fault& f) const {
    return std::string(bytecode::fault_kind_name(f.kind)) + " at " + describe_fault_location(p, f) + ": " + f.message;
  }

  FaultInfo fault_info(const std::string& where, const Fault& f) const {
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

  void fault(size_t i, const Fault& f, const std::string& where) {
    Instance& in = instances[i];
    in.faulted = true;
    in.continuation.reset();
    in.last_fault = where + ": " + fault_text(f);
    in.last_fault_info = std::make_unique<FaultInfo>(fault_info(where, f));
    mark(i);
    record(name(i), "fault", in.last_fault, {},
           [&] { return TraceFields{fault_field("fault", in.last_fault, in.last_fault_info.get())}; });
  }

  // Runs one slice for instance `i`: its continuation, or a goal attempt and the head of
  // its mailbox.
  void step(size_t i) {
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
          record(name(i), "goal", goal.name + " attempt " + std::to_string(gp.attempts), {}, [&] {
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

  void run_slice(size_t i, uint32_t transition, uint32_t slice, std::vector<Value> registers, Message message) {
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
    const std::string slice_name = f.slice_names[slice].empty() ? "" : " (" + f.slice_names[slice] + ")";
    if (slice == 0 && !t.escalation.empty())
      record(name(i), "escalation", t.name + ": " + t.escalation, {},
             [&] { return TraceFields{{"transition", text(t.name)}, {"escalation", text(t.escalation)}}; });
    // Wall-clock time is measured for `vedvm stats` only; nothing in the run reads it.
    const auto started = std::chrono::steady_clock::now();
    SliceResult r = interp.run_slice(t.function, slice, std::move(registers), budget, env);
    slice_times.add(d.name, std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
    if (r.status != SliceResult::Status::Faulted) {
      if (auto broken = check_invariants(interp, p, d, working, tick, budget, "slice " + std::to_string(slice) + slice_name)) {
        r.status = SliceResult::Status::Faulted;
        r.fault = std::move(*broken);
      }
    }
    if (r.status == SliceResult::Status::Faulted) {
      tick_outputs_left = outputs_left_before;  // a rolled-back slice created nothing
      // The message is consumed (runtime.md §3): the fault record keeps it.
      std::string text = t.name + "(";
      for (size_t k = 0; k < message.args.size(); ++k) text += (k ? ", " : "") + show(message.args[k]);
      fault(i, r.fault, t.name + " slice " + std::to_string(slice) + slice_name + " of message " + text + ")");
      return;
    }
    Instance& in = instances[i];
    // The trace shows the fields the slice changed: `slice Increment value=3`.
    std::string changes;
    std::vector<size_t> changed;
    const auto& before = in.state.as_record().fields;
    const auto& after = working.as_record().fields;
    const auto& field_names = p.records[d.state_record].fields;
    for (size_t k = 0; k < after.size() && k < before.size(); ++k)
      if (!values_equal(before[k], after[k])) {
        changes += " " + field_names[k] + "=" + show(after[k]);
        if (trace) changed.push_back(k);
      }
    in.state = std::move(working);
    in.random = random;
    mark(i);
    const bool yielded = r.status == SliceResult::Status::Yielded;
    record(name(i), "slice", t.name + (slice > 0 || f.slice_entries.size() > 1 ? "#" + std::to_string(slice) : "") +
                                 slice_name + (yielded ? " yield" : "") + changes, {}, [&] {
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

  void apply_outputs(size_t i, Outputs& out, const Message& processing) {
    const InstanceKey self = instances[i].key;
    for (SentMessage& s : out.sends) {
      const MessageInfo& info = p.messages[s.message];
      Message m;
      m.args = std::move(s.args);
      m.high_lane = info.high_lane;
      m.from_instance = true;
      m.sender = self;
      InstanceKey target;
      if (info.domain >= 0) {
        target = InstanceKey{static_cast<uint32_t>(info.domain), s.instance_id};
        m.transition = static_cast<uint32_t>(info.transition);
      } else {
        // A reply goes to whoever sent the message being processed.
        if (!processing.from_instance) {
          record(name(i), "dead_letter", "reply " + info.name + " (the message being processed has no sender)", {}, [&] {
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
      record(name(i), "send", describe_instance(p, target) + "." + sent, {}, [&] {
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
        record(name(i), "spawn", describe_instance(p, key) + " exists already: nothing done", {}, [&] {
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
      timed.insert(i);
    }
  }

  // An intent is journaled and stored (`fx/`) with the tick that emitted it, and handed to
  // its adapter only after that tick is durable (release). Its outcome comes back as an
  // input of a later tick (deliver_outcome).
  void emit(size_t i, const Value& intent) {
    Instance& in = instances[i];
    const IntentObj& obj = intent.as_intent();
    Intent x;
    x.tick = tick;
    x.index = static_cast<uint32_t>(emitted.size());
    x.instance = in.key;
    x.effect = obj.effect;
    x.args = obj.args;
    if (obj.idempotency_key.tag() == Tag::String) x.idempotency_key = obj.idempotency_key;
    x.ordinal = effect_counts[obj.effect]++;
    const ExternalInfo& e = p.effects[x.effect];
    std::string shown = x.id() + " " + e.name + "(";
    for (size_t k = 0; k < x.args.size() && k < e.params.size(); ++k)
      shown += (k ? ", " : "") + e.params[k].name + ": " + literal(x.args[k]);
    shown += ")";
    if (x.idempotency_key.tag() == Tag::String) shown += " key " + quote_string(x.idempotency_key.as_string());
    record(name(i), "emit", shown, {}, [&] {
      return TraceFields{{"intent", text(x.id())},
                         {"effect", text(e.name)},
                         named("args", e.params, x.args),
                         {"key", x.idempotency_key.tag() == Tag::String ? x.idempotency_key : Value::none()},
                         {"ordinal", Value::integer(static_cast<int64_t>(x.ordinal))}};
    });
    ++in.effects_in_flight;
    mark(i);
    emitted.emplace_back(x.tick, x.index);
    open_intents.emplace(emitted.back(), std::move(x));
  }

  // A copy sharing no heap object with `x`, for a worker thread to own.
  static Intent clone_intent(const Intent& x) {
    Intent c;
    c.tick = x.tick;
    c.index = x.index;
    c.instance.domain = x.instance.domain;
    c.instance.id = clone_value(x.instance.id);
    c.effect = x.effect;
    for (const Value& a : x.args) c.args.push_back(clone_value(a));
    c.idempotency_key = clone_value(x.idempotency_key);
    c.ordinal = x.ordinal;
    c.dispatches = x.dispatches;
    return c;
  }

  EffectRequest request_for(const Intent& x) const {
    const ExternalInfo& e = p.effects[x.effect];
    EffectRequest r;
    r.intent_id = x.id();
    r.instance = describe_instance(p, x.instance);
    r.effect = x.effect;
    r.effect_name = e.name;
    for (const FieldInfo& f : e.params) r.param_names.push_back(f.name);
    r.args = x.args;
    if (x.idempotency_key.tag() == Tag::String) r.idempotency_key = x.idempotency_key.as_string();
    r.result_type = e.result;
    r.ordinal = x.ordinal;
    r.attempt = x.dispatches;
    return r;
  }

  // Hands intents to their adapters, once what emitted them is durable: between-ticks
  // adapters answer now (delivered next tick, in emission order), the others on the pool.
  bool release(const std::vector<IntentKey>& keys, std::string& error) {
    if (keys.empty() || o.replay) return true;
    std::vector<Intent*> dispatched;
    for (const IntentKey& k : keys) {
      Intent& x = open_intents.at(k);
      ++x.dispatches;
      dispatched.push_back(&x);
    }
    // Under --sync=none the tick was not fsynced: this write is, so nothing is released
    // that a crash could take back.
    if (storage && !storage->mark_dispatched({dispatched.begin(), dispatched.end()}, !o.sync, error)) return false;
    for (Intent* x : dispatched) {
      const std::string& effect = p.effects[x->effect].name;
      std::shared_ptr<EffectAdapter> adapter = o.adapters.find_effect(effect);
      if (!adapter || adapter->between_ticks()) {
        x->outcome = adapter ? adapter->execute(request_for(*x))
                             : EffectOutcome::failure("NoAdapter", "no adapter is bound for `" + effect + "`");
        x->arrived = true;
        // Stored at once unless asking again after a crash would be harmless (NoAdapter,
        // simulated adapters): then the journal of the next tick is enough.
        const bool repeatable = !adapter || adapter->repeatable();
        if (storage && !repeatable && !storage->record_arrival(*x, error)) return false;
        arrived.push_back(Arrival{{x->tick, x->index}, x->outcome});
      } else {
        if (!pool) pool = std::make_unique<WorkerPool>(o.workers);
        // The outcome is stored by the worker as soon as it is back, so that a kill
        // re-executes only what was running at that instant.
        WorkerPool::Persist persist = [store = storage ? &*storage : nullptr,
                                       copy = clone_intent(*x)](const EffectOutcome& out) mutable {
          if (!store) return;
          copy.outcome = out;
          copy.arrived = true;
          std::string ignored;  // not stored: the intent is dispatched again after a crash
          store->record_arrival(copy, ignored);
        };
        pool->submit(adapter, request_for(*x), x->tick, x->index, std::move(persist));
      }
    }
    return true;
  }

  // Outcomes that arrived, and (replaying) the ones the recorded run journaled in this tick.
  std::vector<Arrival> take_arrivals() {
    std::vector<Arrival> now;
    now.swap(arrived);
    if (pool) {
      std::vector<WorkerPool::Completion> done;
      pool->collect(done);
      for (auto& c : done) {
        if (auto it = open_intents.find({c.tick, c.index}); it != open_intents.end()) {
          it->second.arrived = true;
          it->second.outcome = c.outcome;
        }
        now.push_back(Arrival{{c.tick, c.index}, std::move(c.outcome)});
      }
    }
    if (o.replay) {
      auto it = o.replay->outcomes.find(tick);
      if (it != o.replay->outcomes.end()) {
        std::map<std::string, IntentKey> by_id;
        for (const auto& [key, x] : open_intents) by_id.emplace(x.id(), key);
        for (const auto& r : it->second)
          if (auto k = by_id.find(r.intent); k != by_id.end()) now.push_back(Arrival{k->second, r.outcome});
      }
    }
    return now;
  }

  // Journals an outcome and delivers it to the emitting instance's handler (`on E.ok` /
  // `on E.failed`); a failure nobody handles is a dead letter.
  void deliver_outcome(Arrival a) {
    auto it = open_intents.find(a.intent);
    if (it == open_intents.end()) return;  // answered already (a late duplicate)
    Intent x = std::move(it->second);
    open_intents.erase(it);
    const ExternalInfo& effect = p.effects[x.effect];
    EffectOutcome& out = a.outcome;
    if (out.ok && !value_conforms(p, out.value, effect.result))
      out = EffectOutcome::failure("adapter", "the adapter returned a value of the wrong type for `" + effect.name + "`");
    const std::optional<size_t> found = find(x.instance);
    if (!found) return;  // attach() refuses intents of instances that do not exist
    const size_t i = *found;
    Instance& in = instances[i];
    const DomainInfo& d = p.domains[in.key.domain];
    uint32_t handler = kNoHandler;
    for (uint32_t t = 0; t < d.transitions.size(); ++t)
      if (d.transitions[t].on_effect == static_cast<int32_t>(x.effect) && d.transitions[t].on_ok == out.ok) handler = t;
    const bool handled = handler != kNoHandler && (out.ok || effect_error_record != UINT32_MAX);
    std::string detail = x.id() + " " + effect.name;
    detail += out.ok ? ".ok" + (p.types[effect.result].kind == TypeKind::Unit ? std::string() : " " + literal(out.value))
                     : ".failed " + out.code + ": " + out.message;
    if (!handled && out.ok) detail += " (no handler)";
    record(name(i), "outcome", detail, encode_outcome(x.effect, x.id(), out), [&] {
      TraceFields fields{{"intent", text(x.id())}, {"effect", text(effect.name)}, {"ok", Value::boolean(out.ok)}};
      if (out.ok) {
        fields.emplace_back("value", out.value);
      } else {
        fields.emplace_back("code", text(out.code));
        fields.emplace_back("message", text(out.message));
        fields.emplace_back("retryable", Value::boolean(out.retryable));
      }
      fields.emplace_back("handled", Value::boolean(handled));
      return fields;
    });
    if (!out.ok) in.last_failed_effect = effect.name + " (" + out.code + ": " + out.message + ")";
    note_outside_input(i);
    mark(i);
    if (!handled) {
      if (in.effects_in_flight > 0) --in.effects_in_flight;
      if (!out.ok) {
        record(name(i), "dead_letter", effect.name + ".failed (" + out.code + "; no handler)", {}, [&] {
          return TraceFields{{"letter", text("outcome")},
                             {"effect", text(effect.name)},
                             {"code", text(out.code)},
                             {"reason", text("no handler")}};
        });
        ++in.dead_letters;
      }
    } else {
      Message m;
      m.transition = handler;
      m.outcome = true;
      if (!out.ok) {
        m.args.push_back(Value::record(effect_error_record, {Value::string(out.code), Value::string(out.message),
                                                             Value::boolean(out.retryable)}));
      } else if (p.types[effect.result].kind != TypeKind::Unit) {
        m.args.push_back(out.value);
      }
      deliver(x.instance, std::move(m), std::nullopt);
    }
    x.completed = true;
    x.outcome = std::move(out);
    completed.push_back(std::move(x));
  }

  // ---- observations

  // Samples observation `observation` for instance `i` (at most once per instance per
  // tick), journaling the value when it differs from the last one journaled; replaying,
  // takes the value the recorded run journaled.
  FaultKind observe(size_t i, uint32_t observation, std::span<const Value> args, Value& out, std::string& message) {
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
      record(name(i), "observe", shown() + " failed: " + failure, encode_observation(observation, arguments, Value(), failure),
             [&] {
               return TraceFields{
                   {"observation", text(info.name)}, {"args", Value::list(arguments)}, {"failure", text(failure)}};
             });
      message = failure;
      return FaultKind::Observation;
    }
    if (journal_it) {
      const std::string bytes = encode_observation(observation, arguments, value);
      record(name(i), "observe", shown() + " = " + literal(value), bytes, [&] {
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

  // ---- the loop

  bool quiescent(const Instance& in) const {
    if (in.faulted) return true;
    if (in.mailbox_size() > 0 || in.continuation || !in.timers.empty() || in.effects_in_flight > 0 || !in.outbox.empty())
      return false;
    for (const GoalProgress& g : in.goals)
      if (!g.satisfied && !g.terminated) return false;
    return true;
  }

  // One tick; `progressed` says whether anything ran or arrived. With `keep_tick` the
  // tick counts even if nothing happened (a test advancing time, replay).
  bool run_tick(bool& progressed, std::string& error, bool keep_tick = false) {
    if (tick >= kLastTick) {
      error = "the run reached tick 2^62, the last tick a run may reach";
      return false;
    }
    ++tick;
    tick_outputs_left = kMaxTickOutputs;
    journal.clear();
    touched.clear();
    sampled.clear();
    emitted.clear();
    observed_changed.clear();
    if (o.replay) {
      auto it = o.replay->observations.find(tick);
      replay_observation_used.assign(it == o.replay->observations.end() ? 0 : it->second.size(), false);
    }
    const bool had_input = !pending.empty() ||
                           std::any_of(awake.begin(), awake.end(), [&](size_t i) { return outbox_can_drain(i); }) ||
                           std::any_of(timed.begin(), timed.end(), [&](size_t i) {
                             const auto& ts = instances[i].timers;
                             return std::any_of(ts.begin(), ts.end(), [&](const Timer& t) { return t.due <= tick; });
                           });
    deliver_inputs();
    for (size_t i : std::vector<size_t>(awake.begin(), awake.end()))
      if (!instances[i].faulted) evaluate_goals(i);
    std::vector<Runnable> order = runnable();
    const int64_t slices_before = slices_run;
    for (const Runnable& r : order) {
      if (instances[r.index].faulted) continue;
      touched.insert(r.index);
      step(r.index);
    }
    // What was sent this tick is delivered next tick.
    for (auto& d : next_pending) pending.push_back(std::move(d));
    next_pending.clear();
    progressed = had_input || slices_run > slices_before || !dirty.empty() || !journal.empty();
    // Instances with nothing left to do and no change this tick sleep until a message,
    // a timer or a resume wakes them.
    for (auto it = awake.begin(); it != awake.end();) {
      const Instance& in = instances[*it];
      const bool sleeps = quiescent(in) && !touched.count(*it) && (in.faulted || !always_awake[in.key.domain]);
      it = sleeps ? awake.erase(it) : std::next(it);
    }
    if (!progressed) {
      // Nothing happened: the tick is not committed (runtime.md §1: the VM never spins).
      if (!keep_tick) --tick;
      return true;
    }
    return commit(error) && release(emitted, error);
  }

  // A tick whose state or messages cannot be stored (a value nested deeper than the store
  // reads back) stops the run before anything of it is written: the data dir stays at
  // the last tick, readable, and the error says why.
  bool guarded_tick(bool& progressed, std::string& error, bool keep_tick) {
    try {
      return run_tick(progressed, error, keep_tick);
    } catch (const ValueTooDeep& e) {
      error = "tick " + std::to_string(tick) + ": " + e.what() + " (nothing of this tick was written)";
    } catch (const MachineOutOfMemory& e) {
      error = "tick " + std::to_string(tick) + ": " + e.what() + out_of_memory_advice();
    } catch (const std::bad_alloc&) {
      error = "tick " + std::to_string(tick) + ": the machine ran out of memory" + out_of_memory_advice();
    } catch (const std::length_error&) {
      error = "tick " + std::to_string(tick) + ": the machine ran out of memory" + out_of_memory_advice();
    }
    return false;
  }
  // Memory is the machine's, not the program's: never a fault (it would be journaled,
  // and differ between machines), always a stop before the tick is written.
  std::string out_of_memory_advice() const {
    return std::string(" (nothing of this tick was written: the data dir is as the last committed tick left it;"
                       " run it again on a machine with more memory)");
  }

  // `state TAB instance TAB <hash> <field hashes>`: each field hashed once (this runs for
  // every instance a tick changes); the state's hash is the hash of its fields' hashes,
  // and each field's is shown short, so that replay can name the first field that differs.
  std::string state_record(const Instance& in) const {
    std::vector<Value> field_hashes;
    std::string fields;
    for (const Value& field : in.state.as_record().fields) {
      const auto h = static_cast<uint64_t>(hash_value(field));
      field_hashes.push_back(Value::integer(static_cast<int64_t>(h)));
      fields += " " + hex_u64(h).substr(8);
    }
    const auto state = static_cast<uint64_t>(hash_value(Value::list(std::move(field_hashes))));
    return "state\t" + describe_instance(p, in.key) + "\t" + hex_u64(state) + fields;
  }

  // Writes the tick. `append`: the tick was committed already (a `resume` between runs).
  bool commit(std::string& error, bool append = false) {
    std::sort(dirty.begin(), dirty.end(), [&](size_t a, size_t b) { return instance_less(a, b); });
    TickWrite w;
    for (size_t i : dirty) {
      w.changed.push_back(&instances[i]);
      journal.push_back(state_record(instances[i]));
    }
    w.tick = tick;
    w.timer_sequence = timer_sequence;
    w.pending = &pending;
    w.journal = &journal;
    w.append = append;
    for (const IntentKey& k : emitted) w.intents.push_back(&open_intents.at(k));
    for (const Intent& x : completed) w.intents.push_back(&x);
    w.effect_counts = emitted.empty() ? nullptr : &effect_counts;  // they change only on emit
    w.observed = &observed_changed;
    if (storage && !storage->commit(w, error)) return false;
    for (Instance* in : w.changed) in->dirty = false;
    dirty.clear();
    completed.clear();
    observed_changed.clear();
    return true;
  }

  // ---- storage

  // The bindings as `NAME=spec` lines in name order (`meta/effects`).
  std::string describe_bindings() const {
    std::string out;
    for (const auto& [name, spec] : o.effect_specs) out += name + "=" + spec + "\n";
    return out;
  }

  bool attach(Store& s, bool& resumed, std::string& error) {
    storage.emplace(p, s, o.sync);
    if (!storage->holds_run(resumed, error)) return false;
    if (!resumed) {
      activate_initial();
      std::vector<Instance*> all;
      for (Instance& in : instances) all.push_back(&in);
      if (!storage->begin(bundle, o.seed, o.slice_budget, describe_bindings(), all, error)) return false;
      for (Instance& in : instances) in.dirty = false;
      dirty.clear();
      journal.clear();
      return true;
    }
    LoadedRun run;
    if (!storage->load(run, error)) return false;
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
    pending = std::move(run.pending);
    for (Instance& in : run.instances) {
      for (const auto* lane : {&in.high, &in.normal})
        for (const Message& m : *lane) count_queued(in, m.transition, +1);
      const size_t index = instances.size();
      by_key[in.key] = index;
      instances.push_back(std::move(in));
      // Goals are evaluated again in the first tick after recovery; everything else
      // that can act is woken. (The sets order by instance: it must be in the vector.)
      if (!instances[index].faulted) awake.insert(index);
      if (!instances[index].timers.empty()) timed.insert(index);
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

  bool run(RunSummary& summary, std::string& error, const std::function<bool()>& stop) {
    const int64_t start_tick = tick;
    if (!release(recovered, error)) return false;
    recovered.clear();
    // Outcomes stored before a restart and those of intents dispatched again now: in
    // emission order, as an uninterrupted run delivers between-ticks outcomes.
    std::stable_sort(arrived.begin(), arrived.end(), [](const Arrival& a, const Arrival& b) { return a.intent < b.intent; });
    while (true) {
      if (stop && stop()) break;
      if (o.max_ticks > 0 && tick >= o.max_ticks) {
        // Cut off only if something was left to do.
        const bool idle = pending.empty() && std::all_of(awake.begin(), awake.end(), [&](size_t i) {
          return quiescent(instances[i]);
        });
        summary.max_ticks_reached = !idle;
        break;
      }
      bool progressed = false;
      // Serving, time passes even when nothing happens (timers, backoff and tick() goals
      // must see it); the idle tick still writes nothing.
      if (!guarded_tick(progressed, error, /*keep_tick=*/o.serve)) return false;
      if (progressed) continue;
      // Nothing ran and nothing arrived. With timers pending, or goals waiting out a
      // backoff, time jumps to the next one due.
      const int64_t next_due = next_due_tick();
      if (next_due < kLastTick && next_due > tick + 1 && !o.serve) {
        tick = next_due - 1;
        continue;
      }
      // Waiting for the outside world: an off-core outcome, or (serving) the next tick.
      const bool waiting_for_outcome = pool && pool->outstanding() > 0;
      if (!waiting_for_outcome && !o.serve) break;
      wait_for_outside(stop);
    }
    // Under --sync=none, a run that ends normally leaves every tick it committed on disk.
    if (storage && !storage->sync_committed(error)) return false;
    // Statistics, not state: a failure to store them does not fail the run.
    if (storage) {
      std::string ignored;
      storage->add_slice_times(slice_times, ignored);
    }
    slice_times = SliceTimes{};
    summary.ticks = tick - start_tick;
    summary.slices = slices_run;
    summarize(summary);
    return true;
  }

  // The next tick at which a timer or the end of a backoff is due; kLastTick when none
  // is (waits that end at the last tick, a saturated backoff, never end).
  int64_t next_due_tick() const {
    int64_t next_due = kLastTick;
    for (size_t i : timed)
      if (!instances[i].faulted)
        for (const Timer& t : instances[i].timers) next_due = std::min(next_due, t.due);
    for (size_t i : awake) {
      const Instance& in = instances[i];
      if (in.faulted) continue;
      for (const GoalProgress& g : in.goals)
        if (!g.satisfied && !g.terminated && g.next_attempt > tick) next_due = std::min(next_due, g.next_attempt);
    }
    return next_due;
  }

  // After a tick that did nothing, with nothing from outside on its way: moves time on by
  // at most `most` ticks, to just before the next tick at which something is due, as a
  // run jumps over idle time. Returns the ticks skipped.
  int64_t skip_idle(int64_t most) {
    if (last_step_progressed || !pending.empty() || !submitted.empty() || !arrived.empty() ||
        (pool && pool->outstanding() > 0))
      return 0;
    const int64_t target = std::min(next_due_tick() - 1, most > kLastTick - tick ? kLastTick : tick + most);
    if (target <= tick) return 0;
    const int64_t skipped = target - tick;
    tick = target;
    return skipped;
  }

  void summarize(RunSummary& summary) const { summarize_run(p, instances, ordered_indices(), summary); }

  // Sleeps until an off-core outcome arrives, `stop` says so, or (serving) the tick
  // period passes. Wall-clock time decides only when the next tick starts; what it sees
  // is journaled.
  void wait_for_outside(const std::function<bool()>& stop) {
    using namespace std::chrono;
    const auto until = steady_clock::now() + milliseconds(o.serve ? std::max<int64_t>(o.tick_ms, 1) : 3'600'000);
    while (steady_clock::now() < until) {
      if (stop && stop()) return;
      const auto slice = std::min<steady_clock::duration>(milliseconds(50), until - steady_clock::now());
      if (pool && pool->outstanding() > 0) {
        if (pool->wait(duration_cast<milliseconds>(slice))) return;
      } else {
        std::this_thread::sleep_for(slice);
      }
    }
  }

  // ---- driving a run tick by tick

  // As attach() does for a new run, minus the store: what exists before tick 1 is the
  // starting point, not a change of tick 1.
  void start_in_memory() {
    activate_initial();
    for (Instance& in : instances) in.dirty = false;
    dirty.clear();
    journal.clear();
  }

  bool step_to(int64_t number, std::string& error) {
    if (number != 0 && number <= tick) {
      error = "tick " + std::to_string(number) + " is not after tick " + std::to_string(tick);
      return false;
    }
    if (number > kLastTick) {
      error = "tick " + std::to_string(number) + " is past tick 2^62, the last tick a run may reach";
      return false;
    }
    if (number > tick + 1) tick = number - 1;
    return guarded_tick(last_step_progressed, error, /*keep_tick=*/true);
  }
  bool last_step_progressed = true;  // activation counts: the first tick may have work

  // Goals are evaluated at the start of a tick, so a tick that did something may have
  // made one false: only a tick that did nothing proves the run is at rest.
  bool all_quiescent() const {
    if (last_step_progressed) return false;
    if (!pending.empty() || !submitted.empty() || !arrived.empty() || (pool && pool->outstanding() > 0)) return false;
    return std::all_of(instances.begin(), instances.end(), [&](const Instance& in) { return quiescent(in); });
  }
};

Runtime::Runtime(const Program& program, std::string bundle_bytes, RuntimeOptions options, TraceSink trace)
    : impl_(std::make_unique<Impl>(program, std::move(bundle_bytes), options, std::move(trace))) {}
Runtime::~Runtime() = default;

bool Runtime::attach(Store& store, bool& resumed, std::string& error) {
  try {
    return impl_->attach(store, resumed, error);
  } catch (const ValueTooDeep& e) {  // a field default nested too deeply to be stored
    error = std::string("the initial state: ") + e.what();
    return false;
  }
}

bool Runtime::run(RunSummary& summary, std::string& error, const std::function<bool()>& stop) {
  return impl_->run(summary, error, stop);
}

void Runtime::start_in_memory() { impl_->start_in_memory(); }
bool Runtime::step(std::string& error, int64_t number) { return impl_->step_to(number, error); }
const std::vector<std::string>& Runtime::last_journal() const { return impl_->journal; }
Instance& Runtime::instance_for_setup(const InstanceKey& key) {
  return impl_->instances[impl_->find_or_activate(key)];
}
void Runtime::submit(const InstanceKey& target, uint32_t transition, std::vector<Value> args) {
  Message m;
  m.transition = transition;
  m.args = std::move(args);
  impl_->submitted.push_back(Delivery{target, std::move(m)});
}
bool Runtime::all_quiescent() const { return impl_->all_quiescent(); }
int64_t Runtime::skip_idle(int64_t most) { return impl_->skip_idle(most); }
const Instance* Runtime::find_instance(const InstanceKey& key) const {
  auto i = impl_->find(key);
  return i ? &impl_->instances[*i] : nullptr;
}
void Runtime::summarize(RunSummary& summary) const { impl_->summarize(summary); }

int64_t Runtime::tick() const { return impl_->tick; }
uint64_t Runtime::seed() const { return impl_->o.seed; }
int64_t Runtime::slice_budget() const { return impl_->o.slice_budget; }
int64_t Runtime::slices() const { return impl_->slices_run; }
const std::deque<Instance>& Runtime::instances() const { return impl_->instances; }
std::vector<const Intent*> Runtime::open_intents() const {
  std::vector<const Intent*> out;
  for (const auto& [key, intent] : impl_->open_intents) out.push_back(&intent);
  return out;
}

bool Runtime::resume(const std::string& instance, std::string& error) {
  for (size_t i = 0; i < impl_->instances.size(); ++i) {
    if (impl_->name(i) != instance) continue;
    Instance& in = impl_->instances[i];
    if (!in.faulted) {
      error = instance + " is not FAULTED";
      return false;
    }
    in.faulted = false;
    in.continuation.reset();  // the faulted transition's remaining slices are abandoned
    impl_->mark(i);
    impl_->journal.clear();
    impl_->journal.push_back("resume\t" + instance + "\t");
    return impl_->commit(error, /*append=*/true);
  }
  error = "no instance " + instance + " in the data dir";
  return false;
}

std::vector<std::string> Runtime::describe_instances() const {
  RunSummary s;
  impl_->summarize(s);
  return s.lines;
}

}  // namespace ved::vm
