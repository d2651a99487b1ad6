#include "frontend/cached_prediction_simulator.h"

namespace ved::parse_detail {

size_t CachedPredictionSimulator::adaptivePredict(antlr4::TokenStream* input, size_t decision,
                                                  antlr4::ParserRuleContext* outer) {
  size_t alt = predict_from_dfa(input, decision);
  if (alt != INVALID_INDEX) return alt;
  return antlr4::atn::ParserATNSimulator::adaptivePredict(input, decision, outer);
}

// execATN's loop over DFA states, restricted to the case that needs no ATN: each step
// follows an edge that exists, and the walk ends at an accept state without
// predicates, whose prediction execATN returns as it is.
size_t CachedPredictionSimulator::predict_from_dfa(antlr4::TokenStream* input, size_t decision) {
  antlr4::dfa::DFA& dfa = decisionToDFA[decision];
  antlr4::dfa::DFAState* state =
      dfa.isPrecedenceDfa() ? dfa.getPrecedenceStartState(parser->getPrecedence()) : dfa.s0;
  bool full_context_matters = getPredictionMode() != antlr4::atn::PredictionMode::SLL;
  for (ssize_t k = 1; state; ++k) {
    size_t t = input->LA(k);
    state = getExistingTargetState(state, t);
    if (!state || state == ERROR.get()) break;
    if (state->requiresFullContext && full_context_matters) break;
    if (state->isAcceptState) return state->predicates.empty() ? state->prediction : INVALID_INDEX;
    // execATN stays on EOF; so does LA, but a walk that reaches it without an answer is
    // left to execATN rather than followed round a loop.
    if (t == antlr4::Token::EOF) break;
  }
  return INVALID_INDEX;
}

}  // namespace ved::parse_detail
