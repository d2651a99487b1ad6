// The parse-tree nodes of the Ved parser, written by hand around the generated ones.
//
// VedRuleContext is the base class of every context the generated VedParser creates
// (Ved.g4: `options { contextSuperClass = VedRuleContext; }`). It adds three things to
// ANTLR's ParserRuleContext:
//
// * Its depth in the tree, counted from the root: how many rule functions are active
//   when it is entered, which is what the front end bounds to keep a hostile input
//   from overflowing the stack (frontend/guarded_parser.h). Knowing it here costs an
//   add in the constructor; a parse listener that counted entries and exits cost a
//   failed dynamic_cast per rule.
// * Child lookup without dynamic_cast. The generated accessors (`ctx->expr(1)`,
//   `ctx->IDENT()`) call getRuleContext / getToken, which these hide or override:
//   ANTLR's versions test every child with dynamic_cast, a sixth of the parse.
// * Its own allocator. A parse creates several contexts and a terminal node per token
//   and frees them a top-level item at a time; through malloc that churn was a quarter
//   of the parse. Freed nodes are kept on per-size free lists (per thread) and reused.
//
// VedTerminalNode is ANTLR's TerminalNodeImpl with that allocator
// (VedParserBase::consume makes them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <typeinfo>
#include <vector>

#include "antlr4-runtime.h"

namespace ved::grammar {

// The free-list allocator of parse-tree nodes (ved_parse_tree.cpp).
void* allocate_parse_node(size_t size);
void free_parse_node(void* block, size_t size) noexcept;

class VedRuleContext : public antlr4::ParserRuleContext {
 public:
  // Labelled-alternative contexts are default-constructed, then copyFrom() their rule's.
  VedRuleContext() = default;
  VedRuleContext(antlr4::ParserRuleContext* parent, size_t invoking_state);

  // Hides ParserRuleContext::copyFrom for the generated labelled alternatives (they
  // call VedRuleContext::copyFrom), so that the depth travels with the rest.
  void copyFrom(VedRuleContext* ctx);

  // 1 for the root context, its parent's depth + 1 for every other.
  uint32_t depth() const { return depth_; }

  // The i-th child that is a T (a rule's context class), as ParserRuleContext's do.
  template <class T>
  T* getRuleContext(size_t i) {
    for (antlr4::tree::ParseTree* child : children) {
      if (!is_token_node(child) && rule_of(child) == rule_index_of<T>() && i-- == 0) return static_cast<T*>(child);
    }
    return nullptr;
  }
  template <class T>
  std::vector<T*> getRuleContexts() {
    std::vector<T*> out;
    for (antlr4::tree::ParseTree* child : children) {
      if (!is_token_node(child) && rule_of(child) == rule_index_of<T>()) out.push_back(static_cast<T*>(child));
    }
    return out;
  }
  antlr4::tree::TerminalNode* getToken(size_t type, size_t i) override;
  std::vector<antlr4::tree::TerminalNode*> getTokens(size_t type) override;

  // Whether a child is a token (VedTerminalNode, TerminalNodeImpl or ErrorNodeImpl,
  // the only parse trees that are not contexts) rather than a context. That depends
  // only on its dynamic type; type_info's == compares names when addresses differ, a
  // string comparison per context child, so the answer is kept per type_info address
  // (TokenTypes in ved_parse_tree.cpp) and == runs once per type.
  static bool is_token_node(const antlr4::tree::ParseTree* node);

  static void* operator new(size_t size) { return allocate_parse_node(size); }
  static void operator delete(void* block, size_t size) noexcept { free_parse_node(block, size); }

 private:
  static size_t rule_of(antlr4::tree::ParseTree* context) {
    return static_cast<antlr4::ParserRuleContext*>(context)->getRuleIndex();
  }
  // The rule a context class stands for. Labelled alternatives are subclasses that
  // report their rule's index, so comparing indices finds them as dynamic_cast did.
  template <class T>
  static size_t rule_index_of() {
    static const size_t index = T(nullptr, 0).getRuleIndex();
    return index;
  }

  uint32_t depth_ = 1;
};

class VedTerminalNode final : public antlr4::tree::TerminalNodeImpl {
 public:
  explicit VedTerminalNode(antlr4::Token* symbol) : antlr4::tree::TerminalNodeImpl(symbol) {}

  static void* operator new(size_t size) { return allocate_parse_node(size); }
  static void operator delete(void* block, size_t size) noexcept { free_parse_node(block, size); }
};

}  // namespace ved::grammar
