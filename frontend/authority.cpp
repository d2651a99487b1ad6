#include "frontend/authority.h"

namespace ved {

std::optional<AuthorityLevel> parse_authority_level(const std::string& w) {
  if (w == "Tenant") return AuthorityLevel::Tenant;
  if (w == "Environment") return AuthorityLevel::Environment;
  if (w == "Workspace") return AuthorityLevel::Workspace;
  if (w == "Target") return AuthorityLevel::Target;
  if (w == "Namespace") return AuthorityLevel::Namespace;
  if (w == "Root" || w == "root" || w == "domain") return AuthorityLevel::Root;
  return std::nullopt;
}

const char* authority_level_name(AuthorityLevel level) {
  switch (level) {
    case AuthorityLevel::Root: return "Root";
    case AuthorityLevel::Tenant: return "Tenant";
    case AuthorityLevel::Environment: return "Environment";
    case AuthorityLevel::Workspace: return "Workspace";
    case AuthorityLevel::Target: return "Target";
    case AuthorityLevel::Namespace: return "Namespace";
  }
  return "?";
}

AuthorityTree::AuthorityTree() { nodes_.push_back(ScopeNodeInfo{AuthorityLevel::Root, std::nullopt, kRootScope, {}}); }

ScopeId AuthorityTree::add(AuthorityLevel level, std::optional<std::string> name, ScopeId parent, Span span) {
  nodes_.push_back(ScopeNodeInfo{level, std::move(name), parent, span});
  return nodes_.size() - 1;
}

void AuthorityTree::declare(const ast::AuthorityDecl& decl, DiagnosticSink& sink) {
  for (const auto& root : decl.roots) declare_node(root, kRootScope, sink);
}

void AuthorityTree::declare_node(const ast::ScopeNode& n, ScopeId parent, DiagnosticSink& sink) {
  auto level = parse_authority_level(n.level.name);
  if (!level || *level == AuthorityLevel::Root) {
    sink.error("V-ERR-006", n.level.span, "`" + n.level.name + "` is not an authority level")
        .label("unknown level")
        .help("the levels are Tenant, Environment, Workspace, Target and Namespace");
    return;
  }
  if (!n.name) {
    sink.error("V-ERR-015", n.span, "scope `" + n.level.name + "` in the authority tree has no name")
        .label("expected `" + n.level.name + "(\"name\")`")
        .help("name every scope instance declared in an `authority` tree");
    return;
  }
  if (static_cast<int>(*level) <= static_cast<int>(nodes_[parent].level)) {
    sink.error("V-ERR-015", n.span,
               "`" + n.level.name + "` cannot be inside " + describe(parent))
        .label("not below its parent's level")
        .help("a child scope must be at a strictly lower level: Tenant > Environment > Workspace > Target > "
              "Namespace");
    return;
  }
  for (size_t i = 1; i < nodes_.size(); ++i) {
    if (nodes_[i].level == *level && nodes_[i].name == n.name && nodes_[i].parent == parent) {
      sink.error("V-ERR-015", n.span, "scope " + describe(i) + " is declared twice under " + describe(parent))
          .label("second declaration")
          .secondary(nodes_[i].span, "first declaration")
          .help("remove one of the two");
      return;
    }
  }
  ScopeId id = add(*level, n.name, parent, n.span);
  for (const auto& c : n.children) declare_node(c, id, sink);
}

std::optional<ScopeId> AuthorityTree::resolve(const ast::ScopeRef& ref, DiagnosticSink& sink) {
  auto level = parse_authority_level(ref.level.name);
  if (!level) {
    sink.error("V-ERR-006", ref.level.span, "`" + ref.level.name + "` is not an authority level")
        .label("unknown scope level")
        .help("write `Tenant(\"name\")`, `Environment(\"name\")`, `Workspace(\"name\")`, `Target(\"name\")`, "
              "`Namespace(\"name\")`, a bare level such as `Namespace`, or `root`");
    return std::nullopt;
  }
  if (*level == AuthorityLevel::Root) return kRootScope;
  if (!ref.name) {
    // A bare level: the one anonymous instance of that level directly under Root.
    for (size_t i = 1; i < nodes_.size(); ++i) {
      if (nodes_[i].level == *level && !nodes_[i].name) return i;
    }
    return add(*level, std::nullopt, kRootScope, ref.span);
  }
  std::vector<ScopeId> matches;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    if (nodes_[i].level == *level && nodes_[i].name == ref.name) matches.push_back(i);
  }
  if (matches.size() == 1) return matches[0];
  std::string wanted = ref.level.name + "(\"" + *ref.name + "\")";
  if (matches.empty()) {
    std::string declared;  // for the help line only, so built only on this path
    for (size_t i = 1; i < nodes_.size(); ++i) {
      if (nodes_[i].level == *level && nodes_[i].name) declared += (declared.empty() ? "" : ", ") + describe(i);
    }
    sink.error("V-ERR-006", ref.span, "scope `" + wanted + "` is not declared")
        .label("no such scope")
        .help(declared.empty() ? "declare it in an `authority { }` tree"
                               : "declared " + std::string(authority_level_name(*level)) + " scopes: " + declared);
    return std::nullopt;
  }
  auto d = sink.error("V-ERR-006", ref.span, "scope `" + wanted + "` is ambiguous");
  d.label("matches " + std::to_string(matches.size()) + " scopes");
  for (ScopeId m : matches) d.secondary(nodes_[m].span, "declared here, under " + describe(nodes_[m].parent));
  d.help("give the scopes distinct names");
  return std::nullopt;
}

std::string AuthorityTree::describe(ScopeId id) const {
  const ScopeNodeInfo& n = nodes_.at(id);
  std::string out = authority_level_name(n.level);
  if (n.name) out += "(\"" + *n.name + "\")";
  return out;
}

bool AuthorityTree::is_ancestor_or_self(ScopeId a, ScopeId b) const {
  while (true) {
    if (a == b) return true;
    if (b == kRootScope) return false;
    b = nodes_.at(b).parent;
  }
}

ScopeId AuthorityTree::nearest_common_ancestor(ScopeId a, ScopeId b) const {
  while (!is_ancestor_or_self(a, b)) a = nodes_.at(a).parent;
  return a;
}

}  // namespace ved
