#include "cluster/state_machine.h"

#include <set>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <msgpack.hpp>
#include <xxhash.h>

#include <cstring>
#include <map>
#include <memory>

#include "cluster/program_placement.h"
#include "cluster/strict_msgpack.h"
#include "vm/bundle_loader.h"
#include "vm/program.h"
#include "vm/runtime/record_log.h"

namespace ved::cluster {

namespace {

std::string be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}
uint64_t from_be64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

using Packer = msgpack::packer<msgpack::sbuffer>;
void pack_str(Packer& p, std::string_view s) {
  p.pack_str(static_cast<uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}
void pack_bin(Packer& p, std::string_view s) {
  p.pack_bin(static_cast<uint32_t>(s.size()));
  p.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
}

std::string encode_program(const ProgramRecord& r) {
  msgpack::sbuffer b;
  Packer p(b);
  p.pack_array(5);
  pack_str(p, r.name);
  p.pack_uint64(r.seed);
  p.pack_uint64(r.bundle_bytes);
  pack_str(p, r.status);
  pack_str(p, r.group);
  return std::string(b.data(), b.size());
}

std::string encode_member(const MemberRecord& m) {
  msgpack::sbuffer b;
  Packer p(b);
  p.pack_array(5);
  pack_str(p, m.info.address);
  pack_str(p, m.info.group);
  pack_str(p, m.info.public_key);
  if (m.up) p.pack_true(); else p.pack_false();
  if (m.eligible) p.pack_true(); else p.pack_false();
  return std::string(b.data(), b.size());
}

ProgramRecord decode_program(uint64_t id, std::string_view bytes) {
  ProgramRecord r;
  r.id = id;
  try {
    auto h = strict::unpack_one(bytes, "program record");
    // Four fields before deploy groups were recorded (then it has none).
    const bool with_group = h.get().type == msgpack::type::ARRAY && h.get().via.array.size == 5;
    const auto* f = strict::array(h.get(), with_group ? 5 : 4, "program record");
    r.name = strict::str(f[0], kMaxNameBytes, "program name");
    r.seed = strict::u64(f[1], "program seed");
    r.bundle_bytes = strict::u64(f[2], "program bundle size");
    r.status = strict::str(f[3], 64, "program status");
    if (with_group) r.group = strict::str(f[4], kMaxNameBytes, "program group");
  } catch (const strict::DecodeError& e) {
    r.status = std::string("damaged: ") + e.what();
  }
  return r;
}

bool get(leveldb::DB* db, const std::string& key, std::string& value) {
  return db->Get(leveldb::ReadOptions(), key, &value).ok();
}

// The environments a program's deploys name (program_deploy_groups), read from its bundle:
// every node reads the same bytes alike. A bundle that does not load names none (its
// runner reports it, as ever).
std::string bundle_deploy_groups(const std::string& bundle) {
  ved::vm::Program program;
  std::string ignored;
  return ved::vm::load_bundle(bundle, program, ignored) ? program_deploy_groups(program) : "";
}

}  // namespace

StateMachine::StateMachine(leveldb::DB* db) : db_(db) {
  fsm_.version = 1;
  fsm_.data = this;
  fsm_.apply = m_apply;
  fsm_.snapshot = m_snapshot;
  fsm_.restore = m_restore;
}

uint64_t StateMachine::applied_index() {
  std::string v;
  return get(db_, fsm_keys::kApplied, v) ? from_be64(v) : 0;
}

uint64_t StateMachine::digest() {
  std::string v;
  return get(db_, fsm_keys::kDigest, v) ? from_be64(v) : 0;
}

bool StateMachine::apply(uint64_t index, const std::string& bytes, ApplyResult* result, std::string& error) {
  const uint64_t applied = applied_index();
  JournalEntry entry;
  std::string reason;
  const bool decoded = decode_entry(bytes, entry, reason);
  if (index <= applied) {
    // Applied before a crash or restart; libraft replays it. Only a Submit's answer is
    // needed again (a client retrying after the crash gets its program id).
    if (result && decoded)
      if (const auto* submit = std::get_if<SubmitEntry>(&entry)) {
        std::string id;
        if (get(db_, fsm_keys::kRequestPrefix + submit->request_id, id)) result->program_id = from_be64(id);
      }
    return true;
  }
  leveldb::WriteBatch batch;
  if (!decoded) {
    batch.Put(fsm_keys::kRefusedPrefix + be64(index), reason);
    if (result) result->refused = reason;
  } else if (const auto* submit = std::get_if<SubmitEntry>(&entry)) {
    std::string existing;
    if (get(db_, fsm_keys::kRequestPrefix + submit->request_id, existing)) {
      if (result) result->program_id = from_be64(existing);  // a retried submission
    } else {
      ProgramRecord r{index, submit->program_name, submit->seed, submit->bundle.size(), "submitted",
                      bundle_deploy_groups(submit->bundle)};
      batch.Put(fsm_keys::kProgramPrefix + be64(index), encode_program(r));
      batch.Put(fsm_keys::kBundlePrefix + be64(index), submit->bundle);
      batch.Put(fsm_keys::kRequestPrefix + submit->request_id, be64(index));
      if (result) result->program_id = index;
    }
  } else if (const auto* membership = std::get_if<MembershipEntry>(&entry)) {
    auto current = members();
    for (const auto& info : membership->nodes) {
      MemberRecord m{info, true, true};
      if (auto it = current.find(info.id); it != current.end()) {
        m.up = it->second.up;
        m.eligible = it->second.eligible;
      }
      batch.Put(fsm_keys::kMemberPrefix + be64(info.id), encode_member(m));
    }
  } else if (const auto* liveness = std::get_if<LivenessEntry>(&entry)) {
    auto current = members();
    auto it = current.find(liveness->node);
    if (it == current.end()) {
      reason = "Liveness of node " + std::to_string(liveness->node) + ", which is not a member";
      batch.Put(fsm_keys::kRefusedPrefix + be64(index), reason);
      if (result) result->refused = reason;
    } else {
      it->second.up = liveness->up;
      // Down, it receives nothing; up again, only once Eligible says it has stayed up.
      if (!liveness->up) it->second.eligible = false;
      batch.Put(fsm_keys::kMemberPrefix + be64(liveness->node), encode_member(it->second));
    }
  } else if (const auto* eligible = std::get_if<EligibleEntry>(&entry)) {
    auto current = members();
    auto it = current.find(eligible->node);
    if (it == current.end() || !it->second.up) {
      // A leader's stale proposal: the member went down (or away) since.
      reason = "Eligible of node " + std::to_string(eligible->node) + ", which is " +
               (it == current.end() ? "not a member" : "DOWN");
      batch.Put(fsm_keys::kRefusedPrefix + be64(index), reason);
      if (result) result->refused = reason;
    } else {
      it->second.eligible = true;
      batch.Put(fsm_keys::kMemberPrefix + be64(eligible->node), encode_member(it->second));
    }
  } else if (const auto* pin = std::get_if<LeaderPinEntry>(&entry)) {
    batch.Put(fsm_keys::kLeaderPin, be64(pin->node));
  } else if (const auto* placement = std::get_if<PlacementEntry>(&entry)) {
    // Epochs only move forward: a Placement at or before the current epoch (a leader's
    // stale proposal) changes nothing.
    const uint64_t epoch = placement_epoch();
    if (placement->epoch <= epoch) {
      reason = "Placement epoch " + std::to_string(placement->epoch) + " is not after the current epoch " +
               std::to_string(epoch);
      batch.Put(fsm_keys::kRefusedPrefix + be64(index), reason);
      if (result) result->refused = reason;
    } else {
      apply_placement(*placement, batch);
      batch.Put(fsm_keys::kPlacement, bytes);
    }
  } else if (const auto* slice = std::get_if<SliceBatchEntry>(&entry)) {
    // Fencing (cluster.md §1 "Execution"): a batch counts only if its node owns every
    // instance in it at the current epoch and each instance is at the version before the
    // batch's; otherwise it is counted as fenced and has no effect.
    const std::string why = fence(*slice);
    if (!why.empty()) {
      record_fenced(index, why, batch, result);
    } else {
      for (const auto& r : slice->instances) batch.Put(fsm_keys::kVersionPrefix + r.instance, be64(r.new_version));
      batch.Put(fsm_keys::kSliceBatchPrefix + be64(slice->tick) + be64(slice->node), bytes);
    }
  } else if (const auto* ticks = std::get_if<RunTicksEntry>(&entry)) {
    // A program's owner's ticks (docs/cluster.md "Running a program"): fenced unless its
    // node owns the program now and they follow the committed ones exactly; refused if
    // they are not whole frames numbered from `first_frame` on.
    std::string why = fence_run(ticks->program, ticks->node, ticks->epoch, "ticks");
    const RunRecord run_now = why.empty() ? run(ticks->program) : RunRecord{};
    if (why.empty() && fencing_ && ticks->first_frame != run_now.frames)
      why = "node " + std::to_string(ticks->node) + "'s ticks of program " + std::to_string(ticks->program) +
            " start at frame " + std::to_string(ticks->first_frame) + ", and the run has " +
            std::to_string(run_now.frames) + " frames committed";
    uint64_t next = ticks->first_frame;
    std::string malformed;
    if (why.empty() &&
        !ved::vm::read_log_frames(ticks->frames, ticks->first_frame,
                                  [&](uint64_t number, int64_t, std::string_view) { next = number + 1; }, malformed)) {
      reason = "RunTicks of program " + std::to_string(ticks->program) + ": " + malformed;
      batch.Put(fsm_keys::kRefusedPrefix + be64(index), reason);
      if (result) result->refused = reason;
    } else if (!why.empty()) {
      record_fenced(index, why, batch, result);
    } else {
      batch.Put(fsm_keys::kRunFramesPrefix + be64(ticks->program) + be64(ticks->first_frame), ticks->frames);
      batch.Put(fsm_keys::kRunHolderPrefix + be64(ticks->program), be64(ticks->node));
      batch.Put(fsm_keys::kRunNextPrefix + be64(ticks->program), be64(next));
      if (run_now.frames == 0) set_program_status(ticks->program, "running", batch);
    }
  } else if (const auto* end = std::get_if<RunEndEntry>(&entry)) {
    if (const std::string why = fence_run(end->program, end->node, end->epoch, "end", &end->frames); !why.empty()) {
      record_fenced(index, why, batch, result);
    } else {
      msgpack::sbuffer b;
      Packer p(b);
      p.pack_array(2);
      p.pack_uint32(end->exit_code);
      p.pack_array(static_cast<uint32_t>(end->summary.size()));
      for (const auto& line : end->summary) pack_str(p, line);
      batch.Put(fsm_keys::kRunEndPrefix + be64(end->program), std::string(b.data(), b.size()));
      set_program_status(end->program, "finished", batch);
    }
  } else if (const auto* lease = std::get_if<RunLeaseEntry>(&entry)) {
    // Committed and not fenced, it is the owner's proof of ownership; it changes nothing
    // but who holds the lease.
    if (const std::string why = fence_run(lease->program, lease->node, lease->epoch, "lease", &lease->frames);
        !why.empty())
      record_fenced(index, why, batch, result);
    else
      batch.Put(fsm_keys::kRunHolderPrefix + be64(lease->program), be64(lease->node));
  } else if (const auto* upgrade = std::get_if<UpgradeEntry>(&entry)) {
    apply_upgrade(index, *upgrade, batch, result);
  } else if (const auto* verdict = std::get_if<RunUpgradeEntry>(&entry)) {
    apply_run_upgrade(index, *verdict, batch, result);
  } else if (const auto* outcome = std::get_if<OutcomeEntry>(&entry)) {
    batch.Put(fsm_keys::kOutcomePrefix + outcome->intent_id, outcome->result);
  } else if (const auto* external = std::get_if<ExternalEntry>(&entry)) {
    batch.Put(fsm_keys::kExternalPrefix + be64(index), external->message);
  } else if (const auto* close = std::get_if<TickCloseEntry>(&entry)) {
    // Lockstep (cluster.md §1): tick t closes after t-1, once every node that owns an
    // instance at the current epoch has its batch for t accepted.
    const uint64_t closed = tick_closed();
    const std::set<uint64_t> missing = close->tick == closed + 1 ? nodes_missing_batch(close->tick) : std::set<uint64_t>{};
    if (close->tick != closed + 1) {
      reason = "TickClose of tick " + std::to_string(close->tick) + ", and the next tick to close is " +
               std::to_string(closed + 1);
    } else if (!missing.empty()) {
      reason = "TickClose of tick " + std::to_string(close->tick) + " before the batch of node " +
               std::to_string(*missing.begin()) + (missing.size() > 1 ? " (and " + std::to_string(missing.size() - 1) + " more)" : "");
    }
    if (!reason.empty()) {
      batch.Put(fsm_keys::kRefusedPrefix + be64(index), reason);
      if (result) result->refused = reason;
    } else {
      batch.Put(fsm_keys::kTickClosed, be64(close->tick));
    }
  }
  // The digest chains every applied entry, refused ones included.
  std::string chained = be64(digest()) + be64(index) + bytes;
  batch.Put(fsm_keys::kDigest, be64(XXH64(chained.data(), chained.size(), 0)));
  batch.Put(fsm_keys::kApplied, be64(index));
  // Not synced: the Raft log holds the entry durably (written earlier in the same
  // LevelDB, whose log keeps writes in order), so a write lost here is re-applied.
  const leveldb::Status s = db_->Write(leveldb::WriteOptions(), &batch);
  if (!s.ok()) {
    error = "cannot apply journal entry " + std::to_string(index) + ": " + s.ToString();
    return false;
  }
  return true;
}

uint64_t StateMachine::placement_epoch() {
  std::string v;
  return get(db_, fsm_keys::kEpoch, v) ? from_be64(v) : 0;
}

uint64_t StateMachine::owner(const std::string& instance) {
  std::string v;
  return get(db_, fsm_keys::kOwnerPrefix + instance, v) ? from_be64(v) : 0;
}

uint64_t StateMachine::run_holder(uint64_t program) {
  std::string v;
  return get(db_, fsm_keys::kRunHolderPrefix + be64(program), v) ? from_be64(v) : 0;
}

uint64_t StateMachine::version(const std::string& instance) {
  std::string v;
  return get(db_, fsm_keys::kVersionPrefix + instance, v) ? from_be64(v) : 0;
}

uint64_t StateMachine::fenced_count() {
  std::string v;
  return get(db_, fsm_keys::kFencedCount, v) ? from_be64(v) : 0;
}

std::map<uint64_t, std::string> StateMachine::fenced() {
  std::map<uint64_t, std::string> out;
  const std::string prefix = fsm_keys::kFencedPrefix;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    out[from_be64(std::string_view(it->key().data() + prefix.size(), it->key().size() - prefix.size()))] =
        it->value().ToString();
  return out;
}

// The owners of the new epoch replace the old ones: every instance the table names gets
// its node, every instance it no longer names loses its owner.
void StateMachine::apply_placement(const PlacementEntry& placement, leveldb::WriteBatch& batch) {
  std::set<std::string> named;
  for (const auto& a : placement.table) {
    named.insert(a.instance);
    batch.Put(fsm_keys::kOwnerPrefix + a.instance, be64(a.node));
  }
  const std::string prefix = fsm_keys::kOwnerPrefix;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string instance = it->key().ToString().substr(prefix.size());
    if (!named.count(instance)) batch.Delete(it->key());
  }
  batch.Put(fsm_keys::kEpoch, be64(placement.epoch));
}

