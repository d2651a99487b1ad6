#include "cluster/program_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "cluster/client.h"
#include "cluster/journal_entry.h"
#include "cluster/run_dir.h"
#include "vm/bundle_loader.h"
#include "vm/effects/builtin_adapters.h"
#include "vm/runtime/replicated_frames.h"
#include "vm/runtime/runtime.h"
#include "vm/runtime/store.h"

namespace ved::cluster {

namespace {

// How long a group of ticks may take to commit before the run stops: past it the node has
// probably lost its quorum (and goes DEGRADED), or the program.
constexpr int kCommitTimeoutMs = 5000;

// An entry of the owner's, through this node to the leader; "" once it is committed and
// applied, else why not (fenced entries are refused with the reason).
std::string commit(ClusterClient& client, const std::string& address, const JournalEntry& entry) {
  ClientRequest request;
  request.kind = ClientRequest::Propose;
  request.entry = encode_entry(entry);
  ClientReply reply;
  std::string error;
  if (!client.call_leader(address, request, kCommitTimeoutMs, reply, error))
    return "the cluster did not answer within " + std::to_string(kCommitTimeoutMs) + " ms (" + error + ")";
  if (reply.status != ClientReply::Ok) return reply.message.empty() ? "not committed" : reply.message;
  return "";
}

using Clock = std::chrono::steady_clock;

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
  JournalReplicator(const RunnerSetup& s, uint64_t committed_frames)
      : s_(s), client_(s.security), committed_frames_(committed_frames) {}

  vm::Status replicate(uint64_t first_frame, uint64_t count, std::string_view frames) override {
    const Clock::time_point sent = Clock::now();
    const RunTicksEntry entry{s_.program, s_.node, s_.epoch(), first_frame, std::string(frames)};
    const std::string why = commit(client_, s_.node_address, entry);
    if (!why.empty())
      return vm::Status::error(vm::Status::Code::NotCommitted,
                               "the cluster did not commit the ticks from frame " + std::to_string(first_frame) + ": " + why);
    // The moment a node has the program going (after a takeover: failover is done).
    if (!committed_any_ && s_.log)
      s_.log("program " + std::to_string(s_.program) + ": ticks committed from frame " + std::to_string(first_frame));
    committed_any_ = true;
    committed_frames_ = first_frame + count;
    lease_until_ = sent + std::chrono::milliseconds(s_.lease_ms);
    return vm::Status::ok();
  }

  bool may_dispatch(std::string& why) override {
    if (!s_.test_stop_before_dispatch.empty() && !test_stopped_) {
      test_stopped_ = true;
      const int fd = open(s_.test_stop_before_dispatch.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
      if (fd >= 0) {  // the first runner of the cluster to get here
        close(fd);
        raise(SIGSTOP);
      }
    }
    if (s_.test_no_lease || Clock::now() < lease_until_) return true;
    return acquire_lease(why);
  }

  // Commits a RunLease; the lease runs from when it was sent.
  bool acquire_lease(std::string& why) {
    const Clock::time_point sent = Clock::now();
    const std::string problem =
        commit(client_, s_.node_address, RunLeaseEntry{s_.program, s_.node, s_.epoch(), committed_frames_});
    if (!problem.empty()) {
      why = "the dispatch lease of program " + std::to_string(s_.program) + " was not granted: " + problem;
      return false;
    }
    lease_until_ = sent + std::chrono::milliseconds(s_.lease_ms);
    return true;
  }

 private:
  const RunnerSetup& s_;
  ClusterClient client_;
  uint64_t committed_frames_;
  Clock::time_point lease_until_{};  // none yet
  bool committed_any_ = false;
  bool test_stopped_ = false;
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
    if (auto store = open_committed_run(s_.dir, program, s_.bundle, options, s_.committed, error)) return store;
  }
  return nullptr;
}

std::string ProgramRunner::execute() {
  vm::Program program;
  std::string error;
  if (!vm::load_bundle(s_.bundle, program, error)) return "the program's bundle does not load: " + error;
  vm::RuntimeOptions options;
  options.seed = s_.seed;
  std::error_code ec;
  std::filesystem::create_directories(s_.fs_root, ec);
  vm::BuiltinAdapterOptions builtin;
  builtin.fs_root = std::filesystem::absolute(s_.fs_root, ec);
  vm::bind_builtin_adapters(program, builtin, options.adapters);

  std::unique_ptr<vm::Store> store = open_run_dir(program, options, error);
  if (!store) return "stopped: the run dir `" + s_.dir + "`: " + error;
  uint64_t committed = 0;
  if (const vm::Status s = vm::journal_frame_count(*store, committed); !s.is_ok()) return "stopped: " + s.message();
  JournalReplicator replicator(s_, committed);
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
  ClusterClient client(s_.security);
  const std::string why = commit(client, s_.node_address, end);
  return why.empty() ? "finished" : "stopped: the end of the run was not committed: " + why;
}

}  // namespace ved::cluster
