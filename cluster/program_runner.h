// A program a node owns, running (docs/cluster.md "Running a program"; cluster.md §1
// "Execution"): the single-node runtime, unchanged, on a data dir of the node's own
// (DATA/runs/<program id>), whose every group of ticks is committed to the cluster's
// journal as a RunTicks entry before the data dir gets it (vm/runtime/tick_replicator.h).
//
// Taking a program over — a new owner after a failure or a rebalance, or the same node
// after a restart — is the single-node recovery path: the run dir is brought up to the
// committed frames (vm/runtime/replicated_frames.h) and the runtime resumes from it. A
// group the cluster does not commit (fenced: the node lost the program; no quorum)
// stops the run with nothing of it written; the node starts the program again if it
// still owns it. Effects are released only under the dispatch lease (a RunLease entry,
// renewed by every committed group). When the run stops, its exit code and summary are
// committed (RunEnd).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cluster/curve_keys.h"

namespace ved::vm {
class Store;
struct Program;
struct RuntimeOptions;
}  // namespace ved::vm

namespace ved::cluster {

struct RunnerSetup {
  uint64_t program = 0;
  uint64_t node = 0;
  std::string name;
  uint64_t seed = 0;
  std::string bundle;
  std::string dir;           // the node's run dir for the program
  std::string fs_root;       // where the built-in file effects act
  std::string node_address;  // this node: entries go there, and on to the leader
  Security security;
  // Read from the node's state machine (LevelDB reads: safe from the runner's thread).
  std::function<uint64_t()> epoch;                       // the current placement epoch
  std::function<std::string(uint64_t from)> committed;   // the program's frames from `from` on
  std::function<void(const std::string&)> log;           // a line for the node's log
  // The dispatch lease: effects are released only within this long after the owner sent
  // an entry the cluster committed (less than the failure timeout, after which the
  // leader may give the program to another node).
  unsigned lease_ms = 500;
  // Testing only (docs/cluster.md, "Running a program"): when it names a file that does
  // not exist yet, the first runner to create it stops its whole process (SIGSTOP) just
  // before it releases its first effect; and releasing without the lease.
  std::string test_stop_before_dispatch;
  bool test_no_lease = false;
};

class ProgramRunner {
 public:
  explicit ProgramRunner(RunnerSetup setup);  // starts the run on a thread of its own
  ~ProgramRunner();                           // stops it (between ticks) and waits
  ProgramRunner(const ProgramRunner&) = delete;
  ProgramRunner& operator=(const ProgramRunner&) = delete;

  void request_stop() { stop_ = true; }
  bool done() const { return done_; }
  // Why the run stopped ("" while it runs; "finished" once its end is committed).
  std::string outcome() const;

 private:
  void run();
  std::string execute();  // the run, to its outcome
  std::unique_ptr<vm::Store> open_run_dir(const vm::Program& program, const vm::RuntimeOptions& options,
                                          std::string& error);

  RunnerSetup s_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  mutable std::mutex mutex_;
  std::string outcome_;
  std::thread thread_;  // last: started once everything above is ready
};

}  // namespace ved::cluster