uint64_t StateMachine::tick_closed() {
  std::string v;
  return get(db_, fsm_keys::kTickClosed, v) ? from_be64(v) : 0;
}

std::set<uint64_t> StateMachine::nodes_missing_batch(uint64_t tick) {
  std::set<uint64_t> owners;
  const std::string prefix = fsm_keys::kOwnerPrefix;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    owners.insert(from_be64(std::string_view(it->value().data(), it->value().size())));
  std::set<uint64_t> missing;
  std::string ignored;
  for (uint64_t node : owners)
    if (node != 0 && !get(db_, fsm_keys::kSliceBatchPrefix + be64(tick) + be64(node), ignored)) missing.insert(node);
  return missing;
}

std::string StateMachine::fence(const SliceBatchEntry& slice) {
  const uint64_t closed = tick_closed();
  if (slice.tick <= closed)
    return "node " + std::to_string(slice.node) + "'s batch is for tick " + std::to_string(slice.tick) +
           ", which is closed (the last closed tick is " + std::to_string(closed) + ")";
  std::string ignored;
  if (get(db_, fsm_keys::kSliceBatchPrefix + be64(slice.tick) + be64(slice.node), ignored))
    return "node " + std::to_string(slice.node) + " has a batch for tick " + std::to_string(slice.tick) + " already";
  const uint64_t epoch = placement_epoch();
  if (slice.epoch != epoch)
    return "node " + std::to_string(slice.node) + "'s batch for tick " + std::to_string(slice.tick) + " is of epoch " +
           std::to_string(slice.epoch) + ", and the current epoch is " + std::to_string(epoch);
  std::set<std::string> seen;
  for (const auto& r : slice.instances) {
    if (!seen.insert(r.instance).second)
      return "node " + std::to_string(slice.node) + "'s batch names `" + r.instance + "` twice";
    const uint64_t owner_now = owner(r.instance);
    if (owner_now != slice.node)
      return "node " + std::to_string(slice.node) + " does not own `" + r.instance + "` at epoch " +
             std::to_string(epoch) + " (" + (owner_now ? "node " + std::to_string(owner_now) + " does" : "nobody does") + ")";
    const uint64_t now = version(r.instance);
    if (r.new_version != now + 1)
      return "`" + r.instance + "` is at version " + std::to_string(now) + ", and node " + std::to_string(slice.node) +
             "'s batch makes version " + std::to_string(r.new_version) + " (expected " + std::to_string(now + 1) + ")";
  }
  return "";
}

