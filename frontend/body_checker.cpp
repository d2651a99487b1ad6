#include "frontend/body_checker.h"

#include <algorithm>

#include "frontend/builtins.h"
#include "frontend/keywords.h"

namespace ved::check_detail {

using namespace ved::ast;

namespace {

const char* kind_noun(BodyKind k) {
  switch (k) {
    case BodyKind::Transition: return "a transition";
    case BodyKind::Goal: return "a goal predicate";
    case BodyKind::Invariant: return "an invariant";
    case BodyKind::Fn: return "a function";
    case BodyKind::FieldDefault: return "a field default";
    case BodyKind::Migration: return "a migration";
    case BodyKind::Test: return "a test";
  }
  return "this context";
}

bool is_pure_kind(BodyKind k) {
  return k == BodyKind::Goal || k == BodyKind::Invariant || k == BodyKind::Fn || k == BodyKind::FieldDefault ||
         k == BodyKind::Migration;
}

}  // namespace

bool always_returns(const std::vector<StmtPtr>& list) {
  for (const auto& s : list) {
    if (s->kind == StmtKind::Return || s->kind == StmtKind::Fail) return true;
    if (auto* i = s->as<IfStmt>()) {
      if (i->else_block && always_returns(i->then_block.statements) && always_returns(i->else_block->statements))
        return true;
    }
  }
  return false;
}

std::optional<std::string> dotted_path(const Expr& e) {
  if (auto* n = e.as<NameExpr>()) return n->name;
  if (auto* m = e.as<MemberExpr>()) {
    if (auto base = dotted_path(*m->base)) return *base + "." + m->member.name;
  }
  return std::nullopt;
}

BodyChecker::BodyChecker(CheckState& state, BodyKind kind, const DomainSym* domain, const TransitionSym* transition)
    : s_(state), T_(state.model.types), kind_(kind), domain_(domain), transition_(transition) {
  scopes_.emplace_back();
  if (transition) {
    // Duplicate parameter names were reported when the transition was declared.
    for (const auto& p : transition->params) {
      if (!find_local(p.name)) declare_local(p.name, p.type, p.span);
    }
  }
}

// ---------------------------------------------------------------------------------
// Names and locals

void BodyChecker::declare_local(const std::string& n, TypeRef type, Span span, bool implicit) {
  for (const auto& l : scopes_.back()) {
    if (l.name == n) {
      s_.sink.error("V-TYP-010", span, "`" + n + "` is already declared in this block")
          .label("second declaration")
          .secondary(l.span, "first declared here")
          .help("assign to it without `let`, or choose another name");
      return;
    }
  }
  scopes_.back().push_back(Local{n, type, span, implicit});
  if (implicit) implicit_locals.emplace_back(n, span);
}

const BodyChecker::Local* BodyChecker::find_local(const std::string& n) const {
  for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
    for (const auto& l : *scope) {
      if (l.name == n) return &l;
    }
  }
  return nullptr;
}

std::vector<std::string> BodyChecker::visible_names() const {
  std::vector<std::string> out;
  for (const auto& scope : scopes_)
    for (const auto& l : scope) out.push_back(l.name);
  if (domain_ && kind_ != BodyKind::Fn && kind_ != BodyKind::FieldDefault)
    for (const auto& f : domain_->fields) out.push_back(f.name);
  for (const auto& [n, f] : s_.model.fns) out.push_back(n);
  return out;
}

bool BodyChecker::is_state_alias(const Expr& e) const {
  auto* n = e.as<NameExpr>();
  if (!n || find_local(n->name)) return false;
  return n->name == "state" || n->name == "self" || n->name == "internal_state";
}

TypeRef BodyChecker::field_read(const DomainSym& d, const std::string& field, Span span) {
  const FieldSym* f = d.field(field);
  if (!f) {
    std::vector<std::string> names;
    for (const auto& x : d.fields) names.push_back(x.name);
    s_.sink.error("V-TYP-005", span, "domain `" + d.name + "` has no state field `" + field + "`")
        .label("unknown field")
        .help(suggestion(field, names));
    return T_.error();
  }
  if (s_.options.lint) s_.fields_read[d.name].insert(field);  // usage only feeds lints
  return f->type;
}

// ---------------------------------------------------------------------------------
// Expressions

TypeRef BodyChecker::expr(const Expr& e) {
  TypeRef t = expr_uncached(e);
  s_.model.expr_types[&e] = t;
  return t;
}

void BodyChecker::condition(const Expr& e, const std::string& what) {
  TypeRef t = expr(e);
  if (!assignable(t, T_.bool_())) {
    s_.sink.error("V-TYP-011", e.span, what + " must be a `bool`")
        .label("this is `" + type_to_string(t) + "`")
        .help("compare it, e.g. `x > 0` or `name != \"\"`");
  }
}

void BodyChecker::expect_type(const Expr& e, TypeRef expected, const std::string& what) {
  TypeRef t = expr(e);
  if (!assignable(t, expected)) {
    auto d = s_.sink.error("V-TYP-002", e.span, "mismatched types: " + what + " expects `" +
                                                      type_to_string(expected) + "`, found `" + type_to_string(t) + "`");
    d.label("this is `" + type_to_string(t) + "`");
    if (t->kind == TypeKind::Optional && assignable(t->element, expected)) {
      d.help("the value may be `none`: give a fallback with `?? value`");
    } else if (t->is_numeric() && expected->is_numeric()) {
      d.help("convert explicitly with `" + std::string(expected->kind == TypeKind::Int ? "int" : "float") + "(...)`");
    } else if (expected->kind == TypeKind::String) {
      d.help("convert explicitly with `str(...)`");
    } else {
      d.help("change the value, or the declared type");
    }
  }
}

