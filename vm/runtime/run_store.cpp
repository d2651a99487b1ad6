#include "vm/runtime/run_store.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <sstream>
#include <system_error>

#include <xxhash.h>

#include "vm/bundle_loader.h"
#include "vm/interpreter.h"
#include "vm/runtime/journal_render.h"
#include "vm/runtime/program_history.h"
#include "vm/runtime/instance_codec.h"
#include "vm/runtime_library.h"

namespace ved::vm {

namespace {

std::string damaged(const std::string& what) { return "the data dir is damaged: " + what; }

// A failed read as the run's error: the store's damage says so already.
std::string damaged(const Status& s) { return s.is_damaged() ? s.message() : damaged(s.message()); }

// A record every run has: false with `error` naming it when it is missing or unreadable.
bool read_required(const Store& store, std::string_view key, std::string& value, std::string& error) {
  const Status s = store.get(key, value);
  if (s.is_not_found()) error = damaged(std::string(key) + " is missing");
  else if (!s.is_ok()) error = damaged(s);
  return s.is_ok();
}

// A record a run may lack: `found` says whether it is there; false with `error` only when
// it cannot be read.
bool read_optional(const Store& store, std::string_view key, std::string& value, bool& found, std::string& error) {
  const Status s = store.get(key, value);
  found = s.is_ok();
  if (s.is_ok() || s.is_not_found()) return true;
  error = damaged(s);
  return false;
}

// A scan whose visitor may fail with `error`: false with `error` set when it or the scan did.
bool scan_checked(const Store& store, std::string_view prefix,
                  const std::function<bool(std::string_view, std::string_view)>& visit, std::string& error) {
  error.clear();  // what the visitor says, if it fails
  const Status s = store.scan(prefix, visit);
  if (!s.is_ok() && error.empty()) error = s.message();
  return s.is_ok() && error.empty();
}

// What damage found after the database opened must say: nothing ran, and how to
// start over if the data is lost for good.
constexpr const char* kNothingChanged = " (refused before anything ran; --fresh discards the data dir and starts over)";

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

std::string encode_pending(const std::vector<Delivery>& pending) {
  std::string out;
  for (const Delivery& d : pending) {
    // Encoded in place after room for its length, which is then written in.
    const size_t at = out.size();
    out.append(16, '0');
    append_delivery(d.target, d.message, out);
    write_hex_u64(out.size() - at - 16, out.data() + at);
  }
  return out;
}

uint64_t record_digest(std::string_view key, std::string_view value) {
  return XXH64(value.data(), value.size(), XXH64(key.data(), key.size(), 0));
}

bool RunStore::holds_run(bool& holds, std::string& error) const {
  std::string ignored;
  if (!read_optional(store_, "meta/program_hash", ignored, holds, error)) return false;
  if (!holds && store_.committed().tick >= 0) {
    error = damaged("VED-DATA-DIR says the run had committed tick " + std::to_string(store_.committed().tick) +
                    ", but its database holds no run: its records were lost (a MANIFEST or write-ahead log cut short "
                    "or removed?)" + kNothingChanged);
    return false;
  }
  return true;
}

// An upgrade's batch is durable before VED-DATA-DIR names the new program: a crash
// between the two leaves the marker at an earlier program of the history, at a tick
// before the upgrade.
bool RunStore::marker_lags_upgrade(const CommittedMark& mark) const {
  ProgramHistory history;
  std::string ignored;
  if (!history.open(store_, nullptr, ignored)) return false;
  const auto& epochs = history.epochs();
  for (size_t k = 0; k + 1 < epochs.size(); ++k)
    if (epochs[k].hash == mark.program_hash && mark.tick < epochs.back().first_tick) return true;
  return false;
}

bool RunStore::check_against_marker(int64_t tick, const std::string& program_hash, std::string& error) const {
  const CommittedMark& mark = store_.committed();
  if (mark.tick < 0) return true;  // a crash between the run's first write and the marker's
  if (program_hash != hex_u64(mark.program_hash) && !marker_lags_upgrade(mark)) {
    error = damaged("its database holds program hash " + program_hash + ", but VED-DATA-DIR says " +
                    hex_u64(mark.program_hash) + kNothingChanged);
    return false;
  }
  if (tick < mark.tick) {
    error = damaged("VED-DATA-DIR says tick " + std::to_string(mark.tick) +
                    " was committed, but its database holds only up to tick " + std::to_string(tick) +
                    ": committed ticks were lost (a write-ahead log or MANIFEST cut short or removed?)" +
                    kNothingChanged);
    return false;
  }
  if (tick == mark.tick && digest_ != mark.digest) {
    error = damaged("the records its database holds for tick " + std::to_string(tick) +
                    " are not the ones that tick committed (digest " + hex_u64(digest_) + ", VED-DATA-DIR says " +
                    hex_u64(mark.digest) + "): records were lost or rolled back" + kNothingChanged);
    return false;
  }
  return true;
}

bool RunStore::mark_durable(bool sync, std::string& error) { return mark_durable(last_tick_, digest_, sync, error); }

bool RunStore::mark_durable(int64_t tick, uint64_t digest, bool sync, std::string& error) {
  if (const Status s = store_.mark_committed(CommittedMark{tick, p_.hash, digest}, sync); !s.is_ok()) {
    error = s.message();
    return false;
  }
  last_durable_ = tick == last_tick_;
  return true;
}

bool RunStore::load(LoadedRun& out, std::string& error) {
  std::string stored_hash, format, name, seed_text;
  if (!read_required(store_, "meta/program_hash", stored_hash, error) ||
      !read_required(store_, "meta/format", format, error) || !read_required(store_, "meta/program_name", name, error))
    return false;
  if (format != run_format()) {
    error = "the data dir was written by another version of the VM (format `" + format + "`)";
    return false;
  }
  if (stored_hash != hex_u64(p_.hash)) {
    error = "the data dir holds the state of program `" + name + "` (hash " + stored_hash + "), not of `" + p_.name +
            "` (hash " + hex_u64(p_.hash) + "); use --fresh to start over, or another --data-dir";
    return false;
  }
  RunHead head;
  std::string head_text;
  if (!read_required(store_, "meta/head", head_text, error)) return false;
  if (!decode_run_head(head_text, head)) {
    error = damaged(kRunHeadShape);
    return false;
  }
  if (!recover_from_log(head, error)) return false;
  std::string budget;
  bool has_budget = false;
  if (!read_required(store_, "meta/seed", seed_text, error) ||
      !read_optional(store_, "meta/slice_budget", budget, has_budget, error))
    return false;
  try {
    out.seed = std::stoull(seed_text);
    if (has_budget) out.slice_budget = std::stoll(budget);
  } catch (const std::exception&) {
    error = damaged("meta/seed or meta/slice_budget is not a number");
    return false;
  }
  out.tick = head.tick;
  out.timer_sequence = head.timer_sequence;
  out.last_foreground_tick = head.last_foreground_tick;
  const std::string stored_digest = hex_u64(head.digest);
  digest_ = 0;
  bool has_bindings = false;
  if (!read_optional(store_, "meta/effects", out.effect_bindings, has_bindings, error)) return false;

  std::map<std::string, size_t> by_key;
  bool ok = scan_checked(store_, "inst/", [&](std::string_view key, std::string_view value) {
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
    in.stored_digest = record_digest(key, value);
    digest_ += in.stored_digest;
    by_key[std::string(key)] = out.instances.size();
    out.instances.push_back(std::move(in));
    return true;
  }, error);
  if (!ok) {
    error = damaged(error);
    return false;
  }
  // Mailboxes: one key per entry, in queue order.
  ok = scan_checked(store_, "mbox/", [&](std::string_view key, std::string_view value) {
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
    digest_ += record_digest(key, {});
    return true;
  }, error);
  if (!ok) {
    error = damaged(error);
    return false;
  }
  std::string pending;
  bool has_pending = false;
  if (!read_optional(store_, "meta/pending", pending, has_pending, error)) return false;
  if (has_pending && !decode_pending(p_, pending, out.pending, error)) return false;
  if (!load_intents(out, error)) return false;
  // Everything live was read: it must add up to what the last commit wrote, and to what
  // VED-DATA-DIR says was durable.
  if (stored_digest != hex_u64(digest_)) {
    error = damaged("the records its database holds do not add up to what tick " + std::to_string(out.tick) +
                    " committed (digest " + hex_u64(digest_) + ", meta/head says " + stored_digest +
                    "): records were lost or rolled back (a MANIFEST cut short?)" + kNothingChanged);
    return false;
  }
  if (!check_against_marker(out.tick, stored_hash, error)) return false;
  last_tick_ = out.tick;
  last_durable_ = store_.committed().tick == out.tick && store_.committed().digest == digest_;
  return true;
}

bool RunStore::read_digest_parts(std::string& error) {
  std::string counts;
  bool has_counts = false;
  if (!read_optional(store_, "meta/effect_counts", counts, has_counts, error)) return false;
  effect_counts_digest_ = has_counts ? record_digest("meta/effect_counts", counts) : 0;
  observed_digest_.clear();
  return scan_checked(store_, "obs/", [&](std::string_view key, std::string_view value) {
    observed_digest_[std::string(key)] = record_digest(key, value);
    return true;
  }, error);
}

bool RunStore::recover_from_log(RunHead& head, std::string& error) {
  next_frame_ = head.frames;
  // Read from the checkpoint's own last frame, which must still be there: a journal that
  // lost what the state was made from is damaged, even where the state survived.
  const uint64_t from = head.frames > 0 ? head.frames - 1 : 0;
  bool checkpoint_frame_seen = head.frames == 0;
  bool any = false;
  std::string problem;
  LogEnd end;
  const LogPosition* at = head.frames > 0 ? &head.last_frame : nullptr;
  const Status s = store_.scan_log(from, [&](uint64_t number, int64_t tick, std::string_view payload) {
    if (number < head.frames) {
      checkpoint_frame_seen = true;
      return true;
    }
    TickRecord r;
    if (!decode_tick_record(payload, r, problem) || r.tick != tick) {
      problem = "the journal's frame " + std::to_string(number) + ": " +
                (problem.empty() ? "it holds another tick than its header says" : problem);
      return false;
    }
    if (!any) {
      // The parts of the digest that applying moves, as the checkpoint stored them.
      if (!read_digest_parts(problem)) return false;
      digest_ = head.digest;
      last_tick_ = head.tick;
      any = true;
    }
    if (r.tick < last_tick_) {
      problem = "the journal's frame " + std::to_string(number) + " holds tick " + std::to_string(r.tick) +
                ", after tick " + std::to_string(last_tick_);
      return false;
    }
    head = RunHead{r.tick, r.timer_sequence, r.last_foreground_tick, 0, ++next_frame_, {}};
    last_tick_ = r.tick;
    apply_writes(std::move(r));
    return true;
  }, end, at);
  if (!s.is_ok()) {
    error = damaged(s);
    return false;
  }
  if (!problem.empty()) {
    error = damaged(problem) + kNothingChanged;
    return false;
  }
  if (!checkpoint_frame_seen) {
    error = damaged("the journal has lost frame " + std::to_string(head.frames - 1) +
                    ", which the stored state was made from" + (end.damage.empty() ? "" : ": " + end.damage) +
                    kNothingChanged);
    return false;
  }
  if (!any) return true;
  // What the frames made is written as a checkpoint, so that it is loaded (and checked
  // against the digest) as any other, and the next recovery starts from here. The
  // frames were read back from a log the last process may never have synced: durable
  // first, or a power cut could keep the checkpoint and lose what it was made from.
  if (store_.writable_log())
    if (const Status s = store_.log().sync_earlier_segments(); !s.is_ok()) {
      error = "cannot write to the data dir: " + s.message();
      return false;
    }
  head.digest = digest_;
  head.last_frame = end.last;
  Store::Batch batch;
  if (state_pending_) state_.put("meta/pending", std::move(*state_pending_));
  state_pending_.reset();
  state_.put("meta/head", encode_run_head(head));
  state_.take(batch);
  if (const Status w = store_.commit(batch, /*sync=*/false); !w.is_ok()) {
    error = "cannot write to the data dir: " + w.message();
    return false;
  }
  digest_ = 0;  // summed again by the load, record by record
  effect_counts_digest_ = 0;
  observed_digest_.clear();
  last_tick_ = -1;
  return true;
}

// The open intents (recovery re-dispatches them) and the per-effect counts. Only the
// `fxo/` markers of open intents are scanned: recovery does not grow with history.
bool RunStore::load_intents(LoadedRun& out, std::string& error) {
  std::string counts;
  bool has_counts = false;
  if (!read_optional(store_, "meta/effect_counts", counts, has_counts, error)) return false;
  if (has_counts) {
    effect_counts_digest_ = record_digest("meta/effect_counts", counts);
    digest_ += effect_counts_digest_;
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
  }
  bool observed_ok = scan_checked(store_, "obs/", [&](std::string_view key, std::string_view value) {
    uint32_t observation = 0;
    std::vector<Value> args;
    Value v;
    std::string failure, e;
    if (!decode_observation(p_, value, observation, args, v, failure, e) || !failure.empty()) {
      error = damaged("observation record `" + std::string(key) + "`" + (e.empty() ? "" : ": " + e));
      return false;
    }
    out.observed[encode_observation(observation, args, Value())] = std::move(v);
    const uint64_t part = record_digest(key, value);
    observed_digest_[std::string(key)] = part;
    digest_ += part;
    return true;
  }, error);
  if (!observed_ok) {
    error = damaged(error);
    return false;
  }
  std::vector<std::string> keys;
  bool ok = scan_checked(store_, "fxo/", [&](std::string_view key, std::string_view) {
    digest_ += record_digest(key, {});
    keys.push_back("fx/" + std::string(key.substr(4)));
    return true;
  }, error);
  if (!ok) {
    error = damaged("the open intents: " + error);
    return false;
  }
  for (const std::string& key : keys) {
    std::string bytes;
    if (const Status s = store_.get(key, bytes); !s.is_ok()) {
      error = damaged("intent `" + key + "` is marked open but has no record" +
                      (s.is_not_found() ? "" : ": " + s.message()));
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
                     TickRecord initial, std::string& error) {
  Store::Batch batch;
  digest_ = 0;
  batch.put("meta/format", run_format());
  batch.put("meta/program_hash", hex_u64(p_.hash));
  batch.put("meta/program_name", p_.name);
  batch.put("meta/program", bundle);
  batch.put("meta/seed", std::to_string(seed));
  batch.put("meta/slice_budget", std::to_string(slice_budget));
  batch.put("meta/effects", effect_bindings);
  batch.put("meta/programs", encode_program_history({ProgramEpoch{0, p_.hash}}));
  batch.put(program_storage_key(p_.hash), bundle);
  initial.tick = 0;
  const uint64_t timer_sequence = initial.timer_sequence;
  // Tick 0's record is kept with the state it begins, in the database: the log starts at
  // tick 1.
  batch.put(tick_record_key(0), encode_tick_record(initial));
  apply_writes(std::move(initial));
  state_.put("meta/pending", std::move(*state_pending_));
  state_pending_.reset();
  state_.take(batch);
  batch.put("meta/head", encode_run_head(RunHead{0, timer_sequence, -1, digest_, 0, {}}));
  next_frame_ = 0;
  // Durable whatever --sync says: that the run began, and its program, are what a
  // damaged database must never make a later run forget (VED-DATA-DIR keeps them).
  if (const Status s = store_.commit(batch, /*sync=*/true); !s.is_ok()) {
    error = "cannot write to the data dir: " + s.message();
    return false;
  }
  last_tick_ = 0;
  return mark_durable(/*sync=*/true, error);
}

void RunStore::apply_writes(TickRecord r) {
  for (TickRecord::InstanceWrite& in : r.instances) {
    digest_ += (in.digest ? *in.digest : record_digest(in.key, in.value)) - in.replaces;
    state_.put(in.key, std::move(in.value));
  }
  // Mailbox entries are written once and then only deleted: they count by key.
  for (TickRecord::Put& e : r.enqueued) {
    digest_ += record_digest(e.key, {});
    state_.put_new(e.key, std::move(e.value));
  }
  for (const std::string& key : r.dequeued) {
    digest_ -= record_digest(key, {});
    state_.remove(key);
  }
  state_pending_ = std::move(r.pending);  // written once a checkpoint
  for (TickRecord::IntentWrite& x : r.intents) {
    state_.put(intent_storage_key(x.tick, x.index), std::move(x.value));
    const std::string open_key = open_intent_storage_key(x.tick, x.index);
    if (x.completed) {
      digest_ -= record_digest(open_key, {});
      state_.remove(open_key);
    } else {
      digest_ += record_digest(open_key, {});
      state_.put_new(open_key, "");
    }
  }
  for (TickRecord::Put& o : r.observed) {
    uint64_t& part = observed_digest_[o.key];
    digest_ -= part;
    part = record_digest(o.key, o.value);
    digest_ += part;
    state_.put(o.key, std::move(o.value));
  }
  if (r.effect_counts) {
    digest_ -= effect_counts_digest_;
    effect_counts_digest_ = record_digest("meta/effect_counts", *r.effect_counts);
    digest_ += effect_counts_digest_;
    state_.put("meta/effect_counts", std::move(*r.effect_counts));
  }
}

bool RunStore::apply(TickRecord r, bool append, std::string& error) {
  // Ticks are applied in order, each once: a tick at or before the last applied one
  // (applied twice, or out of order) is refused before anything of it is written, so a
  // caller's mistake cannot double a message or roll the run back. A `resume` between
  // runs adds to the last applied tick itself.
  if (last_tick_ < 0 || (append ? r.tick != last_tick_ : r.tick <= last_tick_)) {
    error = "tick " + std::to_string(r.tick) + " refused: " +
            (last_tick_ < 0 ? std::string("no run has begun in this store")
                            : "the last committed tick is " + std::to_string(last_tick_) +
                                  (append ? " (a resume adds to it)" : " (ticks are applied once, in order)"));
    return false;
  }
  // A tick that fails while being written (a value too deep to store) must leave nothing
  // of itself in the group: the group is dropped whole, as a crash would drop it, and the
  // run stops (the ticks it held are recomputed by the next run).
  try {
    return apply_into_group(std::move(r), append, error);
  } catch (...) {
    // The writes it made to the gathered state cannot be told from the earlier ticks':
    // nothing gathered since the last checkpoint may be written now.
    group_frames_.clear();
    state_.abandon();  // (not destroyed: the failure may have been an allocation inside it)
    state_pending_.reset();
    state_head_.reset();
    throw;
  }
}

bool RunStore::apply_into_group(TickRecord r, bool /*append*/, std::string& error) {
  // A `resume`'s part of the last tick is a frame of its own, with that tick: readers join
  // the parts of a tick (scan_tick_records).
  const int64_t tick = r.tick;
  const uint64_t timer_sequence = r.timer_sequence;
  const int64_t foreground = r.last_foreground_tick;
  if (group_ticks_ == 0) {
    group_started_ = clock_.now();
    group_first_frame_ = next_frame_;
  }
  // Framed in place, first: the writes' bytes then move into the state instead of being copied.
  group_last_frame_at_ = begin_log_frame(group_frames_);
  append_tick_record(group_frames_, r);
  finish_log_frame(group_frames_, group_last_frame_at_, next_frame_++, tick);
  apply_writes(std::move(r));
  state_head_ = RunHead{tick, timer_sequence, foreground, digest_, next_frame_, {}};  // the place: once written
  ++group_ticks_;
  last_tick_ = tick;
  last_durable_ = false;
  const bool full = group_ticks_ >= max_group_ticks_ || group_frames_.size() >= kGroupBytes;
  // A group old enough but not full goes on gathering while the one before it is still
  // being written: waiting for that write would leave the tick loop idle.
  const bool old = clock_.now() - group_started_ >= max_group_age_ && !(writer_ && writer_->busy());
  return full || old ? flush(error) : true;
}

// A group the cluster did not commit says why in its own words; anything else failed here.
static std::string group_write_error(const Status& s) {
  return s.code() == Status::Code::NotCommitted ? s.message() : "cannot write the tick to the data dir: " + s.message();
}

bool RunStore::flush(std::string& error) { return write_group(sync_, /*wait=*/false, /*checkpoint=*/false, error); }

RunStore::~RunStore() = default;

bool RunStore::write_group(bool sync, bool wait, bool checkpoint, std::string& error) {
  log_bytes_since_checkpoint_ += group_frames_.size();
  const bool changed = !state_.empty() || state_head_ || state_pending_;
  const bool due = log_bytes_since_checkpoint_ >= checkpoint_log_bytes_ || state_.bytes() >= checkpoint_state_bytes_;
  const bool with_checkpoint = changed && (checkpoint || due);
  if (group_frames_.empty() && !with_checkpoint) return wait ? collect(error) : true;
  GroupWrite write;
  write.first_frame = group_first_frame_;
  write.frame_count = group_frames_.empty() ? 0 : next_frame_ - group_first_frame_;
  write.frames = std::move(group_frames_);
  write.last_frame_at = group_last_frame_at_;
  group_frames_.clear();
  group_ticks_ = 0;
  write.sync = sync;
  write.replicator = replicator_;
  if (with_checkpoint) {
    Store::Batch batch;
    if (state_pending_) state_.put("meta/pending", std::move(*state_pending_));
    write.head = state_head_;
    state_pending_.reset();
    state_head_.reset();
    state_.take(batch);
    write.checkpoint = std::move(batch);
    // One asked for (an intent about to be released, the end of a run) is durable on
    // return; one that is merely due need not be: the log holds everything it does.
    write.sync_checkpoint = checkpoint;
    log_bytes_since_checkpoint_ = 0;
  }
  // One write in flight at a time, so that groups reach the disk in order.
  if (!collect(error)) return false;
  // A group is written by the GroupWriter while the next one is computed (on a machine
  // with a second core, the write costs the tick loop nothing; synced, it waits for the
  // disk there), unless the caller needs it on disk now, or every tick is its own group
  // (a trace: a printed line must never run ahead of the data dir).
  const bool durable = sync || write.checkpoint;  // the log is fsynced before a checkpoint
  if (!wait && max_group_ticks_ > 1 && !writer_refused_) {
    if (!writer_) {
      try {
        writer_ = std::make_unique<GroupWriter>(store_);
      } catch (const std::system_error&) {
        // No thread to be had (its stack does not fit under a memory limit): the
        // groups are written here instead, as they would be without the writer.
        writer_refused_ = true;
      }
    }
    if (writer_) {
      writer_->start(std::move(write), GroupWriter::Written{last_tick_, digest_, durable});
      return true;
    }
  }
  if (const Status s = write.perform(store_); !s.is_ok()) {
    error = group_write_error(s);
    return false;
  }
  // Synced, the group is on disk now; otherwise VED-DATA-DIR waits for the next synced
  // write (mark_dispatched, sync_committed), so that it never runs ahead of what a power
  // cut would leave.
  return !durable || mark_durable(/*sync=*/false, error);
}

bool RunStore::collect(std::string& error) {
  if (!writer_ || !writer_->in_flight()) return true;
  std::optional<GroupWriter::Written> done;
  if (const Status s = writer_->wait(done); !s.is_ok()) {
    error = group_write_error(s);
    return false;
  }
  // An unsynced group is written, not durable: VED-DATA-DIR waits for a synced write.
  return !done->durable || mark_durable(done->tick, done->digest, /*sync=*/false, error);
}

bool RunStore::sync_committed(std::string& error) {
  if (!write_group(/*sync=*/true, /*wait=*/true, /*checkpoint=*/true, error)) return false;
  if (last_durable_ || last_tick_ < 0) return true;
  // Nothing was left to write, but what was written may not be durable yet.
  Status s = store_.log().sync();
  if (s.is_ok()) s = store_.sync();
  if (!s.is_ok()) {
    error = "cannot write to the data dir: " + s.message();
    return false;
  }
  return mark_durable(false, error);
}

bool RunStore::record_arrival(const Intent& intent, std::string& error) {
  Store::Batch batch;
  batch.put(intent_storage_key(intent.tick, intent.index), encode_intent(intent));
  if (const Status s = store_.commit(batch, sync_); !s.is_ok()) {
    error = "cannot write to the data dir: " + s.message();
    return false;
  }
  return true;
}

bool RunStore::mark_dispatched(const std::vector<const Intent*>& intents, std::string& error) {
  for (const Intent* in : intents) state_.put(intent_storage_key(in->tick, in->index), encode_intent(*in));
  return sync_committed(error);
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
    batch.put("stat/slice_us/" + domain, text);
  }
  if (batch.empty()) return true;
  const Status s = store_.commit(batch, sync_);
  if (!s.is_ok()) error = s.message();
  return s.is_ok();
}

bool RunStore::slice_times(SliceTimes& out, std::string& error) const {
  return scan_checked(store_, "stat/slice_us/", [&](std::string_view key, std::string_view value) {
    auto& buckets = out.per_domain[std::string(key.substr(std::string_view("stat/slice_us/").size()))];
    std::istringstream in{std::string(value)};
    for (size_t k = 0; k < SliceTimes::kBuckets && (in >> buckets[k]); ++k) {
    }
    return true;
  }, error);
}

bool RunStore::add_engine_stats(const std::string& engine, uint64_t functions, uint64_t instructions,
                                uint64_t compile_us, const std::string& compile_error, std::string& error) {
  EngineTotals total;
  if (!engine_stats(total, error)) return false;
  Store::Batch batch;
  batch.put("stat/engine/" + engine, std::to_string(total.runs[engine] + 1));
  batch.put("stat/jit", std::to_string(total.functions + functions) + " " + std::to_string(total.instructions + instructions) +
                            " " + std::to_string(total.compile_us + compile_us));
  if (!compile_error.empty()) batch.put("stat/jit_error", compile_error);
  const Status s = store_.commit(batch, sync_);
  if (!s.is_ok()) error = s.message();
  return s.is_ok();
}

bool RunStore::engine_stats(EngineTotals& out, std::string& error) const {
  const bool ok = scan_checked(store_, "stat/engine/", [&](std::string_view key, std::string_view value) {
    out.runs[std::string(key.substr(std::string_view("stat/engine/").size()))] = std::strtoull(std::string(value).c_str(), nullptr, 10);
    return true;
  }, error);
  if (!ok) return false;
  std::string jit;
  bool found = false;
  if (!read_optional(store_, "stat/jit", jit, found, error)) return false;
  if (found) {
    std::istringstream in{jit};
    in >> out.functions >> out.instructions >> out.compile_us;
  }
  return read_optional(store_, "stat/jit_error", out.compile_error, found, error);
}

bool last_committed_tick(const Store& store, int64_t& tick, std::string& error) {
  RunHead head;
  if (!read_run_head(store, head, error)) return false;
  tick = head.tick;
  if (head.frames == 0) return true;  // the log holds nothing the checkpoint does not: nothing after it
  LogEnd end;
  const Status s = store.scan_log(head.frames - 1, [&](uint64_t, int64_t t, std::string_view) {
    tick = std::max(tick, t);
    return true;
  }, end, &head.last_frame);
  if (!s.is_ok()) error = s.message();
  return s.is_ok();
}

bool scan_tick_records(const Store& store, int64_t from, int64_t to,
                       const std::function<bool(const TickRecord&)>& visit, std::string& error) {
  // The records kept in the database (tick 0's, an upgrade's): few, read first.
  std::vector<TickRecord> kept;
  std::string problem;
  bool ok = scan_checked(store, "tick/", [&](std::string_view key, std::string_view value) {
    uint64_t t = 0;
    if (key.size() != 5 + 16 || !parse_hex_u64(key.substr(5), t) || t > static_cast<uint64_t>(kLastTick)) {
      problem = "the journal has a malformed key";
      return false;
    }
    const auto tick = static_cast<int64_t>(t);
    if (tick > to) return false;
    TickRecord record;
    if (!decode_tick_record(value, record, problem) || record.tick != tick) {
      problem = damaged(std::string(key) + ": " + (problem.empty() ? "it holds another tick" : problem));
      return false;
    }
    kept.push_back(std::move(record));
    return true;
  }, error);
  if (!problem.empty()) error = problem;
  if (!ok || !problem.empty()) return false;
  RunHead head;
  if (!read_run_head(store, head, error)) {
    error = damaged(error);
    return false;
  }
  // Both sources in tick order; the parts of one tick (a `resume` adds a part to the last
  // tick) joined before the tick is visited.
  std::optional<TickRecord> current;
  size_t next_kept = 0;
  bool stopped = false;  // the visitor said so
  int64_t reached = -1;  // the last tick seen, the one past `to` that ended the scan included
  auto take = [&](TickRecord&& r) {
    reached = std::max(reached, r.tick);
    if (current && r.tick == current->tick) {
      current->append(std::move(r));
      return true;
    }
    if (current && r.tick < current->tick) {
      problem = damaged("the journal's record of tick " + std::to_string(r.tick) + " comes after tick " +
                        std::to_string(current->tick) + "'s");
      return false;
    }
    if (current && current->tick >= from && !visit(*current)) {
      stopped = true;
      return false;
    }
    current = std::move(r);
    return true;
  };
  auto take_kept_up_to = [&](int64_t tick) {
    for (; next_kept < kept.size() && kept[next_kept].tick <= tick; ++next_kept)
      if (!take(std::move(kept[next_kept]))) return false;
    return true;
  };
  LogEnd end;
  const Status s = store.scan_log(0, [&](uint64_t number, int64_t tick, std::string_view payload) {
    if (!take_kept_up_to(tick)) return false;
    if (tick > to) {
      reached = std::max(reached, tick);
      return false;
    }
    TickRecord r;
    if (tick < from) {
      r.tick = tick;  // before the range: only its place is checked
      return take(std::move(r));
    }
    if (!decode_tick_record(payload, r, problem) || r.tick != tick) {
      problem = damaged("the journal's frame " + std::to_string(number) + ": " +
                        (problem.empty() ? "it holds another tick than its header says" : problem));
      return false;
    }
    return take(std::move(r));
  }, end);
  if (!s.is_ok()) {
    error = damaged(s);
    return false;
  }
  if (stopped) return true;
  if (problem.empty() && take_kept_up_to(to) && current) {
    // The journal must reach the stored state: a log that stops short of it lost records.
    if (reached < std::min(head.tick, to))
      problem = damaged("the journal stops at tick " + std::to_string(reached) + ", and the stored state is at tick " +
                        std::to_string(head.tick) + (end.damage.empty() ? "" : ": " + end.damage));
    else if (current->tick >= from && !visit(*current))
      return true;
  }
  if (!problem.empty()) {
    error = problem;
    return false;
  }
  return true;
}

bool scan_journal(const Store& store, int64_t from, int64_t to,
                  const std::function<bool(int64_t, std::string_view)>& visit, std::string& error) {
  // State lines are rendered from instance records, which only the run's program reads.
  std::string bundle;
  if (!read_required(store, "meta/program", bundle, error)) return false;
  Program program;
  if (!load_bundle(bundle, program, error)) {
    error = "the program stored with the run is damaged: " + error;
    return false;
  }
  return scan_journal(program, store, from, to, visit, error);
}

bool scan_journal(const Program& program, const Store& store, int64_t from, int64_t to,
                  const std::function<bool(int64_t, std::string_view)>& visit, std::string& error) {
  // Each tick is rendered with the program in force at it (program_history.h).
  ProgramHistory history;
  if (!history.open(store, &program, error)) return false;
  std::vector<std::string> lines;
  std::string problem;
  const bool ok = scan_tick_records(store, from, to, [&](const TickRecord& record) {
    const Program* in_force = history.program(history.epoch_at(record.tick), problem);
    if (!in_force) return false;
    if (!render_journal(*in_force, record, lines, problem)) {
      problem = damaged(problem);
      return false;
    }
    for (const std::string& line : lines)
      if (!visit(record.tick, line)) return false;
    return true;
  }, error);
  if (!problem.empty()) error = problem;
  return ok && problem.empty();
}

}  // namespace ved::vm
