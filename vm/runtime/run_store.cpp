#include "vm/runtime/run_store.h"

#include <map>
#include <set>
#include <sstream>

#include "vm/runtime/instance_codec.h"
#include "vm/runtime_library.h"

namespace ved::vm {

namespace {

// Bumped whenever a record's layout changes: a data dir of another format is refused as
// such, not reported as damaged.
constexpr const char* kFormat = "3";

std::string damaged(const std::string& what) { return "the data dir is damaged: " + what; }

// meta/pending: each delivery as a 16-hex-digit length and its encoding.
std::string encode_pending(const std::vector<Delivery>& pending) {
  std::string out;
  for (const Delivery& d : pending) {
    std::string one = encode_delivery(d.target, d.message);
    out += hex_u64(one.size()) + one;
  }
  return out;
}

bool decode_pending(const Program& p, std::string_view bytes, std::vector<Delivery>& out, std::string& error) {
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 16) break;
    uint64_t n = 0;
    if (!parse_hex_u64(bytes.substr(at, 16), n)) {
      error = damaged("meta/pending");
      return false;
    }
    at += 16;
    if (n > bytes.size() - at) break;
    Delivery d;
    std::string e;
    if (!decode_delivery(p, bytes.substr(at, n), d.target, d.message, e)) {
      error = damaged("meta/pending: " + e);
      return false;
    }
    out.push_back(std::move(d));
    at += n;
  }
  if (at != bytes.size()) {
    error = damaged("meta/pending is truncated");
    return false;
  }
  return true;
}

}  // namespace

const char* run_format() { return kFormat; }

bool RunStore::holds_run(bool& holds, std::string& error) const {
  std::string ignored;
  holds = store_.get("meta/program_hash", ignored, error);
  return error.empty();
}

bool RunStore::load(LoadedRun& out, std::string& error) const {
  std::string stored_hash, format, name, tick_text, seed_text, sequence;
  if (!store_.get("meta/program_hash", stored_hash, error) || !store_.get("meta/format", format, error) ||
      !store_.get("meta/program_name", name, error)) {
    error = damaged(error.empty() ? "a meta/ record is missing" : error);
    return false;
  }
  if (format != kFormat) {
    error = "the data dir was written by another version of the VM (format `" + format + "`)";
    return false;
  }
  if (stored_hash != hex_u64(p_.hash)) {
    error = "the data dir holds the state of program `" + name + "` (hash " + stored_hash + "), not of `" + p_.name +
            "` (hash " + hex_u64(p_.hash) + "); use --fresh to start over, or another --data-dir";
    return false;
  }
  if (!store_.get("meta/tick", tick_text, error) || !store_.get("meta/seed", seed_text, error)) {
    error = damaged(error.empty() ? "meta/tick or meta/seed is missing" : error);
    return false;
  }
  try {
    out.tick = std::stoll(tick_text);
    out.seed = std::stoull(seed_text);
    if (store_.get("meta/timer_sequence", sequence, error)) out.timer_sequence = std::stoull(sequence);
    std::string budget;
    if (error.empty() && store_.get("meta/slice_budget", budget, error)) out.slice_budget = std::stoll(budget);
  } catch (const std::exception&) {
    error = damaged("meta/tick, meta/seed or meta/timer_sequence is not a number");
    return false;
  }
  if (!error.empty()) return false;
  if (!store_.get("meta/effects", out.effect_bindings, error) && !error.empty()) return false;

  std::map<std::string, size_t> by_key;
  bool ok = store_.scan("inst/", [&](std::string_view key, std::string_view value) {
    Instance in;
    std::string e;
    if (!decode_instance(p_, value, in, e)) {
      error = damaged("instance record `" + std::string(key) + "`: " + e);
      return false;
    }
    if (instance_storage_key(p_, in.key) != key) {
      error = damaged("instance record `" + std::string(key) + "` holds another instance");
      return false;
    }
    by_key[std::string(key)] = out.instances.size();
    out.instances.push_back(std::move(in));
    return true;
  }, error);
  if (!ok || !error.empty()) {
    if (error.find("damaged") == std::string::npos) error = damaged(error);
    return false;
  }
  // Mailboxes: one key per entry, in queue order.
  ok = store_.scan("mbox/", [&](std::string_view key, std::string_view value) {
    std::string owner;
    bool high = false;
    uint64_t position = 0;
    auto it = parse_mailbox_key(key, owner, high, position) ? by_key.find(owner) : by_key.end();
    if (it == by_key.end()) {
      error = damaged("mailbox entry `" + std::string(key) + "` belongs to no instance");
      return false;
    }
    Instance& in = out.instances[it->second];
    Message m;
    std::string e;
    if (!decode_message(p_, value, in.key.domain, m, e)) {
      error = damaged("mailbox entry `" + std::string(key) + "`: " + e);
      return false;
    }
    if (position >= in.next_position || m.high_lane != high) {
      error = damaged("mailbox entry `" + std::string(key) + "` does not fit its instance");
      return false;
    }
    m.position = position;
    (high ? in.high : in.normal).push_back(std::move(m));
    return true;
  }, error);
  if (!ok || !error.empty()) {
    if (error.find("damaged") == std::string::npos) error = damaged(error);
    return false;
  }
  std::string pending;
  if (store_.get("meta/pending", pending, error) && !decode_pending(p_, pending, out.pending, error)) return false;
  if (!error.empty()) return false;
  return load_intents(out, error);
}

