// Effect intents (runtime.md §7): emitted in a tick, released to adapters once that tick
// is durable, their outcomes delivered as inputs of a later tick.
#include "vm/runtime/runtime_impl.h"

#include "vm/runtime/instance_codec.h"
#include "vm/value_codec.h"

namespace ved::vm {

// An intent is journaled and stored (`fx/`) with the tick that emitted it, and handed to
// its adapter only after that tick is durable (release). Its outcome comes back as an
// input of a later tick (deliver_outcome).
void Runtime::Impl::emit(size_t i, const Value& intent) {
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
  record(i, "emit", shown, {}, [&] {
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
Intent Runtime::Impl::clone_intent(const Intent& x) {
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

EffectRequest Runtime::Impl::request_for(const Intent& x) const {
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
bool Runtime::Impl::release(const std::vector<IntentKey>& keys, std::string& error) {
  if (keys.empty() || o.replay) return true;
  std::vector<Intent*> dispatched;
  for (const IntentKey& k : keys) {
    Intent& x = open_intents.at(k);
    ++x.dispatches;
    dispatched.push_back(&x);
  }
  // Every committed tick, the ones gathered in the current group included, is made
  // durable with the dispatch counts, so nothing is released that a crash could take back.
  if (storage && !storage->mark_dispatched({dispatched.begin(), dispatched.end()}, error)) return false;
  // A cluster owner's run releases only under its dispatch lease (tick_replicator.h).
  if (o.replicator) {
    std::string why;
    if (!o.replicator->may_dispatch(why)) {
      error = "released no effect: " + why;
      return false;
    }
  }
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

// Journals an outcome and delivers it to the emitting instance's handler (`on E.ok` /
// `on E.failed`); a failure nobody handles is a dead letter.
void Runtime::Impl::deliver_outcome(Arrival a) {
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
  record(i, "outcome", detail, encode_outcome(x.effect, x.id(), out), [&] {
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
      record(i, "dead_letter", effect.name + ".failed (" + out.code + "; no handler)", {}, [&] {
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

}  // namespace ved::vm