TypeRef BodyChecker::expr_uncached(const Expr& e) {
  switch (e.kind) {
    case ExprKind::Error: return T_.error();
    case ExprKind::Int: return T_.int_();
    case ExprKind::Float: return T_.float_();
    case ExprKind::String: return T_.string();
    case ExprKind::Bool: return T_.bool_();
    case ExprKind::None: return T_.none();
    case ExprKind::Name: return name(static_cast<const NameExpr&>(e));
    case ExprKind::Member: return member(static_cast<const MemberExpr&>(e));
    case ExprKind::Call: return call(static_cast<const CallExpr&>(e));
    case ExprKind::Binary: return binary(static_cast<const BinaryExpr&>(e));
    case ExprKind::List: {
      auto& l = static_cast<const ListLit&>(e);
      TypeRef elem = T_.unknown();
      for (const auto& x : l.elements) {
        TypeRef t = expr(*x);
        TypeRef u = unify(T_, elem, t);
        if (!u) {
          s_.sink.error("V-TYP-002", x->span, "list elements must all have one type")
              .label("this is `" + type_to_string(t) + "`, earlier elements are `" + type_to_string(elem) + "`")
              .help("convert the elements to one type");
          return T_.error();
        }
        elem = u;
      }
      return T_.list(elem);
    }
    case ExprKind::Map: {
      auto& m = static_cast<const MapLit&>(e);
      TypeRef key = T_.unknown(), value = T_.unknown();
      for (const auto& entry : m.entries) {
        TypeRef k = expr(*entry.key);
        TypeRef v = expr(*entry.value);
        if (!k->is_error() && k != T_.int_() && k != T_.string()) {
          s_.sink.error("V-TYP-002", entry.key->span, "map keys must be `int` or `string`")
              .label("this is `" + type_to_string(k) + "`")
              .help("key the map by an int or a string");
          return T_.error();
        }
        TypeRef uk = unify(T_, key, k), uv = unify(T_, value, v);
        if (!uk || !uv) {
          s_.sink.error("V-TYP-002", uk ? entry.value->span : entry.key->span, "map entries must all have one type")
              .label("this entry differs from the earlier ones")
              .help("make every key one type and every value one type");
          return T_.error();
        }
        key = uk;
        value = uv;
      }
      return T_.map(key, value);
    }
    case ExprKind::Index: {
      auto& ix = static_cast<const IndexExpr&>(e);
      TypeRef base = expr(*ix.base);
      TypeRef index = expr(*ix.index);
      if (base->is_error() || base->kind == TypeKind::Unknown) return base;
      if (base->kind == TypeKind::List || base->kind == TypeKind::String) {
        if (!assignable(index, T_.int_())) {
          s_.sink.error("V-TYP-013", ix.index->span, "a " + type_to_string(base) + " is indexed by `int`")
              .label("this is `" + type_to_string(index) + "`")
              .help("use an int position (0-based)");
          return T_.error();
        }
        return base->kind == TypeKind::List ? base->element : T_.string();
      }
      if (base->kind == TypeKind::Map) {
        if (!assignable(index, base->key)) {
          s_.sink.error("V-TYP-013", ix.index->span, "this map's keys are `" + type_to_string(base->key) + "`")
              .label("this is `" + type_to_string(index) + "`")
              .help("look the map up by " + a_type(base->key) + " key");
          return T_.error();
        }
        return base->element;
      }
      s_.sink.error("V-TYP-013", ix.base->span, "cannot index a value of type `" + type_to_string(base) + "`")
          .label("not a list, map or string")
          .help("only lists, maps and strings can be indexed");
      return T_.error();
    }
    case ExprKind::Unary: {
      auto& u = static_cast<const UnaryExpr&>(e);
      TypeRef t = expr(*u.operand);
      if (t->is_error()) return t;
      if (u.op == UnaryOp::Neg) {
        if (t->is_numeric()) return t;
        s_.sink.error("V-TYP-008", e.span, "cannot negate " + a_type(t))
            .label("`-` needs an int or a float")
            .help("negate a number");
        return T_.error();
      }
      if (t == T_.bool_()) return t;
      s_.sink.error("V-TYP-008", e.span, "`!` needs a `bool`, found `" + type_to_string(t) + "`")
          .label("not a bool")
          .help("compare first, e.g. `!(x > 0)`");
      return T_.error();
    }
    case ExprKind::VersionedType:
      s_.sink.error("V-TYP-009", e.span, "a versioned state type is only used to construct a state")
          .label("not a value")
          .help("call it with fields: `D.State@2(field = value, ...)`");
      return T_.error();
  }
  return T_.error();
}

TypeRef BodyChecker::name(const NameExpr& e) {
  if (const Local* l = find_local(e.name)) return l->type;
  if (migration_input_ && e.name == "from") return T_.unknown();
  const bool stateful = domain_ && kind_ != BodyKind::Fn && kind_ != BodyKind::FieldDefault &&
                        kind_ != BodyKind::Migration;
  if (stateful && domain_->field(e.name)) return field_read(*domain_, e.name, e.span);
  // A field where state is not visible: of this domain, or (for a top-level function,
  // e.g. in script mode) of any domain.
  bool is_field = domain_ ? domain_->field(e.name) != nullptr : false;
  if (!domain_ && kind_ == BodyKind::Fn) {
    for (const auto& d : s_.model.domains) is_field = is_field || d.field(e.name);
  }
  if (!stateful && is_field) {
    const char* help = kind_ == BodyKind::Fn          ? "functions are pure: pass the value as a parameter"
                       : kind_ == BodyKind::Migration ? "a migration reads the stored state as `from.<field>`"
                                                      : "a default must be a constant expression";
    s_.sink.error("V-ERR-011", e.span, std::string("state field `") + e.name + "` cannot be read in " + kind_noun(kind_))
        .label("state is not visible here")
        .help(help);
    return T_.error();
  }
  if (e.name == "state" || e.name == "self" || e.name == "internal_state") {
    s_.sink.error("V-TYP-001", e.span, "`" + e.name + "` is not a value on its own")
        .label("write `" + e.name + ".field`")
        .help("read a field as `" + e.name + ".field` or by its bare name");
    return T_.error();
  }
  if (is_nondeterministic_source(e.name)) {
    s_.sink.error("V-ERR-002", e.span, "`" + e.name + "` would read the wall clock or OS entropy")
        .label("nondeterministic")
        .help("use `tick()` for logical time and `rand(n)` for deterministic randomness");
    return T_.error();
  }
  if (s_.model.domain(e.name)) {
    s_.sink.error("V-TYP-001", e.span, "domain `" + e.name + "` is not a value")
        .label("a domain type")
        .help("send it a message: `send " + e.name + ".Transition(...)`");
    return T_.error();
  }
  if (s_.model.fns.count(e.name) || is_builtin_function(e.name)) {
    s_.sink.error("V-TYP-009", e.span, "function `" + e.name + "` must be called")
        .label("not called")
        .help("call it: `" + e.name + "(...)`");
    return T_.error();
  }
  s_.sink.error("V-TYP-001", e.span, "unknown name `" + e.name + "`")
      .label("not a local, parameter or state field")
      .help(suggestion(e.name, visible_names()));
  return T_.error();
}

TypeRef BodyChecker::member(const MemberExpr& e) {
  const std::string& field = e.member.name;
  if (is_state_alias(*e.base)) {
    if (!domain_ || kind_ == BodyKind::Fn || kind_ == BodyKind::FieldDefault) {
      s_.sink.error("V-ERR-011", e.span, std::string("state cannot be read in ") + kind_noun(kind_))
          .label("state is not visible here")
          .help("functions are pure: pass the value as a parameter");
      return T_.error();
    }
    return field_read(*domain_, field, e.member.span);
  }
  if (auto* base_name = e.base->as<NameExpr>(); base_name && !find_local(base_name->name)) {
    bool is_field = domain_ && domain_->field(base_name->name) && kind_ != BodyKind::Fn;
    if (!is_field) {
      if (migration_input_ && base_name->name == "from") {
        const FieldSym* f = migration_input_->field(field);
        if (!f && migration_read_target_ == &e && migration_read_type_) return migration_read_type_;
        if (!f) {
          // The stored schema is the old program's; this program knows a field's type
          // only from its current schema (docs/upgrades.md), and compiles the read with it.
          s_.sink.error("V-ERR-022", e.span, "`from." + field + "`: `" + migration_input_->name +
                                                 "` has no field `" + field + "` now, so its stored type is unknown")
              .label("not a field of the current schema")
              .help("a migration reads the stored fields the current schema still declares, or one it passes on as "
                    "is, `new_field = from." + field + "` (read as the new field's type); keep `" + field +
                    "` in the state until the migration that stops reading it, or drop the read")
              .note("the stored value is taken by name and must have the current field's type");
          return T_.error();
        }
        if (f->type->kind == TypeKind::Optional && !coalesce_lhs_ && s_.options.lint) {
          s_.sink.warning("V-LNT-004", e.span, "migration reads optional field `" + field + "` without handling `none`")
              .label("may be `none` in stored states")
              .help("give a fallback: `from." + field + " ?? value`");
        }
        return f->type;
      }
      if (const DomainSym* other = s_.model.domain(base_name->name)) {
        if (kind_ == BodyKind::Test) return field_read(*other, field, e.member.span);
        if (other->field(field)) {
          s_.sink.error("V-ERR-010", e.span,
                        "`" + base_name->name + "." + field + "` reads the state of domain `" + other->name + "`")
              .label("another domain's state")
              .help("domains share nothing: send `" + other->name + "` a message and have it `reply` with the value");
          return T_.error();
        }
        s_.sink.error("V-TYP-005", e.member.span, "domain `" + other->name + "` has no state field `" + field + "`")
            .label("unknown field")
            .help("to invoke a transition, use `send " + other->name + "." + field + "(...)`");
        return T_.error();
      }
      std::string path = base_name->name + "." + field;
      if (is_nondeterministic_source(path)) {
        s_.sink.error("V-ERR-002", e.span, "`" + path + "` would read the wall clock or OS entropy")
            .label("nondeterministic")
            .help("use `tick()` for logical time and `rand(n)` for deterministic randomness");
        return T_.error();
      }
      if (s_.model.effects.count(path) || s_.model.observations.count(path)) {
        s_.sink.error("V-TYP-009", e.span, "`" + path + "` must be called")
            .label("not called")
            .help("call it with its arguments: `" + path + "(...)`");
        return T_.error();
      }
    }
  }
  TypeRef base = expr(*e.base);
  if (base->is_error() || base->kind == TypeKind::Unknown) return base;
  if (base->kind == TypeKind::Record) {
    auto it = s_.model.records.find(base->name);
    if (it != s_.model.records.end()) {
      auto fi = it->second.field_index.find(field);
      if (fi != it->second.field_index.end()) return it->second.fields[fi->second].type;
      std::vector<std::string> names;
      for (const auto& f : it->second.fields) names.push_back(f.name);
      s_.sink.error("V-TYP-005", e.member.span, "record `" + base->name + "` has no field `" + field + "`")
          .label("unknown field")
          .help(suggestion(field, names));
      return T_.error();
    }
  }
  s_.sink.error("V-TYP-005", e.member.span, a_type(base) + " has no field `" + field + "`")
      .label("unknown field")
      .help(base->kind == TypeKind::Optional ? "unwrap the optional first with `?? value`"
                                             : "only records have fields");
  return T_.error();
}

