// Shared by the lowering files: the program-wide tables (LowerContext) and the builder
// of one function's blocks and registers (FunctionBuilder).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "frontend/diagnostic.h"
#include "frontend/program_model.h"
#include "ir/module.h"

namespace ved::ir {

// Program-wide: symbol tables from names to module indices, and type conversion.
class LowerContext {
 public:
  LowerContext(Module& module, const ProgramModel& model, DiagnosticSink& sink);

  Module& module;
  const ProgramModel& model;
  DiagnosticSink& sink;

  // The module type of a checked type. Reports V-TYP-018 at `at` and returns nullopt
  // when the type is not fully known (an empty literal's element type).
  std::optional<TypeId> convert(TypeRef t, Span at);
  // The checker's type of an expression.
  TypeRef checked_type(const ast::Expr& e) const;

  uint32_t record_index(const std::string& name) const { return records_.at(name); }
  bool is_record(const std::string& name) const { return records_.count(name) > 0; }
  uint32_t domain_index(const std::string& name) const { return domains_.at(name); }
  // An effect's index. An undeclared one (V-WRN-004) is added on first use, with the
  // implicit signature the checker gave it (ProgramModel::undeclared_effects) and a unit
  // result; nullopt (after one V-TYP-018) when that signature has a type left open.
  std::optional<uint32_t> effect_index(const std::string& name);
  std::optional<uint32_t> find_effect(const std::string& name) const;
  uint32_t observation_index(const std::string& name) const { return observations_.at(name); }
  uint32_t function_index(const std::string& fn_name) const { return fns_.at(fn_name); }

  // After one V-TYP-018 in a function, its later ones are consequences of the first
  // (uses of the local it could not type): FunctionBuilder sets this, per function.
  bool quiet_unknown = false;

  uint32_t message(Message m);
  uint32_t spawn_shape(SpawnShape s);

  void declare_record(const std::string& name, uint32_t index) { records_[name] = index; }
  void declare_domain(const std::string& name, uint32_t index) { domains_[name] = index; }
  void declare_effect(const std::string& name, uint32_t index) { effects_[name] = index; }
  void declare_observation(const std::string& name, uint32_t index) { observations_[name] = index; }
  void declare_function(const std::string& name, uint32_t index) { fns_[name] = index; }

 private:
  std::map<std::string, uint32_t> records_, domains_, effects_, observations_, fns_;
  std::set<std::string> unlowerable_effects_;  // undeclared, with an open parameter type
};

// Whether the checker left part of `t` open (an empty literal's element type, `none`).
bool contains_unknown_type(TypeRef t);

// What a function body is: decides what it may do (read state, send, yield ...). The
// test kinds are those of FunctionKind (bytecode/format.h), one per part of a `test`.
enum class BodyKind { Fn, Transition, Predicate, Invariant, Initializer, TestValue, TestGiven, TestScript, TestExpect, Migration };

// What a migration body builds on (BodyKind::Migration, lower_program.cpp). A stored
// state's schema is the old program's, which this program does not have: the body reads
// `from.f` as a field of `from_record`, a record that gets one field per name the body
// reads (typed as the current schema types it, the checker's rule), and the runner fills
// it from the stored state by name. `to_record` is the domain's state record when the
// migration reaches the current version, else a record of the fields its `return`
// names (the next migration of the chain reads them by name in turn).
struct MigrationTarget {
  const DomainSym* domain = nullptr;
  int64_t to_version = 0;
  uint32_t from_record = 0;
  uint32_t from_register = 0;
  uint32_t to_record = 0;
  bool to_is_state = false;
};

inline bool is_test_body(BodyKind k) {
  return k == BodyKind::TestValue || k == BodyKind::TestGiven || k == BodyKind::TestScript || k == BodyKind::TestExpect;
}

// Lowers every `test` block into module.tests and its functions (lower_tests.cpp).
void lower_tests(LowerContext& cx, const ast::Program& program, const SourceManager& sources);

// Builds one Function: blocks, registers, scopes of locals, temporaries.
class FunctionBuilder {
 public:
  FunctionBuilder(LowerContext& cx, Function& f, BodyKind kind, const DomainSym* domain);

  // ---- structure
  uint32_t new_block();
  void set_block(uint32_t b) { current_ = b; }
  uint32_t current_block() const { return current_; }
  bool terminated() const;
  void emit(Op op, uint32_t a, uint32_t b, uint32_t c, uint32_t d, Span span);
  void jump(uint32_t target, Span span);

  // ---- registers
  uint32_t named(const std::string& name, TypeId type);  // a new local in the innermost scope
  // A new local's register, not yet in scope: `let` evaluates its value straight into it
  // and then binds the name (bind), so that `let x = x + 1` still reads the outer `x`.
  uint32_t unbound_local(TypeId type);
  void bind(const std::string& name, uint32_t r);
  uint32_t temp(TypeId type);
  // `count` consecutive fresh temporaries (call arguments, list elements).
  uint32_t temps(const std::vector<TypeId>& types);
  const std::vector<TypeId>& register_types() const { return f_.registers; }
  TypeId type_of_register(uint32_t r) const { return f_.registers.at(r); }
  std::optional<uint32_t> find_local(const std::string& name) const;
  // A local whose declaration could not be lowered (already reported): its uses are
  // skipped quietly, so one mistake gives one diagnostic.
  void poison(const std::string& name) {
    scopes_.back()[name] = kPoisoned;
    cx.quiet_unknown = true;
  }
  bool is_poisoned(const std::string& name) const;
  void push_scope() { scopes_.emplace_back(); }
  void pop_scope() { scopes_.pop_back(); }

