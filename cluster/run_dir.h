// A data dir holding a program's run as the cluster committed it (docs/cluster.md
// "Running a program"): begun as every node begins it (tick 0, written by the runtime
// from the bundle and the seed alone) and brought up to the committed tick-record frames
// (vm/runtime/replicated_frames.h), across every upgrade the run has taken. A node opens
// one to run a program it takes over; a client builds one to inspect a cluster's run with
// the single-node tools.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cluster/run_builds.h"

namespace ved::vm {
class StorageEnv;
class Store;
struct Program;
struct PreparedUpgrade;
struct RuntimeOptions;
}  // namespace ved::vm

namespace ved::cluster {

// What a node checks an upgrade it recomputes against: XXH64 of the upgrade tick's
// encoded record (migrated states included).
uint64_t upgrade_record_digest(const vm::PreparedUpgrade& upgrade);

// Opens (creating it if need be) the data dir `dir` and brings it up to the committed
// run: the frames it lacks, `committed(from)` giving them from frame `from` on (all, or
// the next part; "" when there are no more), each build's up to the next's first frame,
// where that upgrade is done again (run_upgrade is a pure function: it must give the
// committed record). `builds` is never empty. Null with `error` when the dir cannot be
// opened or brought up (damaged, holding other frames than the cluster's, or an upgrade
// that does not recompute as committed). The dir's files are read and written through
// `env` (null: the system's).
std::unique_ptr<vm::Store> open_committed_run(const std::string& dir, const std::vector<CommittedBuild>& builds,
                                              const vm::RuntimeOptions& options,
                                              const std::function<std::string(uint64_t from)>& committed,
                                              std::string& error, vm::StorageEnv* env = nullptr);

}  // namespace ved::cluster
