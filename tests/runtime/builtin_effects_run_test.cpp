// The built-in adapters as `vedvm` binds them (runtime.md §7): file effects confined to
// --fs-root (an escape fails with `permission` and writes nothing), Log.* on stderr,
// Process.Run only with --allow-exec. Each outcome reaches its handler with the code the
// adapter gave, and each run replays from its journal.
#include <doctest/doctest.h>

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