void BodyChecker::check_args(const std::vector<Argument>& args, const std::vector<ParamSym>& params, Span call_span,
                             const std::string& what, const std::vector<std::string>& extra_named) {
  std::vector<bool> given(params.size(), false);
  size_t positional = 0;
  bool saw_named = false;
  std::vector<std::string> unknown_names;
  bool misplaced = false;
  for (const auto& a : args) {
    TypeRef t = expr(*a.value);
    if (!a.name) {
      if (saw_named) {
        s_.sink.error("V-TYP-004", a.span, "positional argument after named arguments in " + what)
            .label("positional")
            .help("name this argument, or move it before the named ones");
        misplaced = true;
        continue;
      }
      if (positional >= params.size()) {
        s_.sink.error("V-TYP-004", a.span, what + " takes " + std::to_string(params.size()) + " argument" +
                                               (params.size() == 1 ? "" : "s"))
            .label("one too many")
            .help("remove the extra argument");
        ++positional;
        continue;
      }
      given[positional] = true;
      if (!assignable(t, params[positional].type)) {
        s_.sink.error("V-TYP-002", a.value->span, "argument `" + params[positional].name + "` of " + what +
                                                      " expects `" + type_to_string(params[positional].type) +
                                                      "`, found `" + type_to_string(t) + "`")
            .label("this is `" + type_to_string(t) + "`")
            .help("pass " + a_type(params[positional].type));
      }
      ++positional;
      continue;
    }
    saw_named = true;
    const std::string& n = a.name->name;
    auto it = std::find_if(params.begin(), params.end(), [&](const ParamSym& p) { return p.name == n; });
    if (it == params.end()) {
      if (std::find(extra_named.begin(), extra_named.end(), n) != extra_named.end()) {
        if (!assignable(t, T_.string())) {
          s_.sink.error("V-TYP-002", a.value->span, "`" + n + "` must be a `string`")
              .label("this is `" + type_to_string(t) + "`")
              .help("convert it with `str(...)` or `format(...)`");
        }
        continue;
      }
      // Suggest among the parameters not given yet: the likely intended one.
      std::vector<std::string> names;
      for (size_t i = 0; i < params.size(); ++i)
        if (!given[i]) names.push_back(params[i].name);
      s_.sink.error("V-TYP-004", a.name->span, what + " has no parameter `" + n + "`")
          .label("unknown parameter")
          .help(suggestion(n, names));
      unknown_names.push_back(n);
      continue;
    }
    size_t idx = static_cast<size_t>(it - params.begin());
    if (given[idx]) {
      s_.sink.error("V-TYP-004", a.name->span, "argument `" + n + "` of " + what + " is given twice")
          .label("given again")
          .help("pass each argument once");
      continue;
    }
    given[idx] = true;
    if (!assignable(t, it->type)) {
      s_.sink.error("V-TYP-002", a.value->span, "argument `" + n + "` of " + what + " expects `" +
                                                    type_to_string(it->type) + "`, found `" + type_to_string(t) + "`")
          .label("this is `" + type_to_string(t) + "`")
          .help("pass " + a_type(it->type));
    }
  }
  // A misspelt or misplaced argument already explains what is missing.
  if (misplaced || !unknown_names.empty()) return;
  for (size_t i = 0; i < params.size(); ++i) {
    if (given[i]) continue;
    s_.sink.error("V-TYP-004", call_span, what + " is missing argument `" + params[i].name + ": " +
                                              type_to_string(params[i].type) + "`")
        .label("argument missing")
        .help("add `" + params[i].name + ": <value>`");
  }
}

TypeRef BodyChecker::record_construction(const CallExpr& e, const std::string& display,
                                         const std::vector<FieldSym>& fields) {
  std::vector<std::string> seen;
  for (const auto& a : e.args) {
    if (migration_input_ && a.name && a.value->as<MemberExpr>()) {
      auto target = std::find_if(fields.begin(), fields.end(), [&](const FieldSym& f) { return f.name == a.name->name; });
      if (target != fields.end()) {
        migration_read_target_ = a.value.get();
        migration_read_type_ = target->type;
      }
    }
    TypeRef t = expr(*a.value);
    migration_read_target_ = nullptr;
    migration_read_type_ = nullptr;
    if (!a.name) {
      s_.sink.error("V-TYP-004", a.span, "fields of `" + display + "` are given by name")
          .label("positional value")
          .help("write `field = value` (or `field: value`)");
      continue;
    }
    auto it = std::find_if(fields.begin(), fields.end(), [&](const FieldSym& f) { return f.name == a.name->name; });
    if (it == fields.end()) {
      std::vector<std::string> names;
      for (const auto& f : fields) names.push_back(f.name);
      s_.sink.error("V-TYP-005", a.name->span, "`" + display + "` has no field `" + a.name->name + "`")
          .label("unknown field")
          .help(suggestion(a.name->name, names));
      continue;
    }
    if (std::find(seen.begin(), seen.end(), a.name->name) != seen.end()) {
      s_.sink.error("V-TYP-004", a.name->span, "field `" + a.name->name + "` is given twice")
          .label("given again")
          .help("give each field once");
      continue;
    }
    seen.push_back(a.name->name);
    if (!assignable(t, it->type)) {
      s_.sink.error("V-TYP-002", a.value->span, "field `" + a.name->name + "` of `" + display + "` is `" +
                                                    type_to_string(it->type) + "`, found `" + type_to_string(t) + "`")
          .label("this is `" + type_to_string(t) + "`")
          .help("pass " + a_type(it->type));
    }
  }
  return nullptr;
}

namespace {

// Whether the checker left part of `t` open (`none`, an empty literal's element type) or
// gave up on it: such a parameter of an implicit signature is not compared (lowering
// reports V-TYP-018 at the first use when it stays open).
bool open_type(TypeRef t) {
  if (!t) return true;
  if (t->kind == TypeKind::Unknown || t->kind == TypeKind::None || t->kind == TypeKind::Error) return true;
  return (t->element && open_type(t->element)) || (t->key && open_type(t->key));
}

// `Pager.Page(who: string)`: how an effect with these parameters would be declared.
std::string signature_text(const std::string& path, const std::vector<ParamSym>& params) {
  std::string out = path + "(";
  for (size_t i = 0; i < params.size(); ++i) {
    if (i) out += ", ";
    out += params[i].name + ": " + type_to_string(params[i].type);
  }
  return out + ")";
}

}  // namespace

