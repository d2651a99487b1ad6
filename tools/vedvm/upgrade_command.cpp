// `vedvm upgrade DIR PROGRAM`: takes a data dir over to a new build of its program
// (docs/upgrades.md). A stopped data dir is upgraded here; one that a `vedvm --serve`
// process holds is upgraded by that process at its next tick boundary (upgrade_request.h).
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "tools/vedvm/commands.h"
#include "tools/vedvm/upgrade_request.h"
#include "vm/runtime/data_dir_upgrade.h"

namespace vedvm {

namespace {

int request_from_server(const UpgradeCommandOptions& o, const std::string& bundle) {
  std::error_code ec;
  const std::string result_path = upgrade_result_path(o.data_dir);
  std::filesystem::remove(result_path, ec);  // a verdict left from an earlier request
  std::string error;
  if (!write_whole_file(upgrade_request_path(o.data_dir), bundle, error)) {
    std::cerr << "vedvm: error: " << terminal_text(error) << "\n";
    return kExitError;
  }
  // Wall-clock time only paces this wait; the serving run records the upgrade at a tick.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.wait_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string bytes;
    bool ok = false;
    std::string text;
    if (read_whole_file(result_path, bytes) && decode_upgrade_result(bytes, ok, text)) {
      std::filesystem::remove(result_path, ec);
      if (ok) {
        std::cout << "vedvm: " << terminal_text(text) << " (by the serving process)\n";
        return kExitOk;
      }
      std::cerr << "vedvm: error: the serving process refused the upgrade of `" << o.data_dir
                << "`: " << terminal_lines(text) << "\n";
      return kExitError;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::filesystem::remove(upgrade_request_path(o.data_dir), ec);
  std::cerr << "vedvm: error: `" << o.data_dir << "` is in use, and the process holding it did not take the upgrade within "
            << o.wait_seconds << " s: only `vedvm --serve` looks for upgrades while it runs; stop a run that is not "
               "serving, then upgrade\n";
  return kExitError;
}

}  // namespace

int upgrade(const UpgradeCommandOptions& o) {
  // Kept for the life of the process, as a run's program is.
  ved::vm::Program& program = *new ved::vm::Program;
  std::string bundle;
  if (!load_program(o.program, program, bundle)) return kExitError;
  ved::vm::Status status;
  auto store = ved::vm::Store::open(o.data_dir, ved::vm::StoreMode::Existing, status);
  if (!store) {
    if (status.code() == ved::vm::Status::Code::InUse) return request_from_server(o, bundle);
    std::cerr << "vedvm: error: " << terminal_text(status.message()) << "\n";
    return kExitError;
  }
  std::string error;
  uint64_t stored = 0;
  if (!ved::vm::holds_other_program(*store, program, stored, error)) {
    if (!error.empty()) {
      std::cerr << "vedvm: error: data dir `" << o.data_dir << "`: " << terminal_text(error) << "\n";
      return kExitError;
    }
    std::cout << "vedvm: `" << o.data_dir << "` runs this build of `" << terminal_text(program.name)
              << "` already: nothing to upgrade\n";
    return kExitOk;
  }
  ved::vm::DataDirUpgrade done;
  if (!ved::vm::upgrade_data_dir(*store, program, bundle, done, error)) {
    std::cerr << "vedvm: error: cannot upgrade `" << o.data_dir << "`: " << terminal_lines(error) << "\n";
    return kExitError;
  }
  std::cout << "vedvm: " << terminal_text(describe_upgrade(o.data_dir, done)) << "\n";
  return kExitOk;
}

}  // namespace vedvm
