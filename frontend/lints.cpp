// Lints (`vedc --lint`): things that compile but are probably mistakes. Lints that need
// the checker's scopes (V-LNT-004/005/010) and the inferred-strategy note (V-NTE-001)
// are reported where that information lives; this file has the whole-program ones.
#include <functional>

#include "frontend/body_checker.h"

namespace ved::check_detail {

namespace {

using namespace ved::ast;

// Whether `e` mentions a name other than a function: a field, parameter or local, so
// that a key built from it changes with the state or the arguments.
bool derived_from_data(const Expr& e, const ProgramModel& model) {
  switch (e.kind) {
    case ExprKind::Name: {
      const auto& n = static_cast<const NameExpr&>(e).name;
      return !model.fns.count(n);
    }
    case ExprKind::Member: return derived_from_data(*static_cast<const MemberExpr&>(e).base, model);
    case ExprKind::Index: {
      auto& x = static_cast<const IndexExpr&>(e);
      return derived_from_data(*x.base, model) || derived_from_data(*x.index, model);
    }
    case ExprKind::Call: {
      auto& c = static_cast<const CallExpr&>(e);
      for (const auto& a : c.args)
        if (derived_from_data(*a.value, model)) return true;
      return false;
    }
    case ExprKind::Unary: return derived_from_data(*static_cast<const UnaryExpr&>(e).operand, model);
    case ExprKind::Binary: {
      auto& b = static_cast<const BinaryExpr&>(e);
      return derived_from_data(*b.lhs, model) || derived_from_data(*b.rhs, model);
    }
    default: return false;
  }
}

void for_each_statement(const std::vector<StmtPtr>& list, const std::function<void(const Stmt&)>& visit) {
  for (const auto& s : list) {
    visit(*s);
    if (auto* i = s->as<IfStmt>()) {
      for_each_statement(i->then_block.statements, visit);
      if (i->else_block) for_each_statement(i->else_block->statements, visit);
    } else if (auto* w = s->as<WhileStmt>()) {
      for_each_statement(w->body.statements, visit);
    } else if (auto* f = s->as<ForStmt>()) {
      for_each_statement(f->body.statements, visit);
    }
  }
}

void idempotency_keys(const DomainSym& d, CheckState& s) {
  for (const auto& t : d.transitions) {
    // `let i = Effect(...)` then `emit i`: the intent's call is found through the local.
    std::map<std::string, const CallExpr*> intent_locals;
    for (const auto& slice : t.decl->slices) {
      for_each_statement(slice.statements, [&](const Stmt& st) {
        if (auto* let = st.as<LetStmt>()) {
          if (auto* c = let->value->as<CallExpr>()) intent_locals[let->name.name] = c;
          return;
        }
        auto* emit = st.as<EmitStmt>();
        if (!emit) return;
        const CallExpr* call = emit->intent->as<CallExpr>();
        if (auto* n = emit->intent->as<NameExpr>()) {
          auto it = intent_locals.find(n->name);
          if (it != intent_locals.end()) call = it->second;
        }
        if (!call) return;
        auto path = dotted_path(*call->callee);
        if (!path) return;
        auto it = s.model.effects.find(*path);
        if (it == s.model.effects.end() || static_cast<int>(it->second.privilege) < static_cast<int>(Privilege::Service))
          return;
        const Argument* key = nullptr;
        for (const auto& a : call->args)
          if (a.name && a.name->name == "idempotency_key") key = &a;
        if (key && derived_from_data(*key->value, s.model)) return;
        s.sink.warning("V-LNT-001", emit->span, std::string("`") + *path + "` (privilege " +
                                                    privilege_name(it->second.privilege) + ") is emitted " +
                                                    (key ? "with a constant idempotency key" : "without an idempotency key"))
            .label(key ? "every emission shares this key" : "no `idempotency_key:`")
            .help("pass `idempotency_key: format(\"...-{}\", <field or parameter>)` so a retried intent is recognised "
                  "by the service and a new one is not");
      });
    }
  }
}

void unused(const DomainSym& d, CheckState& s) {
  const auto& read = s.fields_read[d.name];
  for (const auto& f : d.fields) {
    if (read.count(f.name)) continue;
    s.sink.warning("V-LNT-002", f.span, "state field `" + f.name + "` of `" + d.name + "` is never read")
        .label("written at most")
        .help("remove it, or use it in a goal, invariant or transition");
  }
  const auto& referenced = s.transitions_referenced[d.name];
  for (const auto& t : d.transitions) {
    if (t.is_start || t.is_handler || referenced.count(t.name)) continue;
    s.sink.warning("V-LNT-003", t.decl->name.span, "transition `" + t.name + "` of `" + d.name + "` is never used")
        .label("no goal, message or timer invokes it")
        .help("remove it, add it to a goal's strategy, or send it from somewhere");
  }
}

}  // namespace

void run_lints(CheckState& s) {
  for (const auto& d : s.model.domains) {
    idempotency_keys(d, s);
    unused(d, s);
  }
}

}  // namespace ved::check_detail
