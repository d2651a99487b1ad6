#include <fstream>
#include <iostream>
#include <sstream>

#include "frontend/diagnostic_render.h"
#include "ir/bundle_writer.h"
#include "ir/compile.h"
#include "tools/vedvm/commands.h"
#include "vm/bundle_loader.h"

namespace vedvm {

namespace {

// `vedvm app.ved`: the program is compiled in memory, exactly as vedc would.
bool compile(const std::string& path, std::string& bundle) {
  ved::SourceManager sources;
  ved::DiagnosticSink sink;
  ved::FileId id;
  std::string error;
  if (!sources.add_from_disk(path, id, error)) {
    std::cerr << "vedvm: error: " << error << "\n";
    return false;
  }
  const auto module = ved::ir::compile_file(sources, id, sink).module;
  sink.sort();
  ved::RenderOptions render;
  for (const auto& d : sink.diagnostics()) std::cerr << ved::render_human(d, sources, render) << "\n";
  if (!module) {
    std::cerr << ved::render_summary(sink.error_count(), sink.warning_count(), render);
    return false;
  }
  bundle = ved::ir::write_bundle(*module, sources, std::string("vedc ") + VED_VERSION, error);
  if (bundle.empty()) {
    std::cerr << "vedvm: error: " << error << "\n";
    return false;
  }
  return true;
}

}  // namespace

bool load_program(const std::string& path, ved::vm::Program& program, std::string& bundle) {
  const bool source = path.size() > 4 && (path.ends_with(".ved") || path.ends_with(".lxm"));
  if (source) {
    if (!compile(path, bundle)) return false;
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::cerr << "vedvm: error: cannot read `" << path << "`\n";
      return false;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    bundle = buffer.str();
  }
  std::string error;
  if (!ved::vm::load_bundle(bundle, program, error)) {
    std::cerr << "vedvm: error: `" << path << "` rejected: " << error << "\n";
    return false;
  }
  return true;
}

}  // namespace vedvm
