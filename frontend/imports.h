// Imports and multi-file programs (language.md §2).
//
// A program is one or more root files (the files named on vedc's command line) plus
// everything they import, transitively: `import "relative/path.ved"` names a file
// relative to the importing file's directory, `import std.NAME` a module of the standard
// library (compiled in; see stdlib_sources.h). Every file is parsed once, however many
// files import it, and the declarations of all of them are merged into one ast::Program
// that is checked and compiled as a whole. Every span keeps its own file id, so a
// diagnostic about an imported declaration names that file and line.
//
// Refused, each with a coded diagnostic on the offending `import`: a file that cannot
// be read (V-ERR-019), an unknown std module (V-ERR-019), an import cycle (V-ERR-020),
// and script-mode members (an implicit `Main`) in more than one file (V-ERR-021).
#pragma once

#include <memory>
#include <vector>

#include "frontend/ast.h"
#include "frontend/diagnostic.h"
#include "frontend/source_manager.h"

namespace ved {

// Parses `roots` (already added to `sources`) and everything they import, in that
// order, and merges them into one program whose `file` is the first root (the program
// takes its name from it). Returns nullptr when any file has a syntax error or any
// import cannot be resolved; every problem is reported to `sink`.
std::unique_ptr<ast::Program> load_program(SourceManager& sources, const std::vector<FileId>& roots,
                                           DiagnosticSink& sink);

// Parses the implicit `std.prelude` module into `sources`. Returns nullptr only if the
// prelude itself is broken (a bug in the build, not an input error).
std::unique_ptr<ast::Program> load_prelude(SourceManager& sources, DiagnosticSink& sink);

}  // namespace ved