std::string program_unit(uint64_t program) { return "program/" + std::to_string(program); }

void StateMachine::record_fenced(uint64_t index, const std::string& why, leveldb::WriteBatch& batch,
                                 ApplyResult* result) {
  batch.Put(fsm_keys::kFencedPrefix + be64(index), why);
  batch.Put(fsm_keys::kFencedCount, be64(fenced_count() + 1));
  if (result) result->refused = "fenced: " + why;
}

std::string StateMachine::fence_run(uint64_t program, uint64_t node, uint64_t epoch, const char* what,
                                    const uint64_t* after_frames, bool ended_ok) {
  if (!fencing_) return "";
  const std::string subject = "node " + std::to_string(node) + "'s " + what + " of program " + std::to_string(program);
  std::string ignored;
  if (!get(db_, fsm_keys::kProgramPrefix + be64(program), ignored)) return subject + ": there is no such program";
  if (!ended_ok && get(db_, fsm_keys::kRunEndPrefix + be64(program), ignored)) return subject + ": its run has ended";
  const uint64_t now = placement_epoch();
  if (epoch != now)
    return subject + ": epoch " + std::to_string(epoch) + ", and the current epoch is " + std::to_string(now);
  const uint64_t owner_now = owner(program_unit(program));
  if (owner_now != node)
    return subject + ": node " + std::to_string(node) + " does not own the program at epoch " + std::to_string(now) +
           " (" + (owner_now ? "node " + std::to_string(owner_now) + " does" : "nobody does") + ")";
  if (after_frames) {
    const uint64_t committed = run(program).frames;
    if (*after_frames != committed)
      return subject + " comes after " + std::to_string(*after_frames) + " frames, and the run has " +
             std::to_string(committed) + " committed";
  }
  return "";
}

