// From ANTLR's syntax errors to diagnostics a person can act on.
//
// ANTLR reports "no viable alternative at input 'x'" or "mismatched input 'x' expecting
// {...}". Each error here is classified by looking at the tokens around it and at
// what the parser expected, most specific first:
//   1. a binary operator with nothing after it                    -> V-SYN-006
//   2. a misspelled keyword at the start of an item (`domian`)     -> V-SYN-007
//   3. annotations followed by no declaration                      -> V-SYN-021
//   4. a reserved word where a name was expected (`let test = 1`)   -> V-SYN-015
//   5. anything else: what was expected, what was found            -> V-SYN-002
// A misspelled keyword is also repaired (see KeywordRepair) so the parse can go on as if
// it had been spelled right. Follow-on errors of one mistake are dropped: an error on
// the same line as the last one, or before the parser has moved two tokens past it, is
// not reported. Lexical errors never reach the parser (parser.cpp stops before it).
#include <algorithm>
#include <set>

#include "frontend/keywords.h"
#include "frontend/parser_internal.h"

namespace ved::parse_detail {

namespace {

bool is_binary_operator(size_t type) {
  switch (type) {
    case VedLexer::PLUS: case VedLexer::MINUS: case VedLexer::STAR: case VedLexer::SLASH:
    case VedLexer::PERCENT: case VedLexer::LT: case VedLexer::LE: case VedLexer::GT:
    case VedLexer::GE: case VedLexer::EQ: case VedLexer::NE: case VedLexer::ANDAND:
    case VedLexer::OROR: case VedLexer::AND: case VedLexer::OR: case VedLexer::COALESCE:
      return true;
    default:
      return false;
  }
}

// Tokens that can begin an expression.
bool starts_expression(const antlr4::Token* t) {
  switch (t->getType()) {
    case VedLexer::INT: case VedLexer::FLOAT: case VedLexer::STRING: case VedLexer::TRUE:
    case VedLexer::FALSE: case VedLexer::NONE: case VedLexer::LBRACK: case VedLexer::LBRACE:
    case VedLexer::LPAREN: case VedLexer::MINUS: case VedLexer::BANG: case VedLexer::NOT:
    case VedLexer::IDENT:
      return true;
    default:
      return false;
  }
}

bool is_word_token(size_t type) {
  return type == VedLexer::IDENT || (type >= VedLexer::DOMAIN && type <= VedLexer::FROM);
}

bool is_reserved_token(size_t type) { return type >= VedLexer::DOMAIN && type <= VedLexer::NOT; }

// The literal spelling of a keyword token type, e.g. "domain"; empty otherwise.
std::string keyword_spelling(const antlr4::dfa::Vocabulary& vocabulary, size_t type) {
  if (!is_word_token(type) || type == VedLexer::IDENT) return "";
  std::string literal = vocabulary.getLiteralName(type);
  if (literal.size() >= 2 && literal.front() == '\'') return literal.substr(1, literal.size() - 2);
  return "";
}

// The construct the parser is inside, for "unexpected `x` in a goal".
std::string enclosing_construct(antlr4::ParserRuleContext* ctx) {
  for (; ctx; ctx = dynamic_cast<antlr4::ParserRuleContext*>(ctx->parent)) {
    switch (ctx->getRuleIndex()) {
      case VedParser::RuleGoalDecl: return "goal";
      case VedParser::RuleStateBlock: return "state block";
      case VedParser::RuleCapabilityBlock: return "capability block";
      case VedParser::RuleInvariantDecl: return "invariant";
      case VedParser::RuleTransitionDecl: return "transition";
      case VedParser::RuleFnDecl: return "function";
      case VedParser::RuleTypeDecl: return "record type";
      case VedParser::RuleEffectDecl: return "effect declaration";
      case VedParser::RuleObserveDecl: return "observation declaration";
      case VedParser::RuleAuthorityDecl: return "authority tree";
      case VedParser::RuleSystemDecl: return "system block";
      case VedParser::RuleEnvironmentDecl: return "environment";
      case VedParser::RuleDeployDecl: return "deploy declaration";
      case VedParser::RuleMigrationDecl: return "migration";
      case VedParser::RuleTestDecl: return "test";
      case VedParser::RuleDomainDecl: return "domain";
      default: break;
    }
  }
  return "";
}

std::string a_or_an(const std::string& construct) {
  if (construct.empty()) return "";
  bool vowel = std::string("aeiou").find(construct[0]) != std::string::npos;
  return std::string(vowel ? " in an " : " in a ") + construct;
}

}  // namespace

std::string describe_token_type(const antlr4::dfa::Vocabulary& vocabulary, size_t type) {
  if (type == antlr4::Token::EOF) return "end of file";
  switch (type) {
    case VedLexer::IDENT: return "a name";
    case VedLexer::INT: return "an integer";
    case VedLexer::FLOAT: return "a float";
    case VedLexer::STRING: return "a string";
    default: break;
  }
  std::string literal = vocabulary.getLiteralName(type);
  if (literal.size() >= 2 && literal.front() == '\'') return "`" + literal.substr(1, literal.size() - 2) + "`";
  return vocabulary.getSymbolicName(type);
}

std::string describe_token(const antlr4::Token* token) {
  if (!token || token->getType() == antlr4::Token::EOF) return "end of file";
  return "`" + token->getText() + "`";
}

namespace {

bool is_opening_delimiter(size_t type) {
  return type == VedLexer::LBRACE || type == VedLexer::LPAREN || type == VedLexer::LBRACK;
}
bool is_closing_delimiter(size_t type) {
  return type == VedLexer::RBRACE || type == VedLexer::RPAREN || type == VedLexer::RBRACK;
}

}  // namespace

bool DelimiterAwareErrorStrategy::singleTokenInsertion(antlr4::Parser* recognizer) {
  for (size_t type : recognizer->getExpectedTokens().toList()) {
    if (is_opening_delimiter(type) || is_closing_delimiter(type)) return false;
  }
  return DefaultErrorStrategy::singleTokenInsertion(recognizer);
}

antlr4::Token* DelimiterAwareErrorStrategy::singleTokenDeletion(antlr4::Parser* recognizer) {
  size_t type = recognizer->getInputStream()->LA(1);
  if (is_opening_delimiter(type) || is_closing_delimiter(type)) return nullptr;
  return DefaultErrorStrategy::singleTokenDeletion(recognizer);
}

void DelimiterAwareErrorStrategy::consumeUntil(antlr4::Parser* recognizer, const antlr4::misc::IntervalSet& set) {
  antlr4::Token* start = recognizer->getContext() ? recognizer->getContext()->getStart() : nullptr;
  const size_t rule_start = start ? start->getTokenIndex() : 0;
  int depth = 0;
  size_t type = recognizer->getInputStream()->LA(1);
  while (type != antlr4::Token::EOF) {
    if (depth == 0 && set.contains(type)) return;
    if (is_opening_delimiter(type)) {
      ++depth;
    } else if (is_closing_delimiter(type)) {
      if (depth == 0) {
        // A group opened before this rule began belongs to an enclosing rule: stop.
        size_t index = recognizer->getCurrentToken()->getTokenIndex();
        if (index < opener_of_.size() && opener_of_[index] < rule_start) return;
      } else {
        --depth;
      }
    }
    recognizer->consume();
    type = recognizer->getInputStream()->LA(1);
  }
}

antlr4::misc::IntervalSet DelimiterAwareErrorStrategy::getErrorRecoverySet(antlr4::Parser* recognizer) {
  // ANTLR's definition (the union of what follows each rule invocation on the stack),
  // except that the top level contributes only the tokens that begin a declaration.
  const antlr4::atn::ATN& atn = recognizer->getATN();
  antlr4::RuleContext* ctx = recognizer->getContext();
  const bool inside_declaration = ctx && ctx->depth() > 3;
  antlr4::misc::IntervalSet set;
  for (; ctx && ctx->invokingState != antlr4::atn::ATNState::INVALID_STATE_NUMBER;
       ctx = dynamic_cast<antlr4::RuleContext*>(ctx->parent)) {
    if (inside_declaration && ctx->getRuleIndex() == VedParser::RuleTopItem) {
      for (size_t type : {VedLexer::DOMAIN, VedLexer::FN, VedLexer::TYPE, VedLexer::EFFECT, VedLexer::OBSERVE,
                          VedLexer::AUTHORITY, VedLexer::SYSTEM, VedLexer::ENVIRONMENT, VedLexer::DEPLOY,
                          VedLexer::MIGRATION, VedLexer::TEST, VedLexer::IMPORT, VedLexer::AT}) {
        set.add(type);
      }
      set.add(antlr4::Token::EOF);
      continue;
    }
    antlr4::atn::ATNState* invoking = atn.states[ctx->invokingState];
    auto* transition = dynamic_cast<antlr4::atn::RuleTransition*>(invoking->transitions[0]);
    if (transition) set.addAll(atn.nextTokens(transition->followState));
  }
  set.remove(antlr4::Token::EPSILON);
  return set;
}

size_t keyword_token_type(const antlr4::dfa::Vocabulary& vocabulary, std::string_view spelling) {
  for (size_t type = VedLexer::DOMAIN; type <= VedLexer::FROM; ++type) {
    if (keyword_spelling(vocabulary, type) == spelling) return type;
  }
  return 0;
}

SyntaxErrorListener::SyntaxErrorListener(const TokenLocator& locator, antlr4::BufferedTokenStream& tokens)
    : locator_(locator), tokens_(tokens) {}

void SyntaxErrorListener::restart() {
  current_ = DiagnosticSink();
  error_offsets_.clear();
  last_error_line_ = -1;
  last_error_token_ = -1;
}

void SyntaxErrorListener::flush(DiagnosticSink& sink) {
  for (const auto& d : repairs_.diagnostics()) sink.report(d);
  for (const auto& d : current_.diagnostics()) sink.report(d);
}

void SyntaxErrorListener::report_misspelling(const antlr4::Token* word, std::string_view keyword, size_t keyword_type,
                                             const std::string& construct) {
  repairs_.error("V-SYN-007", locator_.span_of(word), "unknown word `" + word->getText() + "`" + a_or_an(construct))
      .label("not a keyword")
      .help("did you mean `" + std::string(keyword) + "`?");
  // Once per token: a repaired token that still fails is reported normally.
  repaired_tokens_.push_back(word->getTokenIndex());
  throw KeywordRepair{word->getTokenIndex(), keyword_type};
}

void SyntaxErrorListener::syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line,
                                      size_t column, const std::string& message, std::exception_ptr error) {
  auto* parser = dynamic_cast<VedParser*>(recognizer);
  if (!parser || !offending) return;

  const long index = static_cast<long>(offending->getTokenIndex());
  const long err_line = static_cast<long>(line);
  if (err_line == last_error_line_ || (last_error_token_ >= 0 && index <= last_error_token_ + 2)) return;

  const antlr4::Token* previous = index > 0 ? tokens_.get(static_cast<size_t>(index - 1)) : nullptr;
  const Span here = locator_.span_of(offending);
  const auto& vocabulary = parser->getVocabulary();
  const std::string construct = enclosing_construct(parser->getContext());
  auto repairable = [&](const antlr4::Token* t) {
    return std::find(repaired_tokens_.begin(), repaired_tokens_.end(), t->getTokenIndex()) == repaired_tokens_.end();
  };

  auto remember = [&]() {
    error_offsets_.push_back(here.begin);
    last_error_token_ = index;
    last_error_line_ = err_line;
  };

  // 1. An operator with a missing right operand.
  if (previous && is_binary_operator(previous->getType()) && !starts_expression(offending) &&
      (!is_word_token(offending->getType()) || is_reserved_token(offending->getType()))) {
    auto d = current_.error("V-SYN-006", locator_.span_of(previous),
                            "operator `" + previous->getText() + "` has no right operand");
    d.label("expected an expression after this operator");
    if (is_word_token(offending->getType())) d.secondary(here, "`" + offending->getText() + "` starts something else");
    d.help("complete the expression, or remove the operator");
    return remember();
  }

  antlr4::misc::IntervalSet expected;
  try {
    expected = parser->getExpectedTokens();
  } catch (...) {
    // The ATN can fail to compute the set in a broken state; fall back to nothing.
  }

  // 2a. A misspelled keyword where keywords were expected: `predcate x == 1`.
  if (offending->getType() == VedLexer::IDENT && repairable(offending)) {
    std::vector<std::string> spellings;
    for (size_t type : expected.toList()) {
      std::string kw = keyword_spelling(vocabulary, type);
      if (!kw.empty()) spellings.push_back(kw);
    }
    std::vector<std::string_view> candidates(spellings.begin(), spellings.end());
    if (auto guess = nearest_word(offending->getText(), candidates)) {
      return report_misspelling(offending, *guess, keyword_token_type(vocabulary, *guess), construct);
    }
  }

  // 2b. A misspelled keyword that the parser took for a name, failing one token later.
  // The word must begin its line or follow `{`, `}` or `;`, which is where items begin.
  if (previous && previous->getType() == VedLexer::IDENT && repairable(previous)) {
    const antlr4::Token* before = index > 1 ? tokens_.get(static_cast<size_t>(index - 2)) : nullptr;
    bool starts_item = !before || before->getLine() != previous->getLine() || before->getType() == VedLexer::LBRACE ||
                       before->getType() == VedLexer::RBRACE || before->getType() == VedLexer::SEMI;
    if (starts_item) {
      if (auto guess = nearest_word(previous->getText(), item_keywords())) {
        return report_misspelling(previous, *guess, keyword_token_type(vocabulary, *guess), construct);
      }
    }
  }

  // 3. Annotations followed by nothing they can apply to.
  for (auto* ctx = parser->getContext(); ctx; ctx = dynamic_cast<antlr4::ParserRuleContext*>(ctx->parent)) {
    auto* annotated = dynamic_cast<VedParser::AnnotatedDeclContext*>(ctx);
    if (annotated && !annotated->annotation().empty() && !annotated->declaration()) {
      current_.error("V-SYN-021", locator_.span_of(annotated->annotation(0)), "annotation without a declaration")
          .label("nothing this annotation can apply to follows it")
          .secondary(here, "found " + describe_token(offending) + " instead")
          .help("put the annotation directly before the `domain` or `transition` it applies to");
      return remember();
    }
  }

  // 4. A reserved word where a name was expected.
  if (is_reserved_token(offending->getType()) && expected.contains(static_cast<size_t>(VedLexer::IDENT))) {
    current_.error("V-SYN-015", here, "`" + offending->getText() + "` is a reserved word and cannot be used as a name")
        .label("reserved word")
        .help("choose another name, e.g. `" + offending->getText() + "_value`");
    return remember();
  }

  // 5. Generic: say what was found and what would have fit.
  std::vector<std::string> wanted;
  for (size_t type : expected.toList()) {
    if (type == antlr4::Token::EPSILON) continue;
    std::string d = describe_token_type(vocabulary, type);
    if (std::find(wanted.begin(), wanted.end(), d) == wanted.end()) wanted.push_back(d);
  }
  std::string found = describe_token(offending);
  auto diag = current_.error("V-SYN-002", here, "unexpected " + found + a_or_an(construct));
  if (!wanted.empty() && wanted.size() <= 6) {
    std::string list;
    for (size_t i = 0; i < wanted.size(); ++i) {
      if (i) list += i + 1 == wanted.size() ? " or " : ", ";
      list += wanted[i];
    }
    diag.label("expected " + list);
  } else {
    diag.label("unexpected here");
  }
  if (offending->getType() == antlr4::Token::EOF) {
    diag.help("the file ends in the middle of a construct; complete it");
  } else if (construct == "state block") {
    diag.help("state fields are written `name: Type` or `name: Type = default`");
  } else if (construct == "goal") {
    diag.help("goal items are `predicate:`, `priority:`, `strategy:`, `terminate_after:` and `backoff:`");
  } else if (construct.empty()) {
    diag.help("at the top level a file holds declarations: `domain`, `fn`, `type`, `effect`, `system`, ...");
  } else {
    diag.help("remove or complete the code before " + found);
  }
  remember();
}

}  // namespace ved::parse_detail
