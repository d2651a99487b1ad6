// The vedvm commands (one file each) and what they share.
#pragma once

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vm/effects/adapter.h"
#include "vm/program.h"
#include "vm/runtime/store.h"
#include "vm/runtime_library.h"

namespace vedvm {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUnsatisfied = 2;
constexpr int kExitFault = 3;
constexpr int kExitUsage = 64;

// Text for a terminal: control characters escaped as the journal escapes them, so that
// text an adapter, a program or a damaged file supplied (failure codes and messages,
// state, names) cannot move the cursor, recolour or rewrite the screen. Every error and
// summary line vedvm prints goes through it.
inline std::string terminal_text(std::string_view text) { return ved::vm::escape_controls(text); }
// The same, for text of several lines (every reason an upgrade is refused): each line
// escaped, the line breaks kept.
inline std::string terminal_lines(std::string_view text) {
  std::string out;
  for (size_t start = 0;;) {
    const size_t end = text.find('\n', start);
    out += terminal_text(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    out += '\n';
    start = end + 1;
  }
}

// Reads a program: a bundle (.vedb), or a source file (.ved, .lxm) compiled in memory
// (compile errors are printed as vedc prints them). False after printing the error.
bool load_program(const std::string& path, ved::vm::Program& program, std::string& bundle_bytes);

struct RunOptions {
  std::string program;
  std::string data_dir;  // default: .ved/<program name>
  bool fresh = false;
  int64_t max_ticks = 0;
  std::string trace;  // "", "text" or "json"
  bool quiet = false;
  uint64_t seed = 0;
  int64_t slice_budget = 1'000'000;
  bool seed_given = false;          // on the command line (a resumed run ignores them)
  bool slice_budget_given = false;
  std::string sync = "tick";
  std::vector<std::string> effects;   // NAME=ok[:VALUE] | fail[:MESSAGE] | script:FILE
  std::vector<std::string> adapters;  // NAME=tcp://HOST:PORT
  std::string fs_root;                // default: the current directory
  bool allow_exec = false;
  bool serve = false;
  int64_t tick_ms = 100;
  int64_t group_ms = 5;  // group commit: the longest a committed tick waits before it is written
};
int run(const RunOptions& options);
// The adapters a run uses: built-in ones, `--adapter`, `--effect`. False with `error`
// (`unreachable`: an external adapter did not answer; otherwise the options are wrong).
bool bind_adapters(const ved::vm::Program& program, const RunOptions& options, ved::vm::AdapterSet& set,
                   bool& unreachable, std::string& error);

// Opens an existing data dir and the program stored in it: to read it (Inspect: no lock,
// nothing written into the data dir) or to change it (Existing). False after printing
// the error.
bool open_data_dir(const std::string& dir, std::unique_ptr<ved::vm::Store>& store, ved::vm::Program& program,
                   std::string& bundle, ved::vm::StoreMode mode = ved::vm::StoreMode::Inspect);

// Every instance, or only `instance` (`Type` or `Type[id]`) when it is not empty.
int inspect(const std::string& data_dir, bool json, const std::string& instance);
// The journal records of one tick, as trace lines (`json`: one document, docs/json.md).
int journal(const std::string& data_dir, int64_t tick, bool json = false);
// Counts of the journal's events by kind.
int stats(const std::string& data_dir);
int resume(const std::string& data_dir, const std::string& instance);

struct ReplayCommandOptions {
  std::string data_dir;
  int64_t from = 0;
  int64_t to = 0;
  std::string program;  // another build to replay the journal against
  std::string trace;    // "", "text" or "json": print the replayed run's events
};
struct TestCommandOptions {
  std::string program;
  std::string filter;  // only tests whose name contains this
  uint64_t seed = 0;
};
// Exit 0 when every test passes, 2 when some fail, 1 when the program cannot be loaded.
int test(const TestCommandOptions& options);

struct TimelineOptions {
  std::string data_dir;
  std::string output = "timeline.html";
  int64_t from = 0;          // the first tick shown
  int64_t to = INT64_MAX;    // the last tick shown
};
// Writes the journal of a data dir as one self-contained HTML page (docs/timeline.md).
// Exit 0, 1 on an error (no data dir, a damaged journal, an unwritable output), 64 on
// wrong options.
int timeline(const TimelineOptions& options);

// Exit 0 when every tick matches, 1 at the first divergence (printed) or on an error.
int replay(const ReplayCommandOptions& options);

struct UpgradeCommandOptions {
  std::string data_dir;
  std::string program;   // the new build (.vedb or source)
  int64_t wait_seconds = 60;  // for a serving process to take it
};
int upgrade(const UpgradeCommandOptions& options);

}  // namespace vedvm
