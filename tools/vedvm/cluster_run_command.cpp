// A program's run on a cluster, seen from a client (docs/cluster.md "Running a program"):
// `vedvm --join HOST:PORT app.vedb --follow` waits for the run to end and exits as a
// local run would; `vedvm inspect --join HOST:PORT --program NAME` rebuilds the committed
// run in a scratch data dir and inspects it with the single-node code, so that it prints
// the same document as `vedvm inspect DIR` for a local run of the program.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "cluster/client.h"
#include "cluster/run_dir.h"
#include "tools/vedvm/cluster_commands.h"
#include "tools/vedvm/commands.h"
#include "tools/vedvm/json_output.h"
#include "vm/bundle_loader.h"
#include "vm/runtime/replay.h"
#include "vm/runtime/replicated_frames.h"
#include "vm/runtime/runtime.h"
#include "vm/runtime/store.h"

namespace vedvm {

namespace {

using Json = nlohmann::ordered_json;

// The run, with its frames from frame `from` on (a part of them: as many as one reply holds).
bool fetch_run(ved::cluster::ClusterClient& client, const std::string& join, const std::string& program,
               uint64_t from, unsigned timeout_ms, ved::cluster::FetchedRun& out, std::string& error) {
  ved::cluster::ClientRequest request;
  request.kind = ved::cluster::ClientRequest::FetchRun;
  request.program_name = program;
  request.node_id = from;
  ved::cluster::ClientReply reply;
  if (!client.call_leader(join, request, static_cast<int>(timeout_ms), reply, error) ||
      reply.status != ved::cluster::ClientReply::Ok) {
    if (!reply.message.empty()) error = reply.message;
    return false;
  }
  return ved::cluster::decode_fetched_run(reply.payload, out, error);
}

// A scratch directory of our own, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/vedvm-inspect-XXXXXX";
    if (mkdtemp(pattern.data())) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The trace of a run the cluster is committing (`--follow --trace`): what the leader has
// committed is brought into a scratch data dir as `inspect --join` brings it, and each new
// tick is replayed from its journal (vm/runtime/replay.h) with the trace printer, so the
// events are the ones `vedvm app.vedb --trace` prints, tick by tick, as the cluster
// commits them. Returns false with `error` when the run cannot be rebuilt or replayed.
class TraceFollower {
 public:
  explicit TraceFollower(const std::string& format) {
    ved::vm::ReplayOptions options;
    options.trace = trace_printer(format, [this]() -> const ved::vm::Program& { return session_->program(); });
    session_ = std::make_unique<ved::vm::ReplaySession>(std::move(options));
  }
  uint64_t frames() const { return frames_; }

  // Brings in the frames of `run` (its head, as the leader gave it) past those held, and
  // prints the events of every tick they add.
  bool advance(ved::cluster::ClusterClient& client, const std::string& member, const ved::cluster::FetchedRun& run,
               unsigned timeout_ms, std::string& error) {
    if (scratch_.path().empty()) {
      error = "cannot make a scratch directory to follow the run in";
      return false;
    }
    if (run.frame_count <= frames_ && frames_ > 0) return true;
    ved::vm::RuntimeOptions options;
    options.seed = run.seed;
    std::string fetch_error;
    auto part = [&](uint64_t from) {
      ved::cluster::FetchedRun next;
      if (from >= run.frame_count || !fetch_run(client, member, std::to_string(run.id), from, timeout_ms, next, fetch_error))
        return std::string();
      return std::move(next.frames);
    };
    auto store = ved::cluster::open_committed_run(scratch_.path() + "/run", run.builds, options, part, error);
    if (store && !fetch_error.empty()) error = fetch_error;
    if (!store || !fetch_error.empty()) return false;
    if (const ved::vm::Status s = ved::vm::journal_frame_count(*store, frames_); !s.is_ok()) {
      error = s.message();
      return false;
    }
    if (diverged_) return true;  // said once; the events stop there
    ved::vm::ReplayReport report;
    if (!session_->advance(*store, report, error)) return false;
    std::cout.flush();
    if (report.diverged) {
      diverged_ = true;
      std::cerr << "vedvm: the trace stops: the committed run does not replay as it was recorded: "
                << terminal_text(report.explanation) << "\n";
    }
    return true;
  }

