// `vedvm timeline DIR [-o FILE] [--from T] [--to T]`: a run's journal as one
// self-contained HTML page (docs/timeline.md).
//
// The data dir is opened as `inspect` opens it (StoreMode::Inspect: no lock, nothing
// written into it). The journal lines of the tick records (`tick/<tick>`: kind TAB instance TAB
// detail [TAB data]) become compact JSON embedded in the page template
// (timeline_page.html, compiled in as kTimelinePage); the page's script draws only what
// is visible, on a canvas.
//
// The JSON (format 1):
//   {"format":1, "program":NAME, "lastTick":N, "from":F, "to":T,
//    "domains":[NAME...],                  the program's domains, then any other
//    "kinds":[KIND...],                    the journal kinds, known ones first
//    "lanes":[[INSTANCE, DOMAIN]...],      one per instance, by domain then id
//    "events":[[TICK, LANE, KIND, DETAIL] or [TICK, LANE, KIND, DETAIL, LINK]...],
//    "skipped":{"state":N, "malformed":N}}
// in journal order (by tick). LINK: for a `send`, the lane of its target (delivered at
// TICK+1); for an `outcome`, the index in "events" of the `emit` of the same intent
// when that is in the range. `state` records (hashes for replay) are not shown.
//
// Everything from the journal is a JSON string in which `<`, `>`, `&`, U+2028 and
// U+2029 are written as \u escapes and invalid UTF-8 as U+FFFD, so no text can end the
// <script> element that holds it (`</script>` in a state value stays data), and the page
// puts text into the document only as text (textContent, canvas fillText), never as HTML.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tools/vedvm/commands.h"
#include "tools/vedvm/timeline_page.h"  // generated from timeline_page.html: kTimelinePage
#include "vm/runtime/run_store.h"

namespace vedvm {

namespace {

// The kinds the page knows how to draw, in the order of its legend. Any other kind a
// journal holds is listed after them (drawn as a plain mark).
const char* const kKnownKinds[] = {"slice",        "send",        "emit",   "outcome", "goal",  "fault",
                                   "activate",     "spawn",       "input",  "dead_letter",
                                   "backpressure", "escalation",  "observe"};

// The marker in the template replaced by the JSON.
constexpr std::string_view kDataMarker = "@VED_TIMELINE_DATA@";

// Appends `text` as a JSON string safe inside an HTML <script> element.
void append_json_string(std::string& out, std::string_view text) {
  static const char* const hex = "0123456789abcdef";
  auto unicode = [&](unsigned code) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(code >> shift) & 0xF];
  };
  out += '"';
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '<': case '>': case '&': unicode(c); break;
        default:
          if (c < 0x20 || c == 0x7F) unicode(c);
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A multi-byte sequence: copied when it is well-formed UTF-8 (no overlong forms, no
    // surrogates, at most U+10FFFF), otherwise one U+FFFD per bad byte.
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    unsigned code = len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    bool ok = len != 0 && c <= 0xF4 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (s[i + k] & 0xC0) == 0x80;
      code = (code << 6) | (s[i + k] & 0x3F);
    }
    if (ok) ok = !(len == 3 && code < 0x800) && !(len == 4 && (code < 0x10000 || code > 0x10FFFF)) &&
                 !(code >= 0xD800 && code <= 0xDFFF);
    if (!ok) {
      unicode(0xFFFD);
      ++i;
      continue;
    }
    if (code == 0x2028 || code == 0x2029) unicode(code);  // line breaks to older JS parsers
    else out.append(text.substr(i, len));
    i += len;
  }
  out += '"';
}

// Where an instance's lane goes: by domain (in the program's order), then by id as the
// runtime orders ids (the default instance, ints numerically, strings bytewise).
struct LaneKey {
  size_t domain = 0;
  int id_class = 0;  // 0 the default instance, 1 an int id, 2 a string id, 3 anything else
  int64_t number = 0;
  std::string text;
  bool operator<(const LaneKey& o) const {
    if (domain != o.domain) return domain < o.domain;
    if (id_class != o.id_class) return id_class < o.id_class;
    if (number != o.number) return number < o.number;
    return text < o.text;
  }
};

// The instances and domains of a timeline, as they are met.
class Lanes {
 public:
  explicit Lanes(const ved::vm::Program& program) {
    for (const auto& d : program.domains) domain_index(d.name);
  }