void StateMachine::set_program_status(uint64_t program, const std::string& status, leveldb::WriteBatch& batch,
                                      const std::string* group) {
  std::string bytes;
  if (!get(db_, fsm_keys::kProgramPrefix + be64(program), bytes)) return;
  ProgramRecord r = decode_program(program, bytes);
  r.status = status;
  if (group) r.group = *group;
  batch.Put(fsm_keys::kProgramPrefix + be64(program), encode_program(r));
}

// The newest program of the name takes the upgrade (as `inspect --program NAME` reads
// the newest); one that has an upgrade pending takes no other until its verdict.
void StateMachine::apply_upgrade(uint64_t index, const UpgradeEntry& upgrade, leveldb::WriteBatch& batch,
                                 ApplyResult* result) {
  std::string existing;
  if (get(db_, fsm_keys::kUpgradeRequestPrefix + upgrade.request_id, existing) && existing.size() == 16) {
    if (result) {  // a retried request: the same upgrade
      result->program_id = from_be64(existing.substr(0, 8));
      result->upgrade = from_be64(existing.substr(8, 8));
    }
    return;
  }
  std::optional<ProgramRecord> target;
  for (const auto& p : programs())
    if (p.name == upgrade.program_name) target = p;
  std::string reason;
  if (!target) {
    reason = "the cluster has no program `" + upgrade.program_name + "` to upgrade (submit it without --upgrade)";
  } else if (const uint64_t pending = pending_upgrade(target->id)) {
    reason = "program " + std::to_string(target->id) + " (`" + upgrade.program_name + "`) is taking upgrade " +
             std::to_string(pending) + " already; wait for its verdict and upgrade again";
  }
  if (!reason.empty()) {
    batch.Put(fsm_keys::kRefusedPrefix + be64(index), reason);
    if (result) result->refused = reason;
    return;
  }
  batch.Put(fsm_keys::kUpgradePendingPrefix + be64(target->id), be64(index));
  batch.Put(fsm_keys::kUpgradeBundlePrefix + be64(index), upgrade.bundle);
  batch.Put(fsm_keys::kUpgradeRequestPrefix + upgrade.request_id, be64(target->id) + be64(index));
  // An ended run is placed again, so that an owner takes the upgrade (and, taken, runs on).
  set_program_status(target->id, "upgrading", batch);
  if (result) {
    result->program_id = target->id;
    result->upgrade = index;
  }
}

