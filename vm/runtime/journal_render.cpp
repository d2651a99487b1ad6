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

bool interleave_state_lines(const TickRecord& r, const std::function<bool(size_t, std::string&)>& state_of,
                            std::vector<std::string>& lines) {
  lines.clear();
  lines.reserve(r.journal.size() + r.instances.size());
  size_t next = 0;  // the next event line to copy
  for (size_t k = 0; k < r.instances.size(); ++k) {
    const uint32_t at = r.instances[k].line;
    if (at == TickRecord::kNoStateLine) continue;
    for (; next < at && next < r.journal.size(); ++next) lines.push_back(r.journal[next]);
    std::string line;
    if (!state_of(k, line)) return false;
    lines.push_back(std::move(line));
  }
  for (; next < r.journal.size(); ++next) lines.push_back(r.journal[next]);
  return true;
}

bool render_journal(const Program& p, const TickRecord& r, std::vector<std::string>& lines, std::string& error) {
  return interleave_state_lines(r, [&](size_t k, std::string& line) {
    const TickRecord::InstanceWrite& w = r.instances[k];
    Instance in;
    if (!decode_instance(p, w.value, in, error)) {
      error = "the instance record `" + w.key + "` of tick " + std::to_string(r.tick) + ": " + error;
      return false;
    }
    line = state_line(describe_instance(p, in.key), in.state);
    return true;
  }, lines);
}

}  // namespace ved::vm
