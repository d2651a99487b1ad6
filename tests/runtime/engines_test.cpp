// The engines end to end: every corpus program and every program of
// tests/runtime/programs run by the real `vedvm` under --interp, --jit and --jit=all
// give byte-identical --trace=json output, summaries and `inspect --json`; a run made by
// one engine replays under the other; a run started by the JIT and continued by the
// interpreter (after a stop, or a SIGKILL) ends in the state of a run the interpreter
// made alone (docs/jit.md).
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
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
  // --interp says "interp"; --jit "jit, N functions ..."; --jit=all "jit=all, ...".
  const std::string name = engine == "--interp" ? "interp" : engine.substr(2);
  if (line.rfind("-- engine: " + name, 0) != 0) return out + "\n(engine line `" + line + "` does not name " + name + ")";
  return out.substr(0, at + 1) + (end == std::string::npos ? "" : out.substr(end + 1));
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
