// The compiler's pipeline for one program (a source file and its imports), as vedc, vedvm (for `.ved` files) and the
// tests run it: parse, check against the standard library's prelude, lower to IR. Each
// stage runs only if the ones before it reported no error.
#pragma once

#include <memory>
#include <vector>

#include "frontend/ast.h"
#include "frontend/checker.h"
#include "frontend/diagnostic.h"
#include "ir/module.h"

namespace ved::ir {

struct Compilation {
  std::unique_ptr<ast::Program> prelude;
  std::unique_ptr<ast::Program> program;
  std::unique_ptr<ProgramModel> model;
  std::unique_ptr<Module> module;  // null unless every stage succeeded
};

// Checks `program` against `prelude` and, when checking reported no error, lowers it
// (lowering finds what the checker cannot, e.g. V-TYP-018). Returns the module, or null.
std::unique_ptr<Module> check_and_lower(const ast::Program& prelude, const ast::Program& program,
                                        const SourceManager& sources, DiagnosticSink& sink,
                                        const CheckOptions& options, std::unique_ptr<ProgramModel>& model);

// The whole pipeline for the program rooted at `file` (with everything it imports). Throws std::logic_error if the prelude (compiled
// into the binary) does not parse, which is a bug, not an input error.
Compilation compile_file(SourceManager& sources, FileId file, DiagnosticSink& sink, const CheckOptions& options = {});

// The whole pipeline for one program made of several root files (`vedc a.ved b.ved`)
// and everything they import; it takes its name from the first.
Compilation compile_files(SourceManager& sources, const std::vector<FileId>& files, DiagnosticSink& sink,
                          const CheckOptions& options = {});

}  // namespace ved::ir
