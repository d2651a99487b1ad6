#include "ir/compile.h"

#include <stdexcept>

#include "frontend/imports.h"
#include "ir/lower.h"

namespace ved::ir {

std::unique_ptr<Module> check_and_lower(const ast::Program& prelude, const ast::Program& program,
                                        const SourceManager& sources, DiagnosticSink& sink,
                                        const CheckOptions& options, std::unique_ptr<ProgramModel>& model) {
  const size_t errors_before = sink.error_count();
  model = check_program(prelude, program, sink, options);
  if (sink.error_count() > errors_before) return nullptr;
  return lower_program(program, *model, sources, sink);
}

Compilation compile_file(SourceManager& sources, FileId file, DiagnosticSink& sink, const CheckOptions& options) {
  return compile_files(sources, {file}, sink, options);
}

Compilation compile_files(SourceManager& sources, const std::vector<FileId>& files, DiagnosticSink& sink,
                          const CheckOptions& options) {
  Compilation c;
  c.program = load_program(sources, files, sink);
  if (!c.program) return c;
  DiagnosticSink prelude_sink;
  c.prelude = parse_prelude(sources, prelude_sink);
  if (!c.prelude || prelude_sink.has_errors()) throw std::logic_error("the standard library prelude does not parse");
  c.module = check_and_lower(*c.prelude, *c.program, sources, sink, options, c.model);
  return c;
}

}  // namespace ved::ir
