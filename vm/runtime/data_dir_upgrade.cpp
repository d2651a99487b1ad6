#include "vm/runtime/data_dir_upgrade.h"

#include "vm/bundle_loader.h"
#include "vm/interpreter.h"
#include "vm/runtime/instance_codec.h"
#include "vm/runtime/program_history.h"
#include "vm/runtime/run_store.h"
#include "vm/runtime/run_upgrade.h"

namespace ved::vm {

namespace {

// What a migration may use per instance: as much as a slice of the run (which is what a
// transition that did the same work would get), or the default budget.
constexpr int64_t kDefaultMigrationFuel = 1'000'000;

}  // namespace

std::string describe(const DataDirUpgrade& done) {
  return "from `" + done.old_name + "` (hash " + hex_u64(done.old_hash) + ") to hash " + hex_u64(done.new_hash) +
         " at tick " + std::to_string(done.tick) + ": " + std::to_string(done.instances) +
         (done.instances == 1 ? " instance, " : " instances, ") + std::to_string(done.migrated) + " migrated";
}

bool holds_other_program(const Store& store, const Program& program, uint64_t& stored_hash, std::string& error) {
  std::string text;
  const Status s = store.get("meta/program_hash", text);
  if (s.is_not_found()) return false;
  if (!s.is_ok()) {
    error = s.message();
    return false;
  }
  if (!parse_hex_u64(text, stored_hash)) {
    error = "the data dir is damaged: meta/program_hash is not a hash";
    return false;
  }
  return stored_hash != program.hash;
}

// RunStore's one write that is not a tick: defined here, beside the upgrade that is its
// only caller, rather than among the tick writes of run_store.cpp.
bool RunStore::take_over(const LoadedRun& run, const TickRecord& record, const std::string& bundle,
                         std::string& error) {
  // The log goes on where the state loaded from it ended (the load wrote it as a
  // checkpoint): the upgrade's own record is kept with the state it makes, as tick 0's is.
  RunHead before;
  if (!read_run_head(store_, before, error)) {
    error = "the data dir is damaged: " + error;
    return false;
  }
  next_frame_ = before.frames;
  Store::Batch batch;
  // Everything live goes: it is written again below, in the new program's encoding
  // (keys name domains, so most are rewritten in place).
  for (const char* prefix : {"inst/", "mbox/", "obs/", "fxo/"}) {
    std::vector<std::string> keys;
    const Status s = store_.scan(prefix, [&](std::string_view key, std::string_view) {
      keys.emplace_back(key);
      return true;
    });
    if (!s.is_ok()) {
      error = s.message();
      return false;
    }
    for (const std::string& key : keys) batch.remove(key);
  }
  batch.remove("meta/effect_counts");
  digest_ = 0;
  effect_counts_digest_ = 0;
  observed_digest_.clear();
  // The digest is summed as load() sums it, record by record.
  for (const Instance& in : run.instances) {
    const std::string key = instance_storage_key(p_, in.key), value = encode_instance(in);
    digest_ += record_digest(key, value);
    batch.put(key, value);
    for (const auto* lane : {&in.high, &in.normal})
      for (const Message& m : *lane) {
        const std::string entry = mailbox_storage_key(p_, in.key, m.high_lane, m.position);
        digest_ += record_digest(entry, {});
        batch.put(entry, encode_message(m));
      }
  }
  batch.put("meta/pending", encode_pending(run.pending));
  for (const Intent& x : run.open_intents) {
    batch.put(intent_storage_key(x.tick, x.index), encode_intent(x));
    const std::string open = open_intent_storage_key(x.tick, x.index);
    digest_ += record_digest(open, {});
    batch.put(open, "");
  }
  for (const auto& [key, value] : run.observed) {
    uint32_t observation = 0;
    std::vector<Value> args;
    Value unit;
    std::string failure;
    if (!decode_observation(p_, key, observation, args, unit, failure, error)) return false;
    const std::string storage_key = "obs/" + hex_bytes(key), bytes = encode_observation(observation, args, value);
    const uint64_t part = record_digest(storage_key, bytes);
    observed_digest_[storage_key] = part;
    digest_ += part;
    batch.put(storage_key, bytes);
  }
  if (!run.effect_counts.empty()) {
    std::string counts;
    for (const auto& [effect, count] : run.effect_counts) counts += std::to_string(effect) + " " + std::to_string(count) + "\n";
    effect_counts_digest_ = record_digest("meta/effect_counts", counts);
    digest_ += effect_counts_digest_;
    batch.put("meta/effect_counts", counts);
  }
  // The program, and its place in the history.
  ProgramHistory history;
  if (!history.open(store_, nullptr, error)) return false;
  std::vector<ProgramEpoch> epochs = history.epochs();
  epochs.push_back(ProgramEpoch{record.tick, p_.hash});
  batch.put("meta/programs", encode_program_history(epochs));
  batch.put(program_storage_key(p_.hash), bundle);
  batch.put("meta/program", bundle);
  batch.put("meta/program_hash", hex_u64(p_.hash));
  batch.put("meta/program_name", p_.name);
  batch.put(tick_record_key(record.tick), encode_tick_record(record));
  batch.put("meta/head", encode_run_head(RunHead{record.tick, record.timer_sequence, record.last_foreground_tick, digest_, next_frame_,
                                                  before.last_frame}));
  if (const Status s = store_.commit(batch, /*sync=*/true); !s.is_ok()) {
    error = "cannot write to the data dir: " + s.message();
    return false;
  }
  last_tick_ = record.tick;
  return mark_durable(/*sync=*/true, error);
}

bool prepare_data_dir_upgrade(Store& store, const Program& program, PreparedUpgrade& out, std::string& error) {
  std::string old_bundle;
  if (const Status s = store.get("meta/program", old_bundle); !s.is_ok()) {
    error = s.is_not_found() ? "the data dir holds no run to upgrade" : s.message();
    return false;
  }
  Program old_program;
  if (!load_bundle(old_bundle, old_program, error)) {
    error = "the program stored with the run is damaged: " + error;
    return false;
  }
  LoadedRun run;
  RunStore old_store(old_program, store, /*sync=*/true);
  if (!old_store.load(run, error)) return false;
  if (run.tick >= kLastTick) {
    error = "the run is at tick 2^62, the last tick a run may reach: there is no tick left for the upgrade";
    return false;
  }
  const int64_t fuel = run.slice_budget > 0 ? run.slice_budget : kDefaultMigrationFuel;
  out.done.instances = run.instances.size();
  if (!upgrade_run(old_program, program, std::move(run), fuel, out.result, error)) return false;
  out.record = upgrade_tick_record(old_program, program, out.result);
  out.done.old_name = old_program.name;
  out.done.old_hash = old_program.hash;
  out.done.new_hash = program.hash;
  out.done.tick = out.record.tick;
  out.done.migrated = out.result.migrated.size();
  out.done.migration_fuel = out.result.migration_fuel;
  return true;
}

bool write_data_dir_upgrade(Store& store, const Program& program, const std::string& bundle,
                            const PreparedUpgrade& prepared, std::string& error) {
  RunStore new_store(program, store, /*sync=*/true);
  return new_store.take_over(prepared.result.run, prepared.record, bundle, error);
}

bool upgrade_data_dir(Store& store, const Program& program, const std::string& bundle, DataDirUpgrade& done,
                      std::string& error) {
  PreparedUpgrade prepared;
  if (!prepare_data_dir_upgrade(store, program, prepared, error) ||
      !write_data_dir_upgrade(store, program, bundle, prepared, error))
    return false;
  done = prepared.done;
  return true;
}

}  // namespace ved::vm
