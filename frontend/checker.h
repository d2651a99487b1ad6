// Semantic analysis: names, types, the authority lattice, privileges, capabilities,
// goals, orchestration blocks, and (with `lint`) lints and notes.
//
// The checker reports into a DiagnosticSink and never stops at the first error; a
// construct whose type is already wrong checks as the Error type, which is compatible
// with everything, so one mistake yields one diagnostic.
#pragma once

#include <memory>

#include "frontend/ast.h"
#include "frontend/diagnostic.h"
#include "frontend/program_model.h"
#include "frontend/source_manager.h"

namespace ved {

struct CheckOptions {
  bool lint = false;  // also report V-LNT-* lints and V-NTE-* notes
};

// Parses the standard library's prelude (stdlib/prelude.ved, compiled into the binary and
// imported into every program) into `sources`. Returns nullptr only if it is broken.
std::unique_ptr<ast::Program> parse_prelude(SourceManager& sources, DiagnosticSink& sink);

// Checks `program` against the prelude's declarations. Returns the model even when
// there are errors (it is complete enough for tools); callers check `sink`.
std::unique_ptr<ProgramModel> check_program(const ast::Program& prelude, const ast::Program& program,
                                            DiagnosticSink& sink, const CheckOptions& options);

}  // namespace ved
