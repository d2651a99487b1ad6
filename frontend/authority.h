// The authority lattice (language.md §6): scope instances as a tree under Root, and the
// questions the checker asks of it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "frontend/diagnostic.h"

namespace ved {

// Levels from highest to lowest; Root sits above all of them.
enum class AuthorityLevel { Root = 0, Tenant = 1, Environment = 2, Workspace = 3, Target = 4, Namespace = 5 };

std::optional<AuthorityLevel> parse_authority_level(const std::string& word);
const char* authority_level_name(AuthorityLevel level);

using ScopeId = size_t;
constexpr ScopeId kRootScope = 0;

struct ScopeNodeInfo {
  AuthorityLevel level;
  std::optional<std::string> name;  // none for Root and for a bare level's anonymous node
  ScopeId parent;
  Span span;
};

class AuthorityTree {
 public:
  AuthorityTree();

  // Adds the program's `authority { }` trees, reporting malformed ones.
  void declare(const ast::AuthorityDecl& decl, DiagnosticSink& sink);

  // Resolves `Level("name")`, a bare level, or the Root spellings (`root`, `domain`,
  // `Root`). Reports V-ERR-006 for unknown levels and unresolved or ambiguous names.
  std::optional<ScopeId> resolve(const ast::ScopeRef& ref, DiagnosticSink& sink);

  const ScopeNodeInfo& node(ScopeId id) const { return nodes_.at(id); }
  // `Workspace("payments")`, `Namespace`, `Root`.
  std::string describe(ScopeId id) const;
  // Root 0, Tenant 1, ..., Namespace 5 (runtime ordering uses it).
  int depth_rank(ScopeId id) const { return static_cast<int>(nodes_.at(id).level); }

  // a == b or a is an ancestor of b.
  bool is_ancestor_or_self(ScopeId a, ScopeId b) const;
  ScopeId nearest_common_ancestor(ScopeId a, ScopeId b) const;

 private:
  ScopeId add(AuthorityLevel level, std::optional<std::string> name, ScopeId parent, Span span);
  void declare_node(const ast::ScopeNode& n, ScopeId parent, DiagnosticSink& sink);

  std::vector<ScopeNodeInfo> nodes_;
};

}  // namespace ved
