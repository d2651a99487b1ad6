// The limits of a run (runtime.md "Limits that are semantics"), each found in review as a
// defect of the code before: tick arithmetic that overflowed, a storm that took the VM
// down, faults that depended on the machine's memory, retries mistaken for oscillation,
// journal lines the size of a field, adapter text that drove the terminal, and the small
// things a user trips over (ignored flags, signals at start-up, test time that did not
// jump). Each case is the smallest program that showed the defect, and checks what must
// now happen; where determinism is the point, it runs twice and compares.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <thread>

#include "runtime_support.h"

using namespace ved::rt;
namespace fs = std::filesystem;

namespace {


std::string inspect(const std::string& data) { return vedvm_run({"inspect", data, "--json"}).out; }

// `vedvm ARGS` with the address space limited to `kib` KiB (ulimit -v), through sh.
Result vedvm_limited(int64_t kib, const std::vector<std::string>& args) {
  std::string command = "ulimit -v " + std::to_string(kib) + " && exec \"$0\"";
  for (size_t k = 0; k < args.size(); ++k) command += " \"$" + std::to_string(k + 1) + "\"";
  std::vector<std::string> argv{"/bin/sh", "-c", command, vedvm()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

}  // namespace

// Regression test (a bug, fixed): `schedule … after 9223372036854775804 ticks` set a
// timer due at INT64_MAX; time jumped there and `++tick` wrapped negative (UBSan), and
// replay skipped the wrapped ticks.
TEST_CASE("limits: a timer due after the last tick faults the slice that sets it, one before it fires") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, R"(
domain Far {
    state { fired: int }
    transition Start() on start { schedule Fire() after 9223372036854775804 ticks }
    transition Fire() { fired = fired + 1 }
}
domain Near {
    state { fired: int }
    transition Start() on start { schedule Fire() after 4611686018427387000 ticks }
    transition Fire() { fired = fired + 1 }
}
)");
  for (const char* data : {"a", "b"}) {
    Result r = vedvm_run({bundle, "--data-dir", tmp / data, "--sync=none"});
    CHECK_MESSAGE(r.exit_code == 3, describe(r) << "\n" << r.out << r.err);
    CHECK_MESSAGE(contains(r.out, "Far FAULTED"), r.out);
    CHECK(contains(r.out, "the last tick a run reaches"));
    CHECK_MESSAGE(contains(r.out, "Near Near.State(fired: 1)"), r.out);
    CHECK_MESSAGE(contains(r.out, "stopped at tick 4611686018427387001"), r.out);
    Result replay = vedvm_run({"replay", tmp / data});
    CHECK_MESSAGE(replay.exit_code == 0, replay.out << replay.err);
  }
  CHECK(inspect(tmp / "a") == inspect(tmp / "b"));
}

// Regression test (a bug, fixed): with `backoff: exponential(max: 9223372036854775807)`
// and `terminate_after: never`, `tick + wait` overflowed after attempt 62 and the goal
// attempted every tick, forever.
TEST_CASE("limits: a backoff that would end after the last tick never ends: the run stops with the goal unsatisfied") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, R"(
domain Retry {
    state { tries: int }
    goal Never {
        predicate: tries < 0
        strategy: Try
        terminate_after: never
        backoff: exponential(max: 9223372036854775807)
    }
    transition Try() { tries = tries + 1 }
}
)");
  Result r = vedvm_run({bundle, "--data-dir", tmp / "d", "--sync=none"});
  CHECK_MESSAGE(r.exit_code == 2, describe(r) << "\n" << r.out << r.err);
  CHECK_MESSAGE(contains(r.out, "Retry.State(tries: 62)"), r.out);
  CHECK(contains(r.out, "goal Never unsatisfied (62 attempts)"));
  CHECK(vedvm_run({"replay", tmp / "d"}).exit_code == 0);
}