// The open intents (recovery re-dispatches them) and the per-effect counts. Only the
// `fxo/` markers of open intents are scanned: recovery does not grow with history.
bool RunStore::load_intents(LoadedRun& out, std::string& error) const {
  std::string counts;
  if (store_.get("meta/effect_counts", counts, error)) {
    std::istringstream in(counts);
    uint64_t effect = 0, count = 0;
    while (in >> effect >> count) {
      if (effect >= p_.effects.size()) {
        error = damaged("meta/effect_counts names an effect that is not in this program");
        return false;
      }
      out.effect_counts[static_cast<uint32_t>(effect)] = count;
    }
    if (!in.eof()) {
      error = damaged("meta/effect_counts is not a list of numbers");
      return false;
    }
  } else if (!error.empty()) {
    return false;
  }
  bool observed_ok = store_.scan("obs/", [&](std::string_view key, std::string_view value) {
    uint32_t observation = 0;
    std::vector<Value> args;
    Value v;
    std::string failure, e;
    if (!decode_observation(p_, value, observation, args, v, failure, e) || !failure.empty()) {
      error = damaged("observation record `" + std::string(key) + "`" + (e.empty() ? "" : ": " + e));
      return false;
    }
    out.observed[encode_observation(observation, args, Value())] = std::move(v);
    return true;
  }, error);
  if (!observed_ok || !error.empty()) {
    if (error.find("damaged") == std::string::npos) error = damaged(error);
    return false;
  }
  std::vector<std::string> keys;
  bool ok = store_.scan("fxo/", [&](std::string_view key, std::string_view) {
    keys.push_back("fx/" + std::string(key.substr(4)));
    return true;
  }, error);
  if (!ok || !error.empty()) {
    error = damaged("the open intents: " + error);
    return false;
  }
  for (const std::string& key : keys) {
    std::string bytes;
    if (!store_.get(key, bytes, error)) {
      error = damaged("intent `" + key + "` is marked open but has no record" + (error.empty() ? "" : ": " + error));
      return false;
    }
    Intent in;
    std::string e;
    if (!decode_intent(p_, bytes, in, e)) {
      error = damaged("intent record `" + key + "`: " + e);
      return false;
    }
    if (intent_storage_key(in.tick, in.index) != key || in.completed) {
      error = damaged("intent record `" + key + "` does not fit its key");
      return false;
    }
    out.open_intents.push_back(std::move(in));
  }
  return true;
}

bool RunStore::begin(const std::string& bundle, uint64_t seed, int64_t slice_budget, const std::string& effect_bindings,
                     std::vector<Instance*> instances, std::string& error) {
  Store::Batch batch;
  batch.puts.emplace_back("meta/format", kFormat);
  batch.puts.emplace_back("meta/program_hash", hex_u64(p_.hash));
  batch.puts.emplace_back("meta/program_name", p_.name);
  batch.puts.emplace_back("meta/program", bundle);
  batch.puts.emplace_back("meta/seed", std::to_string(seed));
  batch.puts.emplace_back("meta/slice_budget", std::to_string(slice_budget));
  batch.puts.emplace_back("meta/effects", effect_bindings);
  batch.puts.emplace_back("meta/tick", "0");
  for (Instance* in : instances) write_instance(*in, batch);
  if (!store_.commit(batch, sync_, error)) {
    error = "cannot write to the data dir: " + error;
    return false;
  }
  return true;
}

