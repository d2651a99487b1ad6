// The engines end to end: every corpus program and every program of
// tests/runtime/programs run by the real `vedvm` under --interp, --jit and --jit=all
// give byte-identical --trace=json output, summaries and `inspect --json`; a run made by
// one engine replays under the other; a run started by the JIT and continued by the
// interpreter (after a stop, or a SIGKILL) ends in the state of a run the interpreter
// made alone (docs/jit.md). The stored run (journal, instances, mailboxes, intents: every
// key but the machine statistics under `stat/`) and the journal as `vedvm inspect --tick`
// shows it are compared byte for byte as well; `vedvm test` reports the same under every
// engine.
#include <doctest/doctest.h>

#include <leveldb/db.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "runtime_support.h"

using namespace ved::rt;

namespace {

// Each run in its own data dir and file-system root, named alike in every temporary
// directory, and every temporary directory's path replaced by `<tmp>`: what remains
// must be equal.
struct EngineRun {
  Result result;
  std::string inspect;
  std::map<std::string, std::string> stored;  // the data dir's keys and values
  std::string journal;                        // `inspect --tick T` of the first and last ticks
  int rendered = 0;                           // how many of them had records
};

std::string without(std::string text, const std::string& path) {
  for (size_t at = text.find(path); at != std::string::npos; at = text.find(path, at))
    text.replace(at, path.size(), "<tmp>");
  return text;
}

// The summary's `-- engine:` line, the one line that names the engine (and must).
std::string without_engine_line(const std::string& out, const std::string& engine) {
  const size_t at = out.find("\n-- engine: ");
  if (at == std::string::npos) return out + "\n(no engine line)";
  const size_t end = out.find('\n', at + 1);
  const std::string line = out.substr(at + 1, end - at - 1);
  // --interp says "interp"; --jit "jit"; --jit=all "jit=all, N functions ...".
  const std::string name = engine == "--interp" ? "interp" : engine.substr(2);
  if (line.rfind("-- engine: " + name, 0) != 0) return out + "\n(engine line `" + line + "` does not name " + name + ")";
  return out.substr(0, at + 1) + (end == std::string::npos ? "" : out.substr(end + 1));
}

// Every key and value of a data dir's database but the machine statistics (`stat/`:
// slice times, engines, JIT compile time), read from a copy (opening a LevelDB database
// writes to it). What is left must not depend on the engine.
std::map<std::string, std::string> stored_run(const TempDir& tmp, const std::string& dir) {
  std::map<std::string, std::string> out;
  if (!std::filesystem::exists(dir)) {  // a program that does not compile makes none
    out["(no data dir)"] = "";
    return out;
  }
  const std::string copy = tmp / "stored-copy";
  std::filesystem::remove_all(copy);
  std::filesystem::copy(dir, copy, std::filesystem::copy_options::recursive);
  leveldb::DB* raw = nullptr;
  const leveldb::Status status = leveldb::DB::Open(leveldb::Options(), copy, &raw);
  if (!status.ok()) {
    out["(open failed)"] = status.ToString();
    return out;
  }
  std::unique_ptr<leveldb::DB> db(raw);
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string key = it->key().ToString();
    if (key.rfind("stat/", 0) == 0) continue;
    out.emplace(std::move(key), it->value().ToString());
  }
  return out;
}

// The journal as `vedvm inspect DIR --tick T --json` prints it, for the first and last 20
// ticks of the run (every stored record is compared byte for byte anyway: this checks
// what inspect renders from them, whatever the storage format), and the text form of the
// first and last; a tick without records is an error, whose text is compared too.
// `rendered` counts the ticks that had records.
std::string journal_dump(const std::string& dir, int64_t last_tick, int& rendered) {
  std::string out = "last tick " + std::to_string(last_tick) + "\n";
  for (int64_t tick = 1; tick <= last_tick; ++tick) {
    if (tick > 20 && tick + 20 <= last_tick) continue;
    const std::string t = std::to_string(tick);
    Result json = vedvm_run({"inspect", dir, "--tick", t, "--json"});
    if (json.exit_code == 0) ++rendered;
    out += "tick " + t + " exit " + std::to_string(json.exit_code) + "\n" + json.out + json.err;
    if (tick == 1 || tick == last_tick) {
      Result text = vedvm_run({"inspect", dir, "--tick", t});
      out += text.out + text.err;
    }
  }
  return out;
}

int64_t committed_tick(const std::string& dir) {
  const std::string out = vedvm_run({"inspect", dir, "--json"}).out;
  const size_t at = out.find("\"tick\":");
  return at == std::string::npos ? -1 : std::atoll(out.c_str() + at + 7);
}

