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
//
// The edges it follows are also remembered in a table of its own (EdgeMemo): ANTLR's
// getExistingTargetState takes a lock and a std::unordered_map lookup per step.
#pragma once

#include <cstdint>
#include <vector>

#include "antlr4-runtime.h"

namespace ved::grammar {

// Edges of the DFA already followed, by (state, token type). DFA states live as long as
// the process's DFA (the front end never clears it) and an edge does not change once
// added, so an edge read once holds for the rest of the parse. Open addressing, kept
// at most half full.
class EdgeMemo {
 public:
  antlr4::dfa::DFAState* find(const antlr4::dfa::DFAState* from, size_t type) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = slot_of(from, type);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& slot = slots_[i];
      if (!slot.from) return nullptr;
      if (slot.from == from && slot.type == type) return slot.to;
    }
  }
  void insert(const antlr4::dfa::DFAState* from, size_t type, antlr4::dfa::DFAState* to);

 private:
  struct Slot {
    const antlr4::dfa::DFAState* from = nullptr;
    size_t type = 0;
    antlr4::dfa::DFAState* to = nullptr;
  };
  size_t slot_of(const antlr4::dfa::DFAState* from, size_t type) const {
    uint64_t key = (reinterpret_cast<uintptr_t>(from) >> 4) * 0x9E3779B97F4A7C15ull ^ (type + 1) * 0xC2B2AE3D27D4EB4Full;
    return static_cast<size_t>(key >> 32) & (slots_.size() - 1);
  }

  std::vector<Slot> slots_;
  size_t used_ = 0;
};

class CachedPredictionSimulator : public antlr4::atn::ParserATNSimulator {
 public:
  using antlr4::atn::ParserATNSimulator::ParserATNSimulator;

  size_t adaptivePredict(antlr4::TokenStream* input, size_t decision, antlr4::ParserRuleContext* outer) override;

 private:
  // The alternative the DFA predicts from existing edges, or INVALID_INDEX.
  size_t predict_from_dfa(antlr4::TokenStream* input, size_t decision);
  // The edge from `from` on `type`, from the memo or else from ANTLR (and remembered).
  antlr4::dfa::DFAState* edge(antlr4::dfa::DFAState* from, size_t type);

  EdgeMemo edges_;
};

}  // namespace ved::grammar
