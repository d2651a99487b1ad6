#include "frontend/guarded_parser.h"

#include "frontend/cached_prediction_simulator.h"

namespace ved::parse_detail {

GuardedParser::GuardedParser(antlr4::TokenStream* input) : grammar::VedParser(input) {
  auto* generated = getInterpreter<antlr4::atn::ParserATNSimulator>();
  _interpreter =
      new CachedPredictionSimulator(this, getATN(), generated->decisionToDFA, generated->getSharedContextCache());
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

antlr4::Token* GuardedParser::consume() {
  if (!_buildParseTrees || !_parseListeners.empty() || _errHandler->inErrorRecoveryMode(this)) {
    return grammar::VedParser::consume();
  }
  antlr4::Token* token = getCurrentToken();
  if (token->getType() != antlr4::Token::EOF) _input->consume();
  _ctx->addChild(_tracker.createInstance<grammar::VedTerminalNode>(token));
  return token;
}

void GuardedParser::addContextToParseTree() {
  if (_ctx->parent) static_cast<antlr4::ParserRuleContext*>(_ctx->parent)->addChild(_ctx);
}

void GuardedParser::check_depth(antlr4::ParserRuleContext* ctx) {
  if (static_cast<grammar::VedRuleContext*>(ctx)->depth() > kMaxRuleDepth) {
    throw NestingTooDeep{ctx->getStart()->getTokenIndex()};
  }
}

}  // namespace ved::parse_detail
