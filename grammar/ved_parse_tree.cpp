#include "ved_parse_tree.h"

#include <cstdint>
#include <new>
#include <typeinfo>

namespace ved::grammar {

namespace {

// Free lists of node-sized blocks, one per 16-byte size class, for the calling
// thread. A block on a list holds the next block's address in its first word.
//
// How much is kept is bounded, so that the contexts of one large parse (a file with a
// syntax error is parsed whole, not item by item) are not held for the rest of the
// process: past kMaxKeptBytes, freed blocks go back to the heap. Blocks may be freed on
// another thread than the one that took them: they are plain heap blocks either way.
class NodeFreeLists {
 public:
  static constexpr size_t kGranule = 16;
  static constexpr size_t kMaxPooledSize = 512;
  static constexpr size_t kMaxKeptBytes = size_t{8} << 20;

  ~NodeFreeLists() {
    for (void*& head : heads_) {
      while (head) {
        void* next = *static_cast<void**>(head);
        ::operator delete(head);
        head = next;
      }
    }
  }

  static size_t rounded(size_t size) { return (size + kGranule - 1) / kGranule * kGranule; }

  void* take(size_t size) {
    size_t cls = rounded(size) / kGranule;
    void* block = heads_[cls];
    if (!block) return ::operator new(rounded(size));
    void* next = *static_cast<void**>(block);
    heads_[cls] = next;
    // The blocks on a list are cold (freed at the end of the previous item); fetching
    // the next one now overlaps its cache miss with the work until the next allocation.
    __builtin_prefetch(next);
    kept_bytes_ -= rounded(size);
    return block;
  }

  void give(void* block, size_t size) {
    if (kept_bytes_ + rounded(size) > kMaxKeptBytes) {
      ::operator delete(block);
      return;
    }
    size_t cls = rounded(size) / kGranule;
    *static_cast<void**>(block) = heads_[cls];
    heads_[cls] = block;
    kept_bytes_ += rounded(size);
  }

 private:
  void* heads_[kMaxPooledSize / kGranule + 1] = {};
  size_t kept_bytes_ = 0;
};

// Whether a dynamic type is a token node, by the address of its type_info: a small
// direct-mapped table, filled on a miss with type_info's own comparison. A parse sees a
// few dozen types.
class TokenTypes {
 public:
  bool is_token(const std::type_info& type) {
    Entry& entry = entries_[(reinterpret_cast<uintptr_t>(&type) >> 4) % kEntries];
    if (entry.type != &type) {
      entry.type = &type;
      entry.is_token = type == typeid(VedTerminalNode) || type == typeid(antlr4::tree::TerminalNodeImpl) ||
                       type == typeid(antlr4::tree::ErrorNodeImpl);
    }
    return entry.is_token;
  }

 private:
  static constexpr size_t kEntries = 256;
  struct Entry {
    const std::type_info* type = nullptr;
    bool is_token = false;
  };
  Entry entries_[kEntries];
};

NodeFreeLists& free_lists() {
  thread_local NodeFreeLists lists;
  return lists;
}

}  // namespace

bool VedRuleContext::is_token_node(const antlr4::tree::ParseTree* node) {
  thread_local TokenTypes types;
  return types.is_token(typeid(*node));
}

VedRuleContext::VedRuleContext(antlr4::ParserRuleContext* parent, size_t invoking_state)
    : antlr4::ParserRuleContext(parent, invoking_state),
      // Every context the generated parser creates is a VedRuleContext, and so is
      // every parent it passes.
      depth_(parent ? static_cast<VedRuleContext*>(parent)->depth_ + 1 : 1) {}

void VedRuleContext::copyFrom(VedRuleContext* ctx) {
  antlr4::ParserRuleContext::copyFrom(ctx);
  depth_ = ctx->depth_;
}

antlr4::tree::TerminalNode* VedRuleContext::getToken(size_t type, size_t i) {
  for (antlr4::tree::ParseTree* child : children) {
    if (!is_token_node(child)) continue;
    // TerminalNode is a virtual base of both node classes, and ParseTree a plain base
    // of TerminalNode, so this cast needs no run-time help.
    auto* node = static_cast<antlr4::tree::TerminalNode*>(child);
    if (node->getSymbol()->getType() == type && i-- == 0) return node;
  }
  return nullptr;
}

std::vector<antlr4::tree::TerminalNode*> VedRuleContext::getTokens(size_t type) {
  std::vector<antlr4::tree::TerminalNode*> out;
  for (antlr4::tree::ParseTree* child : children) {
    if (!is_token_node(child)) continue;
    auto* node = static_cast<antlr4::tree::TerminalNode*>(child);
    if (node->getSymbol()->getType() == type) out.push_back(node);
  }
  return out;
}

void* allocate_parse_node(size_t size) {
  if (size > NodeFreeLists::kMaxPooledSize) return ::operator new(size);
  return free_lists().take(size);
}

void free_parse_node(void* block, size_t size) noexcept {
  if (!block) return;
  if (size > NodeFreeLists::kMaxPooledSize) {
    ::operator delete(block);
    return;
  }
  free_lists().give(block, size);
}

}  // namespace ved::grammar
