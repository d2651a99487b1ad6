#include "cached_prediction_simulator.h"

namespace ved::grammar {

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
    state = edge(state, t);
    if (!state || state == ERROR.get()) break;
    if (state->requiresFullContext && full_context_matters) break;
    if (state->isAcceptState) return state->predicates.empty() ? state->prediction : INVALID_INDEX;
    // execATN stays on EOF; so does LA, but a walk that reaches it without an answer is
    // left to execATN rather than followed round a loop.
    if (t == antlr4::Token::EOF) break;
  }
  return INVALID_INDEX;
}

antlr4::dfa::DFAState* CachedPredictionSimulator::edge(antlr4::dfa::DFAState* from, size_t type) {
  if (antlr4::dfa::DFAState* to = edges_.find(from, type)) return to;
  antlr4::dfa::DFAState* to = getExistingTargetState(from, type);
  if (to) edges_.insert(from, type, to);  // a missing edge may be added later: not kept
  return to;
}

void EdgeMemo::insert(const antlr4::dfa::DFAState* from, size_t type, antlr4::dfa::DFAState* to) {
  if ((used_ + 1) * 2 > slots_.size()) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
    used_ = 0;
    for (const Slot& slot : old) {
      if (slot.from) insert(slot.from, slot.type, slot.to);
    }
  }
  size_t i = slot_of(from, type);
  while (slots_[i].from) i = (i + 1) & (slots_.size() - 1);
  slots_[i] = Slot{from, type, to};
  ++used_;
}

}  // namespace ved::grammar
