// Type checking of expressions and statements, with the rules that depend on where the
// code is: purity (goals, invariants, functions), authority and capabilities (sends and
// spawns from transitions), privileges (effects), and who may read whose state.
#pragma once

#include <string>
#include <vector>

#include "frontend/checker_internal.h"

namespace ved::check_detail {

enum class BodyKind {
  Transition,    // may write state, send, emit, spawn, schedule, yield, draw rand()
  Goal,          // pure; may read observations
  Invariant,     // pure; no observations
  Fn,            // pure; no state at all
  FieldDefault,  // a state field's default value: pure, no state
  Migration,     // builds a new state from `from`; pure
  Test,          // given/simulate/expect: may read any domain's state
};

class BodyChecker {
 public:
  BodyChecker(CheckState& state, BodyKind kind, const DomainSym* domain, const TransitionSym* transition = nullptr);

  // The expression's type (Error after a reported problem). Records it in the model.
  TypeRef expr(const ast::Expr& e);
  // Checks `e` as a condition: it must be bool.
  void condition(const ast::Expr& e, const std::string& what);
  // Checks `e` where a value of type `expected` is needed.
  void expect_type(const ast::Expr& e, TypeRef expected, const std::string& what);

  void statements(const std::vector<ast::StmtPtr>& list);
  // `T[id]`: the id is an int or a string.
  void check_instance_id(const ast::Expr& id);
  void statement(const ast::Stmt& s);
  void declare_local(const std::string& name, TypeRef type, Span span, bool implicit = false);
  void set_return_type(TypeRef t) { return_type_ = t; }
  // Migrations: `from` is the stored state of `domain`.
  void bind_migration_input(const DomainSym* domain) { migration_input_ = domain; }

  // Checks the arguments of a call or message against parameters. `extra_named` lists
  // named arguments accepted on top of the parameters (`idempotency_key`).
  void check_args(const std::vector<ast::Argument>& args, const std::vector<ParamSym>& params, Span call_span,
                  const std::string& what, const std::vector<std::string>& extra_named = {});

 private:
  struct Local {
    std::string name;
    TypeRef type;
    Span span;
    bool implicit;
  };

  TypeRef expr_uncached(const ast::Expr& e);
  TypeRef name(const ast::NameExpr& e);
  TypeRef member(const ast::MemberExpr& e);
  TypeRef call(const ast::CallExpr& e);
  TypeRef binary(const ast::BinaryExpr& e);
  TypeRef effect_call(const ast::CallExpr& e, const EffectSym* effect, const std::string& path);
  // An undeclared effect (V-WRN-004): its first use declares it, later uses must agree.
  void undeclared_effect_call(const ast::CallExpr& e, const std::string& path);
  TypeRef record_construction(const ast::CallExpr& e, const std::string& display, const std::vector<FieldSym>& fields);
  TypeRef field_read(const DomainSym& d, const std::string& field, Span span);

  void block(const ast::Block& b);
  void assign(const ast::AssignStmt& s);
  void send(const ast::SendStmt& s);
  void spawn(const ast::SpawnStmt& s);
  void check_mutation(Span at, const DomainSym& target, const char* verb);
  // Reports V-ERR-011 unless the code may have side effects; `tests_may` lets tests send.
  bool require_transition(Span at, const char* what, bool tests_may = false);

  const Local* find_local(const std::string& n) const;
  std::vector<std::string> visible_names() const;
  bool is_state_alias(const ast::Expr& e) const;

  CheckState& s_;
  TypeTable& T_;
  BodyKind kind_;
  const DomainSym* domain_;
  const TransitionSym* transition_;
  TypeRef return_type_ = nullptr;
  const DomainSym* migration_input_ = nullptr;
  // `field = from.old` in a construction of the current state: a stored field the current
  // schema no longer declares is read as the type of the field it fills (a rename).
  const ast::Expr* migration_read_target_ = nullptr;
  TypeRef migration_read_type_ = nullptr;
  std::vector<std::vector<Local>> scopes_;
  bool in_emit_ = false;       // checking the operand of `emit`
  bool coalesce_lhs_ = false;  // checking the left side of `??`

 public:
  // For V-LNT-010: implicitly declared locals (name, span).
  std::vector<std::pair<std::string, Span>> implicit_locals;
};

// Whether every path through `list` ends in `return` or `fail`.
bool always_returns(const std::vector<ast::StmtPtr>& list);

// A dotted name (`a`, `a.b.c`) if `e` is one.
std::optional<std::string> dotted_path(const ast::Expr& e);

}  // namespace ved::check_detail
