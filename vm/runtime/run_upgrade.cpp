#include "vm/runtime/run_upgrade.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "vm/runtime/instance_codec.h"
#include "vm/runtime/journal_render.h"
#include "vm/runtime/store.h"
#include "vm/runtime_library.h"
#include "vm/upgrade/compatibility.h"
#include "vm/upgrade/migration_runner.h"
#include "vm/upgrade/schema.h"

namespace ved::vm {

namespace {

using upgrade::same_shape;
using upgrade::translate;

std::optional<uint32_t> find_domain(const Program& p, const std::string& name) {
  for (uint32_t d = 0; d < p.domains.size(); ++d)
    if (p.domains[d].name == name) return d;
  return std::nullopt;
}

std::optional<uint32_t> find_transition(const DomainInfo& d, const std::string& name) {
  for (uint32_t t = 0; t < d.transitions.size(); ++t)
    if (d.transitions[t].name == name) return t;
  return std::nullopt;
}

std::optional<uint32_t> find_external(const std::vector<ExternalInfo>& all, const std::string& name) {
  for (uint32_t k = 0; k < all.size(); ++k)
    if (all[k].name == name) return k;
  return std::nullopt;
}

// Whether an effect or observation has the same parameters and result in both programs.
bool same_signature(const Program& a, const ExternalInfo& x, const Program& b, const ExternalInfo& y,
                    std::string& why) {
  if (x.params.size() != y.params.size()) {
    why = "it took " + std::to_string(x.params.size()) + " parameters and takes " + std::to_string(y.params.size());
    return false;
  }
  for (size_t i = 0; i < x.params.size(); ++i) {
    std::string how;
    if (!same_shape(a, x.params[i].type, b, y.params[i].type, &how)) {
      why = "parameter `" + x.params[i].name + "` " + how;
      return false;
    }
  }
  std::string how;
  if (!same_shape(a, x.result, b, y.result, &how)) {
    why = "its result " + how;
    return false;
  }
  return true;
}

// Translates one run. The compatibility check (vm/upgrade) has decided every domain and
// message type beforehand; what it cannot see (a transition between slices, an intent in
// flight) is refused here, in the run's order.
class Translator {
 public:
  Translator(const Program& o, const Program& n, UpgradeResult& out) : old_(o), new_(n), out_(out) {
    for (const DomainInfo& d : old_.domains) domain_map_.push_back(find_domain(new_, d.name));
  }

  // Counts what the run holds, per domain and message type, for the compatibility check.
  upgrade::DataDirContents contents(const LoadedRun& run) const {
    std::map<std::string, upgrade::StoredDomain> domains;
    std::map<std::pair<std::string, std::string>, uint64_t> messages;
    auto count = [&](uint32_t receiver, const Message& m) {
      const DomainInfo& d = old_.domains[receiver];
      ++messages[{d.name, d.transitions[m.transition].name}];
    };
    for (const Instance& in : run.instances) {
      const DomainInfo& d = old_.domains[in.key.domain];
      auto& s = domains[d.name];
      s.name = d.name;
      s.version = d.version;
      ++s.instances;
      for (const auto* lane : {&in.high, &in.normal})
        for (const Message& m : *lane) count(in.key.domain, m);
      for (const Timer& t : in.timers) count(in.key.domain, t.message);
      for (const OutboxEntry& e : in.outbox) count(e.target.domain, e.message);
    }
    for (const Delivery& d : run.pending) count(d.target.domain, d.message);
    upgrade::DataDirContents c;
    for (auto& [name, d] : domains) c.domains.push_back(d);
    for (auto& [key, n] : messages) c.messages.push_back(upgrade::StoredMessage{key.first, key.second, n});
    return c;
  }

  void refuse(std::string line) { out_.refusals.push_back(std::move(line)); }

  std::optional<InstanceKey> key(const InstanceKey& k) const {
    if (!domain_map_[k.domain]) return std::nullopt;
    return InstanceKey{*domain_map_[k.domain], k.id};
  }

  // A message to an instance of old domain `receiver`, in the new program's terms.
  std::optional<Message> message(uint32_t receiver, const Message& m) {
    const DomainInfo& od = old_.domains[receiver];
    if (!domain_map_[receiver]) return std::nullopt;
    const DomainInfo& nd = new_.domains[*domain_map_[receiver]];
    const TransitionInfo& ot = od.transitions[m.transition];
    const auto t = find_transition(nd, ot.name);
    if (!t || nd.transitions[*t].params.size() != ot.params.size()) return std::nullopt;
    Message out = m;
    out.transition = *t;
    for (size_t i = 0; i < m.args.size(); ++i) {
      if (!same_shape(old_, ot.params[i].type, new_, nd.transitions[*t].params[i].type)) return std::nullopt;
      out.args[i] = translate(old_, ot.params[i].type, new_, nd.transitions[*t].params[i].type, m.args[i]);
    }
    if (m.from_instance) {
      const auto sender = domain_map_[m.sender.domain];
      if (!sender) return std::nullopt;
      out.sender.domain = *sender;
    }
    return out;
  }

