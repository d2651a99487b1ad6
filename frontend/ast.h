// The Ved abstract syntax tree.
//
// Plain C++ types that know nothing of ANTLR: the parser (parser.h) is the only code
// that sees parse trees. Every node carries a Span. Both surface styles of the
// language produce the same tree: `target E` and `predicate: E` are one Goal.predicate,
// `send("T", "M")` and `send T.M()` are one SendStmt, script mode becomes an implicit
// domain `Main`.
//
// Nodes are owned by unique_ptr and discriminated by a `kind` field (LLVM style), so a
// pass switches on the kind and casts with `as<T>()`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontend/source_manager.h"

namespace ved::ast {

struct Identifier {
  std::string name;
  Span span;
};

// `Infra.Provision` from its parts.
std::string dotted_name(const std::vector<Identifier>& path);

// ---------------------------------------------------------------------------------
// Types as written

struct TypeExpr {
  std::vector<Identifier> path;  // `int`, `map`, `Deploy.State`
  std::optional<int64_t> version;  // `D.State@2`
  std::vector<TypeExpr> args;       // `list<T>`, `map<K, V>`
  bool optional = false;           // `T?`
  Span span;
  std::string to_string() const;
};

// ---------------------------------------------------------------------------------
// Expressions

enum class ExprKind {
  Error,  // stands in for an expression the parser could not read
  Int,
  Float,
  String,
  Bool,
  None,
  List,
  Map,
  Name,
  Member,
  Index,
  Call,
  Unary,
  Binary,
  VersionedType,
};

enum class UnaryOp { Neg, Not };
enum class BinaryOp { Mul, Div, Rem, Add, Sub, Coalesce, Lt, Le, Gt, Ge, Eq, Ne, And, Or };

const char* unary_op_spelling(UnaryOp op);
const char* binary_op_spelling(BinaryOp op);
bool is_comparison(BinaryOp op);

struct Expr {
  explicit Expr(ExprKind k, Span s) : kind(k), span(s) {}
  virtual ~Expr() = default;
  ExprKind kind;
  Span span;
  bool parenthesized = false;  // written inside `( )`; matters for V-SYN-009

  template <class T>
  const T* as() const { return kind == T::kKind ? static_cast<const T*>(this) : nullptr; }
  template <class T>
  T* as() { return kind == T::kKind ? static_cast<T*>(this) : nullptr; }
};
using ExprPtr = std::unique_ptr<Expr>;

struct ErrorExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::Error;
  explicit ErrorExpr(Span s) : Expr(kKind, s) {}
};
struct IntLit : Expr {
  static constexpr ExprKind kKind = ExprKind::Int;
  IntLit(Span s, int64_t v) : Expr(kKind, s), value(v) {}
  int64_t value;
};
struct FloatLit : Expr {
  static constexpr ExprKind kKind = ExprKind::Float;
  FloatLit(Span s, double v) : Expr(kKind, s), value(v) {}
  double value;
};
struct StringLit : Expr {
  static constexpr ExprKind kKind = ExprKind::String;
  StringLit(Span s, std::string v) : Expr(kKind, s), value(std::move(v)) {}
  std::string value;  // decoded (escapes resolved), UTF-8
};
struct BoolLit : Expr {
  static constexpr ExprKind kKind = ExprKind::Bool;
  BoolLit(Span s, bool v) : Expr(kKind, s), value(v) {}
  bool value;
};
struct NoneLit : Expr {
  static constexpr ExprKind kKind = ExprKind::None;
  explicit NoneLit(Span s) : Expr(kKind, s) {}
};
struct ListLit : Expr {
  static constexpr ExprKind kKind = ExprKind::List;
  explicit ListLit(Span s) : Expr(kKind, s) {}
  std::vector<ExprPtr> elements;
};
struct MapEntry {
  ExprPtr key;
  ExprPtr value;
};
struct MapLit : Expr {
  static constexpr ExprKind kKind = ExprKind::Map;
  explicit MapLit(Span s) : Expr(kKind, s) {}
  std::vector<MapEntry> entries;
};
struct NameExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::Name;
  NameExpr(Span s, std::string n) : Expr(kKind, s), name(std::move(n)) {}
  std::string name;
};
struct MemberExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::Member;
  MemberExpr(Span s, ExprPtr b, Identifier m) : Expr(kKind, s), base(std::move(b)), member(std::move(m)) {}
  ExprPtr base;
  Identifier member;
};
struct IndexExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::Index;
  IndexExpr(Span s, ExprPtr b, ExprPtr i) : Expr(kKind, s), base(std::move(b)), index(std::move(i)) {}
  ExprPtr base;
  ExprPtr index;
};
// An argument of a call, message or effect: positional, or named with `:` / `=`.
struct Argument {
  std::optional<Identifier> name;
  ExprPtr value;
  Span span;
};
struct CallExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::Call;
  CallExpr(Span s, ExprPtr c) : Expr(kKind, s), callee(std::move(c)) {}
  ExprPtr callee;
  std::vector<Argument> args;
};
struct UnaryExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::Unary;
  UnaryExpr(Span s, UnaryOp o, ExprPtr e) : Expr(kKind, s), op(o), operand(std::move(e)) {}
  UnaryOp op;
  ExprPtr operand;
};
struct BinaryExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::Binary;
  BinaryExpr(Span s, BinaryOp o, Span op_s, ExprPtr l, ExprPtr r)
      : Expr(kKind, s), op(o), op_span(op_s), lhs(std::move(l)), rhs(std::move(r)) {}
  BinaryOp op;
  Span op_span;
  ExprPtr lhs;
  ExprPtr rhs;
};
// `Deploy.State@2`, used in migrations to construct a state of a given version.
struct VersionedTypeExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::VersionedType;
  VersionedTypeExpr(Span s, Identifier d, Identifier t, int64_t v)
      : Expr(kKind, s), domain(std::move(d)), type(std::move(t)), version(v) {}
  Identifier domain;
  Identifier type;
  int64_t version;
};