void StateMachine::apply_run_upgrade(uint64_t index, const RunUpgradeEntry& verdict, leveldb::WriteBatch& batch,
                                     ApplyResult* result) {
  std::string why = fence_run(verdict.program, verdict.node, verdict.epoch, "upgrade", &verdict.frames, /*ended_ok=*/true);
  const uint64_t pending = pending_upgrade(verdict.program);
  if (why.empty() && fencing_ && pending != verdict.upgrade)
    why = "node " + std::to_string(verdict.node) + "'s verdict on upgrade " + std::to_string(verdict.upgrade) +
          " of program " + std::to_string(verdict.program) + ": " +
          (pending ? "upgrade " + std::to_string(pending) + " is the one pending" : "no upgrade is pending");
  if (!why.empty()) return record_fenced(index, why, batch, result);
  batch.Delete(fsm_keys::kUpgradePendingPrefix + be64(verdict.program));
  {
    msgpack::sbuffer b;
    Packer p(b);
    p.pack_array(2);
    if (verdict.ok) p.pack_true(); else p.pack_false();
    p.pack_array(static_cast<uint32_t>(verdict.lines.size()));
    for (const auto& line : verdict.lines) pack_str(p, line);
    batch.Put(fsm_keys::kUpgradeVerdictPrefix + be64(verdict.upgrade), std::string(b.data(), b.size()));
  }
  std::string ignored;
  bool ended = get(db_, fsm_keys::kRunEndPrefix + be64(verdict.program), ignored);
  if (verdict.ok) {
    std::vector<RunVersion> versions = run_versions(verdict.program);
    versions.push_back(RunVersion{verdict.frames, verdict.upgrade, verdict.record_digest});
    msgpack::sbuffer b;
    Packer p(b);
    p.pack_array(static_cast<uint32_t>(versions.size() - 1));  // the submitted build is implied
    for (size_t i = 1; i < versions.size(); ++i) {
      p.pack_array(3);
      p.pack_uint64(versions[i].first_frame);
      p.pack_uint64(versions[i].upgrade);
      p.pack_uint64(versions[i].record_digest);
    }
    batch.Put(fsm_keys::kRunVersionsPrefix + be64(verdict.program), std::string(b.data(), b.size()));
    // The run goes on with the new build (an ended one too: the new build's goals decide).
    batch.Delete(fsm_keys::kRunEndPrefix + be64(verdict.program));
    ended = false;
  }
  batch.Put(fsm_keys::kRunHolderPrefix + be64(verdict.program), be64(verdict.node));
  // Taken, the new build's deploy groups place the program from now on.
  const std::string groups = verdict.ok ? bundle_deploy_groups(version_bundle(verdict.program, verdict.upgrade)) : "";
  set_program_status(verdict.program, ended ? "finished" : verdict.frames > 0 ? "running" : "submitted", batch,
                     verdict.ok ? &groups : nullptr);
}

std::vector<RunVersion> StateMachine::run_versions(uint64_t program) {
  std::vector<RunVersion> out{RunVersion{}};
  std::string v;
  if (!get(db_, fsm_keys::kRunVersionsPrefix + be64(program), v)) return out;
  try {
    auto h = strict::unpack_one(v, "run versions");
    uint32_t n = 0;
    const auto* items = strict::list(h.get(), kMaxListItems, n, "run versions");
    for (uint32_t i = 0; i < n; ++i) {
      const auto* f = strict::array(items[i], 3, "run version");
      out.push_back(RunVersion{strict::u64(f[0], "run version first frame"), strict::u64(f[1], "run version upgrade"),
                               strict::u64(f[2], "run version digest")});
    }
  } catch (const strict::DecodeError&) {
    // Written by this state machine only; a damaged record reads as a bundle that does
    // not load (version_bundle of upgrade 0 below is the submitted one, never damaged).
    out.push_back(RunVersion{UINT64_MAX, UINT64_MAX, 0});
  }
  return out;
}

std::vector<CommittedBuild> StateMachine::run_builds(uint64_t program) {
  std::vector<CommittedBuild> out;
  for (const RunVersion& v : run_versions(program))
    out.push_back(CommittedBuild{v.first_frame, version_bundle(program, v.upgrade), v.record_digest});
  return out;
}

std::string StateMachine::version_bundle(uint64_t program, uint64_t upgrade) {
  if (upgrade == 0) return bundle(program);
  std::string v;
  return get(db_, fsm_keys::kUpgradeBundlePrefix + be64(upgrade), v) ? v : std::string();
}

