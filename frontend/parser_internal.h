// Shared by the three translation units that see ANTLR: parser.cpp, syntax_errors.cpp
// and ast_builder.cpp. Nothing outside frontend/ includes this header.
#pragma once

#include <memory>
#include <vector>

#include "VedLexer.h"
#include "VedParser.h"
#include "antlr4-runtime.h"
#include "frontend/ast.h"
#include "frontend/diagnostic.h"
#include "frontend/guarded_parser.h"
#include "frontend/source_manager.h"

namespace ved::parse_detail {

using grammar::VedLexer;
using grammar::VedParser;

// ANTLR counts positions in code points; spans are byte offsets. This maps one to the
// other (the identity for ASCII files, which need no table).
class TokenLocator {
 public:
  explicit TokenLocator(const SourceFile& file);

  FileId file() const { return file_; }
  uint32_t byte_offset(size_t code_point_index) const;
  Span span_of(const antlr4::Token* token) const;
  // From the first token of `ctx` to its last; an empty span at the start token when
  // the rule matched nothing (possible after error recovery).
  Span span_of(antlr4::ParserRuleContext* ctx) const;
  Span span_of(antlr4::tree::TerminalNode* node) const { return span_of(node->getSymbol()); }
  // A token's text, as getText() would give it. Read from the UTF-8 source: getText()
  // converts the lexer's UTF-32 buffer back to UTF-8 through a fresh string each time,
  // which cost more than building the AST node it was wanted for. Tokens that error
  // recovery conjured up ("<missing ...>") have no source text and keep getText().
  std::string text_of(const antlr4::Token* token) const;

 private:
  FileId file_;
  std::string_view text_;
  uint32_t size_;
  std::vector<uint32_t> code_point_to_byte_;  // empty when the text is ASCII
};

// Thrown by the listener when it has recognised a misspelled keyword: the parse is
// restarted with the token's type repaired, so that one typo yields one diagnostic
// instead of a cascade.
struct KeywordRepair {
  size_t token_index;
  size_t new_type;
};

// Turns ANTLR's syntax errors into V-SYN diagnostics with a span and a hint, and keeps
// follow-on errors of one mistake from being reported. Diagnostics are buffered: on a
// KeywordRepair only the repair's own diagnostic is kept (the parse is redone, so the
// others will be found again).
class SyntaxErrorListener : public antlr4::BaseErrorListener {
 public:
  SyntaxErrorListener(const TokenLocator& locator, antlr4::BufferedTokenStream& tokens);

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line, size_t column,
                   const std::string& message, std::exception_ptr error) override;

  // Forget everything found in the current attempt except the repairs.
  void restart();
  // Byte offsets of the reported errors, in increasing order.
  const std::vector<uint32_t>& error_offsets() const { return error_offsets_; }
  // Hands every diagnostic to `sink`.
  void flush(DiagnosticSink& sink);

 private:
  void report_misspelling(const antlr4::Token* word, std::string_view keyword, size_t keyword_type,
                          const std::string& construct);

  const TokenLocator& locator_;
  antlr4::BufferedTokenStream& tokens_;
  DiagnosticSink repairs_;  // diagnostics of keyword repairs, kept across restarts
  DiagnosticSink current_;  // diagnostics of the current attempt
  std::vector<uint32_t> error_offsets_;
  std::vector<size_t> repaired_tokens_;
  long last_error_line_ = -1;
  long last_error_token_ = -1;
};

// Error recovery that respects delimiters. The delimiter pass has proved that every
// `{`, `(` and `[` in the file is matched, so recovery never invents or deletes one
// (ANTLR's default would conjure a `{` for `if x > 3 x = 1` and then swallow the
// enclosing block's `}`), and when skipping tokens it skips whole groups and stops at
// the closer of a group opened before the failing rule began. Errors then stay inside
// the construct they occur in. Inside a declaration, recovery resynchronises on what can
// follow the failing rule and on declaration keywords, but not on the statement starts
// that the top-level error production would otherwise add (a name would then end the
// enclosing domain).
class DelimiterAwareErrorStrategy : public antlr4::DefaultErrorStrategy {
 public:
  // `opener_of[i]` is the token index of the opening delimiter matched by the closing
  // delimiter at token index i (unused for other tokens).
  explicit DelimiterAwareErrorStrategy(std::vector<size_t> opener_of) : opener_of_(std::move(opener_of)) {}

 protected:
  bool singleTokenInsertion(antlr4::Parser* recognizer) override;
  antlr4::Token* singleTokenDeletion(antlr4::Parser* recognizer) override;
  void consumeUntil(antlr4::Parser* recognizer, const antlr4::misc::IntervalSet& set) override;
  antlr4::misc::IntervalSet getErrorRecoverySet(antlr4::Parser* recognizer) override;

 private:
  std::vector<size_t> opener_of_;
};

// The token type of a keyword spelling (`"domain"` -> DOMAIN), or 0.
size_t keyword_token_type(const antlr4::dfa::Vocabulary& vocabulary, std::string_view spelling);

// Builds the AST of a file from its top-level items, handed over in source order (see
// build_ast). The SLL pass uses it directly, releasing each item's parse tree once the
// item is added.
class ProgramBuilder {
 public:
  // `parse_errors` are the byte offsets of the errors the parser reported.
  ProgramBuilder(const TokenLocator& locator, const std::vector<uint32_t>& parse_errors, DiagnosticSink& sink);
  ~ProgramBuilder();
  void add(VedParser::TopItemContext* item);
  // The program; then the builder is spent.
  std::unique_ptr<ast::Program> finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Builds the AST from a parse tree, reporting the V-SYN errors that the grammar
// accepts on purpose (error productions) and literal errors. Tolerates the holes that
// error recovery leaves in a tree.
// `parse_errors` are the byte offsets of the errors the parser reported.
std::unique_ptr<ast::Program> build_ast(VedParser::ProgramContext* tree, const TokenLocator& locator,
                                        const std::vector<uint32_t>& parse_errors, DiagnosticSink& sink);

// Human names of tokens for messages: "`{`", "a name", "end of file".
std::string describe_token_type(const antlr4::dfa::Vocabulary& vocabulary, size_t type);
std::string describe_token(const antlr4::Token* token);

}  // namespace ved::parse_detail
