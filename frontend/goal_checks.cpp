// Goals (language.md §4): predicates, priorities, strategies (explicit and inferred),
// terminate_after and backoff, and conflicting goals found by interval analysis.
#include <algorithm>
#include <limits>

#include "frontend/body_checker.h"

namespace ved::check_detail {

namespace {

using namespace ved::ast;

// What a conjunction of simple comparisons says about one field: an integer interval
// (bools are 0/1) or an exact string.
struct Constraint {
  int64_t lo = std::numeric_limits<int64_t>::min();
  int64_t hi = std::numeric_limits<int64_t>::max();
  std::optional<std::string> exact_string;
  Span span;  // the comparison that set it
};
using Constraints = std::map<std::string, Constraint>;

// A field whose values are integers (int or bool), the only ones for which the interval
// arithmetic below (x > 3 means x >= 4) is exact.
std::optional<std::string> field_name(const Expr& e, const DomainSym& d) {
  std::string name;
  if (auto* n = e.as<NameExpr>()) {
    name = n->name;
  } else if (auto* m = e.as<MemberExpr>()) {
    auto* base = m->base->as<NameExpr>();
    if (!base || (base->name != "state" && base->name != "self" && base->name != "internal_state")) return std::nullopt;
    name = m->member.name;
  } else {
    return std::nullopt;
  }
  const FieldSym* f = d.field(name);
  if (!f || (f->type->kind != TypeKind::Int && f->type->kind != TypeKind::Bool && f->type->kind != TypeKind::String))
    return std::nullopt;
  return name;
}

std::optional<int64_t> int_constant(const Expr& e) {
  if (auto* i = e.as<IntLit>()) return i->value;
  if (auto* b = e.as<BoolLit>()) return b->value ? 1 : 0;
  if (auto* u = e.as<UnaryExpr>(); u && u->op == UnaryOp::Neg) {
    if (auto* i = u->operand->as<IntLit>(); i && i->value != std::numeric_limits<int64_t>::min()) return -i->value;
  }
  return std::nullopt;
}

void intersect(Constraints& out, const std::string& field, Constraint c) {
  auto it = out.find(field);
  if (it == out.end()) {
    out[field] = c;
    return;
  }
  Constraint& cur = it->second;
  if (c.lo > cur.lo) {
    cur.lo = c.lo;
    cur.span = c.span;
  }
  if (c.hi < cur.hi) {
    cur.hi = c.hi;
    cur.span = c.span;
  }
  if (c.exact_string) cur.exact_string = c.exact_string;
}

// Collects constraints from the `&&`-connected comparisons of a predicate. Anything
// else (`||`, calls, arithmetic) says nothing and is skipped: the analysis only ever
// under-approximates, so a reported conflict is real.
void collect(const Expr& e, const DomainSym& d, Constraints& out) {
  if (auto* b = e.as<BinaryExpr>()) {
    if (b->op == BinaryOp::And) {
      collect(*b->lhs, d, out);
      collect(*b->rhs, d, out);
      return;
    }
    if (!is_comparison(b->op) || b->op == BinaryOp::Ne) return;
    auto lf = field_name(*b->lhs, d);
    auto rf = field_name(*b->rhs, d);
    const Expr* constant = lf ? b->rhs.get() : b->lhs.get();
    std::optional<std::string> field = lf ? lf : rf;
    if (!field || (lf && rf)) return;
    BinaryOp op = b->op;
    if (!lf) {  // constant on the left: mirror the comparison
      if (op == BinaryOp::Lt) op = BinaryOp::Gt;
      else if (op == BinaryOp::Le) op = BinaryOp::Ge;
      else if (op == BinaryOp::Gt) op = BinaryOp::Lt;
      else if (op == BinaryOp::Ge) op = BinaryOp::Le;
    }
    Constraint c;
    c.span = e.span;
    if (auto* s = constant->as<StringLit>()) {
      if (op == BinaryOp::Eq) {
        c.exact_string = s->value;
        intersect(out, *field, c);
      }
      return;
    }
    auto v = int_constant(*constant);
    if (!v) return;
    const int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
    switch (op) {
      case BinaryOp::Eq: c.lo = c.hi = *v; break;
      case BinaryOp::Lt: if (*v == kMin) return; c.hi = *v - 1; break;
      case BinaryOp::Le: c.hi = *v; break;
      case BinaryOp::Gt: if (*v == kMax) return; c.lo = *v + 1; break;
      case BinaryOp::Ge: c.lo = *v; break;
      default: return;
    }
    intersect(out, *field, c);
    return;
  }
  // A bare bool field, or its negation.
  if (auto f = field_name(e, d)) {
    Constraint c;
    c.lo = c.hi = 1;
    c.span = e.span;
    intersect(out, *f, c);
    return;
  }
  if (auto* u = e.as<UnaryExpr>(); u && u->op == UnaryOp::Not) {
    if (auto f = field_name(*u->operand, d)) {
      Constraint c;
      c.lo = c.hi = 0;
      c.span = e.span;
      intersect(out, *f, c);
    }
  }
}

std::string describe(const Constraint& c) {
  if (c.exact_string) return "== \"" + *c.exact_string + "\"";
  const int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
  if (c.lo == c.hi) return "== " + std::to_string(c.lo);
  if (c.lo == kMin) return "<= " + std::to_string(c.hi);
  if (c.hi == kMax) return ">= " + std::to_string(c.lo);
  return "in [" + std::to_string(c.lo) + ", " + std::to_string(c.hi) + "]";
}

bool disjoint(const Constraint& a, const Constraint& b) {
  if (a.exact_string && b.exact_string) return *a.exact_string != *b.exact_string;
  if (a.exact_string || b.exact_string) return false;
  return a.hi < b.lo || b.hi < a.lo;
}

int priority_value(const GoalDecl& g, CheckState& s) {
  if (!g.priority) return 100;
  if (g.priority->number) {
    int64_t n = *g.priority->number;
    if (n < 0 || n > 255) {
      s.sink.error("V-TYP-014", g.priority->span, "priority " + std::to_string(n) + " is out of range")
          .label("not in 0..255")
          .help("use 0 to 255, or one of critical (250), high (200), normal (100), low (50), background (0)");
      return 100;
    }
    return static_cast<int>(n);
  }
  const std::string& n = g.priority->name->name;
  if (n == "critical") return 250;
  if (n == "high") return 200;
  if (n == "normal") return 100;
  if (n == "low") return 50;
  if (n == "background") return 0;
  s.sink.error("V-TYP-014", g.priority->span, "unknown priority `" + n + "`")
      .label("not a priority name")
      .help(suggestion(n, {"critical", "high", "normal", "low", "background"}));
  return 100;
}

}  // namespace

void check_goals(const DomainSym& domain, CheckState& s) {
  const DomainDecl& d = *domain.decl;
  std::vector<Constraints> constraints;
  for (size_t gi = 0; gi < d.goals.size(); ++gi) {
    const GoalDecl& g = d.goals[gi];
    for (size_t j = 0; j < gi; ++j) {
      if (d.goals[j].name.name == g.name.name) {
        s.sink.error("V-TYP-010", g.name.span, "goal `" + g.name.name + "` is declared twice")
            .label("second declaration")
            .secondary(d.goals[j].name.span, "first declared here")
            .help("rename or remove one of them");
      }
    }
    GoalSym sym;
    sym.domain = domain.name;
    sym.decl = &g;
    sym.priority = priority_value(g, s);

    if (g.predicate) {
      BodyChecker b(s, BodyKind::Goal, &domain);
      b.condition(*g.predicate, "the predicate of goal `" + g.name.name + "`");
    }

    if (g.strategy) {
      for (const auto& name : *g.strategy) {
        const TransitionSym* t = domain.transition(name.name);
        if (!t) {
          std::vector<std::string> names;
          for (const auto& x : domain.transitions) names.push_back(x.name);
          s.sink.error("V-ERR-012", name.span, "strategy of goal `" + g.name.name + "` names unknown transition `" +
                                                   name.name + "`")
              .label("no such transition in `" + domain.name + "`")
              .help(suggestion(name.name, names));
          continue;
        }
        if (!t->params.empty()) {
          s.sink.error("V-ERR-012", name.span, "strategy transition `" + name.name + "` takes parameters")
              .label("a goal's attempt cannot supply arguments")
              .secondary(t->decl->name.span, "declared with parameters here")
              .help("use a parameterless transition that reads what it needs from state");
          continue;
        }
        sym.strategy.push_back(name.name);
        if (s.options.lint) s.transitions_referenced[domain.name].insert(name.name);
      }
    } else {
      sym.inferred_strategy = true;
      for (const auto& t : domain.transitions) {
        if (t.params.empty() && !t.decl->on && !t.is_start) sym.strategy.push_back(t.name);
      }
      if (s.options.lint)
        for (const auto& n : sym.strategy) s.transitions_referenced[domain.name].insert(n);
      if (sym.strategy.empty()) {
        s.sink.warning("V-WRN-012", g.name.span, "goal `" + g.name.name + "` can never act")
            .label("no strategy, and no transition to infer one from")
            .help("add `strategy: T` naming a parameterless transition, or declare one for the goal to use");
      } else if (s.options.lint) {
        std::string list;
        for (size_t i = 0; i < sym.strategy.size(); ++i) list += (i ? ", " : "") + sym.strategy[i];
        s.sink.note("V-NTE-001", g.name.span, "goal `" + g.name.name + "` uses inferred strategy `" + list + "`")
            .label("no `strategy` given")
            .help("the parameterless transitions without `on`, in declaration order; write `strategy { " + list +
                  " }` to make it explicit");
      }
    }

    if (g.terminate_after && g.terminate_after->kind != TerminateAfter::Kind::Never &&
        g.terminate_after->count < 1) {
      s.sink.error("V-TYP-014", g.terminate_after->span, "`terminate_after` needs a positive count")
          .label("must be at least 1")
          .help("write `terminate_after: 5 attempts`, `terminate_after: 100 ticks` or `terminate_after: never`");
    }
    if (g.backoff) {
      const auto& b = *g.backoff;
      bool ok = b.kind.name == "none" && b.args.empty();
      if (b.kind.name == "exponential") {
        ok = b.args.size() == 1 && b.args[0].name && b.args[0].name->name == "max";
        if (ok) {
          auto* n = b.args[0].value->as<IntLit>();
          ok = n && n->value >= 1;
        }
      }
      if (!ok) {
        s.sink.error("V-TYP-014", b.span, "malformed `backoff`")
            .label("expected `none` or `exponential(max: N)`")
            .help("N is the largest wait between attempts, in ticks, at least 1");
      }
    }

    Constraints c;
    if (g.predicate) collect(*g.predicate, domain, c);
    constraints.push_back(std::move(c));
    s.model.goals.push_back(std::move(sym));
  }

  // Two goals whose predicates cannot both hold keep undoing each other.
  for (size_t i = 0; i < d.goals.size(); ++i) {
    for (size_t j = i + 1; j < d.goals.size(); ++j) {
      for (const auto& [field, a] : constraints[i]) {
        auto it = constraints[j].find(field);
        if (it == constraints[j].end() || !disjoint(a, it->second)) continue;
        s.sink.warning("V-WRN-010", d.goals[j].name.span, "goals `" + d.goals[i].name.name + "` and `" +
                                                              d.goals[j].name.name + "` cannot both hold")
            .label("wants `" + field + "` " + describe(it->second))
            .secondary(a.span, "goal `" + d.goals[i].name.name + "` wants `" + field + "` " + describe(a))
            .help("the runtime will oscillate between them until one is terminated; make the conditions overlap");
        break;
      }
    }
  }
}

}  // namespace ved::check_detail
