// The built-in adapters as `vedvm` binds them (runtime.md §7): file effects confined to
// --fs-root (an escape fails with `permission` and writes nothing), Log.* on stderr,
// Process.Run only with --allow-exec. Each outcome reaches its handler with the code the
// adapter gave, and each run replays from its journal. Stopping the VM kills the
// processes Process.Run still has running.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <thread>

#include "runtime_support.h"

using namespace ved::rt;

namespace {

const char* kProgram = R"(
@privilege infrastructure
domain Ops {
    state { done: bool  results: list<string>  codes: list<string> }
    goal Finished { predicate: done  strategy: Go }
    transition Go() {
        emit System.WriteFile(path: "inside/ok.txt", content: "fine")
        emit System.WriteFile(path: "../escaped.txt", content: "should not exist")
        emit Log.Info(msg: "hello\nforged line")
        emit Process.Run(argv: ["echo", "from a process"])
        done = true
    }
    transition Wrote() on System.WriteFile.ok { results = append(results, "write ok") }
    transition WriteFailed(e: EffectError) on System.WriteFile.failed { codes = append(codes, "write " + e.code) }
    transition Ran(out: string) on Process.Run.ok { results = append(results, "ran " + out) }
    transition RunFailed(e: EffectError) on Process.Run.failed { codes = append(codes, "run " + e.code) }
}
)";

}  // namespace

TEST_CASE("built-in effects: confinement, logs, Process.Run with and without --allow-exec") {
  TempDir tmp;
  write_file(tmp.path() / "ops.ved", kProgram);
  for (const bool allow : {false, true}) {
    INFO("--allow-exec " << allow);
    const std::string name = allow ? "allowed" : "denied";
    const auto root = tmp.path() / name / "root";
    std::filesystem::create_directories(root);
    std::vector<std::string> args{tmp / "ops.ved", "--data-dir", tmp / (name + "-data"), "--sync=none", "--fs-root",
                                  root.string()};
    if (allow) args.push_back("--allow-exec");
    Result r = vedvm_run(args);
    CHECK_MESSAGE(r.exit_code == 0, describe(r) << "\n" << r.out << r.err);
    CHECK(read_file(root / "inside" / "ok.txt") == "fine");
    CHECK_FALSE(std::filesystem::exists(tmp.path() / name / "escaped.txt"));
    // One log line: the newline in the message is escaped, not a second line.
    CHECK_MESSAGE(contains(r.err, "log info Ops: hello\\nforged line\n"), r.err);
    CHECK_FALSE(contains(r.err, "\nforged line"));
    const auto state = state_fields(summary_instances(r.out)["Ops"]);
    CHECK(contains(state.at("codes"), "\"write permission\""));
    if (allow) {
      CHECK(contains(state.at("results"), "\"ran from a process\\n\""));
      CHECK_FALSE(contains(state.at("codes"), "run "));
    } else {
      CHECK(contains(state.at("codes"), "\"run exec_disabled\""));
      CHECK_FALSE(contains(state.at("results"), "ran "));
    }
    Result replay = vedvm_run({"replay", tmp / (name + "-data")});
    CHECK_MESSAGE(replay.exit_code == 0, replay.out << replay.err);
  }
}

TEST_CASE("built-in effects: --fs-root must be a directory") {
  TempDir tmp;
  write_file(tmp.path() / "ops.ved", kProgram);
  Result r = vedvm_run({tmp / "ops.ved", "--data-dir", tmp / "d", "--fs-root", tmp / "missing"});
  CHECK(r.exit_code == 64);
  CHECK(contains(r.err, "--fs-root"));
  CHECK(contains(r.err, "not a directory"));
}

namespace {

// Runs a child that appends its pid to `runs` (in the fs root, its working directory)
// and then sleeps, unless the file `go` exists: then it prints `finished` and exits.
const char* kSleeper = R"(
@privilege infrastructure
domain Ops {
    state { done: bool  results: list<string> }
    goal Finished { predicate: done  strategy: Go }
    transition Go() {
        emit Process.Run(argv: ["sh", "-c", "echo $$ >> runs; if [ -e go ]; then echo finished; else exec sleep 30; fi"], idempotency_key: "sleeper")
        done = true
    }
    transition Ran(out: string) on Process.Run.ok { results = append(results, "ran " + out) }
    transition RunFailed(e: EffectError) on Process.Run.failed { results = append(results, "failed " + e.code) }
}
)";

