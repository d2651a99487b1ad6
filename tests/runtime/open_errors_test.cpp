// Opening a data dir that is healthy but cannot be used right now (runtime.md §6): a lock
// held by a running VM, a full disk, a read-only file system. Each must be said as what it
// is — never "damaged", never a suggestion of --fresh, which would destroy a healthy run —
// and the reading commands (inspect, stats, replay) must work without the lock and
// without writing, so they serve a running VM's dir and read-only media.
//
// The full-disk and read-only cases mount a small tmpfs inside a private mount namespace
// (`unshare -m`), which disappears with the shell that made it; on a machine where that is
// not allowed they are skipped with a message.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <thread>

#include "runtime_support.h"

using namespace ved::rt;
namespace fs = std::filesystem;

namespace {

std::string example(const std::string& name) { return std::string(VED_EXAMPLES_DIR) + "/" + name; }

// Every file of a directory with its size and contents: equal before and after a command
// that must write nothing.
std::map<std::string, std::string> contents(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out[e.path().filename().string()] = read_file(e.path());
  return out;
}

bool namespaces_allowed() {
  static const bool allowed = run({"/usr/bin/unshare", "-m", "/bin/true"}).exit_code == 0;
  return allowed;
}

// Runs `script` with sh in a private mount namespace, where `$1` is a tmpfs of `size`
// mounted at `mount` (a directory of the test's own) and `$2` is vedvm.
Result in_small_tmpfs(const fs::path& mount, const std::string& size, const std::string& script) {
  fs::create_directories(mount);
  const std::string wrapped = "mount -t tmpfs -o size=" + size + " tmpfs \"$1\" || exit 99\n" + script;
  return run({"/usr/bin/unshare", "-m", "/bin/sh", "-c", wrapped, "sh", mount.string(), vedvm()});
}

// A program whose ticks write a lot: a 40 KB field rewritten every tick.
const char* kHeavyProgram = R"(// Fills a disk: 400 instances of 40 KB each (distinct records: a group of ticks writes
// a record that several of its ticks change only once, so one record rewritten would not).
domain Filler {
    state { n: int }
    goal Fill {
        predicate: n >= 400
        strategy: Next
        terminate_after: never
    }
    transition Next() {
        send Cell[n] Grow(seed: n)
        n = n + 1
    }
}
domain Cell {
    state { blob: String }
    transition Grow(seed: int) {
        for i in 0..4000 { blob = blob + "0123456789" }
        blob = format("{}{}", seed, blob)
    }
}
)";
}  // namespace

TEST_CASE("open errors: a data dir in use is said to be in use, inspect, stats and replay read it without the lock") {
  TempDir tmp;
  const std::string dir = tmp / "data";
  Process serving({vedvm(), example("hello.ved"), "--data-dir", dir, "--serve", "--tick-ms", "5", "--quiet"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(fs::path(dir) / "CURRENT") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  REQUIRE_FALSE(serving.finished());

  Result second = vedvm_run({example("hello.ved"), "--data-dir", dir});
  CHECK(second.exit_code == 1);
  CHECK_MESSAGE(contains(second.err, "is in use"), second.err);
  CHECK_FALSE(contains(second.err, "damaged"));
  CHECK_FALSE(contains(second.err, "--fresh"));
  Result fresh = vedvm_run({example("hello.ved"), "--data-dir", dir, "--fresh"});
  CHECK(fresh.exit_code == 1);
  CHECK_MESSAGE(contains(fresh.err, "is in use"), fresh.err);

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"inspect", dir}, {"inspect", dir, "--json"}, {"stats", dir}, {"replay", dir}, {"inspect", dir, "--tick", "1"}}) {
    INFO(args[0]);
    Result r = vedvm_run(args);
    CHECK_MESSAGE(r.exit_code == 0, describe(r) << "\n" << r.err);
  }
  CHECK(contains(vedvm_run({"inspect", dir}).out, "Counter"));
  REQUIRE(serving.send(SIGTERM));
  CHECK(serving.wait().exit_code == 143);
}

TEST_CASE("open errors: inspect, stats and replay write nothing into the data dir") {
  TempDir tmp;
  const std::string dir = tmp / "data";
  REQUIRE(vedvm_run({example("hello.ved"), "--data-dir", dir, "--quiet"}).exit_code == 0);
  const auto before = contents(dir);
  // Their private copies go to $TMPDIR: one of the test's own, to see that they are gone.
  const fs::path private_tmp = tmp.path() / "tmp";
  fs::create_directories(private_tmp);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"inspect", dir}, {"inspect", dir, "--json"}, {"inspect", dir, "--tick", "2"}, {"stats", dir}, {"replay", dir}}) {
    INFO(args[0]);
    std::vector<std::string> argv{"/usr/bin/env", "TMPDIR=" + private_tmp.string(), vedvm()};
    argv.insert(argv.end(), args.begin(), args.end());
    CHECK(run(argv).exit_code == 0);
    CHECK(contents(dir) == before);
    CHECK(fs::is_empty(private_tmp));
  }
}

