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
// fails until it is. Only parser.cpp and the unit tests include this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "frontend/source_char_stream.h"

namespace ved::parse_detail {

class VedTokenSource;

// A token as VedTokenSource makes it: CommonToken's fields without its text string and
// source pair (64 bytes instead of 120), made in its source's blocks instead of one
// allocation each. Its text is read from the input when asked for, as CommonToken's is
// when it has none of its own.
class VedToken final : public antlr4::WritableToken {
 public:
  VedToken(VedTokenSource* source, size_t type, size_t start, size_t stop, size_t line, size_t column)
      : source_(source), start_(start), stop_(stop), type_(type), line_(static_cast<uint32_t>(line)),
        column_(static_cast<uint32_t>(column)) {}

  std::string getText() const override;
  size_t getType() const override { return type_; }
  size_t getLine() const override { return line_; }
  size_t getCharPositionInLine() const override { return column_; }
  size_t getChannel() const override { return antlr4::Token::DEFAULT_CHANNEL; }
  size_t getTokenIndex() const override { return index_; }
  size_t getStartIndex() const override { return start_; }
  size_t getStopIndex() const override { return stop_; }
  antlr4::TokenSource* getTokenSource() const override;
  antlr4::CharStream* getInputStream() const override;
  std::string toString() const override;

  void setText(const std::string& text) override { text_ = std::make_unique<std::string>(text); }
  void setType(size_t type) override { type_ = type; }
  void setLine(size_t line) override { line_ = static_cast<uint32_t>(line); }
  void setCharPositionInLine(size_t column) override { column_ = static_cast<uint32_t>(column); }
  void setChannel(size_t) override {}  // every Ved token is on the default channel
  void setTokenIndex(size_t index) override { index_ = index; }

  // The token stream owns its tokens as unique_ptr<Token> and deletes them; the memory
  // is the source's, freed with it, so deleting only runs the destructor. The source
  // (declared before the stream) outlives the stream.
  static void* operator new(size_t, void* place) noexcept { return place; }
  static void operator delete(void*) noexcept {}

 private:
  VedTokenSource* source_;
  std::unique_ptr<std::string> text_;  // only when setText was called
  size_t start_;
  size_t stop_;
  size_t type_;
  size_t index_ = INVALID_INDEX;
  uint32_t line_;
  uint32_t column_;
};

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
  // A new token in the current block (a new block when it is full).
  std::unique_ptr<antlr4::Token> make_token(size_t type, size_t start, size_t stop);

  static constexpr size_t kTokensPerBlock = 4096;
  std::vector<std::unique_ptr<std::byte[]>> blocks_;
  size_t used_in_block_ = kTokensPerBlock;

  SourceCharStream& input_;
  std::u32string_view text_;
  size_t at_ = 0;      // code point index of the next token
  size_t line_ = 1;    // of `at_`, 1-based
  size_t column_ = 0;  // of `at_`, 0-based, in code points (ANTLR's charPositionInLine)
};

}  // namespace ved::parse_detail