// ---------------------------------------------------------------------------------
// Statements

enum class StmtKind {
  Let, Assign, If, While, For, Send, Reply, Emit, Spawn, Schedule, Yield, Fail, Assert,
  Return, Expr,
};

struct Stmt {
  explicit Stmt(StmtKind k, Span s) : kind(k), span(s) {}
  virtual ~Stmt() = default;
  StmtKind kind;
  Span span;

  template <class T>
  const T* as() const { return kind == T::kKind ? static_cast<const T*>(this) : nullptr; }
};
using StmtPtr = std::unique_ptr<Stmt>;

struct Block {
  std::vector<StmtPtr> statements;
  Span span;
};

struct LetStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::Let;
  explicit LetStmt(Span s) : Stmt(kKind, s) {}
  Identifier name;
  std::optional<TypeExpr> type;
  ExprPtr value;
};
enum class AssignOp { Set, Add, Sub, Mul };
const char* assign_op_spelling(AssignOp op);
struct AssignStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::Assign;
  explicit AssignStmt(Span s) : Stmt(kKind, s) {}
  ExprPtr target;  // a Name, Member or Index chain rooted at a name
  AssignOp op = AssignOp::Set;
  Span op_span;    // the `=`, `+=`, ...
  ExprPtr value;
};
struct IfStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::If;
  explicit IfStmt(Span s) : Stmt(kKind, s) {}
  ExprPtr condition;
  Block then_block;
  std::optional<Block> else_block;  // `else if` is an else block holding one IfStmt
};
struct WhileStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::While;
  explicit WhileStmt(Span s) : Stmt(kKind, s) {}
  ExprPtr condition;
  Block body;
};
struct ForStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::For;
  explicit ForStmt(Span s) : Stmt(kKind, s) {}
  Identifier var;                     // element, index or key
  std::optional<Identifier> value_var;  // `for k, v in map`
  ExprPtr iterable;                   // the collection, or the range start
  ExprPtr range_end;                  // set for `for i in a..b`
  Block body;
};
struct SendStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::Send;
  explicit SendStmt(Span s) : Stmt(kKind, s) {}
  bool high_lane = false;
  bool by_name = false;  // `send("T", "M")`: names were string literals
  Identifier target_type;
  ExprPtr instance_id;  // `T[id]`; null for the default instance
  Identifier message;
  std::vector<Argument> args;
};
struct ReplyStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::Reply;
  explicit ReplyStmt(Span s) : Stmt(kKind, s) {}
  Identifier message;
  std::vector<Argument> args;
};
struct EmitStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::Emit;
  explicit EmitStmt(Span s) : Stmt(kKind, s) {}
  ExprPtr intent;  // an effect call, or an expression holding an intent value
};
struct FieldInit {
  Identifier field;
  ExprPtr value;
};
struct SpawnStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::Spawn;
  explicit SpawnStmt(Span s) : Stmt(kKind, s) {}
  Identifier type;
  ExprPtr instance_id;
  std::vector<FieldInit> inits;
};
struct ScheduleStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::Schedule;
  explicit ScheduleStmt(Span s) : Stmt(kKind, s) {}
  Identifier message;
  std::vector<Argument> args;
  ExprPtr delay;  // in ticks
};
struct YieldStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::Yield;
  explicit YieldStmt(Span s) : Stmt(kKind, s) {}
};
struct FailStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::Fail;
  explicit FailStmt(Span s) : Stmt(kKind, s) {}
  ExprPtr reason;  // may be null
};
struct AssertStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::Assert;
  explicit AssertStmt(Span s) : Stmt(kKind, s) {}
  ExprPtr condition;
  ExprPtr message;  // may be null
};
struct ReturnStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::Return;
  explicit ReturnStmt(Span s) : Stmt(kKind, s) {}
  ExprPtr value;  // may be null
};
struct ExprStmt : Stmt {
  static constexpr StmtKind kKind = StmtKind::Expr;
  explicit ExprStmt(Span s) : Stmt(kKind, s) {}
  ExprPtr expr;
};