std::vector<pid_t> pids_in(const std::filesystem::path& file) {
  std::vector<pid_t> pids;
  std::istringstream in(read_file(file));
  long pid = 0;
  while (in >> pid)
    if (pid > 1) pids.push_back(static_cast<pid_t>(pid));
  return pids;
}

// Gone: no such process, or a zombie (killed and not yet reaped by whoever adopted it).
bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

bool gone_within(pid_t pid, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!process_gone(pid)) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Kills, at the end of the test whatever its result, the children the VM started (their
// pids are in `runs`) that still run: with the bug they outlive the VM. Only processes
// that are still the test's `sh` or `sleep`, in case a pid was reused.
struct KillChildren {
  std::filesystem::path runs;
  ~KillChildren() {
    for (pid_t pid : pids_in(runs)) {
      if (process_gone(pid)) continue;
      const std::string cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
      const std::string argv0 = cmdline.substr(0, cmdline.find('\0'));
      if (argv0 != "sh" && argv0 != "sleep") continue;
      ::kill(-pid, SIGKILL);  // its process group (Process.Run starts one per child)
      ::kill(pid, SIGKILL);
    }
  }
};

}  // namespace

// Regression (issue 10 item 4): SIGTERM to vedvm while Process.Run ran left the child
// running, adopted by init, and the resumed run dispatched the same intent again, so two
// copies ran at once. The stopping VM now kills the child with its process group; the
// intent stays open and the next run dispatches it once more, with the same id.
TEST_CASE("built-in effects: SIGTERM kills a running Process.Run child, the resumed run dispatches it again") {
  TempDir tmp;
  write_file(tmp.path() / "sleeper.ved", kSleeper);
  const auto root = tmp.path() / "root";
  std::filesystem::create_directories(root);
  const std::string data = tmp / "data";
  const std::vector<std::string> args{vedvm(), tmp / "sleeper.ved", "--data-dir", data, "--sync=none",
                                      "--fs-root", root.string(), "--allow-exec"};
  KillChildren cleanup{root / "runs"};

  pid_t child = -1;
  {
    Process vm(args);  // killed and reaped by its destructor if it still runs
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (true) {
      const std::string text = read_file(root / "runs");
      if (!text.empty() && text.back() == '\n') break;
      REQUIRE_MESSAGE(!vm.finished(), "vedvm ended before starting the child");
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until, "the child never wrote its pid");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto pids = pids_in(root / "runs");
    REQUIRE(pids.size() == 1);
    child = pids[0];
    REQUIRE(vm.send(SIGTERM));
    Result r = vm.wait(std::chrono::seconds(15));
    CHECK_MESSAGE(r.exited, describe(r) << "\n" << r.out << r.err);
    CHECK(r.exit_code == 128 + SIGTERM);
    CHECK_MESSAGE(r.seconds < 10, "vedvm took " << r.seconds << " s to stop");
  }
  CHECK_MESSAGE(gone_within(child, std::chrono::seconds(2)), "the child " << child << " still runs after vedvm stopped");

  // The intent is still open, dispatched once.
  Result inspected = vedvm_run({"inspect", data, "--json"});
  REQUIRE_MESSAGE(inspected.exit_code == 0, inspected.err);
  CHECK_MESSAGE(contains(inspected.out, R"("open_intents":[{"id":"1-0","instance":"Ops","effect":"Process.Run","dispatches":1,"outcome_arrived":false,)"),
                inspected.out);

  // Resumed: the same intent runs once more (one more pid), and this time finishes.
  write_file(root / "go", "");
  {
    Process vm(args);
    Result r = vm.wait(std::chrono::seconds(30));
    CHECK_MESSAGE(r.exit_code == 0, describe(r) << "\n" << r.out << r.err);
    CHECK_MESSAGE(contains(state_fields(summary_instances(r.out)["Ops"])["results"], "\"ran finished\\n\""), r.out);
  }
  CHECK(pids_in(root / "runs").size() == 2);
  Result stats = vedvm_run({"stats", data});
  CHECK_MESSAGE(contains(stats.out, "  emit: 1\n"), stats.out);
  CHECK_MESSAGE(contains(stats.out, "  outcome: 1\n"), stats.out);
  std::string journal;
  for (int tick = 1; tick <= 10; ++tick) journal += vedvm_run({"inspect", data, "--tick", std::to_string(tick)}).out;
  CHECK_MESSAGE(contains(journal, "outcome 1-0 Process.Run.ok \"finished\\n\""), journal);
  Result replay = vedvm_run({"replay", data});
  CHECK_MESSAGE(replay.exit_code == 0, replay.out << replay.err);
}
