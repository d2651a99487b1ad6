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
//
// Upgrades (docs/cluster.md "Upgrades"): an upgrade committed for the program is taken by
// its owner at a tick boundary — the run stopped there as a signal stops it, the
// upgrade computed from the run dir, its verdict (taken, or refused and why) committed as
// a RunUpgrade, and only then written to the run dir; the run goes on with the build it
// then has. An ended run is taken on by an upgrade too, and goes on if the new build has
// more to do.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cluster/journal_entry.h"
#include "cluster/run_dir.h"

namespace ved::vm {
class StorageEnv;
class Store;
struct Program;
struct RuntimeOptions;
}  // namespace ved::vm

namespace ved::cluster {

class StateMachine;

// What a runner needs of its node. The runner knows nothing of sockets or clocks: the
// node gives it ZeroMQ and the machine's clock, the whole-cluster simulation
// (tests/cluster/simulation/) its simulated network and time, and both run this code.
struct RunnerSetup {
  uint64_t program = 0;
  uint64_t node = 0;
  std::string name;
  uint64_t seed = 0;
  std::string dir;  // the node's run dir for the program
  vm::StorageEnv* storage = nullptr;  // what the run dir is written through (null: the system's files)
  // Read from the node's state machine (LevelDB reads: safe from the runner's thread);
  // read_state_machine() below sets them all.
  std::function<uint64_t()> epoch;                       // the current placement epoch
  std::function<std::string(uint64_t from)> committed;   // the program's frames from `from` on
  std::function<std::vector<CommittedBuild>()> builds;   // the run's builds, the current last
  std::function<uint64_t()> pending_upgrade;             // the upgrade to take (0: none)
  std::function<std::string(uint64_t upgrade)> upgrade_bundle;
  std::function<bool()> ended;                           // the run's end is committed
  // Sends an entry of the owner's to the leader; "" once it is committed and applied
  // unfenced, else why not (fenced, refused, no answer in time). Called from the runner's
  // thread only.
  std::function<std::string(const JournalEntry&)> commit;
  // Milliseconds on a clock that never goes back: what the dispatch lease is measured on.
  std::function<uint64_t()> now_ms;
  // Binds the adapters and sets whatever else of the runtime's options the node chooses
  // (the seed and the replicator are the runner's).
  std::function<void(const vm::Program&, vm::RuntimeOptions&)> configure;
  std::function<void(const std::string&)> log;  // a line for the node's log
  // The dispatch lease: effects are released only within this long after the owner sent
  // an entry the cluster committed (less than the failure timeout, after which the
  // leader may give the program to another node).
  unsigned lease_ms = 500;
  // Nothing is released before this (now_ms's clock; 0: no wait): a program taken over
  // from a node that may still hold its lease (TakeoverWaits, program_placement.h).
  uint64_t dispatch_not_before_ms = 0;
  // Blocks for about `ms` on now_ms's clock (the runner waits in short steps, so that a
  // stop is noticed).
  std::function<void(uint64_t ms)> sleep_ms;
  // Testing only: called right before the run asks whether it may release effects (a
  // test stops the process there, to be deposed while paused); and releasing with no
  // guard at all (no lease, no takeover wait, releasing even once asked to stop), to
  // show that the guards are what keeps a deposed owner from releasing.
  std::function<void()> before_dispatch;
  bool test_no_lease = false;
};

// Sets the runner's reads of the committed state (epoch, committed, builds,
// pending_upgrade, upgrade_bundle, ended) to those of `sm`, its frames read in parts of
// about `frame_bytes`.
void read_state_machine(RunnerSetup& setup, StateMachine* sm, size_t frame_bytes);

class ProgramRunner {
 public:
  explicit ProgramRunner(RunnerSetup setup);  // starts the run on a thread of its own
  ~ProgramRunner();                           // stops it (between ticks) and waits
  ProgramRunner(const ProgramRunner&) = delete;
  ProgramRunner& operator=(const ProgramRunner&) = delete;

  void request_stop() { stop_ = true; }
  bool done() const { return done_; }
  uint64_t program() const { return s_.program; }
  // Why the run stopped ("" while it runs; "finished" once its end is committed).
  std::string outcome() const;

 private:
  void run();
  std::string execute();  // the run, to its outcome
  std::unique_ptr<vm::Store> open_run_dir(const std::vector<CommittedBuild>& builds, const vm::RuntimeOptions& options,
                                          std::string& error);
  // Takes upgrade `upgrade` on the run in `store` (of `current`, after `frames` committed
  // frames): its verdict committed, then written. "" when the run may go on (with the
  // build it then has), else why it stops.
  std::string take_upgrade(vm::Store& store, const vm::Program& current, uint64_t frames, uint64_t upgrade);
  // Until this node's replica shows what the runner has just had committed (`applied`);
  // false if it does not within 10 s, or the run is asked to stop.
  bool wait_for_replica(const std::function<bool()>& applied);

  RunnerSetup s_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  mutable std::mutex mutex_;
  std::string outcome_;
  std::thread thread_;  // last: started once everything above is ready
};

}  // namespace ved::cluster