// ---------------------------------------------------------------------------------
// Declarations

// `Level("name")`, a bare level `Namespace`, or the corpus spellings of Root.
struct ScopeRef {
  Identifier level;                 // `Workspace`, `root`, `domain`
  std::optional<std::string> name;  // `"payments"`
  Span span;
};

struct Annotation {
  Identifier name;  // without the `@`
  std::vector<Argument> args;          // `@escalate(reason: "...")`, `@privilege root(reason: ..)`
  std::optional<ScopeRef> scope;       // `@scope Workspace("x")`, `@privilege infrastructure`
  std::optional<int64_t> number;       // `@version 2`
  std::optional<std::string> text;     // `@version "2"` (always an error, but parsed)
  Span span;
};

struct CapabilityItem {
  Identifier name;                  // `messaging`, `send_to`
  std::optional<Identifier> value;  // `Worker` in `send_to: Worker`
  Span span;
};
struct CapabilityBlock {
  std::vector<CapabilityItem> items;
  Span span;
};

struct FieldDecl {
  Identifier name;
  TypeExpr type;
  ExprPtr default_value;  // may be null
  Span span;
};

struct Param {
  Identifier name;
  TypeExpr type;
  Span span;
};

struct Priority {
  std::optional<int64_t> number;    // `priority 10`
  std::optional<Identifier> name;   // `priority: high`
  Span span;
};
struct TerminateAfter {
  enum class Kind { Never, Attempts, Ticks } kind = Kind::Attempts;
  int64_t count = 0;
  Span span;
};
struct Backoff {
  Identifier kind;  // `none`, `exponential`
  std::vector<Argument> args;
  Span span;
};

struct GoalDecl {
  Identifier name;
  ExprPtr predicate;
  bool style_target = false;  // written `target` rather than `predicate`
  std::optional<Priority> priority;
  std::optional<std::vector<Identifier>> strategy;
  std::optional<TerminateAfter> terminate_after;
  std::optional<Backoff> backoff;
  Span span;
};

struct InvariantDecl {
  Identifier name;
  ExprPtr condition;
  Span span;
};

struct OnClause {
  enum class Kind { Start, Outcome } kind = Kind::Start;
  std::vector<Identifier> effect;  // `Infra.Provision`
  bool ok = true;                  // `.ok` or `.failed`
  Span span;
};

struct Slice {
  std::optional<Identifier> name;  // `slice debit { }`; none for a plain body
  bool step_block = false;         // written `step { }` / `slice step { }`
  std::vector<StmtPtr> statements;
  Span span;
};

