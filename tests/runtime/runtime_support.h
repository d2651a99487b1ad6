// Helpers for the end-to-end runtime tests: they drive the real `vedc` and `vedvm`
// binaries (paths from CMake) on data dirs under a fresh mkdtemp directory, without a
// shell, so that a process can be killed at a chosen instant and a death by signal is
// told apart from an exit code.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../support/scratch_dir.h"

namespace ved::rt {

inline std::string vedc() { return VED_VEDC; }
inline std::string vedvm() { return VED_VEDVM; }
// The shared corpus (../shared/corpus): a test that reads it carries the decorator
// `* doctest::test_suite("corpus")`, so that it is left out where the corpus does not
// exist (unit/main.cpp).
inline std::filesystem::path corpus_dir() { return VED_CORPUS_DIR; }
inline std::string corpus(const std::string& rel) { return (corpus_dir() / rel).string(); }
// The programs of tests/runtime/programs/: this repository's own, for tests of the runtime
// that must not depend on the corpus.
inline std::string repo_program(const std::string& name) {
  return (std::filesystem::path(VED_RUNTIME_PROGRAMS) / name).string();
}

using TempDir = test_support::ScratchDir;

struct Result {
  bool exited = false;  // false: killed by a signal (or timed out)
  int exit_code = -1;   // when exited
  int signal = 0;       // when killed by a signal
  std::string out;
  std::string err;
  double seconds = 0;
};
// "exit 3" or "signal 11", for messages.
std::string describe(const Result& r);

// A started process whose stdout and stderr go to files in a scratch directory.
class Process {
 public:
  explicit Process(const std::vector<std::string>& argv);
  ~Process();  // kills and reaps the process if it still runs
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Whether it has ended (reaps it if so).
  bool finished();
  // SIGKILL now; false if it had already ended (then the kill hit nothing).
  bool kill_now();
  // Sends `sig` without waiting; false if it had already ended.
  bool send(int sig);
  // Waits until it ends (at most `timeout`: then it is killed and the result says
  // signal 9 with "timed out" appended to err).
  Result wait(std::chrono::milliseconds timeout = std::chrono::minutes(3));

 private:
  void reap(int status);
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::chrono::steady_clock::time_point started_;
  TempDir scratch_;
};

// Runs a command to its end.
Result run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::minutes(3));
// `vedvm ARGS...`.
Result vedvm_run(const std::vector<std::string>& args);
// Writes `source` to `dir`/NAME.ved, compiles it to `dir`/NAME.vedb and returns the
// bundle's path; throws (failing the test) with vedc's message if it does not compile.
std::string compile_source(const TempDir& dir, const std::string& source, const std::string& name = "p");

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& bytes);

// The summary lines of a run (`-- NAME stopped at ...` and what follows), without the
// trace lines that may precede them.
std::vector<std::string> summary_lines(const std::string& out);
// The instance lines of a summary: `Type[id]` -> `[FAULTED ]Type.State(...)`.
std::map<std::string, std::string> summary_instances(const std::string& out);

// The fields of a state as formatted by the VM: `Counter.State(value: 3, name: "x")`
// -> {value: "3", name: "\"x\""}. Values are kept as printed.
std::map<std::string, std::string> state_fields(const std::string& state);

// A value of docs/json.md (`value`) as the VM prints it (str(), the summary): `3`,
// `"x"`, `[1, 2]`, `{"a": 1}`, `Counter.State(value: 3)`, ... (JSON strings quoted).
std::string ved_text(const nlohmann::ordered_json& value);

// `vedvm inspect DIR --json` parsed: instance name -> fields of its state (as the VM
// prints them, ved_text), and status.
struct InspectedInstance {
  std::string status;
  std::map<std::string, std::string> fields;
};
std::map<std::string, InspectedInstance> inspected_instances(const std::string& inspect_json);

// A python3 that has the jsonschema module: Debian's /usr/bin/python3 (scripts/install-deps.sh
// installs python3-jsonschema), else the one found when the build was configured; "" if none.
const std::string& python_with_jsonschema();
// Validates `text` against a schema of docs/json/ (`inspect.schema.json`, ...) with
// tests/runtime/check_json.py; `lines`: each line of `text` that starts with '{' (a
// --trace=json output). Exit 0 valid, 1 invalid (the errors on out), 2 the check could
// not run (no python3 with jsonschema among them).
Result validate_json(const TempDir& tmp, const std::string& schema, const std::string& text, bool lines = false);

// A deterministic pseudo-random sequence (xorshift64*).
class Rng {
 public:
  explicit Rng(uint64_t seed) : x_(seed ? seed : 0x9e3779b97f4a7c15ull) {}
  uint64_t next() {
    x_ ^= x_ >> 12;
    x_ ^= x_ << 25;
    x_ ^= x_ >> 27;
    return x_ * 0x2545f4914f6cdd1dull;
  }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }

 private:
  uint64_t x_;
};

bool contains(const std::string& haystack, const std::string& needle);

}  // namespace ved::rt