// The first use of an undeclared effect declares it (UndeclaredEffectSym): its
// parameters are the use's arguments in order, a named one under its name, a positional
// one as `arg0`, `arg1`, ... by its position, each with the argument's type. A later use
// is checked against that signature as a call is against a declaration: positional
// arguments fill the parameters in order, named ones by name; each parameter exactly
// once, none unknown, each of an assignable type. A use that disagrees is one error
// (V-TYP-004 for names and arity, V-TYP-002 for a type) that points at the first use and
// suggests declaring the effect. Declaring the effect with the signature of its first
// use therefore never breaks a program that checked without the declaration.
void BodyChecker::undeclared_effect_call(const CallExpr& e, const std::string& path) {
  std::vector<ParamSym> args;              // this use's arguments as a signature
  std::vector<const Argument*> written;    // the argument each entry of `args` came from
  bool well_formed = true;
  bool saw_named = false;
  for (const auto& a : e.args) {
    TypeRef t = expr(*a.value);
    if (a.name && a.name->name == "idempotency_key") {
      if (!assignable(t, T_.string())) {
        s_.sink.error("V-TYP-002", a.value->span, "`idempotency_key` must be a `string`")
            .label("this is `" + type_to_string(t) + "`")
            .help("convert it with `str(...)` or `format(...)`");
      }
      continue;
    }
    if (!a.name) {
      if (saw_named) {
        s_.sink.error("V-TYP-004", a.span, "positional argument after named arguments in effect `" + path + "`")
            .label("positional")
            .help("name this argument, or move it before the named ones");
        well_formed = false;
        continue;
      }
      args.push_back(ParamSym{"arg" + std::to_string(args.size()), t, a.value->span});
      written.push_back(&a);
      continue;
    }
    saw_named = true;
    const std::string& n = a.name->name;
    auto dup = std::find_if(args.begin(), args.end(), [&](const ParamSym& p) { return p.name == n; });
    if (dup != args.end()) {
      s_.sink.error("V-TYP-004", a.name->span, "argument `" + n + "` of effect `" + path + "` is given twice")
          .label("given again")
          .secondary(written[static_cast<size_t>(dup - args.begin())]->span, "first given here")
          .help("pass each argument once");
      well_formed = false;
      continue;
    }
    args.push_back(ParamSym{n, t, a.value->span});
    written.push_back(&a);
  }

  auto& table = s_.model.undeclared_effects;
  auto it = table.find(path);
  const std::vector<ParamSym>& signature = it == table.end() ? args : it->second.params;
  s_.sink.warning("V-WRN-004", e.callee->span, "effect `" + path + "` is not declared")
      .label("undeclared effect")
      .help("declare it, e.g. `effect " + signature_text(path, signature) +
            " : local`; at run time it fails with `NoAdapter` unless an adapter is bound with `--effect` or "
            "`--adapter`");
  if (it == table.end()) {
    if (well_formed) table.emplace(path, UndeclaredEffectSym{path, args, e.span});
    return;
  }
  if (!well_formed) return;  // its own error explains it

  const UndeclaredEffectSym& first = it->second;
  const std::vector<ParamSym>& params = first.params;
  const std::string declared = signature_text(path, params);
  auto disagree = [&](const char* code, Span at, const std::string& message, const std::string& label) {
    s_.sink.error(code, at, message)
        .label(label)
        .secondary(first.first_use, "first used here as `" + declared + "`")
        .help("pass the arguments of the first use, or declare the effect, e.g. `effect " + declared +
              " : local`, so that every use is checked against one signature");
  };
  const std::string what = "undeclared effect `" + path + "`";
  std::vector<bool> given(params.size(), false);
  size_t positional = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const Argument& a = *written[i];
    size_t index;
    if (!a.name) {
      if (positional >= params.size()) {
        disagree("V-TYP-004", a.span,
                 what + " takes " + std::to_string(params.size()) + " argument" + (params.size() == 1 ? "" : "s") +
                     ", as at its first use",
                 "one too many");
        return;
      }
      index = positional++;
    } else {
      auto p = std::find_if(params.begin(), params.end(), [&](const ParamSym& x) { return x.name == a.name->name; });
      if (p == params.end()) {
        disagree("V-TYP-004", a.name->span, what + " has no argument `" + a.name->name + "` at its first use",
                 "not an argument of the first use");
        return;
      }
      index = static_cast<size_t>(p - params.begin());
      if (given[index]) {
        disagree("V-TYP-004", a.name->span,
                 "argument `" + a.name->name + "` of " + what + " is given twice, by position and by name",
                 "given again");
        return;
      }
    }
    given[index] = true;
    if (!open_type(params[index].type) && !assignable(args[i].type, params[index].type)) {
      disagree("V-TYP-002", a.value->span,
               "argument `" + params[index].name + "` of " + what + " is `" + type_to_string(args[i].type) +
                   "` here but `" + type_to_string(params[index].type) + "` at its first use",
               "this is `" + type_to_string(args[i].type) + "`");
      return;
    }
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (given[i]) continue;
    disagree("V-TYP-004", e.span,
             what + " is missing argument `" + params[i].name + ": " + type_to_string(params[i].type) +
                 "`, which its first use passes",
             "argument missing");
    return;
  }
}

TypeRef BodyChecker::effect_call(const CallExpr& e, const EffectSym* effect, const std::string& path) {
  if (is_pure_kind(kind_)) {
    s_.sink.error("V-ERR-011", e.span, std::string("effect `") + path + "` cannot be used in " + kind_noun(kind_))
        .label("an effect intent in pure code")
        .help("emit effects from a transition: `emit " + path + "(...)`");
    for (const auto& a : e.args) expr(*a.value);
    return T_.error();
  }
  if (!effect) {
    undeclared_effect_call(e, path);
    return T_.intent(path);
  }
  check_args(e.args, effect->params, e.span, "effect `" + path + "`", {"idempotency_key"});
  if (domain_ && static_cast<int>(effect->privilege) > static_cast<int>(domain_->privilege)) {
    s_.sink.error("V-ERR-008", e.span, "domain `" + domain_->name + "` (privilege " + privilege_name(domain_->privilege) +
                                           ") cannot emit `" + path + "` (privilege " +
                                           privilege_name(effect->privilege) + ")")
        .label("effect above the domain's privilege")
        .secondary(effect->span, std::string("declared with privilege ") + privilege_name(effect->privilege))
        .help(std::string("raise the domain's privilege with `@privilege ") + privilege_name(effect->privilege) +
              "` if it really needs this effect");
  }
  return T_.intent(path);
}