// Regression test (a bug, fixed): the oscillation hash covered state and mailbox but not
// the random generator, so retries driven by rand() that drew an earlier value again were
// terminated as "oscillation" after 3-5 attempts for most seeds.
TEST_CASE("limits: retries driven by rand() are not an oscillation") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, R"(
domain Flaky {
    state { draw: int }
    goal Lucky {
        predicate: draw == 7
        strategy: Try
        terminate_after: 400 attempts
    }
    transition Try() { draw = rand(8) }
}
)");
  for (int seed = 1; seed <= 8; ++seed) {
    INFO("seed " << seed);
    Result r = vedvm_run({bundle, "--data-dir", tmp / ("d" + std::to_string(seed)), "--sync=none", "--seed",
                          std::to_string(seed)});
    CHECK_MESSAGE(r.exit_code == 0, r.out);
    CHECK_FALSE(contains(r.out, "oscillation"));
    CHECK(contains(r.out, "Flaky.State(draw: 7)"));
  }
}

// Regression test (a bug, fixed): join, str and format built their whole result before
// checking the 256 MiB limit, so the same slice faulted with "a string longer than
// 256 MiB" on a big machine and "out of memory" on a small one, and replay diverged.
TEST_CASE("limits: strings over 256 MiB fault the same way whatever the memory: checked before they are built") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, R"(
fn piece() -> string {
    let s = "0123456789abcdef"
    for i in 0..10 { s = s + s }
    return s
}
fn pieces() -> list<string> {
    let p = piece()
    let xs: list<string> = []
    for i in 0..16385 { xs = append(xs, p) }
    return xs
}
domain Joined {
    state { size: int }
    transition Start() on start { size = len(join(pieces(), "")) }
}
domain Shown {
    state { size: int }
    transition Start() on start { size = len(str(pieces())) }
}
domain Formatted {
    state { size: int }
    transition Start() on start { size = len(format("{}", pieces())) }
}
)");
  Result whole = vedvm_run({bundle, "--data-dir", tmp / "big", "--sync=none"});
  CHECK_MESSAGE(whole.exit_code == 3, describe(whole) << "\n" << whole.out << whole.err);
  for (const char* domain : {"Joined", "Shown", "Formatted"})
    CHECK_MESSAGE(contains(whole.out, std::string(domain) + " FAULTED"), whole.out);
  size_t faults = 0;
  for (size_t at = whole.out.find("a string longer than 256 MiB"); at != std::string::npos;
       at = whole.out.find("a string longer than 256 MiB", at + 1))
    ++faults;
  CHECK(faults == 3);
  // With 768 MiB of address space, building any of these strings would fail: the same
  // faults, the same state.
  Result small = vedvm_limited(768 * 1024, {bundle, "--data-dir", tmp / "small", "--sync=none"});
  CHECK_MESSAGE(small.exit_code == 3, describe(small) << "\n" << small.out << small.err);
  CHECK(summary_instances(small.out) == summary_instances(whole.out));
  CHECK(inspect(tmp / "small") == inspect(tmp / "big"));
  CHECK(vedvm_run({"replay", tmp / "small"}).exit_code == 0);
}

// Regression test (a bug, fixed): nothing bounded what one tick may create, so a message
// storm ended as the VM's memory exhaustion. Now the slice that would go past 2^20
// messages, intents, spawns and timers in one tick faults, at the same place every run.
TEST_CASE("limits: a tick creates at most 2^20 messages: the sender that would go past faults") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, R"(
domain A {
    state { sent: int }
    transition Start() on start {
        for i in 0..600000 { send Sink[i].Put(k: i) }
        sent = 600000
    }
}
domain B {
    state { sent: int }
    transition Start() on start {
        for i in 0..600000 { send Sink[600000 + i].Put(k: i) }
        sent = 600000
    }
}
domain Sink {
    state { got: int }
    transition Put(k: int) { got = k }
}
)");
  for (const char* data : {"a", "b"}) {
    Result r = vedvm_run({bundle, "--data-dir", tmp / data, "--sync=none", "--max-ticks", "1", "--slice-budget",
                          "100000000"});
    CHECK_MESSAGE(r.exit_code == 3, describe(r) << "\n" << r.out << r.err);
    CHECK_MESSAGE(contains(r.out, "A A.State(sent: 600000)"), r.out);
    CHECK(contains(r.out, "B FAULTED B.State(sent: 0)"));
    CHECK(contains(r.out, "this tick has already created 1048576 messages"));
  }
  CHECK(inspect(tmp / "a") == inspect(tmp / "b"));
}