// The instance record, and its mailbox's changes: what was enqueued and still is is put,
// what was dequeued and had been stored is deleted.
void RunStore::write_instance(Instance& in, Store::Batch& batch) const {
  std::set<std::pair<bool, uint64_t>> gone;
  for (const auto& r : in.mailbox_removed) gone.emplace(r.high, r.position);
  for (auto& a : in.mailbox_added) {
    if (gone.erase({a.high, a.position})) continue;  // enqueued and dequeued since the last commit
    batch.puts.emplace_back(mailbox_storage_key(p_, in.key, a.high, a.position), std::move(a.bytes));
  }
  for (const auto& [high, position] : gone) batch.deletes.push_back(mailbox_storage_key(p_, in.key, high, position));
  in.mailbox_added.clear();
  in.mailbox_removed.clear();
  batch.puts.emplace_back(instance_storage_key(p_, in.key), encode_instance(in));
}

bool RunStore::commit(const TickWrite& w, std::string& error) {
  Store::Batch batch;
  for (Instance* in : w.changed) write_instance(*in, batch);
  batch.puts.emplace_back("meta/pending", encode_pending(*w.pending));
  for (const Intent* in : w.intents) {
    batch.puts.emplace_back(intent_storage_key(in->tick, in->index), encode_intent(*in));
    if (in->completed) batch.deletes.push_back(open_intent_storage_key(in->tick, in->index));
    else batch.puts.emplace_back(open_intent_storage_key(in->tick, in->index), "");
  }
  if (w.observed)
    for (const auto& [key, record] : *w.observed) batch.puts.emplace_back("obs/" + hex_bytes(key), record);
  if (w.effect_counts) {
    std::string counts;
    for (const auto& [effect, count] : *w.effect_counts) counts += std::to_string(effect) + " " + std::to_string(count) + "\n";
    batch.puts.emplace_back("meta/effect_counts", counts);
  }
  const std::vector<std::string>& journal = *w.journal;
  const std::string prefix = "jrnl/" + hex_u64(static_cast<uint64_t>(w.tick)) + "/";
  size_t first = 0;
  if (w.append && !store_.scan(prefix, [&](std::string_view, std::string_view) {
        ++first;
        return true;
      }, error)) {
    error = "cannot read the journal: " + error;
    return false;
  }
  for (size_t k = 0; k < journal.size(); ++k) batch.puts.emplace_back(prefix + hex_u64(first + k), journal[k]);
  batch.puts.emplace_back("meta/tick", std::to_string(w.tick));
  batch.puts.emplace_back("meta/timer_sequence", std::to_string(w.timer_sequence));
  if (!store_.commit(batch, sync_, error)) {
    error = "cannot write the tick to the data dir: " + error;
    return false;
  }
  return true;
}

bool RunStore::record_arrival(const Intent& intent, std::string& error) {
  Store::Batch batch;
  batch.puts.emplace_back(intent_storage_key(intent.tick, intent.index), encode_intent(intent));
  if (!store_.commit(batch, sync_, error)) {
    error = "cannot write to the data dir: " + error;
    return false;
  }
  return true;
}

bool RunStore::mark_dispatched(const std::vector<const Intent*>& intents, bool sync, std::string& error) {
  Store::Batch batch;
  for (const Intent* in : intents) batch.puts.emplace_back(intent_storage_key(in->tick, in->index), encode_intent(*in));
  if (!store_.commit(batch, sync, error)) {
    error = "cannot write to the data dir: " + error;
    return false;
  }
  return true;
}

bool RunStore::add_slice_times(const SliceTimes& times, std::string& error) {
  SliceTimes total;
  if (!slice_times(total, error)) return false;
  Store::Batch batch;
  for (const auto& [domain, buckets] : times.per_domain) {
    auto& sum = total.per_domain[domain];
    std::string text;
    for (size_t k = 0; k < SliceTimes::kBuckets; ++k) {
      sum[k] += buckets[k];
      text += (k ? " " : "") + std::to_string(sum[k]);
    }
    batch.puts.emplace_back("stat/slice_us/" + domain, text);
  }
  return batch.empty() || store_.commit(batch, sync_, error);
}

bool RunStore::slice_times(SliceTimes& out, std::string& error) const {
  return store_.scan("stat/slice_us/", [&](std::string_view key, std::string_view value) {
    auto& buckets = out.per_domain[std::string(key.substr(std::string_view("stat/slice_us/").size()))];
    std::istringstream in{std::string(value)};
    for (size_t k = 0; k < SliceTimes::kBuckets && (in >> buckets[k]); ++k) {
    }
    return true;
  }, error);
}

}  // namespace ved::vm
