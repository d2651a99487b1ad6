// `vedvm app.vedb`: run a program locally until it is quiescent (runtime.md §1).
#include <cstdio>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "tools/vedvm/commands.h"
#include "tools/vedvm/json_output.h"
#include "vm/effects/builtin_adapters.h"
#include "vm/effects/external_bindings.h"
#include "vm/effects/simulated_adapter.h"
#include "tools/vedvm/upgrade_request.h"
#include "vm/bundle_loader.h"
#include "vm/runtime/data_dir_upgrade.h"
#include "vm/runtime/runtime.h"

namespace vedvm {

namespace {

std::atomic<int> g_signal{0};

void on_signal(int s) { g_signal.store(s); }

// How long `--adapter` waits for an external adapter to answer (at startup, and each
// request later).
constexpr int kAdapterTimeoutMs = 10'000;

}  // namespace

// Built-in adapters first, external adapters (`--adapter`) over them, simulated ones
// (`--effect`) over everything: the most specific binding wins.
bool bind_adapters(const ved::vm::Program& program, const RunOptions& o, ved::vm::AdapterSet& set, bool& unreachable,
                   std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root = fs::absolute(o.fs_root.empty() ? fs::path(".") : fs::path(o.fs_root), ec);
  if (ec || !fs::is_directory(root, ec)) {
    error = "--fs-root " + (o.fs_root.empty() ? std::string(".") : o.fs_root) + ": not a directory";
    return false;
  }
  ved::vm::BuiltinAdapterOptions builtin;
  builtin.fs_root = root;
  builtin.allow_exec = o.allow_exec;
  ved::vm::bind_builtin_adapters(program, builtin, set);

  if (!ved::vm::bind_external_adapters(program, o.adapters, kAdapterTimeoutMs, set, unreachable, error)) return false;

  for (const auto& e : o.effects) {
    const size_t eq = e.find('=');
    if (eq == std::string::npos) {
      error = "--effect " + e + ": expected NAME=ok[:VALUE], NAME=fail[:MESSAGE] or NAME=script:FILE";
      return false;
    }
    auto adapter = ved::vm::parse_simulated_adapter(program, e.substr(0, eq), e.substr(eq + 1), error);
    if (!adapter) {
      error = "--effect " + e + ": " + error;
      return false;
    }
    set.bind_effect(e.substr(0, eq), std::move(adapter));
  }
  return true;
}

namespace {

// Runs `program` on the open data dir until it stops; `upgrade_requested` says it stopped
// for an upgrade (nothing printed then: the run goes on).
int run_attached(const RunOptions& o, const std::string& dir, ved::vm::Store& store, ved::vm::Program& program,
                 const std::string& bundle, const ved::vm::RuntimeOptions& options, const ved::vm::TraceSink& trace,
                 bool& upgrade_requested) {
  std::string error;
  ved::vm::Runtime runtime(program, bundle, options, trace);
  bool resumed = false;
  if (!runtime.attach(store, resumed, error)) {
    std::cerr << "vedvm: error: data dir `" << dir << "`: " << terminal_text(error) << "\n";
    return kExitError;
  }
  if (resumed && !o.quiet)
    std::cerr << "vedvm: resuming " << program.name << " from " << dir << " at tick " << runtime.tick() << "\n";
  // A run's seed and slice budget decide what it does: a resumed run keeps its own.
  if (resumed && o.seed_given && o.seed != runtime.seed())
    std::cerr << "vedvm: note: --seed " << o.seed << " is ignored: the run resumes with its own seed, "
              << runtime.seed() << " (--fresh starts over with a new one)\n";
  if (resumed && o.slice_budget_given && o.slice_budget != runtime.slice_budget())
    std::cerr << "vedvm: note: --slice-budget " << o.slice_budget << " is ignored: the run resumes with its own, "
              << runtime.slice_budget() << " (--fresh starts over with a new one)\n";
  // A progress line on a terminal for long runs: wall-clock time is read here, for
  // display only; it never reaches the tick loop.
  const bool progress = !o.quiet && o.trace.empty() && isatty(STDERR_FILENO);
  const auto started = std::chrono::steady_clock::now();
  auto last_shown = started;
  bool shown = false;
  auto last_looked = started;
  const std::string request_path = upgrade_request_path(dir);
  auto between_ticks = [&] {
    if (progress) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_shown >= std::chrono::seconds(1)) {
        double seconds = std::chrono::duration<double>(now - started).count();
        std::cerr << "\r tick " << runtime.tick() << ", " << static_cast<int64_t>(runtime.tick() / seconds)
                  << " ticks/s, " << static_cast<int64_t>(runtime.slices() / seconds) << " slices/s   " << std::flush;
        last_shown = now;
        shown = true;
      }
    }
    // Looked for at most every 50 ms: when an upgrade happens is the operator's choice,
    // and the tick it happens at is journaled, so replay does not depend on this clock.
    if (o.serve) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_looked >= std::chrono::milliseconds(50)) {
        last_looked = now;
        std::error_code ec;
        upgrade_requested = std::filesystem::exists(request_path, ec);
      }
    }
    return upgrade_requested || g_signal.load() != 0;
  };
  ved::vm::RunSummary summary;
  const bool ok = runtime.run(summary, error, between_ticks);
  if (shown) std::cerr << "\r\033[K" << std::flush;
  if (!ok) {
    std::cerr << "vedvm: error: " << terminal_text(error) << "\n";
    return kExitError;
  }
  if (upgrade_requested && g_signal.load() == 0) return kExitOk;  // the caller takes it, then runs on
  if (!o.quiet) {
    std::cout << "-- " << program.name << " stopped at tick " << runtime.tick() << " (" << summary.slices
              << " slices)" << (summary.max_ticks_reached ? ", --max-ticks reached" : "") << "\n";
    for (const auto& line : summary.lines) std::cout << terminal_text(line) << "\n";
    // The engine is in the summary, never in the journal (docs/jit.md). Only what is the
    // same in every run of the program: with the JIT the default, two runs must print the
    // same. --jit=all compiles everything before tick 1, so what it compiled is; the tiered
    // JIT compiles in the background, so how much it got done by the end depends on the
    // machine, and is only in `vedvm stats` with the time it took.
    const ved::vm::EngineStats engine = runtime.engine_stats();
    std::cout << "-- engine: " << engine.engine;
    if (engine.engine == "jit=all")
      std::cout << ", " << engine.functions_compiled << " functions (" << engine.instructions_compiled
                << " instructions) compiled";
    if (engine.engine != "interp" && !engine.error.empty())
      std::cout << "; the JIT could not run: " << terminal_text(engine.error);
    std::cout << "\n";
  }
  if (int s = g_signal.load()) return 128 + s;
  return summary.exit_code;
}