EngineRun run_under(const std::string& engine, const std::string& program) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "root");
  EngineRun r;
  r.result = vedvm_run({engine, program, "--data-dir", tmp / "data", "--fs-root", tmp / "root", "--trace=json",
                        "--sync=none", "--max-ticks", "300"});
  r.result.out = without_engine_line(without(r.result.out, tmp.path().string()), engine);
  r.result.err = without(r.result.err, tmp.path().string());
  r.inspect = without(vedvm_run({"inspect", tmp / "data", "--json"}).out, tmp.path().string());
  for (auto& [key, value] : stored_run(tmp, tmp / "data")) r.stored.emplace(key, without(value, tmp.path().string()));
  r.journal = without(journal_dump(tmp / "data", committed_tick(tmp / "data"), r.rendered), tmp.path().string());
  std::filesystem::remove_all(tmp / "stored-copy");
  return r;
}

std::vector<std::string> programs() {
  std::vector<std::string> out;
  for (const char* sub : {"upstream", "docs"})
    for (const auto& e : std::filesystem::directory_iterator(corpus_dir() / sub))
      if (e.path().extension() == ".lxm" || e.path().extension() == ".ved") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

void check_engines_agree(const std::string& program) {
  INFO(program);
  const EngineRun interp = run_under("--interp", program);
  for (const char* engine : {"--jit", "--jit=all"}) {
    INFO(engine);
    const EngineRun jit = run_under(engine, program);
    CHECK(jit.result.exit_code == interp.result.exit_code);
    CHECK(jit.result.out == interp.result.out);
    CHECK(jit.result.err == interp.result.err);
    CHECK(jit.inspect == interp.inspect);
    CHECK(jit.journal == interp.journal);
    // A program that runs a tick journals something: the comparison is not of errors alone.
    if (interp.result.exit_code != 1) CHECK(interp.rendered > 0);
    CHECK(jit.stored.size() == interp.stored.size());
    for (const auto& [key, value] : interp.stored) {
      const auto found = jit.stored.find(key);
      CHECK_MESSAGE(found != jit.stored.end(), "missing key " << key);
      if (found != jit.stored.end()) CHECK_MESSAGE(found->second == value, "key " << key << " differs");
    }
  }
}

}  // namespace

TEST_CASE("engines: every corpus program runs byte-identically under --interp, --jit and --jit=all" *
          doctest::test_suite("corpus")) {
  const auto all = programs();
  CHECK(all.size() >= 10);
  for (const std::string& p : all) check_engines_agree(p);
}

TEST_CASE("engines: the repository's runtime programs run byte-identically under every engine") {
  for (const char* name : {"capacity.ved", "fanout.ved", "overdraft.ved"}) check_engines_agree(repo_program(name));
}

TEST_CASE("engines: a JIT run replays under the interpreter, and an interpreted run under the JIT") {
  TempDir tmp;
  const std::string program = repo_program("overdraft.ved");
  for (const auto& [made, replayed] : {std::pair{"--jit=all", "--interp"}, std::pair{"--interp", "--jit=all"}}) {
    INFO(made << " replayed with " << replayed);
    const std::string dir = tmp / (std::string("data") + made);
    Result run = vedvm_run({made, program, "--data-dir", dir, "--sync=none"});
    REQUIRE_MESSAGE(run.exited, describe(run));
    Result replay = vedvm_run({replayed, "replay", dir});
    CHECK_MESSAGE(replay.exit_code == 0, describe(replay) << "\n" << replay.out << replay.err);
  }
}

TEST_CASE("engines: a run the JIT starts and the interpreter finishes ends as the interpreter's own") {
  TempDir tmp;
  const std::string program = repo_program("capacity.ved");
  Result alone = vedvm_run({"--interp", program, "--data-dir", tmp / "alone", "--sync=none"});
  REQUIRE(alone.exited);
  const std::string expected = vedvm_run({"inspect", tmp / "alone", "--json"}).out;

  // Stopped after a few ticks by the JIT, continued by the interpreter.
  Result first = vedvm_run({"--jit=all", program, "--data-dir", tmp / "mixed", "--sync=none", "--max-ticks", "3"});
  REQUIRE(first.exited);
  Result rest = vedvm_run({"--interp", program, "--data-dir", tmp / "mixed", "--sync=none"});
  CHECK(rest.exit_code == alone.exit_code);
  CHECK(vedvm_run({"inspect", tmp / "mixed", "--json"}).out == expected);

  // Killed (SIGKILL) while the JIT runs it, then finished by the interpreter.
  {
    Process p({vedvm(), "--jit=all", program, "--data-dir", tmp / "killed", "--sync=tick"});
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    p.kill_now();
    p.wait();
  }
  Result after = vedvm_run({"--interp", program, "--data-dir", tmp / "killed", "--sync=none"});
  CHECK_MESSAGE(after.exit_code == alone.exit_code, describe(after) << "\n" << after.out << after.err);
  CHECK(vedvm_run({"inspect", tmp / "killed", "--json"}).out == expected);
}

