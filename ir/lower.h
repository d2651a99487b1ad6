// Lowering: the checked program (AST + ProgramModel) to an IR module.
//
// Runs only on programs the checker accepted. What the checker cannot know and lowering
// needs (the element type of a never-filled `[]`, a value returned on every path of a
// `fn`) is reported here with a diagnostic, like any other compile error.
#pragma once

#include <memory>

#include "frontend/ast.h"
#include "frontend/diagnostic.h"
#include "frontend/program_model.h"
#include "ir/module.h"

namespace ved::ir {

// Returns nullptr after reporting errors into `sink`.
std::unique_ptr<Module> lower_program(const ast::Program& program, const ProgramModel& model,
                                      const SourceManager& sources, DiagnosticSink& sink);

}  // namespace ved::ir
