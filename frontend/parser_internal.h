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

 private:
  FileId file_;
  uint32_t size_;
  std::vector<uint32_t> code_point_to_byte_;  // empty when the text is ASCII
};

// Turns ANTLR's syntax errors into V-SYN diagnostics with a span and a hint, and keeps
// follow-on errors of one mistake from being reported.
class SyntaxErrorListener : public antlr4::BaseErrorListener {
 public:
  SyntaxErrorListener(const SourceFile& file, const TokenLocator& locator, antlr4::BufferedTokenStream& tokens,
                      DiagnosticSink& sink);

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line, size_t column,
                   const std::string& message, std::exception_ptr error) override;

  size_t reported() const { return error_offsets_.size(); }
  // Byte offsets of the reported errors, in increasing order.
  const std::vector<uint32_t>& error_offsets() const { return error_offsets_; }

 private:
  const SourceFile& file_;
  const TokenLocator& locator_;
  antlr4::BufferedTokenStream& tokens_;
  DiagnosticSink& sink_;
  std::vector<uint32_t> error_offsets_;
  long last_error_line_ = -1;
  long last_error_token_ = -1;
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
