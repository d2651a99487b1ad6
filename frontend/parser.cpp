#include "frontend/parser.h"

#include <typeinfo>

#include "frontend/delimiter_check.h"
#include "frontend/keywords.h"
#include "frontend/parser_internal.h"
#include "frontend/source_char_stream.h"
#include "frontend/token_source.h"

namespace ved {

using namespace parse_detail;

namespace parse_detail {

TokenLocator::TokenLocator(const SourceFile& file)
    : file_(file.id()), text_(file.text()), size_(static_cast<uint32_t>(file.text().size())) {
  const std::string& text = file.text();
  bool ascii = true;
  for (char ch : text) {
    if (static_cast<unsigned char>(ch) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return;
  code_point_to_byte_.reserve(text.size() + 1);
  for (uint32_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) code_point_to_byte_.push_back(i);
  }
  code_point_to_byte_.push_back(size_);
}

uint32_t TokenLocator::byte_offset(size_t cp) const {
  if (code_point_to_byte_.empty()) return static_cast<uint32_t>(std::min<size_t>(cp, size_));
  if (cp >= code_point_to_byte_.size()) return size_;
  return code_point_to_byte_[cp];
}

namespace {

// The type and code-point range of a token. Nearly every token is a VedToken, whose
// class is final, so its fields are read without virtual calls (spans are taken for
// every node of the AST); the others are the tokens error recovery makes up.
struct TokenRange {
  size_t type, start, stop;
};

TokenRange range_of(const antlr4::Token* token) {
  if (typeid(*token) == typeid(VedToken)) {
    auto* t = static_cast<const VedToken*>(token);
    return {t->getType(), t->getStartIndex(), t->getStopIndex()};
  }
  return {token->getType(), token->getStartIndex(), token->getStopIndex()};
}

}  // namespace

Span TokenLocator::span_of(const antlr4::Token* token) const {
  if (!token) return Span{file_, size_, size_};
  auto [type, start, stop] = range_of(token);
  if (type == antlr4::Token::EOF || start == INVALID_INDEX) return Span{file_, size_, size_};
  uint32_t begin = byte_offset(start);
  uint32_t end = stop == INVALID_INDEX || stop < start ? begin : byte_offset(stop + 1);
  return Span{file_, begin, end};
}

std::string TokenLocator::text_of(const antlr4::Token* token) const {
  size_t start = token->getStartIndex();
  size_t stop = token->getStopIndex();
  if (token->getType() == antlr4::Token::EOF || start == INVALID_INDEX || stop == INVALID_INDEX || stop < start) {
    return token->getText();
  }
  // The lexer never saw a leading byte-order mark (ANTLR drops it), so its code point
  // i is the file's i + 1. (span_of does not shift: spans in such files have always
  // been one code point early, and diagnostics keep them as they were.)
  size_t shift = text_.starts_with("\xEF\xBB\xBF") ? 1 : 0;
  uint32_t begin = byte_offset(start + shift);
  uint32_t end = byte_offset(stop + 1 + shift);
  return std::string(text_.substr(begin, end - begin));
}

Span TokenLocator::span_of(antlr4::ParserRuleContext* ctx) const {
  if (!ctx) return Span{file_, size_, size_};
  const antlr4::Token* start = ctx->getStart();
  Span first = span_of(start);
  const antlr4::Token* stop = ctx->getStop();
  if (!stop || stop->getTokenIndex() < start->getTokenIndex()) return Span{file_, first.begin, first.begin};
  Span last = span_of(stop);
  return Span{file_, first.begin, std::max(first.begin, last.end)};
}

}  // namespace parse_detail

namespace {

// Lexes a file into a filled token stream. Lexing cannot fail: the grammar turns
// anything it does not know into an error token. `text` must be valid UTF-8.
//
// A BufferedTokenStream, not a CommonTokenStream: every Ved token is on the default
// channel (whitespace and comments are skipped, not hidden), so the channel filtering
// that CommonTokenStream does at every lookahead would find nothing to filter.
struct LexedFile {
  explicit LexedFile(const std::string& text) : input(text), source(input), tokens(&source) { tokens.fill(); }
  SourceCharStream input;
  VedTokenSource source;
  antlr4::BufferedTokenStream tokens;
};

bool report_invalid_utf8(const SourceFile& file, DiagnosticSink& sink) {
  size_t bad = find_invalid_utf8(file.text());
  if (bad == std::string::npos) return false;
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(file.text()[bad]));
  sink.error("V-SYN-020", Span{file.id(), static_cast<uint32_t>(bad), static_cast<uint32_t>(bad + 1)},
             "source is not valid UTF-8")
      .label(std::string("byte ") + hex + " does not start a valid UTF-8 sequence")
      .help("save the file as UTF-8");
  return true;
}

// Reports error tokens. Returns true if there were any.
bool report_lexical_errors(const std::vector<antlr4::Token*>& tokens, const TokenLocator& locator,
                           DiagnosticSink& sink) {
  bool any = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const antlr4::Token* t = tokens[i];
    switch (t->getType()) {
      case VedLexer::UNTERMINATED_STRING:
        any = true;
        sink.error("V-SYN-008", locator.span_of(t), "unterminated string literal")
            .label("this string is never closed")
            .help("close it with `\"` on the same line; write a line break as `\\n`");
        break;
      case VedLexer::UNTERMINATED_COMMENT: {
        any = true;
        Span s = locator.span_of(t);
        sink.error("V-SYN-014", Span{s.file, s.begin, s.begin + 2}, "unterminated block comment")
            .label("this comment is never closed")
            .help("close it with `*/`; block comments do not nest");
        break;
      }
      case VedLexer::UNKNOWN_CHAR: {
        any = true;
        // One diagnostic for a run of adjacent unknown characters.
        Span s = locator.span_of(t);
        while (i + 1 < tokens.size() && tokens[i + 1]->getType() == VedLexer::UNKNOWN_CHAR &&
               locator.span_of(tokens[i + 1]).begin == s.end) {
          s.end = locator.span_of(tokens[++i]).end;
        }
        std::string text = t->getText();
        auto d = sink.error("V-SYN-013", s, "unexpected character `" + text + "`");
        d.label("not part of any Ved token");
        if (text == "#") d.help("comments are written `// ...` or `/* ... */`");
        else if (text == "'") d.help("strings are written with double quotes: \"text\"");
        else if (text == "&" || text == "|") d.help("logical operators are `&&` and `||` (or `and` / `or`)");
        else d.help("remove it, or put it inside a string literal");
        break;
      }
      default: break;
    }
  }
  return any;
}

// Indentation of the line holding `offset`, in display columns (tab = 4), and whether
// only whitespace precedes `offset` on that line.
std::pair<uint32_t, bool> indentation_at(const std::string& text, uint32_t offset) {
  uint32_t start = offset;
  while (start > 0 && text[start - 1] != '\n') --start;
  uint32_t indent = 0;
  uint32_t i = start;
  for (; i < offset; ++i) {
    if (text[i] == ' ') ++indent;
    else if (text[i] == '\t') indent += 4 - indent % 4;
    else if (text[i] != '\r' && text[i] != '\f') break;
  }
  return {indent, i == offset};
}

bool check_token_delimiters(const SourceFile& file, const std::vector<antlr4::Token*>& tokens,
                            const TokenLocator& locator, DiagnosticSink& sink) {
  std::vector<DelimiterToken> delimiters;
  std::vector<LineStart> line_starts;
  uint32_t last_line = 0;
  uint32_t line_indent = 0;
  for (const antlr4::Token* t : tokens) {
    if (t->getType() == antlr4::Token::EOF) break;
    Span s = locator.span_of(t);
    char ch = 0;
    switch (t->getType()) {
      case VedLexer::LBRACE: ch = '{'; break;
      case VedLexer::RBRACE: ch = '}'; break;
      case VedLexer::LPAREN: ch = '('; break;
      case VedLexer::RPAREN: ch = ')'; break;
      case VedLexer::LBRACK: ch = '['; break;
      case VedLexer::RBRACK: ch = ']'; break;
      default: break;
    }
    uint32_t line = static_cast<uint32_t>(t->getLine());
    // Indentation is measured once per line (from its first token), so a very long
    // line costs linear time, not quadratic.
    if (line != last_line) {
      last_line = line;
      auto [indent, first] = indentation_at(file.text(), s.begin);
      line_indent = indent;
      if (first) line_starts.push_back(LineStart{s, line, indent, ch == '}' || ch == ')' || ch == ']'});
    }
    if (ch) delimiters.push_back(DelimiterToken{ch, s, line, line_indent});
  }
  return check_delimiters(delimiters, line_starts, sink);
}

// Cheap bounds on the token stream, checked before parsing: nesting of delimiters and
// runs of prefix operators. ANTLR's prediction on such input is quadratic (a 3,000-deep
// `((((` with a syntax error inside took seconds), and GuardedParser's bound alone only
// stops a parse that has already paid for its lookahead. No written program comes near
// them.
constexpr size_t kMaxDelimiterDepth = 256;
constexpr size_t kMaxPrefixRun = 256;

bool check_nesting_bounds(const std::vector<antlr4::Token*>& tokens, const TokenLocator& locator,
                          DiagnosticSink& sink) {
  size_t depth = 0, run = 0;
  for (const antlr4::Token* t : tokens) {
    size_t type = t->getType();
    if (type == VedLexer::LBRACE || type == VedLexer::LPAREN || type == VedLexer::LBRACK) {
      if (++depth > kMaxDelimiterDepth) {
        sink.error("V-SYN-024", locator.span_of(t), "nesting too deep")
            .label("more than " + std::to_string(kMaxDelimiterDepth) + " delimiters open here")
            .help("split the expression or block: move parts into locals, functions or transitions");
        return false;
      }
    } else if (type == VedLexer::RBRACE || type == VedLexer::RPAREN || type == VedLexer::RBRACK) {
      if (depth > 0) --depth;
    }
    // Prefix operators count until an operand appears; an opening bracket between them
    // (`- (- (- ...`) does not end the run.
    if (type == VedLexer::MINUS || type == VedLexer::BANG || type == VedLexer::NOT) ++run;
    else if (type != VedLexer::LPAREN && type != VedLexer::LBRACK) run = 0;
    if (run > kMaxPrefixRun) {
      sink.error("V-SYN-024", locator.span_of(t), "nesting too deep")
          .label("more than " + std::to_string(kMaxPrefixRun) + " operators in a row")
          .help("simplify the expression");
      return false;
    }
  }
  return true;
}

// For each closing delimiter, the token index of the opening one it matches. Only
// called once the delimiter check has proved that they all match.
std::vector<size_t> match_delimiters(const std::vector<antlr4::Token*>& tokens) {
  std::vector<size_t> opener_of(tokens.size(), 0);
  std::vector<size_t> open;
  for (size_t i = 0; i < tokens.size(); ++i) {
    switch (tokens[i]->getType()) {
      case VedLexer::LBRACE: case VedLexer::LPAREN: case VedLexer::LBRACK:
        open.push_back(i);
        break;
      case VedLexer::RBRACE: case VedLexer::RPAREN: case VedLexer::RBRACK:
        if (!open.empty()) {
          opener_of[i] = open.back();
          open.pop_back();
        }
        break;
      default: break;
    }
  }
  return opener_of;
}

// At the top level nothing may begin with a plain name, so a name that begins a line
// there and is followed by a name, a string or `{` is a misspelled declaration keyword
// (`domian Counter {`, `tset "x" {`). The token is repaired so the rest of the file
// parses as intended. Delimiters are known to be balanced here.
void repair_top_level_keywords(const std::string& text, const std::vector<antlr4::Token*>& tokens,
                               const TokenLocator& locator, const antlr4::dfa::Vocabulary& vocabulary,
                               DiagnosticSink& sink) {
  int depth = 0;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    antlr4::Token* t = tokens[i];
    size_t type = t->getType();
    if (type == VedLexer::LBRACE || type == VedLexer::LPAREN || type == VedLexer::LBRACK) ++depth;
    if (type == VedLexer::RBRACE || type == VedLexer::RPAREN || type == VedLexer::RBRACK) --depth;
    if (depth != 0 || type != VedLexer::IDENT) continue;
    size_t next = tokens[i + 1]->getType();
    if (next != VedLexer::IDENT && next != VedLexer::STRING && next != VedLexer::LBRACE) continue;
    if (i > 0 && tokens[i - 1]->getLine() == t->getLine()) continue;  // not the first token of its line
    if (!indentation_at(text, locator.span_of(t).begin).second) continue;
    auto guess = nearest_word(t->getText(), declaration_keywords());
    if (!guess) continue;
    sink.error("V-SYN-007", locator.span_of(t), "unknown word `" + t->getText() + "` at the top level")
        .label("not a keyword")
        .help("did you mean `" + std::string(*guess) + "`?");
    if (auto* token = dynamic_cast<antlr4::WritableToken*>(t)) token->setType(keyword_token_type(vocabulary, *guess));
  }
}

}  // namespace

