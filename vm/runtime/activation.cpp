// Instances come into being (runtime.md §1): activated before tick 1 by the system
// block or by default, by a message to an instance that does not exist yet, or by `spawn`.
#include "vm/runtime/runtime_impl.h"

#include <algorithm>

#include "vm/value_codec.h"

namespace ved::vm {

std::optional<size_t> Runtime::Impl::find(const InstanceKey& key) const {
  auto it = by_key.find(key);
  if (it == by_key.end()) return std::nullopt;
  return it->second;
}

// A new instance with its fields' defaults (and `fields` over them), its start message
// at the head of its mailbox.
size_t Runtime::Impl::activate(const InstanceKey& key, const std::vector<std::pair<uint32_t, Value>>& fields) {
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
    record(index, "fault", added.last_fault, {},
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
  record(index, "activate", "");
  return index;
}

size_t Runtime::Impl::find_or_activate(const InstanceKey& key) {
  if (auto i = find(key)) return *i;
  return activate(key, {});
}

void Runtime::Impl::activate_initial() {
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

}  // namespace ved::vm
