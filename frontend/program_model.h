// The checked program: every declaration resolved to symbols with types, scopes,
// privileges and capabilities. Built by the checker (checker.h); later layers (IR
// lowering) read it instead of re-resolving names.
//
// All containers that may be iterated are ordered (vectors in declaration order, or
// std::map by name), so nothing derived from the model depends on pointer values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "frontend/ast.h"
#include "frontend/authority.h"
#include "frontend/types.h"

namespace ved {

enum class Privilege { Pure = 0, Local = 1, Service = 2, Infrastructure = 3, Root = 4 };
std::optional<Privilege> parse_privilege(const std::string& word);
const char* privilege_name(Privilege p);

struct ParamSym {
  std::string name;
  TypeRef type = nullptr;
  Span span;
};

struct FieldSym {
  std::string name;
  TypeRef type = nullptr;
  Span span;
  const ast::FieldDecl* decl = nullptr;
};

struct CapabilitySet {
  bool messaging = false;
  std::vector<std::string> send_to;  // empty: any target
  Span span;
};

struct TransitionSym {
  std::string name;
  const ast::TransitionDecl* decl = nullptr;
  std::vector<ParamSym> params;
  bool is_start = false;          // `on start`, or a parameterless `Boot` without `on`
  bool is_handler = false;        // `on E.ok` / `on E.failed`
  ScopeId scope = kRootScope;     // the domain's scope, or its `@scope` narrowing
  bool scope_unresolved = false;  // its scope had an error: authority is not checked
  std::optional<CapabilitySet> capability;
  std::optional<std::string> escalation_reason;  // `@escalate(reason: ...)`
};

struct DomainSym {
  std::string name;
  const ast::DomainDecl* decl = nullptr;
  std::vector<FieldSym> fields;
  std::map<std::string, size_t> field_index;
  std::vector<TransitionSym> transitions;
  std::map<std::string, size_t> transition_index;
  ScopeId scope = kRootScope;
  bool scope_unresolved = false;  // its scope had an error: authority is not checked
  Privilege privilege = Privilege::Local;
  std::optional<CapabilitySet> capability;
  int64_t version = 1;
  Span version_span;

  const FieldSym* field(const std::string& n) const {
    auto it = field_index.find(n);
    return it == field_index.end() ? nullptr : &fields[it->second];
  }
  const TransitionSym* transition(const std::string& n) const {
    auto it = transition_index.find(n);
    return it == transition_index.end() ? nullptr : &transitions[it->second];
  }
};

// What effects and observations have in common: a declared call into the outside world.
struct ExternalCallSym {
  std::string name;  // qualified: `Infra.Provision`, `System.file_exists`
  std::vector<ParamSym> params;
  TypeRef result = nullptr;
  Span span;
  bool builtin = false;  // declared by the standard library's prelude
};

struct EffectSym : ExternalCallSym {
  Privilege privilege = Privilege::Local;
};

struct ObservationSym : ExternalCallSym {};

// An effect emitted without a declaration (V-WRN-004). Its first use declares it
// implicitly: the parameters are that use's arguments in order, a named argument under
// its name and a positional one as `arg0`, `arg1`, ... by its position, each with the
// argument's type (each ParamSym's span is the argument's value); the result is `unit`. Later
// uses are checked against this signature as against a declaration (body_checker.cpp),
// and lowering gives the effect exactly these parameters.
struct UndeclaredEffectSym {
  std::string name;
  std::vector<ParamSym> params;
  Span first_use;  // the call that declared it
};

struct RecordSym {
  std::string name;
  std::vector<FieldSym> fields;
  std::map<std::string, size_t> field_index;
  Span span;
  bool builtin = false;
};

struct FnSym {
  std::string name;
  std::vector<ParamSym> params;
  TypeRef result = nullptr;
  const ast::FnDecl* decl = nullptr;
  std::string owner;  // the domain a `fn` is declared in, if any (functions share one namespace)
};

// What a goal will do: its resolved strategy and whether it was inferred.
struct GoalSym {
  std::string domain;
  const ast::GoalDecl* decl = nullptr;
  int priority = 100;
  std::vector<std::string> strategy;
  bool inferred_strategy = false;
};

struct ProgramModel {
  TypeTable types;
  AuthorityTree authority;
  std::vector<DomainSym> domains;  // declaration order
  std::map<std::string, size_t> domain_index;
  std::map<std::string, EffectSym> effects;
  std::map<std::string, ObservationSym> observations;
  // Effects used but not declared, by name; "first" in checking order (domains and their
  // transitions in source order, then `test` blocks).
  std::map<std::string, UndeclaredEffectSym> undeclared_effects;
  std::map<std::string, RecordSym> records;
  std::map<std::string, FnSym> fns;
  std::vector<GoalSym> goals;
  std::map<std::string, Span> environments;
  // The type of every checked expression. Looked up by node, never iterated.
  std::unordered_map<const ast::Expr*, TypeRef> expr_types;
  // The type of the local each `let` (and each docs-style `x = e` that declares one)
  // introduces, keyed by the statement. Looked up, never iterated.
  std::unordered_map<const ast::Stmt*, TypeRef> local_types;

  const DomainSym* domain(const std::string& n) const {
    auto it = domain_index.find(n);
    return it == domain_index.end() ? nullptr : &domains[it->second];
  }
};

}  // namespace ved
