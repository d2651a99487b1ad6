#include "cluster/program_runner.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include "cluster/run_dir.h"
#include "cluster/state_machine.h"
#include "vm/bundle_loader.h"
#include "vm/runtime/data_dir_upgrade.h"
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

void read_state_machine(RunnerSetup& setup, StateMachine* sm, size_t frame_bytes) {
  const uint64_t id = setup.program;
  setup.epoch = [sm] { return sm->placement_epoch(); };
  // In parts: a long run's frames are not read into memory all at once.
  setup.committed = [sm, id, frame_bytes](uint64_t from) { return sm->run_frames(id, from, frame_bytes); };
  setup.builds = [sm, id] { return sm->run_builds(id); };
  setup.pending_upgrade = [sm, id] { return sm->pending_upgrade(id); };
  setup.upgrade_bundle = [sm, id](uint64_t upgrade) { return sm->version_bundle(id, upgrade); };
  setup.ended = [sm, id] { return sm->run(id).finished; };
}

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
std::unique_ptr<vm::Store> ProgramRunner::open_run_dir(const std::vector<CommittedBuild>& builds,
                                                        const vm::RuntimeOptions& options, std::string& error) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt > 0) {
      std::error_code ec;
      std::filesystem::remove_all(s_.dir, ec);
    }
    if (auto store = open_committed_run(s_.dir, builds, options, s_.committed, error, s_.storage)) return store;
  }
  return nullptr;
}

// Committed is not yet applied here: the leader answers once *it* has applied an entry,
// and this node's replica, from which the node decides what to run, may lag it.
bool ProgramRunner::wait_for_replica(const std::function<bool()>& applied) {
  const uint64_t deadline = s_.now_ms() + 10000;
  while (!applied()) {
    if (stop_ || s_.now_ms() > deadline) return false;
    s_.sleep_ms(5);
  }
  return true;
}

std::string ProgramRunner::take_upgrade(vm::Store& store, const vm::Program& current, uint64_t frames,
                                        uint64_t upgrade) {
  const std::string bundle = s_.upgrade_bundle(upgrade);
  RunUpgradeEntry verdict{s_.program, s_.node, s_.epoch(), frames, upgrade, false, 0, {}};
  vm::Program next;
  vm::PreparedUpgrade prepared;
  std::string error;
  if (!vm::load_bundle(bundle, next, error)) {
    verdict.lines = {"the new bundle does not load: " + error};
  } else if (next.hash == current.hash) {
    verdict.lines = {"program `" + current.name + "` runs build " + vm::hex_u64(current.hash) + " already: nothing to upgrade"};
  } else if (!vm::prepare_data_dir_upgrade(store, next, prepared, error)) {
    // One line a reason (run_upgrade gives every reason, each on a line of its own).
    for (size_t at = 0; at < error.size();) {
      const size_t eol = std::min(error.find('\n', at), error.size());
      std::string line = error.substr(at, eol - at);
      line.erase(0, line.find_first_not_of(' '));
      if (!line.empty()) verdict.lines.push_back(line);
      at = eol + 1;
    }
  } else {
    verdict.ok = true;
    verdict.record_digest = upgrade_record_digest(prepared);
    verdict.lines = {"upgraded " + vm::describe(prepared.done)};
  }
  if (const std::string why = s_.commit(verdict); !why.empty())
    return "stopped: the verdict on upgrade " + std::to_string(upgrade) + " was not committed: " + why;
  // The run goes on from what this node's replica says (the builds, no upgrade pending).
  if (!wait_for_replica([&] { return s_.pending_upgrade() != upgrade; }))
    return "stopped: the verdict on upgrade " + std::to_string(upgrade) + " is committed and not yet applied here";
  if (s_.log)
    s_.log("program " + std::to_string(s_.program) + ": upgrade " + std::to_string(upgrade) +
           (verdict.ok ? " taken: " : " refused: ") + verdict.lines.front());
  // Should this fail, the next start rebuilds the run dir, the upgrade with it.
  if (verdict.ok && !vm::write_data_dir_upgrade(store, next, bundle, prepared, error))
    return "stopped: the run dir `" + s_.dir + "`: " + error;
  return "";
}

std::string ProgramRunner::execute() {
  for (;;) {
    const std::vector<CommittedBuild> builds = s_.builds();
    vm::Program program;
    std::string error;
    if (!vm::load_bundle(builds.back().bundle, program, error)) return "the program's bundle does not load: " + error;
    vm::RuntimeOptions options;
    if (s_.configure) s_.configure(program, options);
    options.seed = s_.seed;

    std::unique_ptr<vm::Store> store = open_run_dir(builds, options, error);
    if (!store) return "stopped: the run dir `" + s_.dir + "`: " + error;
    uint64_t committed = 0;
    if (const vm::Status s = vm::journal_frame_count(*store, committed); !s.is_ok()) return "stopped: " + s.message();
    if (const uint64_t upgrade = s_.pending_upgrade()) {
      if (std::string why = take_upgrade(*store, program, committed, upgrade); !why.empty()) return why;
      continue;  // with the build the run has now
    }
    if (s_.ended()) return "finished";  // an upgrade refused: the run stays ended
    JournalReplicator replicator(s_, stop_, committed);
    options.replicator = &replicator;
    vm::Runtime runtime(program, builds.back().bundle, options);
    bool resumed = false;
    if (!runtime.attach(*store, resumed, error)) return "stopped: the run dir `" + s_.dir + "`: " + error;
    // The lease first: a resumed run releases the intents it recovered before its first tick.
    if (!replicator.acquire_lease(error)) return "stopped: " + error;
    // Between ticks: asked to stop, or an upgrade to take (looked for every 20 ms).
    bool upgrading = false;
    uint64_t next_look = 0;
    auto stop = [&] {
      if (stop_) return true;
      if (const uint64_t now = s_.now_ms(); now >= next_look) {
        next_look = now + 20;
        upgrading = s_.pending_upgrade() != 0;
      }
      return upgrading;
    };
    vm::RunSummary summary;
    if (!runtime.run(summary, error, stop)) return "stopped: " + error;
    if (stop_) return "stopped";
    if (upgrading) continue;
    // The end goes after every frame the run committed.
    uint64_t frames = 0;
    if (const vm::Status s = vm::journal_frame_count(*store, frames); !s.is_ok()) return "stopped: " + s.message();
    RunEndEntry end{s_.program, s_.node, s_.epoch(), frames, static_cast<uint32_t>(summary.exit_code), {}};
    end.summary.push_back("-- " + program.name + " stopped at tick " + std::to_string(runtime.tick()) +
                          (summary.max_ticks_reached ? ", --max-ticks reached" : ""));
    for (const auto& line : summary.lines) end.summary.push_back(line);
    const std::string why = s_.commit(end);
    if (!why.empty()) return "stopped: the end of the run was not committed: " + why;
    // The node starts the program again while its replica says the run has not ended.
    wait_for_replica([&] { return s_.ended(); });
    return "finished";
  }
}

}  // namespace ved::cluster