  // The lane of instance `name` (`Type`, `Type[3]`, `Type["id"]`).
  uint32_t lane(const std::string& name) {
    auto it = by_name_.find(name);
    if (it != by_name_.end()) return it->second;
    const uint32_t index = static_cast<uint32_t>(names_.size());
    by_name_.emplace(name, index);
    names_.push_back(name);
    LaneKey key;
    const size_t bracket = name.find('[');
    key.domain = domain_index(name.substr(0, bracket));
    if (bracket != std::string::npos) {
      const std::string id = name.substr(bracket + 1, name.size() - bracket - 2);
      key.text = id;
      key.id_class = 3;
      if (!id.empty() && id.front() == '"') {
        key.id_class = 2;
      } else {
        try {
          size_t used = 0;
          key.number = std::stoll(id, &used);
          if (used == id.size()) key.id_class = 1;
        } catch (const std::exception&) {
        }
      }
    }
    keys_.push_back(std::move(key));
    return index;
  }

  // Sorts the lanes; returns the new index of each old one.
  std::vector<uint32_t> sort() {
    std::vector<uint32_t> order(names_.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return keys_[a] < keys_[b]; });
    std::vector<uint32_t> renumber(names_.size());
    for (uint32_t i = 0; i < order.size(); ++i) renumber[order[i]] = i;
    order_ = std::move(order);
    return renumber;
  }

  void append_json(std::string& out) const {
    out += "\"domains\":[";
    for (size_t d = 0; d < domains_.size(); ++d) {
      if (d) out += ',';
      append_json_string(out, domains_[d]);
    }
    out += "],\"lanes\":[";
    for (size_t i = 0; i < order_.size(); ++i) {
      if (i) out += ',';
      out += '[';
      append_json_string(out, names_[order_[i]]);
      out += ',' + std::to_string(keys_[order_[i]].domain) + ']';
    }
    out += ']';
  }

  size_t size() const { return names_.size(); }

 private:
  size_t domain_index(const std::string& name) {
    auto it = std::find(domains_.begin(), domains_.end(), name);
    if (it != domains_.end()) return static_cast<size_t>(it - domains_.begin());
    domains_.push_back(name);
    return domains_.size() - 1;
  }

  std::vector<std::string> domains_;
  std::vector<std::string> names_;
  std::vector<LaneKey> keys_;
  std::unordered_map<std::string, uint32_t> by_name_;
  std::vector<uint32_t> order_;
};

struct Event {
  int64_t tick = 0;
  uint32_t lane = 0;
  uint32_t kind = 0;
  std::string detail;
  int64_t link = -1;
};

// The id an `emit` or `outcome` detail starts with: `<tick>-<index>` (Intent::id).
std::string_view intent_id(std::string_view detail) { return detail.substr(0, detail.find(' ')); }

std::string size_text(uintmax_t bytes) {
  if (bytes < 10 * 1024) return std::to_string(bytes) + " bytes";
  if (bytes < 10 * 1024 * 1024) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes / (1024 * 1024)) + " MiB";
}

}  // namespace

