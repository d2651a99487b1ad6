#include "cluster/run_dir.h"

#include "vm/runtime/replicated_frames.h"
#include "vm/runtime/runtime.h"
#include "vm/runtime/storage_env.h"
#include "vm/runtime/store.h"

namespace ved::cluster {

std::unique_ptr<vm::Store> open_committed_run(const std::string& dir, const vm::Program& program,
                                              const std::string& bundle, const vm::RuntimeOptions& options,
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
    vm::RuntimeOptions begin_options = options;
    begin_options.replicator = nullptr;  // tick 0 is not committed: every node writes it alike
    vm::Runtime begin(program, bundle, begin_options);
    bool resumed = false;
    if (!begin.attach(*store, resumed, error)) return nullptr;
  }
  uint64_t count = 0;
  if (status = vm::journal_frame_count(*store, count); !status.is_ok()) {
    error = status.message();
    return nullptr;
  }
  // In as many parts as the source gives them.
  for (std::string frames = committed(count); !frames.empty(); frames = committed(count)) {
    const uint64_t before = count;
    if (status = vm::append_replicated_frames(*store, count, frames, count); !status.is_ok()) {
      error = status.message();
      return nullptr;
    }
    if (count == before) break;  // nothing new: the source has no more
  }
  return store;
}

}  // namespace ved::cluster
