// The Ved parser: source text in, AST and V-SYN diagnostics out.
//
// ANTLR stays behind this header. Parsing is two-stage for speed: a fast SLL pass that
// gives up at the first error, then (only for files with errors, or the rare inputs
// SLL cannot decide) a full LL pass with error recovery and friendly messages.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "frontend/diagnostic.h"
#include "frontend/source_manager.h"

namespace ved {

struct TokenInfo {
  std::string kind;  // the grammar's token name, e.g. "IDENT", "LBRACE", "DOMAIN"
  std::string text;
  Span span;
};

// The tokens of a file, for `vedc --emit=tokens`. Lexical errors (unterminated string,
// unknown character, invalid UTF-8) are reported to `sink`; the tokens are still
// returned, error tokens included, so a user can see what the lexer saw.
std::vector<TokenInfo> tokenize(const SourceManager& sources, FileId file, DiagnosticSink& sink);

// Parses a file. Returns the AST, or nullptr when the file has syntax errors (all of
// them reported to `sink`).
std::unique_ptr<ast::Program> parse(const SourceManager& sources, FileId file, DiagnosticSink& sink);

}  // namespace ved
