// The base class of the generated VedParser (Ved.g4: `options { superClass =
// VedParserBase; }`): ANTLR's Parser with the run-time type tests of rule entry, rule
// exit and token consumption taken out.
//
// Parser walks from a context to its parent with dynamic_cast, and the generated code
// reaches its simulator through getInterpreter's dynamic_cast; in this parser every
// context is a VedRuleContext and the simulator a ParserATNSimulator, so a static_cast
// gives the same pointer. (Later ANTLR runtimes made the same change.) Each function
// below is the runtime's own, 4.9, with that one difference unless its comment says
// otherwise; together the casts were a sixth of the parse.
#pragma once

#include "antlr4-runtime.h"

namespace ved::grammar {

class VedParserBase : public antlr4::Parser {
 public:
  explicit VedParserBase(antlr4::TokenStream* input) : antlr4::Parser(input) {}

  // Hides Recognizer::getInterpreter.
  template <class T>
  T* getInterpreter() const {
    return static_cast<T*>(_interpreter);
  }

  // Hides Parser::exitRule, which is not virtual; the generated rule functions call it
  // by its unqualified name.
  void exitRule();
  void enterOuterAlt(antlr4::ParserRuleContext* localctx, size_t alt) override;

  // Also makes the token's node a VedTerminalNode (pooled) rather than a
  // TerminalNodeImpl (one malloc and free per token). Error recovery and parse
  // listeners take Parser's own path.
  antlr4::Token* consume() override;

 protected:
  void addContextToParseTree() override;
};

}  // namespace ved::grammar
