#include "ved_parser_base.h"

#include "ved_parse_tree.h"

namespace ved::grammar {

namespace {

antlr4::ParserRuleContext* parent_of(antlr4::ParserRuleContext* ctx) {
  return static_cast<antlr4::ParserRuleContext*>(ctx->parent);
}

}  // namespace

void VedParserBase::exitRule() {
  // At EOF nothing is consumed past it, so the rule stops at LT(1), the EOF token.
  _ctx->stop = _matchedEOF ? _input->LT(1) : _input->LT(-1);
  if (!_parseListeners.empty()) triggerExitRuleEvent();
  setState(_ctx->invokingState);
  _ctx = parent_of(_ctx);
}

void VedParserBase::enterOuterAlt(antlr4::ParserRuleContext* localctx, size_t alt) {
  localctx->setAltNumber(alt);
  // A labelled alternative's context replaces its rule's as the parent's last child.
  if (_buildParseTrees && _ctx != localctx && _ctx->parent) {
    antlr4::ParserRuleContext* parent = parent_of(_ctx);
    parent->removeLastChild();
    parent->addChild(localctx);
  }
  _ctx = localctx;
}

antlr4::Token* VedParserBase::consume() {
  if (!_buildParseTrees || !_parseListeners.empty() || _errHandler->inErrorRecoveryMode(this)) {
    return antlr4::Parser::consume();
  }
  antlr4::Token* token = getCurrentToken();
  if (token->getType() != antlr4::Token::EOF) _input->consume();
  _ctx->addChild(_tracker.createInstance<VedTerminalNode>(token));
  return token;
}

void VedParserBase::addContextToParseTree() {
  if (_ctx->parent) parent_of(_ctx)->addChild(_ctx);
}

}  // namespace ved::grammar
