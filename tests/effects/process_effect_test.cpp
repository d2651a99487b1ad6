// Process.Run: only with --allow-exec; argv straight to exec, no shell; stdout on
// success; exit status, missing programs, timeouts and oversized output as failures;
// cancel_in_flight (the VM stopping) kills what runs and starts nothing more.
#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "builtin_support.h"

namespace ved::effects_test {
namespace {

Builtins with_exec(int timeout_ms = 10000, size_t max_output = size_t{16} << 20) {
  return Builtins([&](vm::BuiltinAdapterOptions& o) {
    o.allow_exec = true;
    o.process_timeout_ms = timeout_ms;
    o.max_output_bytes = max_output;
  });
}

vm::EffectOutcome run(Builtins& b, std::vector<std::string> argv) { return b.run("Process.Run", {strings(std::move(argv))}); }

TEST_CASE("Process.Run is disabled without --allow-exec") {
  Builtins b;
  REQUIRE(b.set.effect("Process.Run"));
  CHECK_FALSE(b.set.effect("Process.Run")->between_ticks());
  vm::EffectOutcome o = run(b, {"sh", "-c", "touch ran"});
  CHECK(o.code == "exec_disabled");
  CHECK(o.message.find("--allow-exec") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(b.root / "ran"));
}

TEST_CASE("a successful run gives its stdout") {
  Builtins b = with_exec();
  vm::EffectOutcome o = run(b, {"echo", "hi"});
  REQUIRE(o.ok);
  CHECK(o.value.as_string() == "hi\n");
  vm::EffectOutcome empty = run(b, {"true"});
  REQUIRE(empty.ok);
  CHECK(empty.value.as_string() == "");
}

TEST_CASE("argv is not interpreted by a shell") {
  Builtins b = with_exec();
  vm::EffectOutcome o = run(b, {"echo", "$HOME", "a;b", "`id`", "*"});
  REQUIRE(o.ok);
  CHECK(o.value.as_string() == "$HOME a;b `id` *\n");
}

TEST_CASE("the process runs in the fs root with stdin empty") {
  Builtins b = with_exec();
  vm::EffectOutcome pwd = run(b, {"pwd"});
  REQUIRE(pwd.ok);
  CHECK(pwd.value.as_string() == b.root.string() + "\n");
  vm::EffectOutcome cat = run(b, {"cat"});  // would wait forever on an inherited terminal
  REQUIRE(cat.ok);
  CHECK(cat.value.as_string() == "");
}

TEST_CASE("a nonzero exit is an exit_status failure quoting stderr") {
  Builtins b = with_exec();
  vm::EffectOutcome f = run(b, {"false"});
  CHECK(f.code == "exit_status");
  CHECK_FALSE(f.retryable);
  CHECK(f.message.find("status 1") != std::string::npos);
  vm::EffectOutcome sh = run(b, {"sh", "-c", "echo partial; echo 'it broke' >&2; exit 3"});
  CHECK(sh.code == "exit_status");
  CHECK(sh.message.find("status 3") != std::string::npos);
  CHECK(sh.message.find("it broke") != std::string::npos);
  vm::EffectOutcome killed = run(b, {"sh", "-c", "kill -9 $$"});
  CHECK(killed.code == "exit_status");
  CHECK(killed.message.find("signal 9") != std::string::npos);
}

TEST_CASE("a program that does not exist is a not_found failure") {
  Builtins b = with_exec();
  vm::EffectOutcome o = run(b, {"ved-no-such-program-xyz"});
  CHECK_FALSE(o.ok);
  CHECK(o.code == "not_found");
  CHECK(o.message.find("ved-no-such-program-xyz") != std::string::npos);
  CHECK(run(b, {"/nonexistent/bin/tool"}).code == "not_found");
}

TEST_CASE("empty argv is invalid") {
  Builtins b = with_exec();
  CHECK(run(b, {}).code == "invalid");
  CHECK(run(b, {""}).code == "invalid");
}

TEST_CASE("a process over the timeout is killed with its children: timeout, retryable") {
  Builtins b = with_exec(200);
  const auto start = std::chrono::steady_clock::now();
  vm::EffectOutcome o = run(b, {"sleep", "5"});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(o.code == "timeout");
  CHECK(o.retryable);
  CHECK(o.message.find("200 ms") != std::string::npos);
  CHECK(elapsed < std::chrono::seconds(3));
  // The timeout holds even when the child never closes its output.
  const auto start2 = std::chrono::steady_clock::now();
  vm::EffectOutcome busy = run(b, {"sh", "-c", "while :; do echo y; sleep 0.01; done"});
  CHECK(busy.code == "timeout");
  CHECK(std::chrono::steady_clock::now() - start2 < std::chrono::seconds(3));
}

TEST_CASE("a child that exits while a background grandchild holds its stdout is done when it exits") {
  Builtins b = with_exec(5000);
  const auto start = std::chrono::steady_clock::now();
  vm::EffectOutcome o = run(b, {"sh", "-c", "sleep 3 & echo done"});
  REQUIRE(o.ok);
  CHECK(o.value.as_string() == "done\n");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("stdout beyond the limit fails instead of growing without bound") {
  Builtins b = with_exec(10000, 1000);
  vm::EffectOutcome big = run(b, {"head", "-c", "5000", "/dev/zero"});
  CHECK(big.code == "io");
  CHECK(big.message.find("1000 bytes") != std::string::npos);
  vm::EffectOutcome fits = run(b, {"head", "-c", "1000", "/dev/zero"});
  REQUIRE(fits.ok);
  CHECK(fits.value.as_string().size() == 1000);
}

TEST_CASE("output that is not UTF-8 is repaired") {
  Builtins b = with_exec();
  vm::EffectOutcome o = run(b, {"printf", "a\\377b"});
  REQUIRE(o.ok);
  CHECK(o.value.as_string() == "a\xEF\xBF\xBD" "b");
}

TEST_CASE("concurrent runs do not mix their output") {
  Builtins b = with_exec();
  vm::EffectAdapter* adapter = b.set.effect("Process.Run");
  std::vector<std::string> results(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      vm::EffectRequest r = request_for(*b.program, "Process.Run", {strings({"echo", "run" + std::to_string(i)})});
      vm::EffectOutcome o = adapter->execute(r);
      results[static_cast<size_t>(i)] = o.ok ? o.value.as_string() : "failed " + o.message;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) CHECK(results[static_cast<size_t>(i)] == "run" + std::to_string(i) + "\n");
}

// The pid written in `file` (0 until it is there, whole).
pid_t pid_in(const std::filesystem::path& file) {
  const std::string text = read_text(file);
  if (text.empty() || text.back() != '\n') return 0;
  return static_cast<pid_t>(std::stol(text));
}

// Gone: no such process, or a zombie (killed, not yet reaped by whoever adopted it).
bool gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

bool gone_within(pid_t pid, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!gone(pid)) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

TEST_CASE("cancel_in_flight kills a running child with its process group, and later calls start nothing") {
  Builtins b = with_exec(60000);
  vm::EffectAdapter* adapter = b.set.effect("Process.Run");
  // The child and a grandchild in its process group, each writing its pid and sleeping.
  vm::EffectRequest request = request_for(
      *b.program, "Process.Run",
      {strings({"sh", "-c", "sleep 30 & echo $! > grandchild; echo $$ > child; wait"})});
  std::atomic<bool> returned{false};
  vm::EffectOutcome outcome;
  std::thread worker([&] {
    outcome = adapter->execute(request);
    returned = true;
  });
  pid_t child = 0, grandchild = 0;
  // Whatever happens below, nothing this test started outlives it.
  struct Cleanup {
    vm::EffectAdapter* adapter;
    pid_t& child;
    pid_t& grandchild;
    std::thread& worker;
    ~Cleanup() {
      adapter->cancel_in_flight();
      for (pid_t p : {child, grandchild})
        if (p > 1 && !gone(p)) ::kill(p, SIGKILL);
      worker.join();
    }
  } cleanup{adapter, child, grandchild, worker};
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((child = pid_in(b.root / "child")) == 0 || (grandchild = pid_in(b.root / "grandchild")) == 0) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until, "the child never wrote its pids");
    REQUIRE_MESSAGE(!returned, "the child ended early: " << outcome.code << " " << outcome.message);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK_FALSE(returned);
  adapter->cancel_in_flight();
  const auto cancelled = std::chrono::steady_clock::now();
  while (!returned && std::chrono::steady_clock::now() - cancelled < std::chrono::seconds(5))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE_MESSAGE(returned, "execute did not return after cancel_in_flight");
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.code == "adapter");
  CHECK(outcome.retryable);
  CHECK_MESSAGE(outcome.message.find("stopping") != std::string::npos, outcome.message);
  CHECK_MESSAGE(gone_within(child, std::chrono::seconds(2)), "child " << child);
  CHECK_MESSAGE(gone_within(grandchild, std::chrono::seconds(2)), "grandchild " << grandchild);

  // A call that starts afterwards (a worker that took its job as the pool gave up) runs
  // nothing.
  vm::EffectOutcome late = run(b, {"sh", "-c", "touch ran"});
  CHECK(late.code == "adapter");
  CHECK_FALSE(std::filesystem::exists(b.root / "ran"));
}

}  // namespace
}  // namespace ved::effects_test
