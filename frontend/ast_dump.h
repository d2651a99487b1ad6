// Printing the AST: `vedc --emit=ast` (an indented tree) and `--emit=ast --json`.
//
// The AST is first turned into a generic tree of DumpNodes (kind, attributes,
// position, children); the two formats render that tree, so they can never disagree.
// The output is a pure function of the AST and the source text (golden tests rely on
// it).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "frontend/ast.h"
#include "frontend/source_manager.h"

namespace ved {

struct DumpNode {
  std::string kind;                                        // "Domain", "Binary", ...
  std::vector<std::pair<std::string, std::string>> attrs;  // name -> value, in order
  uint32_t line = 0, column = 0;                           // start of the node's span
  std::string role;                                        // "predicate", "lhs", ... ("" if none)
  std::vector<DumpNode> children;
};

DumpNode ast_to_dump(const ast::Program& program, const SourceManager& sources);

std::string render_dump_text(const DumpNode& root);
std::string render_dump_json(const DumpNode& root);

}  // namespace ved