int timeline(const TimelineOptions& o) {
  namespace fs = std::filesystem;
  if (o.from > o.to) {
    std::cerr << "vedvm: error: --from " << o.from << " is after --to " << o.to << "\n";
    return kExitUsage;
  }
  // The page is never written into the data dir: reading a run changes nothing in it.
  std::error_code ec;
  const fs::path output_dir = fs::weakly_canonical(fs::absolute(o.output, ec).parent_path(), ec);
  const fs::path data_dir = fs::weakly_canonical(fs::absolute(o.data_dir, ec), ec);
  const auto inside = [](const fs::path& dir, const fs::path& root) {
    auto [r, d] = std::mismatch(root.begin(), root.end(), dir.begin(), dir.end());
    return r == root.end() || (r->empty() && std::next(r) == root.end());  // "a/b/" ends in an empty name
  };
  if (!ec && !data_dir.empty() && inside(output_dir, data_dir)) {
    std::cerr << "vedvm: error: `" << terminal_text(o.output)
              << "` is inside the data dir; write the timeline elsewhere (-o FILE)\n";
    return kExitUsage;
  }

  std::unique_ptr<ved::vm::Store> store;
  ved::vm::Program program;
  std::string bundle, error;
  if (!open_data_dir(o.data_dir, store, program, bundle)) return kExitError;
  int64_t last_tick = 0;
  if (!ved::vm::last_committed_tick(*store, last_tick, error)) last_tick = 0;
  error.clear();

  std::vector<std::string> kinds(std::begin(kKnownKinds), std::end(kKnownKinds));
  auto kind_index = [&](std::string_view kind) {
    auto it = std::find(kinds.begin(), kinds.end(), kind);
    if (it != kinds.end()) return static_cast<uint32_t>(it - kinds.begin());
    kinds.emplace_back(kind);
    return static_cast<uint32_t>(kinds.size() - 1);
  };
  const uint32_t send_kind = kind_index("send"), emit_kind = kind_index("emit"), outcome_kind = kind_index("outcome");

  Lanes lanes(program);
  std::vector<Event> events;
  std::unordered_map<std::string, size_t> emits;  // intent id -> its emit event
  int64_t state_records = 0, malformed = 0;
  // The scan is in tick order and stops after --to.
  const bool ok = ved::vm::scan_journal(program, *store, o.from, o.to, [&](int64_t t, std::string_view record) {
    const size_t a = record.find('\t'), b = a == std::string_view::npos ? a : record.find('\t', a + 1);
    if (b == std::string_view::npos) {
      ++malformed;
      return true;
    }
    const std::string_view kind = record.substr(0, a);
    if (kind == "state") {
      ++state_records;
      return true;
    }
    Event e;
    e.tick = t;
    e.kind = kind_index(kind);
    e.lane = lanes.lane(std::string(record.substr(a + 1, b - a - 1)));
    // A fourth field is an input's value in hex, for replay: not shown.
    const size_t c = record.find('\t', b + 1);
    e.detail = std::string(record.substr(b + 1, c == std::string_view::npos ? c : c - b - 1));
    if (e.kind == send_kind) {
      // `Target.Transition`: a transition name has no dot, an instance's string id may.
      const size_t dot = e.detail.rfind('.');
      if (dot != std::string::npos && dot > 0) e.link = lanes.lane(e.detail.substr(0, dot));
    } else if (e.kind == emit_kind) {
      emits[std::string(intent_id(e.detail))] = events.size();
    } else if (e.kind == outcome_kind) {
      auto it = emits.find(std::string(intent_id(e.detail)));
      if (it != emits.end()) e.link = static_cast<int64_t>(it->second);
    }
    events.push_back(std::move(e));
    return true;
  }, error);
  if (!ok) {
    std::cerr << "vedvm: error: the journal of `" << o.data_dir << "` is damaged: " << terminal_text(error) << "\n";
    return kExitError;
  }

  // Lanes by domain and id; events keep their journal order.
  const std::vector<uint32_t> renumber = lanes.sort();
  std::string json;
  json.reserve(events.size() * 48 + 4096);
  json += "{\"format\":1,\"program\":";
  append_json_string(json, program.name);
  json += ",\"lastTick\":" + std::to_string(last_tick);
  json += ",\"from\":" + std::to_string(o.from);
  json += ",\"to\":" + std::to_string(std::min(o.to, std::max(last_tick, o.from)));
  json += ',';
  lanes.append_json(json);
  json += ",\"kinds\":[";
  for (size_t k = 0; k < kinds.size(); ++k) {
    if (k) json += ',';
    append_json_string(json, kinds[k]);
  }
  json += "],\"events\":[";
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    if (i) json += ",\n";
    json += '[' + std::to_string(e.tick) + ',' + std::to_string(renumber[e.lane]) + ',' + std::to_string(e.kind) + ',';
    append_json_string(json, e.detail);
    if (e.link >= 0)
      json += ',' + std::to_string(e.kind == send_kind ? renumber[static_cast<size_t>(e.link)] : e.link);
    json += ']';
  }
  json += "],\"skipped\":{\"state\":" + std::to_string(state_records) + ",\"malformed\":" + std::to_string(malformed) + "}}";

  const std::string_view page = kTimelinePage;
  const size_t marker = page.find(kDataMarker);
  if (marker == std::string_view::npos) {
    std::cerr << "vedvm: internal error: the timeline template has no data marker\n";
    return 3;
  }
  // Written beside the output and renamed over it, so that a failed write leaves no
  // half page behind.
  const std::string temporary = o.output + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << page.substr(0, marker) << json << page.substr(marker + kDataMarker.size());
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(temporary, ignored);
      std::cerr << "vedvm: error: cannot write `" << terminal_text(o.output) << "`\n";
      return kExitError;
    }
  }
  fs::rename(temporary, o.output, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    std::cerr << "vedvm: error: cannot write `" << terminal_text(o.output) << "`: " << ec.message() << "\n";
    return kExitError;
  }
  const uintmax_t size = fs::file_size(o.output, ec);
  std::cout << terminal_text(o.output) << ": " << events.size() << " events, " << lanes.size() << " instances";
  if (!events.empty()) std::cout << ", ticks " << events.front().tick << ".." << events.back().tick;
  std::cout << " (" << size_text(ec ? 0 : size) << ")\n";
  if (events.empty())
    std::cerr << "vedvm: note: no journal records in ticks " << o.from << ".."
              << (o.to == INT64_MAX ? std::string("the end") : std::to_string(o.to)) << "; the run's last tick is "
              << last_tick << "\n";
  if (malformed > 0) std::cerr << "vedvm: note: " << malformed << " journal records could not be read and are not shown\n";
  return kExitOk;
}

}  // namespace vedvm
