// The built-in adapters: native implementations of the standard library's effects and
// observations (stdlib/prelude.ved, runtime.md §7). What each does, its failure codes
// and the confinement rules are in docs/adapters.md, "Built-in adapters".
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <ostream>

#include "vm/effects/adapter.h"
#include "vm/effects/fs_root.h"
#include "vm/program.h"

namespace ved::vm {

struct BuiltinAdapterOptions {
  std::filesystem::path fs_root;      // absolute; must exist
  bool allow_exec = false;
  std::ostream* log = nullptr;        // null: std::cerr
  int http_timeout_ms = 30000;
  int process_timeout_ms = 60000;
  // The most bytes a process's stdout, an HTTP response body or a read_file result may
  // have; more fails (effects) or errs (observations) instead of exhausting memory.
  std::size_t max_output_bytes = std::size_t{16} << 20;
};

// Binds every standard-library effect and observation (stdlib/prelude.ved) that
// `program` declares to its built-in adapter. A name the program declares with another
// signature than the prelude's is left unbound (it then fails with NoAdapter). Throws
// std::runtime_error when options.fs_root is not an existing directory.
void bind_builtin_adapters(const Program& program, const BuiltinAdapterOptions& options, AdapterSet& set);

// ---- the pieces bind_builtin_adapters puts together ------------------------------
// Each serves the effects or observations its comment names, dispatching on the
// request's effect_name / the observation's name.

// System.WriteFile, System.AppendFile, System.DeleteFile. Between ticks.
std::shared_ptr<EffectAdapter> make_file_effects(std::shared_ptr<const FsRoot> root);

// Log.Info, Log.Warn: one line each on `out` (which must outlive the adapter). Between ticks.
std::shared_ptr<EffectAdapter> make_log_effects(std::ostream& out);

struct ProcessOptions {
  bool allow_exec = false;
  std::filesystem::path working_directory;  // the child's current directory
  int timeout_ms = 60000;
  std::size_t max_output_bytes = std::size_t{16} << 20;
};
// Process.Run. On the worker pool (thread-safe).
std::shared_ptr<EffectAdapter> make_process_effect(ProcessOptions options);

struct HttpOptions {
  int timeout_ms = 30000;
  std::size_t max_body_bytes = std::size_t{16} << 20;
};
// Net.HttpGet, Net.HttpPost through libcurl. On the worker pool (thread-safe).
std::shared_ptr<EffectAdapter> make_http_effects(HttpOptions options);

// System.file_exists, System.read_file, System.env.
std::shared_ptr<ObservationAdapter> make_builtin_observations(std::shared_ptr<const FsRoot> root,
                                                              std::size_t max_file_bytes);

}  // namespace ved::vm