uint64_t StateMachine::pending_upgrade(uint64_t program) {
  std::string v;
  return get(db_, fsm_keys::kUpgradePendingPrefix + be64(program), v) ? from_be64(v) : 0;
}

std::optional<UpgradeVerdict> StateMachine::upgrade_verdict(const std::string& request_id) {
  std::string v;
  if (!get(db_, fsm_keys::kUpgradeRequestPrefix + request_id, v) || v.size() != 16) return std::nullopt;
  UpgradeVerdict out;
  out.program = from_be64(v.substr(0, 8));
  out.upgrade = from_be64(v.substr(8, 8));
  if (!get(db_, fsm_keys::kUpgradeVerdictPrefix + be64(out.upgrade), v)) return out;
  out.decided = true;
  try {
    auto h = strict::unpack_one(v, "upgrade verdict");
    const auto* f = strict::array(h.get(), 2, "upgrade verdict");
    out.ok = strict::boolean(f[0], "upgrade verdict ok");
    uint32_t n = 0;
    const auto* lines = strict::list(f[1], 1u << 16, n, "upgrade verdict lines");
    for (uint32_t i = 0; i < n; ++i) out.lines.push_back(strict::str(lines[i], 1u << 16, "upgrade verdict line"));
  } catch (const strict::DecodeError& e) {
    out.ok = false;
    out.lines = {std::string("the stored verdict is damaged: ") + e.what()};
  }
  return out;
}

RunRecord StateMachine::run(uint64_t program) {
  RunRecord out;
  std::string v;
  if (get(db_, fsm_keys::kRunNextPrefix + be64(program), v)) out.frames = from_be64(v);
  if (get(db_, fsm_keys::kRunEndPrefix + be64(program), v)) {
    out.finished = true;
    try {
      auto h = strict::unpack_one(v, "run end");
      const auto* f = strict::array(h.get(), 2, "run end");
      out.exit_code = static_cast<uint32_t>(strict::u64(f[0], "run end exit code"));
      uint32_t n = 0;
      const auto* lines = strict::list(f[1], 1u << 16, n, "run end summary");
      for (uint32_t i = 0; i < n; ++i) out.summary.push_back(strict::str(lines[i], 1u << 16, "run end summary line"));
    } catch (const strict::DecodeError& e) {
      out.summary.push_back(std::string("(the stored end of the run is damaged: ") + e.what() + ")");
    }
  }
  return out;
}

std::string StateMachine::run_frames(uint64_t program, uint64_t from, size_t max_bytes) {
  std::string out;
  const std::string prefix = fsm_keys::kRunFramesPrefix + be64(program);
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  // The group holding frame `from`: the last one that starts at or before it.
  it->Seek(prefix + be64(from));
  const auto first_of = [&] { return from_be64(std::string_view(it->key().data() + prefix.size(), 8)); };
  if (!it->Valid() || !it->key().starts_with(prefix) || first_of() != from) {
    if (it->Valid()) it->Prev();
    else it->SeekToLast();
    if (!it->Valid() || !it->key().starts_with(prefix)) it->Seek(prefix);
  }
  uint64_t expected = from;  // the next frame to give
  for (; it->Valid() && it->key().starts_with(prefix) && out.size() < max_bytes; it->Next()) {
    // A group starting past the next frame: this replica lacks the frames in between (a
    // gap after a snapshot): what it has stops here.
    if (first_of() > expected) break;
    const std::string_view frames(it->value().data(), it->value().size());
    // Of each group, the frames from `from` on (they were checked whole when applied).
    std::string error;
    ved::vm::read_log_frames(frames, first_of(), [&](uint64_t number, int64_t, std::string_view payload) {
      if (number < expected || out.size() >= max_bytes) return;
      const char* start = payload.data() - ved::vm::kLogFrameHeaderBytes;
      out.append(start, ved::vm::kLogFrameHeaderBytes + payload.size());
      expected = number + 1;
    }, error);
  }
  return out;
}

std::optional<StateMachine::RunGap> StateMachine::run_gap(uint64_t program) {
  std::string v;
  if (!get(db_, fsm_keys::kRunGapPrefix + be64(program), v) || v.size() != 16) return std::nullopt;
  return RunGap{from_be64(v.substr(0, 8)), from_be64(v.substr(8, 8))};
}

std::map<uint64_t, StateMachine::RunGap> StateMachine::run_gaps() {
  std::map<uint64_t, RunGap> out;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  const std::string prefix = fsm_keys::kRunGapPrefix;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size()), v(it->value().data(), it->value().size());
    if (key.size() != prefix.size() + 8 || v.size() != 16) continue;
    out[from_be64(std::string(key.substr(prefix.size())))] = RunGap{from_be64(std::string(v.substr(0, 8))),
                                                                    from_be64(std::string(v.substr(8, 8)))};
  }
  return out;
}

