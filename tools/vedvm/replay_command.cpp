// `vedvm replay DIR [--from T] [--to T] [--program new.vedb]`: re-execute a stored run
// from its journal and check every tick (runtime.md §6).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tools/vedvm/commands.h"
#include "tools/vedvm/json_output.h"
#include "vm/runtime/replay.h"

namespace vedvm {

int replay(const ReplayCommandOptions& o) {
  std::error_code ec;
  if (!std::filesystem::is_directory(o.data_dir, ec)) {
    std::cerr << "vedvm: error: no data dir `" << o.data_dir << "`\n";
    return kExitError;
  }
  ved::vm::ReplayOptions options;
  options.from = o.from;
  options.to = o.to;
  if (!o.program.empty()) {
    // A source file is compiled as `vedvm app.ved` would; a bundle is read as it is.
    ved::vm::Program ignored;
    if (!load_program(o.program, ignored, options.program_bundle)) return kExitError;
  }
  ved::vm::Status status;
  auto store = ved::vm::Store::open(o.data_dir, ved::vm::StoreMode::Inspect, status);
  if (!store) {
    std::cerr << "vedvm: error: " << terminal_text(status.message()) << "\n";
    return kExitError;
  }
  std::string error;
  ved::vm::ReplayReport report;
  std::unique_ptr<ved::vm::ReplaySession> session;
  options.trace = trace_printer(o.trace, [&session]() -> const ved::vm::Program& { return session->program(); });
  session = std::make_unique<ved::vm::ReplaySession>(options);
  if (!session->advance(*store, report, error)) {
    std::cerr << "vedvm: error: cannot replay `" << o.data_dir << "`: " << terminal_text(error) << "\n";
    return kExitError;
  }
  if (report.diverged) {
    std::cout << terminal_text(report.explanation) << "\n";
    return kExitError;
  }
  (o.trace.empty() ? std::cout : std::cerr) << "replay: " << report.ticks << " ticks match the journal"
            << (o.program.empty() ? "" : " (with " + o.program + ")") << "\n";
  return kExitOk;
}

}  // namespace vedvm