// Regression test (a bug, fixed): std::bad_alloc outside a slice (an exponential message
// storm under a memory limit) aborted the VM with SIGABRT, and a restart did it again.
// Now the VM stops with exit 1 naming the tick and the cause; the data dir keeps its last
// committed tick (the restart says the same, it does not find damage). Which allocation
// fails first is the machine's business: in LevelDB's compaction thread, or a table
// LevelDB cannot map, the VM stops the same way, saying so (tools/vedvm/out_of_memory.h,
// vm/runtime/store.cpp), without a tick.
TEST_CASE("limits: running out of memory stops the VM cleanly, naming the tick, the data dir stays usable") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, R"(
domain Cell {
    state { n: int }
    transition Start() on start { send Cell[1].Grow(k: 1) }
    transition Grow(k: int) {
        n = n + 1
        send Cell[2 * k].Grow(k: 2 * k)
        send Cell[2 * k + 1].Grow(k: 2 * k + 1)
    }
}
)");
  const std::string data = tmp / "d";
  // In a tick ("tick N: ... nothing of this tick was written"), in LevelDB's thread, or as
  // LevelDB's own error (a table it could not map): each says the machine ran out of memory.
  auto stopped_cleanly = [](const Result& r) {
    return r.exited && r.exit_code == 1 && r.err.rfind("vedvm: error: ", 0) == 0 &&
           contains(r.err, "ran out of memory") && !contains(r.err, "damaged");
  };
  Result first = vedvm_limited(220 * 1024, {bundle, "--data-dir", data, "--sync=none", "--quiet"});
  CHECK_MESSAGE(stopped_cleanly(first), describe(first) << "\n" << first.err);
  Result again = vedvm_limited(220 * 1024, {bundle, "--data-dir", data, "--sync=none", "--quiet"});
  CHECK_MESSAGE(stopped_cleanly(again), describe(again) << "\n" << again.err);
  CHECK_FALSE(contains(again.err, "damaged"));
}

// Regression test (a bug, fixed): a slice record printed the whole value of every changed
// field: 4 MiB of journal per tick for a 4 MiB string.
TEST_CASE("limits: the journal shows a large value as its first KiB and its hash, replay still checks it whole") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, R"(
domain Big {
    state { text: string  n: int }
    goal Grown { predicate: n >= 3  strategy: Grow }
    transition Grow() {
        if n == 0 {
            text = "x"
            for i in 0..22 { text = text + text }
        }
        text = format("{}{}", n, text)
        n = n + 1
    }
}
)");
  const std::string data = tmp / "d";
  Result r = vedvm_run({bundle, "--data-dir", data, "--sync=none", "--trace"});
  REQUIRE(r.exit_code == 0);
  CHECK_MESSAGE(r.out.size() < 64 * 1024, r.out.size());
  CHECK(contains(r.out, "... (hash "));
  for (int tick = 1; tick <= 6; ++tick) {
    Result journal = vedvm_run({"inspect", data, "--tick", std::to_string(tick)});
    CHECK(journal.out.size() < 16 * 1024);
  }
  CHECK(vedvm_run({"replay", data}).exit_code == 0);
}