struct TransitionDecl {
  std::vector<Annotation> annotations;
  Identifier name;
  bool has_param_list = false;  // `T()` vs `T`
  std::vector<Param> params;
  std::optional<OnClause> on;
  std::optional<CapabilityBlock> capability;
  std::optional<int64_t> budget;
  // A plain body is one Slice without a name whose statements may contain `yield`.
  std::vector<Slice> slices;
  Span span;
};

struct FnDecl {
  Identifier name;
  std::vector<Param> params;
  std::optional<TypeExpr> result;
  Block body;
  Span span;
};

struct DomainDecl {
  std::vector<Annotation> annotations;
  Identifier name;
  bool implicit = false;  // the `Main` domain of a script-mode file
  std::optional<ScopeRef> scope;  // the member form `scope X`
  std::optional<CapabilityBlock> capability;
  std::vector<FieldDecl> state;
  bool has_state_block = false;
  std::vector<GoalDecl> goals;
  std::vector<InvariantDecl> invariants;
  std::vector<TransitionDecl> transitions;
  std::vector<FnDecl> fns;
  Span span;
};

struct TypeDecl {
  Identifier name;
  std::vector<FieldDecl> fields;
  Span span;
};

struct EffectDecl {
  std::vector<Identifier> name;  // `Infra.Provision` or `PerformTask`
  std::vector<Param> params;
  std::optional<TypeExpr> result;
  std::optional<Identifier> privilege;  // `infrastructure`
  Span span;
};

struct ObserveDecl {
  std::vector<Identifier> name;
  std::vector<Param> params;
  std::optional<TypeExpr> result;
  Span span;
};

struct ScopeNode {
  Identifier level;
  std::optional<std::string> name;
  std::vector<ScopeNode> children;
  Span span;
};
struct AuthorityDecl {
  std::vector<ScopeNode> roots;
  Span span;
};

struct StartItem {
  Identifier type;
  ExprPtr instance_id;  // may be null
  std::vector<FieldInit> inits;
  Span span;
};
struct SystemDecl {
  Identifier name;
  std::vector<StartItem> starts;
  Span span;
};

struct Setting {
  Identifier key;
  ExprPtr value;
};
struct EnvironmentDecl {
  Identifier name;
  std::optional<ScopeRef> scope;
  std::optional<CapabilityBlock> capability;
  std::vector<Setting> settings;
  Span span;
};

struct DeployDecl {
  Identifier domain;
  Identifier environment;
  bool service = false;
  Span span;
};

struct MigrationDecl {
  Identifier name;
  std::optional<TypeExpr> from;
  std::optional<TypeExpr> to;
  std::vector<StmtPtr> body;
  Span span;
};

struct GivenItem {
  Identifier type;
  ExprPtr instance_id;
  std::vector<FieldInit> inits;
  Span span;
};
struct EffectStub {
  std::vector<Identifier> effect;
  bool fails = false;
  ExprPtr value;  // the failure message, or the returned value (may be null)
  Span span;
};
struct SimulateItem {
  std::optional<EffectStub> stub;  // exactly one of stub / statement
  StmtPtr statement;
};
struct Expectation {
  enum class Kind { Always, Eventually, Final } kind = Kind::Final;
  ExprPtr condition;
  Span span;
};
struct TestDecl {
  std::string name;
  std::vector<GivenItem> given;
  std::vector<SimulateItem> simulate;
  std::vector<Expectation> expect;
  Span span;
};

struct ImportDecl {
  std::optional<std::string> path;         // `import "lib/util.ved"`
  std::vector<Identifier> module;          // `import std.time`
  Span span;
};

enum class FileMode { Script, System };

// A parsed file. Declarations are grouped by kind, each group in source order.
struct Program {
  FileId file = 0;
  FileMode mode = FileMode::Script;
  std::vector<DomainDecl> domains;  // in script mode: the implicit `Main` (if any members)
  std::vector<FnDecl> fns;
  std::vector<TypeDecl> types;
  std::vector<EffectDecl> effects;
  std::vector<ObserveDecl> observations;
  std::vector<AuthorityDecl> authorities;
  std::vector<SystemDecl> systems;
  std::vector<EnvironmentDecl> environments;
  std::vector<DeployDecl> deploys;
  std::vector<MigrationDecl> migrations;
  std::vector<TestDecl> tests;
  std::vector<ImportDecl> imports;
};

}  // namespace ved::ast