  // The message, or a refusal naming its type, once per type: the compatibility check
  // has named it already when the type is gone or changed (this is the backstop for what
  // it does not see, e.g. a sender whose domain is gone).
  std::optional<Message> message_or_refuse(uint32_t receiver, const Message& m, const std::string& where) {
    auto out = message(receiver, m);
    if (!out) {
      const DomainInfo& d = old_.domains[receiver];
      const std::string subject = d.name + "." + d.transitions[m.transition].name;
      if (refused_messages_.insert(subject).second)
        refuse("message `" + subject + "` " + where +
               " cannot be carried over to the new program (its transition or sender is gone, or changed); "
               "let the old program deliver it first, or start over with --fresh");
    }
    return out;
  }

  // Message types the compatibility check refused: not refused again, message by message.
  void already_refused(const upgrade::Refusal& r) {
    if (r.kind == upgrade::Refusal::Kind::MessageRemoved || r.kind == upgrade::Refusal::Kind::MessageChanged)
      refused_messages_.insert(r.subject);
  }

  void instance(Instance& in, const std::vector<upgrade::PlannedMigration>& plans, upgrade::MigrationRunner& runner,
                int64_t fuel, std::string& error) {
    const uint32_t od = in.key.domain;
    const DomainInfo& old_domain = old_.domains[od];
    const std::string who = describe_instance(old_, in.key);
    if (!domain_map_[od]) return;  // refused by the compatibility check
    const uint32_t nd = *domain_map_[od];
    const DomainInfo& new_domain = new_.domains[nd];
    if (in.continuation) {
      refuse("instance `" + who + "` is between the slices of transition `" +
             old_domain.transitions[in.continuation->transition].name + "`, whose code the new program may have changed; "
             "run the old program until the transition ends, then upgrade");
      return;
    }
    Instance next;
    next.key = InstanceKey{nd, in.key.id};
    const auto plan = std::find_if(plans.begin(), plans.end(), [&](const auto& p) { return p.new_domain == nd; });
    if (plan != plans.end()) {
      upgrade::MigrationResult r = runner.run(nd, plan->from_version, in.state, fuel, out_.run.tick);
      if (!r.ok) {
        if (error.empty()) error = r.error + " (instance `" + who + "`; nothing was changed)";
        return;
      }
      out_.migration_fuel += r.fuel_used;
      next.state = std::move(r.state);
      out_.migrated.push_back(MigratedInstance{next.key, plan->from_version, plan->to_version, std::move(r.applied)});
    } else {
      next.state = translate(old_, old_domain.state_type, new_, new_domain.state_type, in.state);
    }
    next.faulted = in.faulted;
    next.next_position = in.next_position;
    const std::string queued = "queued for `" + who + "`";
    for (auto* lane : {&in.high, &in.normal})
      for (const Message& m : *lane)
        if (auto t = message_or_refuse(od, m, queued)) (m.high_lane ? next.high : next.normal).push_back(std::move(*t));
    for (const Timer& t : in.timers)
      if (auto m = message_or_refuse(od, t.message, "of a timer of `" + who + "`"))
        next.timers.push_back(Timer{t.due, t.sequence, std::move(*m)});
    for (const OutboxEntry& e : in.outbox) {
      auto target = key(e.target);
      auto m = message_or_refuse(e.target.domain, e.message, "in the outbox of `" + who + "`");
      if (target && m) next.outbox.push_back(OutboxEntry{*target, std::move(*m)});
    }
    next.random = in.random;
    // Goals by name: a goal the new program adds starts afresh; one it removed is
    // forgotten; one it keeps keeps its attempts and backoff. None counts as satisfied:
    // its predicate may have changed, so every goal is evaluated again at the next tick.
    for (const GoalInfo& g : new_domain.goals) {
      GoalProgress progress;
      for (size_t k = 0; k < old_domain.goals.size() && k < in.goals.size(); ++k)
        if (old_domain.goals[k].name == g.name) progress = in.goals[k];
      progress.satisfied = false;
      next.goals.push_back(std::move(progress));
    }
    next.effects_in_flight = in.effects_in_flight;
    next.last_fault = in.last_fault;
    if (in.last_fault_info) next.last_fault_info = std::make_unique<FaultInfo>(*in.last_fault_info);
    next.last_failed_effect = in.last_failed_effect;
    next.dead_letters = in.dead_letters;
    out_.run.instances.push_back(std::move(next));
  }

  void intent(const Intent& x) {
    const ExternalInfo& oe = old_.effects[x.effect];
    const auto ne = find_external(new_.effects, oe.name);
    const auto instance = key(x.instance);
    std::string why = "it is not in the new program";
    if (!ne || !instance || !same_signature(old_, oe, new_, new_.effects[*ne], why)) {
      refuse("intent " + x.id() + " of effect `" + oe.name + "` is in flight, and " +
             (ne ? "the effect changed (" + why + ")" : "the new program has no effect `" + oe.name + "`") +
             "; keep the effect's signature until its intents complete, or start over with --fresh");
      return;
    }
    const ExternalInfo& e = new_.effects[*ne];
    Intent next = x;
    next.effect = *ne;
    next.instance = *instance;
    for (size_t i = 0; i < x.args.size(); ++i)
      next.args[i] = translate(old_, oe.params[i].type, new_, e.params[i].type, x.args[i]);
    if (x.arrived && x.outcome.ok) next.outcome.value = translate(old_, oe.result, new_, e.result, x.outcome.value);
    out_.run.open_intents.push_back(std::move(next));
  }

