// The Ved parser as the front end runs it: the generated VedParser with a bound on how
// deeply rules nest, predicting with grammar/cached_prediction_simulator.h.
#pragma once

#include "VedParser.h"
#include "antlr4-runtime.h"

namespace ved::parse_detail {

// Thrown when the parser nests deeper than GuardedParser allows.
struct NestingTooDeep {
  size_t token_index;
};

// The parser, the AST builder, the checker and the dumper all recurse over nesting, so
// without a bound a hostile file (thousands of `(`, `-` or `{`) overflows the stack. A
// rule's depth is that of its context in the tree (VedRuleContext::depth), which is the
// number of rule functions active when it is entered: about two per parenthesis, three
// per nested block and one per prefix operator; the limit leaves every human-written
// program far below it. (Binary and postfix chains do not deepen the parser's
// recursion; ast_builder.cpp bounds how deep they make the tree.)
class GuardedParser : public grammar::VedParser {
 public:
  static constexpr size_t kMaxRuleDepth = 1000;
  // How deep an expression tree may be (AstBuilder bounds operator chains with it): the
  // checker recurses about once per level, with frames that a sanitizer build makes large
  // enough that 1,000 levels overflowed the 8 MiB main stack (a fuzz finding).
  static constexpr size_t kMaxExpressionDepth = 500;

  // Predicts with CachedPredictionSimulator instead of the generated parser's
  // simulator, sharing its DFA and context cache.
  explicit GuardedParser(antlr4::TokenStream* input);

  using grammar::VedParser::enterRecursionRule;
  void enterRule(antlr4::ParserRuleContext* ctx, size_t state, size_t rule) override;
  void enterRecursionRule(antlr4::ParserRuleContext* ctx, size_t state, size_t rule, int precedence) override;

 private:
  // After the base class's entry, so that the context's first token is known.
  static void check_depth(antlr4::ParserRuleContext* ctx);
};

}  // namespace ved::parse_detail