TypeRef BodyChecker::call(const CallExpr& e) {
  // `D.State@N(...)`: a state of a given schema version, in migrations.
  if (auto* v = e.callee->as<VersionedTypeExpr>()) {
    const DomainSym* d = s_.model.domain(v->domain.name);
    if (!d || v->type.name != "State") {
      s_.sink.error("V-TYP-006", v->span, "`" + v->domain.name + "." + v->type.name + "` is not a domain state")
          .label("unknown state type")
          .help("write `Domain.State@N(...)` with a declared domain");
      for (const auto& a : e.args) expr(*a.value);
      return T_.error();
    }
    std::string display = d->name + ".State@" + std::to_string(v->version);
    if (v->version == d->version) record_construction(e, display, d->fields);
    else for (const auto& a : e.args) expr(*a.value);  // an older schema: its fields are unknown
    return T_.record(display);
  }

  auto path = dotted_path(*e.callee);
  if (!path) {
    TypeRef t = expr(*e.callee);
    for (const auto& a : e.args) expr(*a.value);
    if (!t->is_error()) {
      s_.sink.error("V-TYP-009", e.callee->span, a_type(t) + " cannot be called")
          .label("not a function")
          .help("only functions, records, effects and observations are called");
    }
    return T_.error();
  }
  const std::string& p = *path;
  if (find_local(p) || (domain_ && domain_->field(p) && kind_ != BodyKind::Fn)) {
    s_.sink.error("V-TYP-009", e.callee->span, "`" + p + "` is a value, not a function")
        .label("not callable")
        .help("only functions, records, effects and observations are called");
    for (const auto& a : e.args) expr(*a.value);
    return T_.error();
  }
  if (is_nondeterministic_source(p)) {
    s_.sink.error("V-ERR-002", e.span, "`" + p + "` would read the wall clock or OS entropy")
        .label("nondeterministic")
        .help("use `tick()` for logical time and `rand(n)` for deterministic randomness");
    for (const auto& a : e.args) expr(*a.value);
    return T_.error();
  }
  if (auto it = s_.model.effects.find(p); it != s_.model.effects.end()) return effect_call(e, &it->second, p);
  if (auto it = s_.model.observations.find(p); it != s_.model.observations.end()) {
    if (kind_ != BodyKind::Transition && kind_ != BodyKind::Goal && kind_ != BodyKind::Test) {
      s_.sink.error("V-ERR-011", e.span, "observation `" + p + "` cannot be read in " + std::string(kind_noun(kind_)))
          .label("a read of the outside world")
          .help("observations may be read by goals and transitions; pass the value in instead");
    }
    check_args(e.args, it->second.params, e.span, "observation `" + p + "`");
    return it->second.result;
  }
  if (auto it = s_.model.fns.find(p); it != s_.model.fns.end()) {
    check_args(e.args, it->second.params, e.span, "function `" + p + "`");
    return it->second.result;
  }
  if (auto it = s_.model.records.find(p); it != s_.model.records.end()) {
    record_construction(e, p, it->second.fields);
    return T_.record(p);
  }
  if (is_builtin_function(p)) {
    BuiltinPurity purity = builtin_purity(p);
    if (purity == BuiltinPurity::DrawsRandom && kind_ != BodyKind::Transition && kind_ != BodyKind::Test) {
      s_.sink.error("V-ERR-011", e.span, std::string("`rand` cannot be used in ") + kind_noun(kind_))
          .label("draws from the instance's generator")
          .help("draw random numbers in a transition and store them in state");
    }
    if (purity == BuiltinPurity::TestOnly && kind_ != BodyKind::Test) {
      s_.sink.error("V-TYP-009", e.span, "`" + p + "` is only available in simulation tests")
          .label("test-only function")
          .help("use it inside a `test` block's `simulate { }`");
    }
    BuiltinCall bc;
    bc.span = e.span;
    for (const auto& a : e.args) {
      bc.arg_types.push_back(expr(*a.value));
      bc.arg_spans.push_back(a.value->span);
    }
    if (!e.args.empty()) {
      if (auto* lit = e.args[0].value->as<StringLit>()) bc.first_string_literal = lit->value;
    }
    return type_builtin_call(p, bc, T_, s_.sink);
  }
  // Not declared anywhere. Under `emit` (or with a qualified name, which only effects
  // and observations have) it is an undeclared effect: V-WRN-004, not an error.
  if (in_emit_) return effect_call(e, nullptr, p);
  if (p.find('.') != std::string::npos) {
    std::string head = p.substr(0, p.find('.'));
    if (const DomainSym* d = s_.model.domain(head)) {
      s_.sink.error("V-TYP-009", e.span, "`" + p + "` looks like a message, which is sent, not called")
          .label("not a function")
          .help("write `send " + p + "(...)`" + (d->transition(p.substr(head.size() + 1)) ? "" : " with a transition of `" + head + "`"));
      for (const auto& a : e.args) expr(*a.value);
      return T_.error();
    }
    return effect_call(e, nullptr, p);
  }
  std::vector<std::string> names = builtin_function_names();
  for (const auto& [n, f] : s_.model.fns) names.push_back(n);
  for (const auto& [n, r] : s_.model.records) names.push_back(n);
  s_.sink.error("V-TYP-009", e.callee->span, "unknown function `" + p + "`")
      .label("not a function, record, effect or observation")
      .help(suggestion(p, names));
  for (const auto& a : e.args) expr(*a.value);
  return T_.error();
}

TypeRef BodyChecker::binary(const BinaryExpr& e) {
  TypeRef l;
  if (e.op == BinaryOp::Coalesce) {
    bool saved = coalesce_lhs_;
    coalesce_lhs_ = true;
    l = expr(*e.lhs);
    coalesce_lhs_ = saved;
  } else {
    l = expr(*e.lhs);
  }
  TypeRef r = expr(*e.rhs);
  if (l->is_error() || r->is_error()) return T_.error();
  const std::string op = binary_op_spelling(e.op);
  auto fail = [&](const std::string& why, const std::string& help) {
    s_.sink.error("V-TYP-008", e.op_span, "`" + op + "` cannot combine `" + type_to_string(l) + "` and `" +
                                              type_to_string(r) + "`")
        .label(why)
        .secondary(e.lhs->span, "`" + type_to_string(l) + "`")
        .secondary(e.rhs->span, "`" + type_to_string(r) + "`")
        .help(help);
    return T_.error();
  };
  const bool unknown = l->kind == TypeKind::Unknown || r->kind == TypeKind::Unknown;
  switch (e.op) {
    case BinaryOp::Add:
      if (l == T_.string() && r == T_.string()) return T_.string();
      [[fallthrough]];
    case BinaryOp::Sub:
    case BinaryOp::Mul:
    case BinaryOp::Div:
    case BinaryOp::Rem:
      if (unknown) return T_.unknown();
      if (l->is_numeric() && r->is_numeric()) return l == r ? l : T_.float_();
      {
        std::string help = "use numbers on both sides";
        if (l->kind == TypeKind::Optional || r->kind == TypeKind::Optional)
          help = "unwrap the optional first: `(x ?? 0)`";
        else if (e.op == BinaryOp::Add && (l == T_.string() || r == T_.string()))
          help = "convert the other side with `str(...)` to join strings";
        else if (l == T_.string() || r == T_.string())
          help = "strings only support `+` (joining); build repeated text with a loop or `join`";
        return fail(e.op == BinaryOp::Add ? "`+` adds numbers or joins two strings" : "arithmetic needs numbers", help);
      }
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
      if (unknown || (l->is_numeric() && r->is_numeric()) || (l == T_.string() && r == T_.string())) return T_.bool_();
      return fail("ordering compares two numbers or two strings", "compare values of one kind");
    case BinaryOp::Eq:
    case BinaryOp::Ne:
      if (unknown || assignable(l, r) || assignable(r, l) || (l->is_numeric() && r->is_numeric())) return T_.bool_();
      return fail("these can never be equal", "compare values of the same type");
    case BinaryOp::And:
    case BinaryOp::Or:
      if (unknown || (l == T_.bool_() && r == T_.bool_())) return T_.bool_();
      return fail("logical operators need two bools", "compare first, e.g. `x > 0 && y > 0`");
    case BinaryOp::Coalesce:
      if (unknown) return T_.unknown();
      if (l->kind == TypeKind::None) return r;
      if (l->kind != TypeKind::Optional) {
        return fail("`??` needs an optional on the left", "`" + type_to_string(l) + "` is never `none`; drop `??`");
      }
      if (assignable(r, l->element)) return l->element;
      if (assignable(r, l)) return l;
      return fail("the fallback must have the optional's type", "give " + a_type(l->element) + " fallback");
  }
  return T_.error();
}