std::vector<TokenInfo> tokenize(const SourceManager& sources, FileId id, DiagnosticSink& sink) {
  const SourceFile& file = sources.file(id);
  if (report_invalid_utf8(file, sink)) return {};
  LexedFile lexed(file.text());
  TokenLocator locator(file);
  const std::vector<antlr4::Token*>& tokens = lexed.tokens.getTokens();
  report_lexical_errors(tokens, locator, sink);
  std::vector<TokenInfo> out;
  out.reserve(tokens.size());
  // The token names are the grammar's; the generated classes give them out only
  // through an instance.
  VedParser names(&lexed.tokens);
  const antlr4::dfa::Vocabulary& vocabulary = names.getVocabulary();
  for (const antlr4::Token* t : tokens) {
    bool eof = t->getType() == antlr4::Token::EOF;
    out.push_back(TokenInfo{eof ? "EOF" : vocabulary.getSymbolicName(t->getType()), eof ? "" : t->getText(),
                            locator.span_of(t)});
  }
  return out;
}

std::unique_ptr<ast::Program> parse(const SourceManager& sources, FileId id, DiagnosticSink& sink) {
  const SourceFile& file = sources.file(id);
  if (report_invalid_utf8(file, sink)) return nullptr;

  LexedFile lexed(file.text());
  TokenLocator locator(file);
  std::vector<antlr4::Token*> tokens = lexed.tokens.getTokens();

  // Lexical and delimiter errors first: when either kind is present, the parser's own
  // errors would only be echoes of them, so the parse is skipped.
  size_t errors_before = sink.error_count();
  if (report_lexical_errors(tokens, locator, sink)) return nullptr;
  if (!check_token_delimiters(file, tokens, locator, sink)) return nullptr;
  if (!check_nesting_bounds(tokens, locator, sink)) return nullptr;

  GuardedParser parser(&lexed.tokens);
  parser.removeErrorListeners();
  repair_top_level_keywords(file.text(), tokens, locator, parser.getVocabulary(), sink);
  auto too_deep = [&](const NestingTooDeep& e) {
    sink.error("V-SYN-024", locator.span_of(lexed.tokens.get(e.token_index)), "nesting too deep")
        .label("more than " + std::to_string(GuardedParser::kMaxRuleDepth) + " levels of nested constructs here")
        .help("split the expression or block: move parts into locals, functions or transitions");
    return nullptr;
  };

  // Stage 1: SLL, bail at the first error. Correct programs almost always finish here.
  //
  // `program` is `topItem* EOF`, and this pass parses it one top-level item at a time:
  // each item's AST is built as soon as the item is parsed, and its parse tree is then
  // released. The parse tree of a whole file is several times the size of its AST and
  // was most of the front end's peak memory; freeing millions of contexts at the end
  // also cost a good part of the parse in the allocator. SLL prediction never looks at
  // the calling rule, so parsing the items one by one decides exactly as `program`
  // would. The AST's own diagnostics are held back until the pass has succeeded: when
  // it fails, stage 2 parses the file again and builds the AST from its tree.
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  // The copy of the token list is released now, while the allocator holds few freed
  // small blocks: freeing a block this large later, among the parse tree's freed
  // contexts, made glibc consolidate them all. Stage 2 takes the list again.
  std::vector<antlr4::Token*>().swap(tokens);
  {
    const std::vector<uint32_t> no_parse_errors;
    DiagnosticSink built;
    ProgramBuilder builder(locator, no_parse_errors, built);
    bool parsed = true;
    try {
      while (lexed.tokens.LA(1) != antlr4::Token::EOF) {
        builder.add(parser.topItem());
        parser.getTreeTracker().reset();
      }
    } catch (const antlr4::ParseCancellationException&) {
      parsed = false;
    } catch (const NestingTooDeep& e) {
      return too_deep(e);
    }
    if (parsed) {
      std::unique_ptr<ast::Program> program = builder.finish();
      for (const Diagnostic& d : built.diagnostics()) sink.report(d);
      if (sink.error_count() > errors_before) return nullptr;
      return program;
    }
  }

  // Stage 2: full LL with recovery, reporting every independent error. A misspelled
  // keyword restarts the parse with the token repaired; each token is repaired at most
  // once, so this ends.
  SyntaxErrorListener listener(locator, lexed.tokens);
  VedParser::ProgramContext* tree = nullptr;
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
  parser.setErrorHandler(std::make_shared<DelimiterAwareErrorStrategy>(match_delimiters(lexed.tokens.getTokens())));
  parser.addErrorListener(&listener);
  while (!tree) {
    lexed.tokens.seek(0);
    parser.reset();
    listener.restart();
    try {
      tree = parser.program();
    } catch (const KeywordRepair& repair) {
      if (auto* token = dynamic_cast<antlr4::WritableToken*>(lexed.tokens.get(repair.token_index))) {
        token->setType(repair.new_type);
      }
    } catch (const NestingTooDeep& e) {
      listener.flush(sink);
      return too_deep(e);
    }
  }
  listener.flush(sink);

  std::unique_ptr<ast::Program> program = build_ast(tree, locator, listener.error_offsets(), sink);
  if (sink.error_count() > errors_before) return nullptr;
  return program;
}

}  // namespace ved
