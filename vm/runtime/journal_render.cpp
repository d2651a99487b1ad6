#include "vm/runtime/journal_render.h"

#include "vm/runtime/instance_codec.h"
#include "vm/runtime/store.h"
#include "vm/runtime_library.h"

namespace ved::vm {

std::string state_line(const std::string& instance, const Value& state) {
  std::vector<Value> field_hashes;
  std::string fields;
  for (const Value& field : state.as_record().fields) {
    const auto h = static_cast<uint64_t>(hash_value(field));
    field_hashes.push_back(Value::integer(static_cast<int64_t>(h)));
    fields += " " + hex_u64(h).substr(8);
  }
  const auto hash = static_cast<uint64_t>(hash_value(Value::list(std::move(field_hashes))));
  return "state\t" + instance + "\t" + hex_u64(hash) + fields;
}

bool render_journal(const Program& p, const TickRecord& r, std::vector<std::string>& lines, std::string& error) {
  lines.clear();
  lines.reserve(r.journal.size() + r.instances.size());
  size_t next = 0;  // the next event line to copy
  for (const TickRecord::InstanceWrite& w : r.instances) {
    if (w.line == TickRecord::kNoStateLine) continue;
    for (; next < w.line && next < r.journal.size(); ++next) lines.push_back(r.journal[next]);
    Instance in;
    if (!decode_instance(p, w.value, in, error)) {
      error = "the instance record `" + w.key + "` of tick " + std::to_string(r.tick) + ": " + error;
      return false;
    }
    lines.push_back(state_line(describe_instance(p, in.key), in.state));
  }
  for (; next < r.journal.size(); ++next) lines.push_back(r.journal[next]);
  return true;
}

}  // namespace ved::vm
