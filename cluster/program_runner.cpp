#include "cluster/program_runner.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include "cluster/run_dir.h"
#include "vm/bundle_loader.h"
#include "vm/runtime/replicated_frames.h"
#include "vm/runtime/runtime.h"
#include "vm/runtime/store.h"

namespace ved::cluster {

namespace {

// The owner's side of the journal: its groups of ticks, and its dispatch lease.
//
// The lease: an effect is released only within `lease_ms` of the moment the owner *sent*
// an entry that the cluster then committed unfenced (its ticks, or a RunLease asking for
// nothing else). The leader gives the program to another node only after a failure
// timeout of silence from this one, counted from something it *received* from it, later
// than that send; lease_ms is shorter than the failure timeout, so the lease has run out
// before any other node can own the program. An owner paused past it (SIGSTOP, a stalled
// machine) asks again first: a RunLease committed unfenced proves it still owns the
// program; fenced, it releases nothing and stops.
class JournalReplicator : public vm::TickReplicator {
 public:
  JournalReplicator(const RunnerSetup& s, const std::atomic<bool>& stop, uint64_t committed_frames)
      : s_(s), stop_(stop), committed_frames_(committed_frames) {}

  vm::Status replicate(uint64_t first_frame, uint64_t count, std::string_view frames) override {
    const uint64_t sent = s_.now_ms();
    const std::string why = s_.commit(RunTicksEntry{s_.program, s_.node, s_.epoch(), first_frame, std::string(frames)});
    if (!why.empty())
      return vm::Status::error(vm::Status::Code::NotCommitted,
                               "the cluster did not commit the ticks from frame " + std::to_string(first_frame) + ": " + why);
    // The moment a node has the program going (after a takeover: failover is done).
    if (!committed_any_ && s_.log)
      s_.log("program " + std::to_string(s_.program) + ": ticks committed from frame " + std::to_string(first_frame));
    committed_any_ = true;
    committed_frames_ = first_frame + count;
    lease_until_ = sent + s_.lease_ms;
    return vm::Status::ok();
  }

  bool may_dispatch(std::string& why) override {
    if (s_.before_dispatch) s_.before_dispatch();
    if (s_.test_no_lease) return true;
    // The takeover wait (TakeoverWaits): a previous owner's lease may still run.
    while (s_.now_ms() < s_.dispatch_not_before_ms && !stop_)
      s_.sleep_ms(std::min<uint64_t>(s_.dispatch_not_before_ms - s_.now_ms(), 50));
    // A run asked to stop (its node is DEGRADED, or owns the program no more) releases
    // nothing more: the program's owner, whoever it is then, releases it.
    if (stop_) {
      why = "the run of program " + std::to_string(s_.program) + " is stopping";
      return false;
    }
    if (s_.now_ms() < lease_until_) return true;
    return acquire_lease(why);
  }

  // Commits a RunLease; the lease runs from when it was sent.
  bool acquire_lease(std::string& why) {
    const uint64_t sent = s_.now_ms();
    const std::string problem = s_.commit(RunLeaseEntry{s_.program, s_.node, s_.epoch(), committed_frames_});
    if (!problem.empty()) {
      why = "the dispatch lease of program " + std::to_string(s_.program) + " was not granted: " + problem;
      return false;
    }
    lease_until_ = sent + s_.lease_ms;
    return true;
  }

 private:
  const RunnerSetup& s_;
  const std::atomic<bool>& stop_;
  uint64_t committed_frames_;
  uint64_t lease_until_ = 0;  // none yet
  bool committed_any_ = false;
};

}  // namespace

ProgramRunner::ProgramRunner(RunnerSetup setup) : s_(std::move(setup)), thread_([this] { run(); }) {}

ProgramRunner::~ProgramRunner() {
  stop_ = true;
  thread_.join();
}

std::string ProgramRunner::outcome() const {
  std::lock_guard lock(mutex_);
  return outcome_;
}

void ProgramRunner::run() {
  std::string result;
  try {
    result = execute();
  } catch (const std::exception& e) {
    result = std::string("stopped: ") + e.what();
  }
  {
    std::lock_guard lock(mutex_);
    outcome_ = result;
  }
  done_ = true;
}

// A run dir that cannot be brought up to the committed run (damaged, or holding frames
// the cluster does not: never written that way, but a disk can lie) is emptied and
// rebuilt from the journal.
std::unique_ptr<vm::Store> ProgramRunner::open_run_dir(const vm::Program& program, const vm::RuntimeOptions& options,
                                                        std::string& error) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt > 0) {
      std::error_code ec;
      std::filesystem::remove_all(s_.dir, ec);
    }
    if (auto store = open_committed_run(s_.dir, program, s_.bundle, options, s_.committed, error, s_.storage)) return store;
  }
  return nullptr;
}

std::string ProgramRunner::execute() {
  vm::Program program;
  std::string error;
  if (!vm::load_bundle(s_.bundle, program, error)) return "the program's bundle does not load: " + error;
  vm::RuntimeOptions options;
  if (s_.configure) s_.configure(program, options);
  options.seed = s_.seed;

  std::unique_ptr<vm::Store> store = open_run_dir(program, options, error);
  if (!store) return "stopped: the run dir `" + s_.dir + "`: " + error;
  uint64_t committed = 0;
  if (const vm::Status s = vm::journal_frame_count(*store, committed); !s.is_ok()) return "stopped: " + s.message();
  JournalReplicator replicator(s_, stop_, committed);
  options.replicator = &replicator;
  vm::Runtime runtime(program, s_.bundle, options);
  bool resumed = false;
  if (!runtime.attach(*store, resumed, error)) return "stopped: the run dir `" + s_.dir + "`: " + error;
  // The lease first: a resumed run releases the intents it recovered before its first tick.
  if (!replicator.acquire_lease(error)) return "stopped: " + error;
  vm::RunSummary summary;
  if (!runtime.run(summary, error, [this] { return stop_.load(); })) return "stopped: " + error;
  if (stop_) return "stopped";
  // The end goes after every frame the run committed.
  uint64_t frames = 0;
  if (const vm::Status s = vm::journal_frame_count(*store, frames); !s.is_ok()) return "stopped: " + s.message();
  RunEndEntry end{s_.program, s_.node, s_.epoch(), frames, static_cast<uint32_t>(summary.exit_code), {}};
  end.summary.push_back("-- " + program.name + " stopped at tick " + std::to_string(runtime.tick()) +
                        (summary.max_ticks_reached ? ", --max-ticks reached" : ""));
  for (const auto& line : summary.lines) end.summary.push_back(line);
  const std::string why = s_.commit(end);
  return why.empty() ? "finished" : "stopped: the end of the run was not committed: " + why;
}

}  // namespace ved::cluster
