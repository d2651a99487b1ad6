// A data dir holding a program's run as the cluster committed it (docs/cluster.md
// "Running a program"): begun as every node begins it (tick 0, written by the runtime
// from the bundle and the seed alone) and brought up to the committed tick-record frames
// (vm/runtime/replicated_frames.h). A node opens one to run a program it takes over; a
// client builds one to inspect a cluster's run with the single-node tools.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace ved::vm {
class StorageEnv;
class Store;
struct Program;
struct RuntimeOptions;
}  // namespace ved::vm

namespace ved::cluster {

// Opens (creating it if need be) the data dir `dir` for `program` and appends the
// committed frames it lacks: `committed(from)` gives them from frame `from` on (all, or
// the next part; "" when there are no more). Null
// with `error` when the dir cannot be opened or brought up (damaged, or holding other
// frames than the cluster's).
// The dir's files are read and written through `env` (null: the system's).
std::unique_ptr<vm::Store> open_committed_run(const std::string& dir, const vm::Program& program,
                                              const std::string& bundle, const vm::RuntimeOptions& options,
                                              const std::function<std::string(uint64_t from)>& committed,
                                              std::string& error, vm::StorageEnv* env = nullptr);

}  // namespace ved::cluster
