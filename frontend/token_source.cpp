#include "frontend/token_source.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "VedLexer.h"

namespace ved::parse_detail {

namespace {

using grammar::VedLexer;

bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_word_start(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_word_char(char32_t c) { return is_word_start(c) || is_digit(c); }
bool is_hex_or_underscore(char32_t c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '_';
}
// WS : [ \t\r\n\f\uFEFF]+
bool is_space(char32_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == 0xFEFF;
}

// The reserved and contextual words of Ved.g4, each its own token type.
const std::unordered_map<std::string_view, size_t>& words() {
  static const std::unordered_map<std::string_view, size_t> table = {
      {"domain", VedLexer::DOMAIN}, {"state", VedLexer::STATE}, {"goal", VedLexer::GOAL},
      {"invariant", VedLexer::INVARIANT}, {"transition", VedLexer::TRANSITION}, {"fn", VedLexer::FN},
      {"type", VedLexer::TYPE}, {"effect", VedLexer::EFFECT}, {"observe", VedLexer::OBSERVE},
      {"authority", VedLexer::AUTHORITY}, {"system", VedLexer::SYSTEM}, {"environment", VedLexer::ENVIRONMENT},
      {"deploy", VedLexer::DEPLOY}, {"migration", VedLexer::MIGRATION}, {"test", VedLexer::TEST},
      {"import", VedLexer::IMPORT}, {"let", VedLexer::LET}, {"if", VedLexer::IF}, {"else", VedLexer::ELSE},
      {"while", VedLexer::WHILE}, {"for", VedLexer::FOR}, {"in", VedLexer::IN}, {"return", VedLexer::RETURN},
      {"yield", VedLexer::YIELD}, {"fail", VedLexer::FAIL}, {"assert", VedLexer::ASSERT}, {"emit", VedLexer::EMIT},
      {"send", VedLexer::SEND}, {"reply", VedLexer::REPLY}, {"spawn", VedLexer::SPAWN},
      {"schedule", VedLexer::SCHEDULE}, {"true", VedLexer::TRUE}, {"false", VedLexer::FALSE},
      {"none", VedLexer::NONE}, {"and", VedLexer::AND}, {"or", VedLexer::OR}, {"not", VedLexer::NOT},
      {"target", VedLexer::TARGET}, {"predicate", VedLexer::PREDICATE}, {"priority", VedLexer::PRIORITY},
      {"strategy", VedLexer::STRATEGY}, {"step", VedLexer::STEP}, {"slice", VedLexer::SLICE},
      {"scope", VedLexer::SCOPE}, {"capability", VedLexer::CAPABILITY}, {"on", VedLexer::ON},
      {"start", VedLexer::START}, {"after", VedLexer::AFTER}, {"ticks", VedLexer::TICKS},
      {"attempts", VedLexer::ATTEMPTS}, {"never", VedLexer::NEVER}, {"high", VedLexer::HIGH},
      {"send_high", VedLexer::SEND_HIGH}, {"terminate_after", VedLexer::TERMINATE_AFTER},
      {"backoff", VedLexer::BACKOFF}, {"budget", VedLexer::BUDGET}, {"always", VedLexer::ALWAYS},
      {"eventually", VedLexer::EVENTUALLY}, {"given", VedLexer::GIVEN}, {"simulate", VedLexer::SIMULATE},
      {"expect", VedLexer::EXPECT}, {"service", VedLexer::SERVICE}, {"to", VedLexer::TO},
      {"from", VedLexer::FROM},
  };
  return table;
}

constexpr size_t kLongestWord = 15;  // "terminate_after"

}  // namespace

VedTokenSource::VedTokenSource(SourceCharStream& input) : input_(input), text_(input.code_points()) {}

antlr4::TokenFactory<antlr4::CommonToken>* VedTokenSource::getTokenFactory() {
  return antlr4::CommonTokenFactory::DEFAULT.get();
}

std::unique_ptr<antlr4::Token> VedTokenSource::make_token(size_t type, size_t start, size_t stop) {
  if (used_in_block_ == kTokensPerBlock) {
    // Not zeroed (make_unique would): every slot is constructed before it is used.
    blocks_.push_back(std::unique_ptr<std::byte[]>(new std::byte[kTokensPerBlock * sizeof(VedToken)]));
    used_in_block_ = 0;
  }
  void* place = blocks_.back().get() + used_in_block_++ * sizeof(VedToken);
  return std::unique_ptr<antlr4::Token>(new (place) VedToken(this, type, start, stop, line_, column_));
}

std::unique_ptr<antlr4::Token> VedTokenSource::nextToken() {
  while (at_ < text_.size()) {
    size_t type = 0;
    size_t length = scan(type);
    if (type == 0) {  // -> skip
      advance(length);
      continue;
    }
    std::unique_ptr<antlr4::Token> token = make_token(type, at_, at_ + length - 1);
    advance(length);
    return token;
  }
  // As Lexer::emitEOF: starts past the last code point and stops before it.
  return make_token(antlr4::Token::EOF, text_.size(), text_.size() - 1);
}

antlr4::TokenSource* VedToken::getTokenSource() const { return source_; }

antlr4::CharStream* VedToken::getInputStream() const { return source_->getInputStream(); }

// CommonToken::getText without a text of its own.
std::string VedToken::getText() const {
  if (text_) return *text_;
  antlr4::CharStream* input = getInputStream();
  size_t size = input->size();
  if (start_ < size && stop_ < size) return input->getText(antlr4::misc::Interval(start_, stop_));
  return "<EOF>";
}

// CommonToken's format: [@index,start:stop='text',<type>,line:column].
std::string VedToken::toString() const {
  std::string text;
  for (char ch : getText()) {
    if (ch == '\n') text += "\\n";
    else if (ch == '\r') text += "\\r";
    else if (ch == '\t') text += "\\t";
    else text += ch;
  }
  auto number = [](size_t n) { return n == INVALID_INDEX ? std::string("-1") : std::to_string(n); };
  return "[@" + number(index_) + "," + number(start_) + ":" + number(stop_) + "='" + text + "',<" + number(type_) +
         ">," + std::to_string(line_) + ":" + std::to_string(column_) + "]";
}

void VedTokenSource::advance(size_t length) {
  for (size_t end = at_ + length; at_ < end; ++at_) {
    if (text_[at_] == '\n') {
      ++line_;
      column_ = 0;
    } else {
      ++column_;
    }
  }
}

size_t VedTokenSource::scan(size_t& type) const {
  const char32_t c = text_[at_];
  if (is_space(c)) {
    size_t end = at_ + 1;
    while (end < text_.size() && is_space(text_[end])) ++end;
    type = 0;
    return end - at_;
  }
  if (is_word_start(c)) {
    size_t end = at_ + 1;
    while (end < text_.size() && is_word_char(text_[end])) ++end;
    size_t length = end - at_;
    type = VedLexer::IDENT;
    if (length <= kLongestWord) {  // a keyword, the rule written first, wins the tie with IDENT
      char word[kLongestWord];
      for (size_t i = 0; i < length; ++i) word[i] = static_cast<char>(text_[at_ + i]);
      auto it = words().find(std::string_view(word, length));
      if (it != words().end()) type = it->second;
    }
    return length;
  }
  if (is_digit(c)) return scan_number(type);
  if (c == '"') return scan_string(type);
  if (c == '/') return scan_slash(type);
  size_t length = scan_operator(type);
  if (length > 0) return length;
  type = VedLexer::UNKNOWN_CHAR;  // UNKNOWN_CHAR : . ;
  return 1;
}

// FLOAT : DIGITS '.' DIGITS EXPONENT? | DIGITS EXPONENT ;
// INT   : '0' [xX] [0-9a-fA-F_]+ | DIGITS ;
// DIGITS : [0-9] [0-9_]* ;  EXPONENT : [eE] [+-]? [0-9]+ ;
size_t VedTokenSource::scan_number(size_t& type) const {
  const size_t n = text_.size();
  auto at = [&](size_t i) -> char32_t { return i < n ? text_[i] : 0; };
  auto digits = [&](size_t from) {  // length of DIGITS at `from` (0 if none)
    if (!is_digit(at(from))) return size_t{0};
    size_t end = from + 1;
    while (end < n && (is_digit(text_[end]) || text_[end] == '_')) ++end;
    return end - from;
  };
  auto exponent = [&](size_t from) {  // length of EXPONENT at `from` (0 if none)
    if (at(from) != 'e' && at(from) != 'E') return size_t{0};
    size_t end = from + 1;
    if (at(end) == '+' || at(end) == '-') ++end;
    if (!is_digit(at(end))) return size_t{0};
    while (end < n && is_digit(text_[end])) ++end;
    return end - from;
  };

  const size_t start = at_;
  size_t best = digits(start);
  type = VedLexer::INT;
  if (text_[start] == '0' && (at(start + 1) == 'x' || at(start + 1) == 'X') && is_hex_or_underscore(at(start + 2))) {
    size_t end = start + 3;
    while (end < n && is_hex_or_underscore(text_[end])) ++end;
    best = std::max(best, end - start);
  }
  const size_t whole = digits(start);
  if (at(start + whole) == '.') {
    size_t fraction = digits(start + whole + 1);
    if (fraction > 0) {
      size_t length = whole + 1 + fraction;
      length += exponent(start + length);
      if (length > best) {
        best = length;
        type = VedLexer::FLOAT;
      }
    }
  }
  size_t e = exponent(start + whole);
  if (e > 0 && whole + e > best) {
    best = whole + e;
    type = VedLexer::FLOAT;
  }
  return best;
}

// STRING : '"' (ESCAPE | ~["\\\r\n])* '"' ;  ESCAPE : '\\' . ;
// UNTERMINATED_STRING : '"' (ESCAPE | ~["\\\r\n])* ;
size_t VedTokenSource::scan_string(size_t& type) const {
  size_t i = at_ + 1;
  while (i < text_.size()) {
    char32_t c = text_[i];
    if (c == '"') {
      type = VedLexer::STRING;
      return i + 1 - at_;
    }
    if (c == '\\') {
      if (i + 1 >= text_.size()) break;  // a backslash at the very end escapes nothing
      i += 2;
      continue;
    }
    if (c == '\r' || c == '\n') break;
    ++i;
  }
  type = VedLexer::UNTERMINATED_STRING;
  return i - at_;
}

// LINE_COMMENT : '//' ~[\r\n]* -> skip ;  BLOCK_COMMENT : '/*' .*? '*/' -> skip ;
// UNTERMINATED_COMMENT : '/*' (~'*' | '*'+ ~[*/])* '*'* EOF ;  SLASH : '/' ;
size_t VedTokenSource::scan_slash(size_t& type) const {
  const size_t n = text_.size();
  char32_t next = at_ + 1 < n ? text_[at_ + 1] : 0;
  if (next == '/') {
    size_t end = at_ + 2;
    while (end < n && text_[end] != '\r' && text_[end] != '\n') ++end;
    type = 0;
    return end - at_;
  }
  if (next == '*') {
    // The first `*/` after the opening `/*` closes it; without one, the comment runs to
    // the end of the file (which is then all an UNTERMINATED_COMMENT can match).
    for (size_t i = at_ + 2; i + 1 < n; ++i) {
      if (text_[i] == '*' && text_[i + 1] == '/') {
        type = 0;
        return i + 2 - at_;
      }
    }
    type = VedLexer::UNTERMINATED_COMMENT;
    return n - at_;
  }
  type = VedLexer::SLASH;
  return 1;
}

size_t VedTokenSource::scan_operator(size_t& type) const {
  char32_t next = at_ + 1 < text_.size() ? text_[at_ + 1] : 0;
  // One character, or two when the second makes a longer operator.
  auto one_or_two = [&](char32_t second, size_t two, size_t one) {
    if (next == second) {
      type = two;
      return size_t{2};
    }
    type = one;
    return one == 0 ? size_t{0} : size_t{1};
  };
  switch (text_[at_]) {
    case '{': type = VedLexer::LBRACE; return 1;
    case '}': type = VedLexer::RBRACE; return 1;
    case '(': type = VedLexer::LPAREN; return 1;
    case ')': type = VedLexer::RPAREN; return 1;
    case '[': type = VedLexer::LBRACK; return 1;
    case ']': type = VedLexer::RBRACK; return 1;
    case ',': type = VedLexer::COMMA; return 1;
    case ';': type = VedLexer::SEMI; return 1;
    case ':': type = VedLexer::COLON; return 1;
    case '@': type = VedLexer::AT; return 1;
    case '%': type = VedLexer::PERCENT; return 1;
    case '.': return one_or_two('.', VedLexer::RANGE, VedLexer::DOT);
    case '?': return one_or_two('?', VedLexer::COALESCE, VedLexer::QUESTION);
    case '+': return one_or_two('=', VedLexer::PLUS_ASSIGN, VedLexer::PLUS);
    case '*': return one_or_two('=', VedLexer::STAR_ASSIGN, VedLexer::STAR);
    case '=': return one_or_two('=', VedLexer::EQ, VedLexer::ASSIGN);
    case '!': return one_or_two('=', VedLexer::NE, VedLexer::BANG);
    case '<': return one_or_two('=', VedLexer::LE, VedLexer::LT);
    case '>': return one_or_two('=', VedLexer::GE, VedLexer::GT);
    case '&': return one_or_two('&', VedLexer::ANDAND, 0);
    case '|': return one_or_two('|', VedLexer::OROR, 0);
    case '-':
      if (next == '>') {
        type = VedLexer::ARROW;
        return 2;
      }
      return one_or_two('=', VedLexer::MINUS_ASSIGN, VedLexer::MINUS);
    default: return 0;
  }
}

}  // namespace ved::parse_detail