  // The last journaled value of an observation, kept when the observation is still there
  // with the same signature; otherwise forgotten (its next sample is journaled anew).
  void observed(const std::string& key, const Value& value) {
    uint32_t index = 0;
    std::vector<Value> args;
    Value unit;
    std::string failure, error, why;
    if (!decode_observation(old_, key, index, args, unit, failure, error)) return;
    const ExternalInfo& oo = old_.observations[index];
    const auto no = find_external(new_.observations, oo.name);
    if (!no || !same_signature(old_, oo, new_, new_.observations[*no], why)) return;
    const ExternalInfo& n = new_.observations[*no];
    for (size_t i = 0; i < args.size(); ++i) args[i] = translate(old_, oo.params[i].type, new_, n.params[i].type, args[i]);
    out_.run.observed[encode_observation(*no, args, Value())] = translate(old_, oo.result, new_, n.result, value);
  }

 private:
  const Program& old_;
  const Program& new_;
  UpgradeResult& out_;
  std::vector<std::optional<uint32_t>> domain_map_;  // old domain -> new
  std::set<std::string> refused_messages_;            // `Domain.Transition`
};

}  // namespace

bool upgrade_run(const Program& old_program, const Program& new_program, LoadedRun run, int64_t migration_fuel,
                 UpgradeResult& out, std::string& error) {
  out = UpgradeResult{};
  Translator t(old_program, new_program, out);
  const upgrade::CompatibilityReport report = upgrade::check_compatibility(old_program, new_program, t.contents(run));
  for (const upgrade::Refusal& r : report.refusals) {
    t.refuse(r.message + "; " + r.hint);
    t.already_refused(r);
  }

  LoadedRun& next = out.run;
  next.tick = run.tick + 1;  // the upgrade's own tick
  next.seed = run.seed;
  next.slice_budget = run.slice_budget;
  next.timer_sequence = run.timer_sequence;
  next.last_foreground_tick = run.last_foreground_tick;
  next.effect_bindings = run.effect_bindings;
  upgrade::MigrationRunner runner(old_program, new_program);
  for (Instance& in : run.instances) {
    t.instance(in, report.migrations, runner, migration_fuel, error);
    if (!error.empty()) return false;
  }
  for (const Delivery& d : run.pending) {
    auto target = t.key(d.target);
    auto m = t.message_or_refuse(d.target.domain, d.message, "on its way to `" + describe_instance(old_program, d.target) + "`");
    if (target && m) next.pending.push_back(Delivery{*target, std::move(*m)});
  }
  for (const Intent& x : run.open_intents) t.intent(x);
  for (const auto& [effect, count] : run.effect_counts)
    if (auto e = find_external(new_program.effects, old_program.effects[effect].name)) next.effect_counts[*e] = count;
  for (const auto& [key, value] : run.observed) t.observed(key, value);
  if (!out.refusals.empty()) {
    error = "program `" + new_program.name + "` (hash " + hex_u64(new_program.hash) +
            ") cannot take over the data dir of `" + old_program.name + "` (hash " + hex_u64(old_program.hash) + "):";
    for (const std::string& r : out.refusals) error += "\n  " + r;
    return false;
  }
  return true;
}

TickRecord upgrade_tick_record(const Program& old_program, const Program& new_program, const UpgradeResult& result) {
  TickRecord r;
  r.tick = result.run.tick;
  r.timer_sequence = result.run.timer_sequence;
  r.last_foreground_tick = result.run.last_foreground_tick;
  r.journal.push_back("upgrade\t" + escape_controls(new_program.name) + "\tfrom " + hex_u64(old_program.hash) + " to " +
                      hex_u64(new_program.hash));
  size_t k = 0;
  for (const Instance& in : result.run.instances) {
    if (k == result.migrated.size()) break;
    const MigratedInstance& m = result.migrated[k];
    if (!same_instance(in.key, m.key)) continue;
    std::string by;
    for (const std::string& name : m.migrations) by += (by.empty() ? "" : ", ") + name;
    r.journal.push_back("migrate\t" + escape_controls(describe_instance(new_program, in.key)) + "\t" +
                        new_program.domains[in.key.domain].name + ".State@" + std::to_string(m.from_version) + " -> @" +
                        std::to_string(m.to_version) + " by " + by);
    r.instances.push_back(TickRecord::InstanceWrite{instance_storage_key(new_program, in.key), encode_instance(in), 0,
                                                    static_cast<uint32_t>(r.journal.size()), std::nullopt});
    ++k;
  }
  return r;
}

}  // namespace ved::vm
