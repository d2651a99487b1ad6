// The Ved lexer: code points in, ANTLR tokens out, for the ANTLR parser.
//
// Ved.g4's lexer rules define the tokens, and the generated VedLexer implements them,
// but through ANTLR's lexer simulator, which takes a lock and a hash lookup for every
// character and was a quarter of the whole parse. The rules are simple (words,
// fixed operators, numbers, strings, comments, whitespace, three error tokens), so this
// scanner implements them directly, with ANTLR's semantics: the longest match wins, and
// between matches of one length the rule written first. Its tokens are the ones
// VedLexer makes, field for field (type, code-point start and stop, line, column),
// which tests/unit/token_source_test.cpp checks on every test program and on generated
// text; a change to the grammar's lexer rules must be made here too, and that test
// fails until it is. Only parser.cpp and the test include this header.
#pragma once

#include <memory>
#include <string>

#include "frontend/source_char_stream.h"

namespace ved::parse_detail {

class VedTokenSource : public antlr4::TokenSource {
 public:
  explicit VedTokenSource(SourceCharStream& input);

  std::unique_ptr<antlr4::Token> nextToken() override;
  size_t getLine() const override { return line_; }
  size_t getCharPositionInLine() override { return column_; }
  antlr4::CharStream* getInputStream() override { return &input_; }
  std::string getSourceName() override { return input_.getSourceName(); }
  antlr4::TokenFactory<antlr4::CommonToken>* getTokenFactory() override;

 private:
  // The length of the token at `at_`, and its type; skip tokens (whitespace, comments)
  // have type 0.
  size_t scan(size_t& type) const;
  size_t scan_number(size_t& type) const;
  size_t scan_string(size_t& type) const;
  size_t scan_slash(size_t& type) const;
  size_t scan_operator(size_t& type) const;
  void advance(size_t length);  // past `length` code points, counting lines

  SourceCharStream& input_;
  std::u32string_view text_;
  size_t at_ = 0;      // code point index of the next token
  size_t line_ = 1;    // of `at_`, 1-based
  size_t column_ = 0;  // of `at_`, 0-based, in code points (ANTLR's charPositionInLine)
};

}  // namespace ved::parse_detail
