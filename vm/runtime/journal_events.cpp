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

}  // namespace ved::vm