bool StateMachine::fill_run_gap(uint64_t program, uint64_t first, std::string_view frames, uint64_t& added,
                                std::string& error) {
  std::lock_guard lock(gaps_mutex_);
  added = 0;
  const std::optional<RunGap> gap = run_gap(program);
  if (!gap) {
    error = "program " + std::to_string(program) + " has no gap to fill";
    return false;
  }
  if (first != gap->from) {
    error = "program " + std::to_string(program) + "'s gap starts at frame " + std::to_string(gap->from) +
            ", not " + std::to_string(first);
    return false;
  }
  // Whole frames from `first` on; those from the gap's end on are already here.
  size_t keep = 0;
  uint64_t next = first;
  if (!ved::vm::read_log_frames(frames, first, [&](uint64_t number, int64_t, std::string_view payload) {
        if (number >= gap->to) return;
        keep = static_cast<size_t>(payload.data() + payload.size() - frames.data());
        next = number + 1;
      }, error))
    return false;
  if (next == first) {
    error = "no frame of program " + std::to_string(program) + "'s gap came";
    return false;
  }
  leveldb::WriteBatch batch;
  batch.Put(fsm_keys::kRunFramesPrefix + be64(program) + be64(first), leveldb::Slice(frames.data(), keep));
  if (next == gap->to) batch.Delete(fsm_keys::kRunGapPrefix + be64(program));
  else batch.Put(fsm_keys::kRunGapPrefix + be64(program), be64(next) + be64(gap->to));
  if (const leveldb::Status s = db_->Write(leveldb::WriteOptions(), &batch); !s.ok()) {
    error = "cannot store frames of program " + std::to_string(program) + ": " + s.ToString();
    return false;
  }
  added = next - first;
  return true;
}

std::string StateMachine::bundle(uint64_t program) {
  std::string v;
  return get(db_, fsm_keys::kBundlePrefix + be64(program), v) ? v : std::string();
}

std::vector<ProgramRecord> StateMachine::programs() {
  std::vector<ProgramRecord> out;
  const std::string prefix = fsm_keys::kProgramPrefix;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    out.push_back(decode_program(
        from_be64(std::string_view(it->key().data() + prefix.size(), it->key().size() - prefix.size())),
        std::string_view(it->value().data(), it->value().size())));
  return out;
}

std::map<uint64_t, MemberRecord> StateMachine::members() {
  std::map<uint64_t, MemberRecord> out;
  const std::string prefix = fsm_keys::kMemberPrefix;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    MemberRecord m;
    m.info.id = from_be64(std::string_view(it->key().data() + prefix.size(), it->key().size() - prefix.size()));
    try {
      auto h = strict::unpack_one(std::string_view(it->value().data(), it->value().size()), "member record");
      // Four fields before eligibility was recorded (then an up member is eligible).
      const bool with_eligible = h.get().type == msgpack::type::ARRAY && h.get().via.array.size == 5;
      const auto* f = strict::array(h.get(), with_eligible ? 5 : 4, "member record");
      m.info.address = strict::str(f[0], kMaxNameBytes, "member address");
      m.info.group = strict::str(f[1], kMaxNameBytes, "member group");
      m.info.public_key = strict::str(f[2], 40, "member key");
      m.up = strict::boolean(f[3], "member up");
      m.eligible = with_eligible ? strict::boolean(f[4], "member eligible") : m.up;
    } catch (const strict::DecodeError&) {
      continue;
    }
    out[m.info.id] = std::move(m);
  }
  return out;
}

std::map<uint64_t, std::string> StateMachine::refused() {
  std::map<uint64_t, std::string> out;
  const std::string prefix = fsm_keys::kRefusedPrefix;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    out[from_be64(std::string_view(it->key().data() + prefix.size(), 8))] = it->value().ToString();
  return out;
}

std::string StateMachine::snapshot_bytes() {
  // One consistent view: a LevelDB snapshot, so that the applied index and the state
  // it describes are read together.
  const leveldb::Snapshot* view = db_->GetSnapshot();
  leveldb::ReadOptions options;
  options.snapshot = view;
  std::vector<std::pair<std::string, std::string>> kvs;
  std::string applied;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(options));
  const std::string prefix = fsm_keys::kPrefix;
  const std::string frames_prefix = fsm_keys::kRunFramesPrefix;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().starts_with(frames_prefix)) {
      // The frames stay out (restore_bytes): skip past this program's, and on.
      it->Seek(frames_prefix + std::string(1, '\xff'));
      while (it->Valid() && it->key().starts_with(frames_prefix)) it->Next();
      if (!it->Valid() || !it->key().starts_with(prefix)) break;
    }
    kvs.emplace_back(it->key().ToString(), it->value().ToString());
  }
  it.reset();
  db_->ReleaseSnapshot(view);
  uint64_t applied_index = 0;
  for (const auto& [k, v] : kvs)
    if (k == fsm_keys::kApplied) applied_index = from_be64(v);
  msgpack::sbuffer b;
  Packer p(b);
  p.pack_array(2);
  p.pack_uint64(applied_index);
  p.pack_array(static_cast<uint32_t>(kvs.size()));
  for (const auto& [k, v] : kvs) {
    p.pack_array(2);
    pack_bin(p, k);
    pack_bin(p, v);
  }
  return std::string(b.data(), b.size());
}