namespace {

// A Worker whose transition Work calls mix `calls` times a run until `done` reaches
// `runs`, keeping every `sample`th hash; `goal_extra` is added to its goal.
std::string worker_program(int runs, int calls, int sample, const std::string& goal_extra) {
  return R"(
fn mix(h: int, k: int) -> int {
    return (h * 31 + k) % 1000003
}
domain Worker {
    state { done: int  hash: int  seen: list<int> }
    goal Finished { predicate: done >= )" +
         std::to_string(runs) + "  strategy: Work" + goal_extra + R"( }
    transition Work() {
        let h = hash
        for k in 0..)" +
         std::to_string(calls) + R"( { h = mix(h, k + done) }
        hash = h
        done = done + 1
        if done % )" +
         std::to_string(sample) + R"( == 0 { seen = append(seen, h) }
    }
}
)";
}

// A long run that the tiered JIT compiles early: every slice calls mix 300 times (so mix
// is compiled at its 1,000th call, in the fourth slice) and spends about 3,000 fuel, so
// Work passes the tiering threshold after some 35 runs. 20,000 ticks with --sync=tick (an
// fsync each) last long enough to be killed in the middle.
const std::string kLongRun = worker_program(20000, 300, 2000, "  terminate_after: never");

}  // namespace

// Regression guard for issue 15: a run killed (SIGKILL) while the JIT runs it, resumed
// by the JIT (--jit=all and the default tiered engine), ends in the interpreter's state,
// with the same stored run byte for byte.
TEST_CASE("engines: a JIT run killed with SIGKILL and finished by the JIT ends as the interpreter's own") {
  TempDir tmp;
  const std::string program = compile_source(tmp, kLongRun, "long");
  Result alone = vedvm_run({"--interp", program, "--data-dir", tmp / "alone", "--sync=none", "--quiet"});
  REQUIRE_MESSAGE(alone.exit_code == 0, describe(alone) << "\n" << alone.out << alone.err);
  const std::string expected = vedvm_run({"inspect", tmp / "alone", "--json"}).out;
  auto stored_alone = stored_run(tmp, tmp / "alone");
  CHECK(contains(expected, "\"done\""));

  for (const auto& [killed, resumed] : std::vector<std::pair<std::string, std::string>>{
           {"--jit=all", "--jit=all"}, {"--jit", "--jit"}, {"--jit=all", "--jit"}}) {
    INFO(killed << " killed, resumed with " << resumed);
    const std::string dir = tmp / ("killed" + killed + resumed);
    bool killed_mid_run = false;
    {
      // Every tick fsynced on its own (--group-ms 0): slow enough that the kill lands
      // mid-run even when a loaded machine makes the polling below slow.
      Process p({vedvm(), killed, program, "--data-dir", dir, "--sync=tick", "--group-ms", "0", "--quiet"});
      // Kill it once it has committed a few ticks (inspect reads beside a running VM).
      for (int k = 0; k < 2000 && !p.finished(); ++k) {
        if (committed_tick(dir) >= 50) {
          killed_mid_run = p.kill_now();
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      p.wait();
    }
    // The kill must have hit a run in progress, or this tests nothing.
    CHECK(killed_mid_run);
    const int64_t at_kill = committed_tick(dir);
    CHECK(at_kill < 20000);
    Result after = vedvm_run({resumed, program, "--data-dir", dir, "--sync=none", "--quiet"});
    CHECK_MESSAGE(after.exit_code == alone.exit_code, describe(after) << "\n" << after.out << after.err);
    CHECK(vedvm_run({"inspect", dir, "--json"}).out == expected);
    Result replay = vedvm_run({"--interp", "replay", dir});
    CHECK_MESSAGE(replay.exit_code == 0, replay.out << replay.err);
  }
}

namespace {

// Hot from the first tick: mix is queued at its 1,000th call, in tick 1, and Work after
// a few ticks; the 250 ticks that follow last long enough for the compile thread to
// finish in the middle of the run (on most machines: nothing asserts it).
const std::string kHotEarly = worker_program(250, 3000, 50, "");

// Hot on its last tick: the one slice calls mix 5,000 times, so mix is queued at the
// 1,000th and the run ends while LLVM is loading or compiling it.
const char* kHotLast = R"(
fn mix(h: int, k: int) -> int {
    return (h * 31 + k) % 1000003
}
fn main() -> int {
    let h = 7
    for k in 0..5000 { h = mix(h, k) }
    return h
}
domain Once {
    state { done: bool  hash: int }
    goal Finished { predicate: done  strategy: Work }
    transition Work() {
        hash = main()
        done = true
    }
}
)";

}  // namespace

// The tiered JIT compiles in the background and its code takes over whenever it is ready
// (docs/jit.md): a run in which that happens part-way is the interpreter's, byte for byte.
TEST_CASE("engines: a run the tiered JIT compiles part-way through runs byte-identically to --interp") {
  TempDir tmp;
  check_engines_agree(compile_source(tmp, kHotEarly, "hot_early"));
}

// A run that ends while the compile thread loads LLVM or compiles exits as usual (the
// thread is stopped before the JIT is freed), and the summary, engine line included,
// does not depend on how far the thread got: two runs print the same.
TEST_CASE("engines: a run that ends while the tiered JIT compiles exits cleanly and prints what any run prints") {
  TempDir tmp;
  const std::string program = compile_source(tmp, kHotLast, "hot_last");
  const Result interp = vedvm_run({"--interp", program, "--data-dir", tmp / "interp", "--fresh"});
  REQUIRE_MESSAGE(interp.exit_code == 0, describe(interp) << "\n" << interp.out << interp.err);
  std::string first;
  for (int k = 0; k < 5; ++k) {
    INFO("run " << k);
    const Result jit = vedvm_run({"--jit", program, "--data-dir", tmp / "jit", "--fresh"});
    CHECK_MESSAGE(jit.exit_code == 0, describe(jit) << "\n" << jit.out << jit.err);
    CHECK(jit.err.empty());
    CHECK(contains(jit.out, "\n-- engine: jit\n"));
    CHECK(without_engine_line(jit.out, "--jit") == without_engine_line(interp.out, "--interp"));
    if (k == 0) first = jit.out;
    CHECK(jit.out == first);
    // `vedvm stats` lists the engine; what it compiled, if anything, is a statistic.
    CHECK(contains(vedvm_run({"stats", tmp / "jit"}).out, "engines: jit (1 run)"));
  }
  // A call that ends as mix is queued.
  const Result called = vedvm_run({"--interp", "call", program, "main"});
  REQUIRE(called.exit_code == 0);
  for (int k = 0; k < 3; ++k) {
    const Result jit = vedvm_run({"--jit", "call", program, "main"});
    CHECK_MESSAGE(jit.exit_code == 0, describe(jit) << "\n" << jit.out << jit.err);
    CHECK(jit.out == called.out);
  }
}

// `vedvm test` runs a program's tests in memory through the same Interpreter: under
// every engine the report (passes, failures, their ticks and positions) is the same.
TEST_CASE("engines: vedvm test reports the same under --interp, --jit and --jit=all") {
  TempDir tmp;
  write_file(tmp.path() / "hot.ved", kLongRun + R"(
test "the worker finishes" {
    given { domain Worker { done = 19200 } }
    expect { eventually Worker.done == 20000  Worker.done == 20000 }
}
test "wrong on purpose: the hash stays small" {
    expect { always Worker.hash < 1000 }
}
test "a given state near the end" {
    given { domain Worker { done = 19990 } }
    expect { Worker.done == 20000  always Worker.done >= 19990 }
}
)");
  const std::vector<std::string> files{tmp / "hot.ved", std::string(VED_EXAMPLES_DIR) + "/tests/pool.ved",
                                       std::string(VED_EXAMPLES_DIR) + "/guide/11-tests.ved",
                                       std::string(VED_EXAMPLES_DIR) + "/guide/11-failing-test.ved"};
  for (const std::string& file : files) {
    INFO(file);
    const Result interp = vedvm_run({"--interp", "test", file});
    CHECK(interp.exited);
    CHECK(contains(interp.out, " passed, "));
    for (const char* engine : {"--jit", "--jit=all"}) {
      INFO(engine);
      const Result jit = vedvm_run({engine, "test", file});
      CHECK(jit.exit_code == interp.exit_code);
      CHECK(jit.out == interp.out);
      CHECK(jit.err == interp.err);
    }
  }
  // The hot program's report itself: two pass, the wrong one fails naming its tick.
  const Result hot = vedvm_run({"test", tmp / "hot.ved"});
  CHECK(hot.exit_code == 2);
  CHECK_MESSAGE(contains(hot.out, "2 passed, 1 failed"), hot.out);
  CHECK(contains(hot.out, "FAIL  wrong on purpose"));
}