// Takes the upgrade `vedvm upgrade` left in the data dir, and leaves the verdict for it.
void take_upgrade(const RunOptions& o, const std::string& dir, ved::vm::Store& store, ved::vm::Program*& current,
                  std::string& bundle, ved::vm::RuntimeOptions& options) {
  std::string bytes, error;
  std::error_code ec;
  const bool read = read_whole_file(upgrade_request_path(dir), bytes);
  std::filesystem::remove(upgrade_request_path(dir), ec);
  // Kept for the life of the process, refused or not, as the first program is (adapters
  // and the JIT may hold on to it).
  auto* next = new ved::vm::Program;
  ved::vm::DataDirUpgrade done;
  bool unreachable = false;
  ved::vm::AdapterSet adapters;
  bool ok = read && ved::vm::load_bundle(bytes, *next, error) && bind_adapters(*next, o, adapters, unreachable, error) &&
            ved::vm::upgrade_data_dir(store, *next, bytes, done, error);
  if (!read) error = "the request could not be read";
  const std::string text = ok ? describe_upgrade(dir, done) : error;
  std::string write_error;
  if (!write_whole_file(upgrade_result_path(dir), encode_upgrade_result(ok, text), write_error))
    std::cerr << "vedvm: error: " << terminal_text(write_error) << "\n";
  if (!o.quiet) std::cerr << "vedvm: " << (ok ? "" : "upgrade refused: ") << terminal_lines(text) << "\n";
  if (!ok) return;
  current = next;
  bundle = std::move(bytes);
  options.adapters = std::move(adapters);
}

}  // namespace