TEST_CASE("open errors: a full disk is said to be full, and the data dir stays at its last committed tick") {
  if (!namespaces_allowed()) {
    MESSAGE("skipped: `unshare -m` is not allowed here, so no small disk can be mounted");
    return;
  }
  TempDir tmp;
  write_file(tmp.path() / "heavy.ved", kHeavyProgram);
  const std::string bundle = tmp / "heavy.vedb";
  REQUIRE(run({vedc(), tmp / "heavy.ved", "-o", bundle}).exit_code == 0);
  const std::string out = tmp / "out";
  fs::create_directories(out);
  // Run until the disk is full; then inspect the dir (the copy goes to /tmp, another
  // disk), and try to run again.
  Result r = in_small_tmpfs(tmp.path() / "mnt", "3m",
                            "\"$2\" " + bundle + " --data-dir \"$1/d\" --quiet > " + out + "/run.out 2> " + out +
                                "/run.err; echo $? > " + out + "/run.code\n" +
                                "\"$2\" inspect \"$1/d\" --json > " + out + "/inspect.out 2> " + out +
                                "/inspect.err; echo $? > " + out + "/inspect.code\n" +
                                "\"$2\" " + bundle + " --data-dir \"$1/d\" --quiet > " + out + "/again.out 2> " + out +
                                "/again.err; echo $? > " + out + "/again.code\n");
  REQUIRE_MESSAGE(r.exit_code == 0, describe(r) << r.err);
  const std::string run_err = read_file(fs::path(out) / "run.err");
  CHECK(read_file(fs::path(out) / "run.code") == "1\n");
  CHECK_MESSAGE(contains(run_err, "No space left"), run_err);
  CHECK_FALSE(contains(run_err, "damaged"));
  CHECK_FALSE(contains(run_err, "--fresh"));
  // The committed ticks are all there and readable.
  CHECK_MESSAGE(read_file(fs::path(out) / "inspect.code") == "0\n", read_file(fs::path(out) / "inspect.err"));
  CHECK(contains(read_file(fs::path(out) / "inspect.out"), "\"tick\":"));
  const std::string again = read_file(fs::path(out) / "again.err");
  CHECK(read_file(fs::path(out) / "again.code") == "1\n");
  CHECK_MESSAGE((contains(again, "No space left") || contains(again, "no space left")), again);
  CHECK_FALSE(contains(again, "damaged"));
}

TEST_CASE("open errors: a read-only file system is said to be one, inspect, stats and replay read it") {
  if (!namespaces_allowed()) {
    MESSAGE("skipped: `unshare -m` is not allowed here, so no read-only disk can be mounted");
    return;
  }
  TempDir tmp;
  const std::string out = tmp / "out";
  fs::create_directories(out);
  const std::string hello = example("hello.ved");
  std::string script = "\"$2\" " + hello + " --data-dir \"$1/d\" --quiet || exit 98\n" +
                       "mount -o remount,ro \"$1\" || exit 97\n" + "\"$2\" " + hello + " --data-dir \"$1/d\" > " + out +
                       "/run.out 2> " + out + "/run.err; echo $? > " + out + "/run.code\n";
  for (const char* command : {"inspect", "stats", "replay"})
    script += "\"$2\" " + std::string(command) + " \"$1/d\" > " + out + "/" + command + ".out 2> " + out + "/" + command +
              ".err; echo $? > " + out + "/" + command + ".code\n";
  Result r = in_small_tmpfs(tmp.path() / "mnt", "16m", script);
  REQUIRE_MESSAGE(r.exit_code == 0, describe(r) << r.err);
  const std::string run_err = read_file(fs::path(out) / "run.err");
  CHECK(read_file(fs::path(out) / "run.code") == "1\n");
  CHECK_MESSAGE(contains(run_err, "read-only file system"), run_err);
  CHECK_FALSE(contains(run_err, "damaged"));
  CHECK_FALSE(contains(run_err, "--fresh"));
  for (const char* command : {"inspect", "stats", "replay"}) {
    INFO(command);
    CHECK_MESSAGE(read_file(fs::path(out) / (std::string(command) + ".code")) == "0\n",
                  read_file(fs::path(out) / (std::string(command) + ".err")));
  }
  CHECK(contains(read_file(fs::path(out) / "inspect.out"), "Counter"));
}
