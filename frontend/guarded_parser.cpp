#include "frontend/guarded_parser.h"

#include "cached_prediction_simulator.h"

namespace ved::parse_detail {

GuardedParser::GuardedParser(antlr4::TokenStream* input) : grammar::VedParser(input) {
  auto* generated = getInterpreter<antlr4::atn::ParserATNSimulator>();
  _interpreter =
      new grammar::CachedPredictionSimulator(this, getATN(), generated->decisionToDFA, generated->getSharedContextCache());
  delete generated;
}

void GuardedParser::enterRule(antlr4::ParserRuleContext* ctx, size_t state, size_t rule) {
  grammar::VedParser::enterRule(ctx, state, rule);
  check_depth(ctx);
}

void GuardedParser::enterRecursionRule(antlr4::ParserRuleContext* ctx, size_t state, size_t rule, int precedence) {
  grammar::VedParser::enterRecursionRule(ctx, state, rule, precedence);
  check_depth(ctx);
}

void GuardedParser::check_depth(antlr4::ParserRuleContext* ctx) {
  if (static_cast<grammar::VedRuleContext*>(ctx)->depth() > kMaxRuleDepth) {
    throw NestingTooDeep{ctx->getStart()->getTokenIndex()};
  }
}

}  // namespace ved::parse_detail