// ---------------------------------------------------------------------------------
// Statements

void BodyChecker::statements(const std::vector<StmtPtr>& list) {
  for (size_t i = 0; i < list.size(); ++i) {
    statement(*list[i]);
    bool ends = list[i]->kind == StmtKind::Fail || list[i]->kind == StmtKind::Return;
    if (ends && i + 1 < list.size() && s_.options.lint) {
      s_.sink.warning("V-LNT-005", list[i + 1]->span, "unreachable code")
          .label("never runs")
          .secondary(list[i]->span, "control never passes this statement")
          .help("remove the unreachable statements");
    }
  }
}

void BodyChecker::block(const Block& b) {
  scopes_.emplace_back();
  statements(b.statements);
  scopes_.pop_back();
}

bool BodyChecker::require_transition(Span at, const char* what, bool tests_may) {
  if (kind_ == BodyKind::Transition || (tests_may && kind_ == BodyKind::Test)) return true;
  s_.sink.error("V-ERR-011", at, std::string(what) + " is not allowed in " + kind_noun(kind_))
      .label(kind_ == BodyKind::Test ? "a test only sends messages and advances time" : "a side effect in pure code")
      .help(kind_ == BodyKind::Test ? "in `simulate`, send messages and call `advance_ticks(n)`; stub effects with "
                                      "`effect E { ... }`"
                                    : "only transitions write state, send, emit, spawn and schedule");
  return false;
}

void BodyChecker::check_mutation(Span at, const DomainSym& target, const char* verb) {
  if (kind_ != BodyKind::Transition || !domain_) return;
  // A scope that did not resolve was reported already; guessing one would only add noise.
  if (target.scope_unresolved || domain_->scope_unresolved || (transition_ && transition_->scope_unresolved)) return;
  auto& tree = s_.model.authority;
  ScopeId a = transition_ ? transition_->scope : domain_->scope;
  ScopeId b = target.scope;
  if (tree.is_ancestor_or_self(a, b)) return;
  std::string from = "`" + domain_->name + "` (" + tree.describe(a) + ")";
  std::string to = "`" + target.name + "` (" + tree.describe(b) + ")";
  if (tree.is_ancestor_or_self(b, a)) {
    if (transition_ && transition_->escalation_reason) {
      if (transition_->escalation_reason->empty()) return;  // `@escalate` without a reason: reported
      s_.sink.warning("V-WRN-030", at, std::string("escalated upward mutation: ") + from + " " +
                                           (verb == std::string("send to") ? "sends to" : "spawns") + " " + to)
          .label("allowed by `@escalate`")
          .note("every execution journals an Escalation record with the reason \"" + *transition_->escalation_reason +
                "\"")
          .help("prefer routing through a domain at or above " + tree.describe(b));
      return;
    }
    s_.sink.error("V-ERR-001", at, std::string("upward mutation: ") + from + " cannot " + verb + " " + to)
        .label(std::string(verb == std::string("send to") ? "sent" : "spawned") + " from scope " + tree.describe(a))
        .help("route the request through a domain at or above " + tree.describe(b) +
              ", or answer with `reply`; `@escalate(reason: \"...\")` allows it with an audit record");
    return;
  }
  ScopeId common = tree.nearest_common_ancestor(a, b);
  s_.sink.error("V-ERR-007", at, std::string("lateral mutation: ") + from + " cannot " + verb + " " + to)
      .label("neither scope contains the other")
      .help("route through a domain at " + tree.describe(common) +
            ", their nearest common ancestor, which may send to both");
}

void BodyChecker::check_instance_id(const Expr& id) {
  TypeRef t = expr(id);
  if (!assignable(t, T_.int_()) && !assignable(t, T_.string())) {
    s_.sink.error("V-TYP-002", id.span, "an instance id is an `int` or a `string`")
        .label("this is `" + type_to_string(t) + "`")
        .help("address instances as `T[42]` or `T[\"name\"]`");
  }
}

void BodyChecker::send(const SendStmt& s) {
  if (!require_transition(s.span, "`send`", /*tests_may=*/true)) return;
  if (s.instance_id) check_instance_id(*s.instance_id);
  const DomainSym* target = require_domain(s.target_type, s_);
  if (!target) {
    for (const auto& a : s.args) expr(*a.value);
    return;
  }
  const TransitionSym* t = target->transition(s.message.name);
  if (!t) {
    std::vector<std::string> names;
    for (const auto& x : target->transitions) names.push_back(x.name);
    s_.sink.error("V-TYP-007", s.message.span, "domain `" + target->name + "` has no transition `" + s.message.name + "`")
        .label("unknown message")
        .help(suggestion(s.message.name, names));
    for (const auto& a : s.args) expr(*a.value);
  } else {
    if (s_.options.lint) s_.transitions_referenced[target->name].insert(t->name);
    check_args(s.args, t->params, s.span, "message `" + target->name + "." + t->name + "`");
  }
  // Capabilities bound what the transition may send (spec §3).
  if (kind_ == BodyKind::Transition && domain_) {
    // The transition's block, if any, narrows the domain's: both bound the send.
    std::optional<CapabilitySet> cap = transition_ && transition_->capability ? transition_->capability
                                                                              : domain_->capability;
    if (cap && cap->send_to.empty() && domain_->capability) cap->send_to = domain_->capability->send_to;
    if (cap) {
      if (!cap->messaging) {
        s_.sink.error("V-ERR-009", s.span, "`send` needs the `messaging` capability")
            .label("not granted")
            .secondary(cap->span, "capabilities in force here")
            .help("add `messaging` to the capability block");
      } else if (!cap->send_to.empty() &&
                 std::find(cap->send_to.begin(), cap->send_to.end(), target->name) == cap->send_to.end()) {
        s_.sink.error("V-ERR-009", s.span, "sending to `" + target->name + "` is outside this code's capabilities")
            .label("`" + target->name + "` is not listed in `send_to`")
            .secondary(cap->span, "capabilities in force here")
            .help("add `send_to: " + target->name + "` to the capability block");
      }
    }
  }
  check_mutation(s.span, *target, "send to");
}

void BodyChecker::spawn(const SpawnStmt& s) {
  if (!require_transition(s.span, "`spawn`")) return;
  if (s.instance_id) check_instance_id(*s.instance_id);
  const DomainSym* target = require_domain(s.type, s_);
  if (!target) {
    for (const auto& i : s.inits) expr(*i.value);
    return;
  }
  for (const auto& i : s.inits) {
    const FieldSym* f = target->field(i.field.name);
    TypeRef t = expr(*i.value);
    if (!f) {
      std::vector<std::string> names;
      for (const auto& x : target->fields) names.push_back(x.name);
      s_.sink.error("V-TYP-005", i.field.span, "domain `" + target->name + "` has no state field `" + i.field.name + "`")
          .label("unknown field")
          .help(suggestion(i.field.name, names));
    } else if (!assignable(t, f->type)) {
      s_.sink.error("V-TYP-002", i.value->span, "field `" + f->name + "` is `" + type_to_string(f->type) +
                                                    "`, found `" + type_to_string(t) + "`")
          .label("this is `" + type_to_string(t) + "`")
          .help("pass " + a_type(f->type));
    }
  }
  check_mutation(s.span, *target, "spawn");
}