 private:
  ScratchDir scratch_;
  std::unique_ptr<ved::vm::ReplaySession> session_;
  uint64_t frames_ = 0;
  bool diverged_ = false;
};

}  // namespace

int follow_program(const SubmitOptions& o, ved::cluster::ClusterClient& client, const std::string& program) {
  // Every member the cluster has now: if the one given with --join fails (it may be the
  // very node that runs the program), the others are asked.
  std::vector<std::string> members = {o.join};
  {
    ved::cluster::ClientRequest request;
    request.kind = ved::cluster::ClientRequest::Status;
    ved::cluster::ClientReply reply;
    std::string error;
    if (client.call(o.join, request, static_cast<int>(o.timeout_ms), reply, error)) try {
        const Json status = Json::parse(reply.payload);
        for (const auto& m : status.at("members"))
          if (m.at("address") != o.join) members.push_back(m.at("address").get<std::string>());
      } catch (const std::exception&) {
      }
  }
  // The leader says when the run ended, with its exit code and summary (no frames asked).
  // Giving up only after --timeout without any member answering.
  auto last_answer = std::chrono::steady_clock::now();
  size_t asked = 0;
  std::string error;
  std::unique_ptr<TraceFollower> trace;
  if (!o.trace.empty()) trace = std::make_unique<TraceFollower>(o.trace);
  for (;;) {
    ved::cluster::FetchedRun run;
    const std::string& member = members[asked % members.size()];
    if (fetch_run(client, member, program, UINT64_MAX, 2000, run, error) &&
        (!trace || trace->advance(client, member, run, 2000, error))) {
      last_answer = std::chrono::steady_clock::now();
      if (run.finished && (!trace || trace->frames() >= run.frame_count)) {
        for (const auto& line : run.summary) std::cout << terminal_text(line) << "\n";
        return static_cast<int>(run.exit_code);
      }
    } else {
      ++asked;  // another member next time
      if (std::chrono::steady_clock::now() - last_answer > std::chrono::milliseconds(o.timeout_ms)) {
        std::cerr << "vedvm: error: cannot follow program " << program << ": no member answered within "
                  << o.timeout_ms / 1000.0 << " s (" << terminal_text(error) << ")\n";
        return kExitError;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int inspect_cluster(const InspectClusterOptions& o) {
  ved::cluster::Security security;
  if (!read_security(o.security, security)) return kExitUsage;
  ved::cluster::ClusterClient client(security);
  ved::cluster::FetchedRun run;
  std::string error;
  if (!fetch_run(client, o.join, o.program, UINT64_MAX, o.timeout_ms, run, error)) {
    std::cerr << "vedvm: error: cannot read program `" << terminal_text(o.program) << "` from the cluster at " << o.join
              << ": " << terminal_text(error) << "\n";
    return kExitError;
  }
  if (run.builds.empty()) {
    std::cerr << "vedvm: error: the cluster sent program `" << terminal_text(run.name) << "` without its bundle\n";
    return kExitError;
  }
  ScratchDir scratch;
  if (scratch.path().empty()) {
    std::cerr << "vedvm: error: cannot make a scratch directory to rebuild the run in\n";
    return kExitError;
  }
  const std::string dir = scratch.path() + "/run";
  {
    ved::vm::RuntimeOptions options;
    options.seed = run.seed;
    // The frames in parts, as the leader gives them, up to the count it said first.
    std::string fetch_error;
    const uint64_t count = run.frame_count;
    auto part = [&](uint64_t from) {
      ved::cluster::FetchedRun next;
      if (from >= count || !fetch_run(client, o.join, std::to_string(run.id), from, o.timeout_ms, next, fetch_error))
        return std::string();
      return std::move(next.frames);
    };
    auto store = ved::cluster::open_committed_run(dir, run.builds, options, part, error);
    if (store && !fetch_error.empty()) {
      store.reset();
      error = fetch_error;
    }
    // Every frame the leader said is committed, or a clear error: never a shorter run.
    uint64_t rebuilt = 0;
    if (store)
      if (const ved::vm::Status s = ved::vm::journal_frame_count(*store, rebuilt); !s.is_ok()) {
        store.reset();
        error = s.message();
      }
    if (store && rebuilt < count) {
      store.reset();
      error = "the cluster gave " + std::to_string(rebuilt) + " of its " + std::to_string(count) + " committed frames";
    }
    if (!store) {
      std::cerr << "vedvm: error: the cluster's run of program `" << terminal_text(run.name)
                << "` cannot be rebuilt: " << terminal_text(error) << "\n";
      return kExitError;
    }
  }
  return inspect(dir, o.json, o.instance);
}

}  // namespace vedvm