// Regression test (a bug, fixed): text an adapter supplied (here a child process's
// stderr, quoted in Process.Run's failure message) was printed raw in the exit summary
// and by inspect, so it could clear the screen or forge lines.
TEST_CASE("limits: adapter text reaches the terminal escaped") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, R"(
@privilege infrastructure
domain Ops {
    state { tried: int }
    goal Done {
        predicate: tried < 0
        strategy: Try
        terminate_after: 1 attempts
    }
    transition Try() {
        tried = tried + 1
        emit Process.Run(argv: ["sh", "-c", "printf 'boom\u{1b}[2J\u{1b}]0;owned\u{7}\nforged line' >&2; exit 1"])
    }
}
)");
  const std::string data = tmp / "d";
  Result r = vedvm_run({bundle, "--data-dir", data, "--sync=none", "--allow-exec"});
  CHECK(r.exit_code == 2);
  CHECK_MESSAGE(contains(r.out, "last failed effect: Process.Run (exit_status"), r.out);
  CHECK(contains(r.out, "boom"));
  for (const std::string* text : {&r.out, &r.err}) {
    CHECK(text->find('\x1b') == std::string::npos);
    CHECK(text->find('\x07') == std::string::npos);
  }
  Result shown = vedvm_run({"inspect", data});
  CHECK(shown.out.find('\x1b') == std::string::npos);
  CHECK(shown.out.find("\nforged line") == std::string::npos);
}

// Regression test (a bug, fixed): `advance_ticks(n)` in `vedvm test` ran n ticks one by
// one, so a test that waits for a far timer never finished.
TEST_CASE("limits: advance_ticks in a test jumps idle time as a run does") {
  TempDir tmp;
  const std::string source = tmp / "alarm.ved";
  write_file(source, R"(
domain Alarm {
    state { rang: bool }
    transition Start() on start { schedule Ring() after 500000000000 ticks }
    transition Ring() { rang = true }
}
test "the alarm rings in the end" {
    simulate { advance_ticks(1000000000000) }
    expect { Alarm.rang == true }
}
test "not before its time" {
    simulate { advance_ticks(499999999990) }
    expect { Alarm.rang == false }
}
)");
  Result r = vedvm_run({"test", source});
  CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
  CHECK(contains(r.out, "2 passed, 0 failed"));
  CHECK(r.seconds < 60);
}

// Regression test (a bug, fixed): --seed and --slice-budget were silently ignored when a
// run resumed.
TEST_CASE("limits: a resumed run says it ignores --seed and --slice-budget") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, R"(
domain Counter {
    state { n: int }
    goal Ten { predicate: n >= 10  strategy: Inc }
    transition Inc() { n = n + 1 }
}
)");
  const std::string data = tmp / "d";
  REQUIRE(vedvm_run({bundle, "--data-dir", data, "--sync=none", "--max-ticks", "2", "--seed", "3"}).exit_code == 2);
  Result r = vedvm_run({bundle, "--data-dir", data, "--sync=none", "--seed", "4", "--slice-budget", "5000"});
  CHECK(r.exit_code == 0);
  CHECK_MESSAGE(contains(r.err, "note: --seed 4 is ignored: the run resumes with its own seed, 3"), r.err);
  CHECK(contains(r.err, "note: --slice-budget 5000 is ignored"));
  // The same values as the run's own are nothing to note.
  Result same = vedvm_run({bundle, "--data-dir", data, "--sync=none", "--seed", "3"});
  CHECK_FALSE(contains(same.err, "note:"));
  CHECK(contains(vedvm_run({"--help"}).out, "absolute"));
}

// Regression test (a bug, fixed): SIGTERM during start-up (while a large program was
// compiled) killed vedvm by the signal's default action instead of stopping it cleanly.
TEST_CASE("limits: SIGTERM during start-up stops vedvm with exit 143 and no data dir half-made") {
  TempDir tmp;
  std::string source;
  for (int d = 0; d < 3000; ++d)
    source += "domain D" + std::to_string(d) + " {\n    state { n: int }\n    goal G { predicate: n >= 1  strategy: S }\n"
              "    transition S() { n = n + 1 }\n}\n";
  write_file(tmp.path() / "many.ved", source);
  const std::string data = tmp / "d";
  Process p({vedvm(), tmp / "many.ved", "--data-dir", data, "--sync=none", "--quiet"});
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  if (!p.send(SIGTERM)) {
    MESSAGE("vedvm ended before the signal: nothing to check");
    return;
  }
  Result r = p.wait();
  CHECK_MESSAGE(r.exited, describe(r));
  CHECK(r.exit_code == 143);
  // Either it stopped before opening anything, or the data dir it made is a whole one.
  if (fs::exists(data)) CHECK(vedvm_run({"inspect", data}).exit_code == 0);
}
