#include "cluster/run_dir.h"

#include <xxhash.h>

#include "vm/bundle_loader.h"
#include "vm/runtime/data_dir_upgrade.h"
#include "vm/runtime/program_history.h"
#include "vm/runtime/replicated_frames.h"
#include "vm/runtime/runtime.h"
#include "vm/runtime/storage_env.h"
#include "vm/runtime/store.h"
#include "vm/runtime/tick_record.h"

namespace ved::cluster {

uint64_t upgrade_record_digest(const vm::PreparedUpgrade& upgrade) {
  const std::string bytes = vm::encode_tick_record(upgrade.record);
  return XXH64(bytes.data(), bytes.size(), 0);
}

namespace {

bool load_build(const std::vector<CommittedBuild>& builds, size_t k, vm::Program& program, std::string& error) {
  if (vm::load_bundle(builds[k].bundle, program, error)) return true;
  error = (k == 0 ? "the program's bundle does not load: " : "the bundle of upgrade " + std::to_string(k) + " does not load: ") + error;
  return false;
}

// The committed frames from the dir's count on, up to `until`; `count` is then how many
// the dir holds.
bool append_committed(vm::Store& store, const std::function<std::string(uint64_t from)>& committed, uint64_t until,
                      uint64_t& count, std::string& error) {
  // In as many parts as the source gives them.
  while (count < until) {
    const std::string frames = committed(count);
    if (frames.empty()) break;
    const uint64_t before = count;
    if (const vm::Status s = vm::append_replicated_frames(store, count, frames, count, until); !s.is_ok()) {
      error = s.message();
      return false;
    }
    if (count == before) break;  // nothing new: the source has no more
  }
  return true;
}

}  // namespace

std::unique_ptr<vm::Store> open_committed_run(const std::string& dir, const std::vector<CommittedBuild>& builds,
                                              const vm::RuntimeOptions& options,
                                              const std::function<std::string(uint64_t from)>& committed,
                                              std::string& error, vm::StorageEnv* env) {
  vm::Status status;
  std::unique_ptr<vm::Store> store =
      vm::Store::open(dir, vm::StoreMode::Run, status, env ? *env : vm::StorageEnv::system());
  if (!store) {
    error = status.message();
    return nullptr;
  }
  std::string head;
  if (store->get("meta/head", head).is_not_found()) {
    // Tick 0: the runtime activates the program's instances exactly as on every node.
    vm::Program first;
    if (!load_build(builds, 0, first, error)) return nullptr;
    vm::RuntimeOptions begin_options = options;
    begin_options.replicator = nullptr;  // tick 0 is not committed: every node writes it alike
    vm::Runtime begin(first, builds[0].bundle, begin_options);
    bool resumed = false;
    if (!begin.attach(*store, resumed, error)) return nullptr;
  }
  // The builds the dir has taken already: one more than the upgrades in its history.
  vm::ProgramHistory history;
  if (!history.open(*store, nullptr, error)) return nullptr;
  size_t held = history.epochs().size();
  if (held == 0 || held > builds.size()) {
    error = "the data dir has run " + std::to_string(held) + " builds of the program, and the cluster's run " +
            std::to_string(builds.size());
    return nullptr;
  }
  uint64_t count = 0;
  if (status = vm::journal_frame_count(*store, count); !status.is_ok()) {
    error = status.message();
    return nullptr;
  }
  for (size_t k = held; k < builds.size(); ++k) {
    // The frames of the build before, then its upgrade, done again.
    if (!append_committed(*store, committed, builds[k].first_frame, count, error)) return nullptr;
    if (count != builds[k].first_frame) {
      error = "upgrade " + std::to_string(k) + " comes after frame " + std::to_string(builds[k].first_frame) +
              ", and the data dir holds " + std::to_string(count) + " frames of the build before it";
      return nullptr;
    }
    vm::Program program;
    if (!load_build(builds, k, program, error)) return nullptr;
    vm::PreparedUpgrade upgrade;
    if (!vm::prepare_data_dir_upgrade(*store, program, upgrade, error)) {
      error = "upgrade " + std::to_string(k) + ", committed, does not take the run over here: " + error;
      return nullptr;
    }
    if (upgrade_record_digest(upgrade) != builds[k].record_digest) {
      error = "upgrade " + std::to_string(k) + " does not recompute as committed: its tick's record differs";
      return nullptr;
    }
    if (!vm::write_data_dir_upgrade(*store, program, builds[k].bundle, upgrade, error)) return nullptr;
  }
  if (!append_committed(*store, committed, UINT64_MAX, count, error)) return nullptr;
  return store;
}

}  // namespace ved::cluster