void BodyChecker::assign(const AssignStmt& s) {
  // Where state may not be written (or, in tests, where a domain's state is named),
  // say so once, whatever the shape of the target.
  const Expr* root = s.target.get();
  while (true) {
    if (auto* m = root->as<MemberExpr>()) root = m->base.get();
    else if (auto* i = root->as<IndexExpr>()) root = i->base.get();
    else break;
  }
  if (auto* rn = root->as<NameExpr>(); rn && !find_local(rn->name) && kind_ != BodyKind::Transition) {
    bool state_root = is_state_alias(*root) || (domain_ && domain_->field(rn->name) && root != s.target.get());
    bool other_domain = s_.model.domain(rn->name) != nullptr && root != s.target.get();
    if (state_root || other_domain) {
      s_.sink.error("V-ERR-011", s.target->span, std::string("state cannot be written in ") + kind_noun(kind_))
          .label("a write to " + std::string(other_domain ? "domain `" + rn->name + "`'s" : "the") + " state")
          .help(kind_ == BodyKind::Test ? "tests set initial state in `given { }` and read it in `expect { }`"
                                        : "only transitions write state");
      expr(*s.value);
      return;
    }
  }
  // A bare name: a local, a state field, or (docs style) a new local.
  if (auto* n = s.target->as<NameExpr>()) {
    const Local* local = find_local(n->name);
    const FieldSym* field = (!local && domain_) ? domain_->field(n->name) : nullptr;
    if (field && kind_ != BodyKind::Transition) {
      s_.sink.error("V-ERR-011", s.span, "state field `" + n->name + "` cannot be written in " + kind_noun(kind_))
          .label("a write to state")
          .help("only transitions write state");
      expr(*s.value);
      return;
    }
    if (!local && !field) {
      TypeRef v = expr(*s.value);
      if (s.op != AssignOp::Set) {
        s_.sink.error("V-TYP-001", n->span, "unknown name `" + n->name + "`")
            .label("`" + std::string(assign_op_spelling(s.op)) + "` needs an existing variable")
            .help(suggestion(n->name, visible_names()));
        return;
      }
      declare_local(n->name, v, n->span, true);
      s_.model.local_types[&s] = v;
      s_.model.expr_types[s.target.get()] = v;
      return;
    }
  }
  TypeRef target;
  if (auto* n = s.target->as<NameExpr>(); n && !find_local(n->name) && domain_ && domain_->field(n->name)) {
    target = domain_->field(n->name)->type;  // a write is not a read (V-LNT-002)
    s_.model.expr_types[s.target.get()] = target;
  } else {
    target = expr(*s.target);
  }
  TypeRef value = expr(*s.value);
  if (target->is_error() || value->is_error()) return;
  if (s.op == AssignOp::Set) {
    if (!assignable(value, target)) {
      s_.sink.error("V-TYP-002", s.value->span, "mismatched types: `" + type_to_string(target) + "` cannot hold a `" +
                                                    type_to_string(value) + "`")
          .label("this is `" + type_to_string(value) + "`")
          .secondary(s.target->span, "this is `" + type_to_string(target) + "`")
          .help(value->kind == TypeKind::Optional ? "give a fallback with `?? value`" : "assign " + a_type(target));
    }
    return;
  }
  bool ok = (target->is_numeric() && value->is_numeric() && (target == value || target == T_.float_())) ||
            (s.op == AssignOp::Add && target == T_.string() && value == T_.string()) ||
            target->kind == TypeKind::Unknown || value->kind == TypeKind::Unknown;
  if (!ok) {
    s_.sink.error("V-TYP-008", s.span, std::string("`") + assign_op_spelling(s.op) + "` cannot combine `" +
                                           type_to_string(target) + "` and `" + type_to_string(value) + "`")
        .label("incompatible operands")
        .help("use numbers of one type (or `+=` with two strings)");
  }
}

