// ANTLR's parser simulator with a fast path for predictions its DFA already knows.
//
// Every decision ANTLR cannot make from one token calls adaptivePredict. Once the
// decision's DFA holds the path for the tokens ahead (nearly always, after the first
// items of a file: the DFA is shared by every parse in the process), the answer is a
// walk along existing edges; but adaptivePredict pays around that walk for a heap-
// allocated std::function, a mark/seek/release of the token stream and a consume per
// token, which made predictions a fifth of the parse. This subclass walks the cached
// edges first, looking ahead with LA(k) without moving the stream, and returns what
// execATN would return from the same states; anything else (a missing edge, an error
// state, a state that needs full context or predicates) goes to ParserATNSimulator
// unchanged, which starts over from the same position.
#pragma once

#include "antlr4-runtime.h"

namespace ved::parse_detail {

class CachedPredictionSimulator : public antlr4::atn::ParserATNSimulator {
 public:
  using antlr4::atn::ParserATNSimulator::ParserATNSimulator;

  size_t adaptivePredict(antlr4::TokenStream* input, size_t decision, antlr4::ParserRuleContext* outer) override;

 private:
  // The alternative the DFA predicts from existing edges, or INVALID_INDEX.
  size_t predict_from_dfa(antlr4::TokenStream* input, size_t decision);
};

}  // namespace ved::parse_detail