  // ---- expressions
  // The value of `e` in some register of type `want` (when given) or of its own type.
  // The register may be a local's own: callers must not write to it.
  std::optional<uint32_t> expr(const ast::Expr& e, std::optional<TypeId> want = std::nullopt);
  // Evaluates `e` into register `dst` (converting to dst's type: T to T?, empty
  // literals). Returns false after reporting an error.
  bool expr_into(const ast::Expr& e, uint32_t dst);
  // Branches to `then_b` when `e` is true, else to `else_b`.
  void cond(const ast::Expr& e, uint32_t then_b, uint32_t else_b);

  // The zero value of `type` (0, "", empty, none, a record of zero values).
  std::optional<uint32_t> zero_value(TypeId type, Span span, std::optional<uint32_t> into);

  // ---- statements
  void statements(const std::vector<ast::StmtPtr>& list);
  void statement(const ast::Stmt& s);
  // Transitions: ends the current slice and opens the next.
  void begin_slice(const std::string& name, Span span);
  // Test scripts: `advance_ticks(n)` ends the current step with ADVANCE and opens the
  // next slice (lower_tests.cpp).
  std::optional<uint32_t> advance_ticks(const ast::CallExpr& e, std::optional<uint32_t> into);

  // TestExpect: the parameter register holding each read domain's state record.
  std::map<uint32_t, uint32_t> domain_states;
  // Migration: the records it reads and builds.
  std::optional<MigrationTarget> migration;

  // Finishes the function: if control can reach the end of the last block, ends it as
  // `ending` says (return unit; a `fail` for a fn the checker proved always returns;
  // END for transitions), then removes unreachable blocks.
  enum class Ending { ReturnUnit, MissingReturn, End };
  void finish(Ending ending, Span end_span);

  LowerContext& cx;
  Function& f_;
  BodyKind kind;
  const DomainSym* domain;  // nullptr for a plain fn

 private:

  std::optional<uint32_t> expr_uncached(const ast::Expr& e, std::optional<TypeId> want, std::optional<uint32_t> into);
  std::optional<uint32_t> binary(const ast::BinaryExpr& e, std::optional<uint32_t> into, std::optional<TypeId> want);
  std::optional<uint32_t> call(const ast::CallExpr& e, std::optional<uint32_t> into, std::optional<TypeId> want);
  std::optional<uint32_t> record_new(const ast::CallExpr& e, const std::string& name, std::optional<uint32_t> into);
  // A record of module record `index` from a call's arguments (by position or name);
  // a field not given takes its declared default, else its type's zero value.
  std::optional<uint32_t> record_from_args(const ast::CallExpr& e, uint32_t index, const std::vector<FieldSym>& fields,
                                           std::optional<uint32_t> into);
  // `D.State@N(...)` in a migration (lower_migration.cpp).
  std::optional<uint32_t> versioned_state(const ast::CallExpr& e, const ast::VersionedTypeExpr& v,
                                          std::optional<uint32_t> into);
  // `from.f` in a migration: a field of the `from` record, added on first read.
  std::optional<uint32_t> migration_input(const ast::MemberExpr& e, TypeId type, std::optional<uint32_t> into);
  std::optional<uint32_t> builtin(const ast::CallExpr& e, const std::string& name, std::optional<uint32_t> into);
  std::optional<uint32_t> intent(const ast::CallExpr& e, const std::string& name, std::optional<uint32_t> into);
  std::optional<uint32_t> coerce(uint32_t reg, TypeId want, Span span, std::optional<uint32_t> into);
  // Evaluates arguments (positional, then named by parameter name) into consecutive
  // temporaries of the parameter types. Returns the first register.
  std::optional<uint32_t> arguments(const std::vector<ast::Argument>& args, const std::vector<std::string>& names,
                                    const std::vector<TypeId>& types, Span span);
  uint32_t destination(std::optional<uint32_t> into, TypeId type) { return into ? *into : temp(type); }
  uint32_t load_string(const std::string& s, Span span);
  // Argument registers are dead once their instruction has run: drop the heap ones at
  // once, so that a collection passed to `contains(m, k)` is uniquely owned again when
  // the next statement updates it in place.
  void consumed(uint32_t first, uint32_t count);

  void assign(const ast::AssignStmt& s);
  void for_loop(const ast::ForStmt& s);
  void send(const ast::SendStmt& s);
  void emit_stmt(const ast::EmitStmt& s);
  // `Domain.field` in a test: a field of that domain's state record, read from
  // domain_states in an expectation and refused elsewhere (lower_tests.cpp). nullopt
  // when `e` is not such a read; `handled` is set when it is (error or not).
  std::optional<uint32_t> domain_field_read(const ast::MemberExpr& e, TypeId type, std::optional<uint32_t> into,
                                            bool& handled);
  // Reports what a test body cannot do (`what`, e.g. "`rand`"), with the test's wording.
  void refuse_in_test(Span span, const std::string& what, const std::string& help);
  bool is_state_alias(const ast::Expr& e) const;
  // The state field an expression names (`x` when not a local, `state.x`), if any.
  std::optional<uint32_t> state_field(const ast::Expr& e) const;
  void require_state(Span span);

  void release_statement_temps();

  struct TempPool {
    std::vector<uint32_t> in_use;
  };
  static constexpr uint32_t kPoisoned = UINT32_MAX;
  std::vector<std::map<std::string, uint32_t>> scopes_;
  std::vector<TempPool> statement_temps_;
  std::multimap<TypeId, uint32_t> free_temps_;
  uint32_t current_ = 0;
};

}  // namespace ved::ir