void BodyChecker::statement(const Stmt& st) {
  switch (st.kind) {
    case StmtKind::Let: {
      auto& s = static_cast<const LetStmt&>(st);
      TypeRef v = expr(*s.value);
      TypeRef t = v;
      if (s.type) {
        t = resolve_type(*s.type, s_);
        if (!assignable(v, t)) {
          s_.sink.error("V-TYP-002", s.value->span, "mismatched types: `" + s.name.name + "` is declared `" +
                                                        type_to_string(t) + "`, found `" + type_to_string(v) + "`")
              .label("this is `" + type_to_string(v) + "`")
              .help("change the value or the declared type");
        }
      } else if (v->kind == TypeKind::None) {
        s_.sink.error("V-TYP-002", s.value->span, "the type of `" + s.name.name + "` cannot be inferred from `none`")
            .label("`none` alone")
            .help("annotate it: `let " + s.name.name + ": T? = none`");
        t = T_.error();
      }
      declare_local(s.name.name, t, s.name.span);
      s_.model.local_types[&st] = t;
      return;
    }
    case StmtKind::Assign: return assign(static_cast<const AssignStmt&>(st));
    case StmtKind::If: {
      auto& s = static_cast<const IfStmt&>(st);
      condition(*s.condition, "an `if` condition");
      block(s.then_block);
      if (s.else_block) block(*s.else_block);
      return;
    }
    case StmtKind::While: {
      auto& s = static_cast<const WhileStmt&>(st);
      condition(*s.condition, "a `while` condition");
      block(s.body);
      return;
    }
    case StmtKind::For: {
      auto& s = static_cast<const ForStmt&>(st);
      TypeRef from = expr(*s.iterable);
      scopes_.emplace_back();
      if (s.range_end) {
        TypeRef to = expr(*s.range_end);
        for (auto [t, ex] : {std::pair{from, s.iterable.get()}, std::pair{to, s.range_end.get()}}) {
          if (!assignable(t, T_.int_())) {
            s_.sink.error("V-TYP-002", ex->span, "a range bound must be an `int`")
                .label("this is `" + type_to_string(t) + "`")
                .help("ranges count integers: `for i in 0..n`");
          }
        }
        if (s.value_var) {
          s_.sink.error("V-TYP-004", s.value_var->span, "a range gives one variable")
              .label("extra variable")
              .help("write `for i in a..b`");
          declare_local(s.value_var->name, T_.error(), s.value_var->span);
        }
        declare_local(s.var.name, T_.int_(), s.var.span);
      } else if (from->kind == TypeKind::Map) {
        declare_local(s.var.name, from->key, s.var.span);
        if (s.value_var) declare_local(s.value_var->name, from->element, s.value_var->span);
      } else if (from->kind == TypeKind::List) {
        if (s.value_var) {
          s_.sink.error("V-TYP-004", s.value_var->span, "iterating a list gives one variable")
              .label("extra variable")
              .help("write `for x in list`; two variables are for maps");
          declare_local(s.value_var->name, T_.error(), s.value_var->span);
        }
        declare_local(s.var.name, from->element, s.var.span);
      } else {
        if (!from->is_error() && from->kind != TypeKind::Unknown) {
          s_.sink.error("V-TYP-013", s.iterable->span, "cannot iterate " + a_type(from))
              .label("not a list, map or range")
              .help("iterate a list, a map, or a range `a..b`");
        }
        declare_local(s.var.name, T_.error(), s.var.span);
        if (s.value_var) declare_local(s.value_var->name, T_.error(), s.value_var->span);
      }
      statements(s.body.statements);
      scopes_.pop_back();
      return;
    }
    case StmtKind::Send: return send(static_cast<const SendStmt&>(st));
    case StmtKind::Reply: {
      auto& s = static_cast<const ReplyStmt&>(st);
      if (!require_transition(s.span, "`reply`")) return;
      // The sender is known only at run time; the message must exist somewhere, and
      // if exactly one domain has it, its arguments are checked against it.
      std::vector<const DomainSym*> owners;
      for (const auto& d : s_.model.domains) {
        if (d.transition(s.message.name)) owners.push_back(&d);
      }
      if (owners.empty()) {
        std::vector<std::string> names;
        for (const auto& d : s_.model.domains)
          for (const auto& t : d.transitions) names.push_back(t.name);
        s_.sink.error("V-TYP-007", s.message.span, "no domain has a transition `" + s.message.name + "` to reply to")
            .label("unknown message")
            .help(suggestion(s.message.name, names));
        for (const auto& a : s.args) expr(*a.value);
        return;
      }
      if (s_.options.lint)
        for (const auto* d : owners) s_.transitions_referenced[d->name].insert(s.message.name);
      if (owners.size() == 1) {
        check_args(s.args, owners[0]->transition(s.message.name)->params, s.span,
                   "message `" + owners[0]->name + "." + s.message.name + "`");
      } else {
        for (const auto& a : s.args) expr(*a.value);
      }
      return;
    }
    case StmtKind::Emit: {
      auto& s = static_cast<const EmitStmt&>(st);
      if (!require_transition(s.span, "`emit`")) return;
      bool saved = in_emit_;
      in_emit_ = true;
      TypeRef t = expr(*s.intent);
      in_emit_ = saved;
      if (!t->is_error() && t->kind != TypeKind::Intent && t->kind != TypeKind::Unknown) {
        s_.sink.error("V-TYP-017", s.intent->span, "`emit` needs an effect intent, found `" + type_to_string(t) + "`")
            .label("not an effect")
            .help("emit an effect call, e.g. `emit Log.Info(msg: \"...\")`");
      }
      return;
    }
    case StmtKind::Spawn: return spawn(static_cast<const SpawnStmt&>(st));
    case StmtKind::Schedule: {
      auto& s = static_cast<const ScheduleStmt&>(st);
      if (!require_transition(s.span, "`schedule`")) return;
      TypeRef delay = expr(*s.delay);
      if (!assignable(delay, T_.int_())) {
        s_.sink.error("V-TYP-002", s.delay->span, "a delay is an `int` number of ticks")
            .label("this is `" + type_to_string(delay) + "`")
            .help("write `schedule M() after 3 ticks`");
      }
      const TransitionSym* t = domain_ ? domain_->transition(s.message.name) : nullptr;
      if (!t) {
        std::vector<std::string> names;
        if (domain_)
          for (const auto& x : domain_->transitions) names.push_back(x.name);
        s_.sink.error("V-TYP-007", s.message.span, "`schedule` names unknown transition `" + s.message.name + "`")
            .label("not a transition of this domain")
            .help(suggestion(s.message.name, names));
        for (const auto& a : s.args) expr(*a.value);
        return;
      }
      if (s_.options.lint) s_.transitions_referenced[domain_->name].insert(t->name);
      check_args(s.args, t->params, s.span, "message `" + t->name + "`");
      return;
    }
    case StmtKind::Yield: return;
    case StmtKind::Fail: {
      auto& s = static_cast<const FailStmt&>(st);
      if (s.reason) expect_type(*s.reason, T_.string(), "`fail`");
      return;
    }
    case StmtKind::Assert: {
      auto& s = static_cast<const AssertStmt&>(st);
      condition(*s.condition, "an `assert` condition");
      if (s.message) expect_type(*s.message, T_.string(), "an `assert` message");
      return;
    }
    case StmtKind::Return: {
      auto& s = static_cast<const ReturnStmt&>(st);
      if (kind_ != BodyKind::Fn && kind_ != BodyKind::Migration) {
        s_.sink.error("V-TYP-012", s.span, std::string("`return` is not allowed in ") + kind_noun(kind_))
            .label("only functions and migrations return")
            .help(kind_ == BodyKind::Transition ? "a transition ends at its last statement; use `fail` to abort"
                                                : "remove the `return`");
        if (s.value) expr(*s.value);
        return;
      }
      TypeRef want = return_type_ ? return_type_ : T_.unit();
      if (!s.value) {
        if (want != T_.unit() && !want->is_error()) {
          s_.sink.error("V-TYP-012", s.span, "`return` without a value in a function returning `" +
                                                 type_to_string(want) + "`")
              .label("value missing")
              .help("return " + a_type(want));
        }
        return;
      }
      TypeRef t = expr(*s.value);
      if (!assignable(t, want)) {
        s_.sink.error("V-TYP-012", s.value->span, "returns `" + type_to_string(t) + "`, but `" +
                                                      type_to_string(want) + "` is declared")
            .label("this is `" + type_to_string(t) + "`")
            .help("return " + a_type(want) + ", or change the declared result type");
      }
      return;
    }
    case StmtKind::Expr: {
      auto& s = static_cast<const ExprStmt&>(st);
      TypeRef t = expr(*s.expr);
      if (t->kind == TypeKind::Intent) {
        auto* call = s.expr->as<CallExpr>();
        std::string what = call ? "emit " + dotted_path(*call->callee).value_or("Effect") + "(...)" : "emit <intent>";
        s_.sink.error("V-TYP-017", s.span, "an effect intent on its own does nothing")
            .label("the intent is dropped")
            .help("write `" + what + "`");
      } else if (!s.expr->as<CallExpr>() && !t->is_error()) {
        s_.sink.warning("V-WRN-020", s.span, "expression statement has no effect")
            .label("value computed and dropped")
            .help("assign it (`x = ...`) or remove it");
      }
      return;
    }
  }
}

// ---------------------------------------------------------------------------------
// Entry points

void check_domain_bodies(const DomainSym& domain, CheckState& s) {
  const ast::DomainDecl& d = *domain.decl;
  for (const auto& f : domain.fields) {
    if (!f.decl || !f.decl->default_value) continue;
    BodyChecker defaults(s, BodyKind::FieldDefault, &domain);
    defaults.expect_type(*f.decl->default_value, f.type, "field `" + f.name + "`");
  }
  for (const auto& inv : d.invariants) {
    BodyChecker b(s, BodyKind::Invariant, &domain);
    b.condition(*inv.condition, "invariant `" + inv.name.name + "`");
  }
  for (size_t i = 1; i < d.invariants.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (d.invariants[i].name.name == d.invariants[j].name.name) {
        s.sink.error("V-TYP-010", d.invariants[i].name.span, "invariant `" + d.invariants[i].name.name + "` is declared twice")
            .label("second declaration")
            .secondary(d.invariants[j].name.span, "first declared here")
            .help("rename or remove one of them");
      }
    }
  }
  for (const auto& t : domain.transitions) {
    BodyChecker b(s, BodyKind::Transition, &domain, &t);
    for (const auto& slice : t.decl->slices) b.statements(slice.statements);
    if (s.options.lint) {
      for (const auto& [name, span] : b.implicit_locals) {
        // Any field within two edits: the bare assignment probably meant it.
        for (const auto& f : domain.fields) {
          size_t dist = edit_distance(name, f.name);
          if (dist > 0 && dist <= 2) {
            s.sink.warning("V-LNT-010", span, "`" + name + "` declares a new local; did you mean field `" + f.name + "`?")
                .label("new local, not the state field")
                .secondary(f.span, "field declared here")
                .help("write `" + f.name + "` to assign the field, or `let " + name + " = ...` to make the local explicit");
            break;
          }
        }
      }
    }
  }
}

void check_fn_bodies(CheckState& s) {
  for (const auto& [name, fn] : s.model.fns) {
    BodyChecker b(s, BodyKind::Fn, fn.owner.empty() ? nullptr : s.model.domain(fn.owner));
    b.set_return_type(fn.result);
    for (const auto& p : fn.params) b.declare_local(p.name, p.type, p.span);
    b.statements(fn.decl->body.statements);
    if (fn.result != s.model.types.unit() && !fn.result->is_error()) {
      // A function with a result must return on every path.
      if (!always_returns(fn.decl->body.statements)) {
        s.sink.error("V-TYP-012", fn.decl->name.span, "function `" + name + "` may finish without returning a `" +
                                                          type_to_string(fn.result) + "`")
            .label("some path reaches the end of the body")
            .help("end every path with `return <value>`");
      }
    }
  }
}

}  // namespace ved::check_detail