int run(const RunOptions& o) {
  // Never destroyed: an effect abandoned at exit (still inside an external adapter on a
  // detached worker thread, see vm/runtime/worker_pool.h) may read it until the process
  // ends.
  ved::vm::Program& program = *new ved::vm::Program;
  // From the start: a SIGTERM while the program loads or the data dir opens must stop
  // the run as cleanly as one between ticks (exit 143 before tick 1), not kill it half-way.
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::string bundle;
  if (!load_program(o.program, program, bundle)) return kExitError;
  if (int s = g_signal.load()) return 128 + s;  // stopped before anything was opened
  if (o.sync != "tick" && o.sync != "none") {
    std::cerr << "vedvm: error: --sync is `tick` or `none`\n";
    return kExitUsage;
  }
  const std::string dir = o.data_dir.empty() ? (std::filesystem::path(".ved") / program.name).string() : o.data_dir;
  ved::vm::Status status;
  auto store = ved::vm::Store::open(dir, o.fresh ? ved::vm::StoreMode::Fresh : ved::vm::StoreMode::Run, status);
  if (!store) {
    std::cerr << "vedvm: error: " << terminal_text(status.message()) << "\n";
    return kExitError;
  }
  std::string error;
  ved::vm::RuntimeOptions options;
  options.seed = o.seed;
  options.max_ticks = o.max_ticks;
  options.slice_budget = o.slice_budget;
  options.sync = o.sync == "tick";
  options.serve = o.serve;
  options.tick_ms = o.tick_ms;
  options.group_ms = o.group_ms;
  bool unreachable = false;
  if (!bind_adapters(program, o, options.adapters, unreachable, error)) {
    std::cerr << "vedvm: error: " << terminal_text(error) << "\n";
    return unreachable ? kExitError : kExitUsage;
  }
  for (const auto& e : o.effects) options.effect_specs[e.substr(0, e.find('='))] = e.substr(e.find('=') + 1);
  ved::vm::Program* current = &program;  // an upgrade while serving replaces it
  const ved::vm::TraceSink trace = trace_printer(o.trace, [&current]() -> const ved::vm::Program& { return *current; });
  // A data dir written by another build of the program is taken over by this one
  // first, when it may be (docs/upgrades.md): the upgrade is a tick of the run.
  uint64_t stored_hash = 0;
  if (ved::vm::holds_other_program(*store, program, stored_hash, error)) {
    ved::vm::DataDirUpgrade done;
    if (!ved::vm::upgrade_data_dir(*store, program, bundle, done, error)) {
      std::cerr << "vedvm: error: data dir `" << dir << "`: " << terminal_lines(error) << "\n";
      return kExitError;
    }
    if (!o.quiet) std::cerr << "vedvm: " << terminal_text(describe_upgrade(dir, done)) << "\n";
  } else if (!error.empty()) {
    std::cerr << "vedvm: error: data dir `" << dir << "`: " << terminal_text(error) << "\n";
    return kExitError;
  }
  // A serving run takes an upgrade that `vedvm upgrade` left for it (upgrade_request.h)
  // at a tick boundary: the run stops there as it would on a signal (committed ticks
  // durable, adapters' outcomes stored), the data dir is upgraded, and the new program
  // resumes it. A refused upgrade leaves the old program serving.
  for (;;) {
    bool upgrade_requested = false;
    const int code = run_attached(o, dir, *store, *current, bundle, options, trace, upgrade_requested);
    if (!upgrade_requested) return code;
    take_upgrade(o, dir, *store, current, bundle, options);
  }
}

}  // namespace vedvm