bool StateMachine::restore_bytes(const std::string& bytes, std::string& error) {
  uint64_t snapshot_applied = 0;
  std::vector<std::pair<std::string, std::string>> kvs;
  try {
    auto h = strict::unpack_one(bytes, "state snapshot");
    const auto* f = strict::array(h.get(), 2, "state snapshot");
    snapshot_applied = strict::u64(f[0], "state snapshot applied index");
    uint32_t n = 0;
    const auto* items = strict::list(f[1], 1u << 30, n, "state snapshot keys");
    for (uint32_t i = 0; i < n; ++i) {
      const auto* kv = strict::array(items[i], 2, "state snapshot key");
      std::string key = strict::bin(kv[0], 4096, "state snapshot key");
      if (key.rfind(fsm_keys::kPrefix, 0) != 0) throw strict::DecodeError("state snapshot key outside fsm/");
      kvs.emplace_back(std::move(key), strict::bin(kv[1], kMaxEntryBytes, "state snapshot value"));
    }
  } catch (const strict::DecodeError& e) {
    error = std::string("refused a state snapshot: ") + e.what();
    return false;
  }
  // Our own state may already be newer (the node applied past the snapshot before a
  // restart): committed entries are the same everywhere, so newer state is a later point
  // of the same history, and libraft's replay of the entries in between is skipped.
  if (snapshot_applied <= applied_index()) return true;
  std::lock_guard lock(gaps_mutex_);
  // The frames this replica holds from frame 0 on, without a gap, by program: up to its
  // gap, or all it has applied. They are a prefix of the committed frames (committed
  // frames never change), so they stay; any it holds past a gap go.
  std::map<uint64_t, uint64_t> held;
  for (const auto& p : programs()) {
    const auto gap = run_gap(p.id);
    held[p.id] = gap ? gap->from : run(p.id).frames;
  }
  // A snapshot of an earlier version holds frames itself: those programs take its frames.
  std::set<uint64_t> carried;
  const std::string frames_prefix = fsm_keys::kRunFramesPrefix;
  for (const auto& [k, v] : kvs)
    if (k.size() >= frames_prefix.size() + 8 && k.starts_with(frames_prefix))
      carried.insert(from_be64(k.substr(frames_prefix.size(), 8)));
  leveldb::WriteBatch batch;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  const std::string prefix = fsm_keys::kPrefix;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.size() == frames_prefix.size() + 16 && key.starts_with(frames_prefix)) {
      const uint64_t program = from_be64(std::string(key.substr(frames_prefix.size(), 8)));
      const uint64_t first = from_be64(std::string(key.substr(frames_prefix.size() + 8, 8)));
      const auto h = held.find(program);
      if (!carried.count(program) && h != held.end() && first < h->second) continue;  // kept
    }
    batch.Delete(it->key());
  }
  for (const auto& [k, v] : kvs) batch.Put(k, v);
  // What each program now lacks: from what this replica held to what the snapshot says
  // is committed.
  std::unique_ptr<leveldb::Iterator> gaps(db_->NewIterator(leveldb::ReadOptions()));
  for (gaps->Seek(fsm_keys::kRunGapPrefix); gaps->Valid() && gaps->key().starts_with(fsm_keys::kRunGapPrefix); gaps->Next())
    batch.Delete(gaps->key());
  const std::string next_prefix = fsm_keys::kRunNextPrefix;
  for (const auto& [k, v] : kvs) {
    if (k.size() != next_prefix.size() + 8 || !k.starts_with(next_prefix) || v.size() != 8) continue;
    const uint64_t program = from_be64(k.substr(next_prefix.size(), 8));
    const uint64_t committed = from_be64(v);
    const uint64_t has = carried.count(program) ? committed : held.count(program) ? held[program] : 0;
    if (has < committed) batch.Put(fsm_keys::kRunGapPrefix + be64(program), be64(has) + be64(committed));
  }
  leveldb::WriteOptions sync;
  sync.sync = true;
  const leveldb::Status s = db_->Write(sync, &batch);
  if (!s.ok()) {
    error = "cannot restore the state snapshot: " + s.ToString();
    return false;
  }
  return true;
}

int StateMachine::m_apply(struct raft_fsm* fsm, const struct raft_buffer* buf, void** result) {
  auto* self = static_cast<StateMachine*>(fsm->data);
  // libraft sets last_applied after apply returns: this entry is the next one.
  const uint64_t index = raft_last_applied(self->raft_) + 1;
  std::string error;
  // No result object: the leader's waiting client reads its answer from the state
  // (fsm/request/<id>, fsm/refused/<index>), so nothing is allocated for followers, on
  // which libraft would drop the result.
  *result = nullptr;
  if (!self->apply(index, std::string(static_cast<const char*>(buf->base), buf->len), nullptr, error)) {
    self->last_error_ = error;
    return RAFT_IOERR;
  }
  return 0;
}

int StateMachine::m_snapshot(struct raft_fsm* fsm, struct raft_buffer** bufs, unsigned* n_bufs) {
  auto* self = static_cast<StateMachine*>(fsm->data);
  const std::string bytes = self->snapshot_bytes();
  *bufs = static_cast<struct raft_buffer*>(raft_malloc(sizeof(struct raft_buffer)));
  if (!*bufs) return RAFT_NOMEM;
  (*bufs)[0].base = raft_malloc(bytes.size());
  if (!(*bufs)[0].base) {
    raft_free(*bufs);
    return RAFT_NOMEM;
  }
  std::memcpy((*bufs)[0].base, bytes.data(), bytes.size());
  (*bufs)[0].len = bytes.size();
  *n_bufs = 1;
  return 0;
}

int StateMachine::m_restore(struct raft_fsm* fsm, struct raft_buffer* buf) {
  auto* self = static_cast<StateMachine*>(fsm->data);
  std::string error;
  const bool ok = self->restore_bytes(std::string(static_cast<const char*>(buf->base), buf->len), error);
  if (!ok) {
    self->last_error_ = error;
    return RAFT_MALFORMED;
  }
  raft_free(buf->base);  // on success the FSM owns the buffer (libraft's contract)
  return 0;
}

}  // namespace ved::cluster
