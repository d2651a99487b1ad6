// The journal and the trace: how events, values and states are written as text.
#include "vm/runtime/runtime_impl.h"

namespace ved::vm {

// Named values as one part: `{"param": value, ...}`.
TraceField Runtime::Impl::named(std::string name, const std::vector<FieldInfo>& names, const std::vector<Value>& values) {
  TraceFields parts;
  for (size_t k = 0; k < values.size() && k < names.size(); ++k) parts.emplace_back(names[k].name, values[k]);
  return TraceField(std::move(name), std::move(parts));
}

// As a literal: strings quoted (arguments, observed values, outcome values).
std::string Runtime::Impl::literal(const Value& v) const {
  if (v.tag() != Tag::String) return show(v);
  const std::string_view text = v.as_string();
  if (text.size() <= kShownBytes) return quote_string(text);
  return quote_string(text.substr(0, utf8_prefix_length(text, kShownBytes))) + "... (hash " +
         hex_u64(static_cast<uint64_t>(hash_value(v))) + ")";
}

// `state TAB instance TAB <hash> <field hashes>`: each field hashed once (this runs for
// every instance a tick changes); the state's hash is the hash of its fields' hashes,
// and each field's is shown short, so that replay can name the first field that differs.
std::string Runtime::Impl::state_record(const Instance& in) const {
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

}  // namespace ved::vm
