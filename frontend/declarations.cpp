// Collecting declarations into the program model: records, effects, observations,
// functions, the authority tree, and each domain's fields, transitions, scope,
// privilege, capabilities and version. Bodies are checked later (body_checker.cpp),
// when every name is known.
#include <algorithm>
#include <optional>
#include <set>

#include "frontend/checker_internal.h"
#include "frontend/keywords.h"

namespace ved::check_detail {

namespace {

void duplicate(CheckState& s, const std::string& what, const std::string& name, Span again, Span first) {
  s.sink.error("V-TYP-010", again, what + " `" + name + "` is declared twice")
      .label("second declaration")
      .secondary(first, "first declared here")
      .help("rename or remove one of them");
}

std::optional<CapabilitySet> capability_set(const std::optional<ast::CapabilityBlock>& block, CheckState& s) {
  if (!block) return std::nullopt;
  CapabilitySet set;
  set.span = block->span;
  for (const auto& item : block->items) {
    if (item.name.name == "messaging" && !item.value) {
      set.messaging = true;
    } else if (item.name.name == "send_to" && item.value) {
      require_domain(*item.value, s);
      set.send_to.push_back(item.value->name);
    } else {
      s.sink.error("V-ERR-009", item.span, "unknown capability `" + item.name.name + "`")
          .label("not a capability")
          .help("capabilities are `messaging` and `send_to: Domain`");
    }
  }
  return set;
}

std::vector<ParamSym> params_of(const std::vector<ast::Param>& params, CheckState& s) {
  std::vector<ParamSym> out;
  for (const auto& p : params) {
    for (const auto& prev : out) {
      if (prev.name == p.name.name) duplicate(s, "parameter", p.name.name, p.name.span, prev.span);
    }
    out.push_back(ParamSym{p.name.name, resolve_type(p.type, s), p.name.span});
  }
  return out;
}

std::optional<std::string> string_argument(const ast::Annotation& a, const std::string& name) {
  for (const auto& arg : a.args) {
    if (arg.name && arg.name->name == name) {
      if (auto* str = arg.value->as<ast::StringLit>()) return str->value;
    }
  }
  return std::nullopt;
}

void collect_records(const ast::Program& p, bool builtin, CheckState& s) {
  for (const auto& t : p.types) {
    auto it = s.model.records.find(t.name.name);
    if (it != s.model.records.end()) {
      duplicate(s, "record type", t.name.name, t.name.span, it->second.span);
      continue;
    }
    RecordSym r;
    r.name = t.name.name;
    r.span = t.name.span;
    r.builtin = builtin;
    s.model.records.emplace(r.name, std::move(r));
  }
}

void resolve_record_fields(const ast::Program& p, CheckState& s) {
  for (const auto& t : p.types) {
    RecordSym& r = s.model.records.at(t.name.name);
    if (!(r.span == t.name.span)) continue;  // a duplicate declaration: the first one wins
    for (const auto& f : t.fields) {
      if (r.field_index.count(f.name.name)) {
        duplicate(s, "field", f.name.name, f.name.span, r.fields[r.field_index[f.name.name]].span);
        continue;
      }
      r.field_index[f.name.name] = r.fields.size();
      r.fields.push_back(FieldSym{f.name.name, resolve_type(f.type, s), f.name.span, &f});
    }
  }
}

// Declares an effect or observation in `table`; returns it, or nullptr for a duplicate.
template <class Sym, class Decl>
Sym* declare_external(const Decl& d, const char* what, bool builtin, std::map<std::string, Sym>& table,
                      CheckState& s) {
  std::string name = ast::dotted_name(d.name);
  auto it = table.find(name);
  if (it != table.end()) {
    duplicate(s, what, name, d.span, it->second.span);
    return nullptr;
  }
  Sym sym;
  sym.name = name;
  sym.span = d.span;
  sym.builtin = builtin;
  sym.params = params_of(d.params, s);
  sym.result = d.result ? resolve_type(*d.result, s) : s.model.types.unit();
  return &table.emplace(name, std::move(sym)).first->second;
}

void collect_effects(const ast::Program& p, bool builtin, CheckState& s) {
  for (const auto& e : p.effects) {
    EffectSym* sym = declare_external(e, "effect", builtin, s.model.effects, s);
    if (sym && e.privilege) {
      if (auto level = parse_privilege(e.privilege->name)) {
        sym->privilege = *level;
      } else {
        s.sink.error("V-ERR-016", e.privilege->span, "unknown privilege level `" + e.privilege->name + "`")
            .label("not a privilege level")
            .help("the levels are pure, local, service, infrastructure and root");
      }
    }
  }
  for (const auto& o : p.observations) declare_external(o, "observation", builtin, s.model.observations, s);
}

void collect_domain(const ast::DomainDecl& d, CheckState& s) {
  DomainSym& dom = s.model.domains[s.model.domain_index.at(d.name.name)];
  auto& tree = s.model.authority;

  // Annotations and the member form of the scope.
  std::optional<ScopeId> scope;
  bool scope_written = false;
  std::set<std::string> seen;
  for (const auto& a : d.annotations) {
    const std::string& n = a.name.name;
    if ((n == "version" || n == "privilege") && !seen.insert(n).second) {
      s.sink.error("V-SYN-022", a.span, "second `@" + n + "` on domain `" + d.name.name + "`")
          .label("another `@" + n + "`")
          .help("keep one `@" + n + "`");
      continue;
    }
    if (n == "scope") {
      if (!a.scope || !a.args.empty()) {
        s.sink.error("V-ERR-016", a.span, "`@scope` needs a scope").label("no scope given")
            .help("write `@scope Workspace(\"name\")` or a bare level such as `@scope Namespace`");
      } else if (scope_written) {
        s.sink.error("V-SYN-022", a.span, "second scope for domain `" + d.name.name + "`").label("another scope")
            .help("a domain has exactly one scope");
      } else {
        scope_written = true;
        scope = tree.resolve(*a.scope, s.sink);
        if (!scope) dom.scope_unresolved = true;
      }
    } else if (n == "version") {
      if (!a.number || *a.number < 1) {
        s.sink.error("V-ERR-016", a.span, "`@version` needs a positive integer").label("expected `@version N`")
            .help("versions start at 1; write e.g. `@version 2`");
      } else {
        dom.version = *a.number;
        dom.version_span = a.span;
      }
    } else if (n == "privilege") {
      std::optional<Privilege> level;
      if (a.scope && !a.scope->name) level = parse_privilege(a.scope->level.name);
      if (!level) {
        s.sink.error("V-ERR-016", a.span, "`@privilege` needs a privilege level").label("no valid level")
            .help("write `@privilege pure|local|service|infrastructure`, or `@privilege root(reason: \"...\")`");
        continue;
      }
      dom.privilege = *level;
      if (*level == Privilege::Root && !string_argument(a, "reason")) {
        s.sink.error("V-ERR-016", a.span, "`@privilege root` requires a reason")
            .label("unrestricted privilege without a reason")
            .help("write `@privilege root(reason: \"why this domain needs it\")`");
      }
    } else {
      s.sink.error("V-ERR-018", a.name.span, "unknown annotation `@" + n + "` on a domain")
          .label("not a domain annotation")
          .help("domains take `@scope`, `@version` and `@privilege`");
    }
  }
  if (d.scope) {
    if (scope_written) {
      s.sink.error("V-SYN-022", d.scope->span, "second scope for domain `" + d.name.name + "`")
          .label("the domain already has an `@scope`")
          .help("a domain has exactly one scope");
    } else {
      scope = tree.resolve(*d.scope, s.sink);
      if (!scope) dom.scope_unresolved = true;
    }
  }
  dom.scope = scope.value_or(kRootScope);
  dom.capability = capability_set(d.capability, s);

  for (const auto& f : d.state) {
    if (dom.field_index.count(f.name.name)) {
      duplicate(s, "state field", f.name.name, f.name.span, dom.fields[dom.field_index[f.name.name]].span);
      continue;
    }
    dom.field_index[f.name.name] = dom.fields.size();
    dom.fields.push_back(FieldSym{f.name.name, resolve_type(f.type, s), f.name.span, &f});
  }

  std::optional<size_t> start;  // index: `dom.transitions` grows while this loop runs
  for (const auto& t : d.transitions) {
    if (dom.transition_index.count(t.name.name)) {
      duplicate(s, "transition", t.name.name, t.name.span, dom.transitions[dom.transition_index[t.name.name]].decl->name.span);
      continue;
    }
    TransitionSym sym;
    sym.name = t.name.name;
    sym.decl = &t;
    sym.params = params_of(t.params, s);
    sym.scope = dom.scope;
    sym.scope_unresolved = dom.scope_unresolved;
    sym.is_start = (t.on && t.on->kind == ast::OnClause::Kind::Start) ||
                   (!t.on && t.name.name == "Boot" && t.params.empty());
    sym.is_handler = t.on && t.on->kind == ast::OnClause::Kind::Outcome;
    sym.capability = capability_set(t.capability, s);
    bool narrowed_once = false;
    for (const auto& a : t.annotations) {
      if (a.name.name == "scope" && (!a.scope || !a.args.empty())) {
        s.sink.error("V-ERR-016", a.span, "`@scope` needs a scope").label("no scope given")
            .help("narrow the transition with `@scope Target(\"name\")` or a bare level such as `@scope Namespace`");
        sym.scope_unresolved = true;
      } else if (a.name.name == "scope" && narrowed_once) {
        s.sink.error("V-SYN-022", a.span, "second `@scope` on transition `" + t.name.name + "`")
            .label("another scope")
            .help("a transition narrows its domain's scope once");
      } else if (a.name.name == "scope") {
        narrowed_once = true;
        auto narrowed = tree.resolve(*a.scope, s.sink);
        if (!narrowed) sym.scope_unresolved = true;
        if (narrowed && !dom.scope_unresolved) {
          if (!tree.is_ancestor_or_self(dom.scope, *narrowed)) {
            s.sink.error("V-ERR-001", a.span,
                         "`@scope` cannot widen transition `" + t.name.name + "` beyond its domain's scope")
                .label(tree.describe(*narrowed) + " is not within " + tree.describe(dom.scope))
                .help("a transition may only narrow its domain's scope to a descendant of " + tree.describe(dom.scope));
          } else {
            sym.scope = *narrowed;
          }
        }
      } else if (a.name.name == "escalate") {
        auto reason = string_argument(a, "reason");
        if (!reason || reason->empty()) {
          s.sink.error("V-ERR-016", a.span, "`@escalate` requires a reason")
              .label("no reason given")
              .help("write `@escalate(reason: \"why this upward mutation is needed\")`; it is journaled");
        }
        sym.escalation_reason = reason.value_or("");
      } else {
        s.sink.error("V-ERR-018", a.name.span, "unknown annotation `@" + a.name.name + "` on a transition")
            .label("not a transition annotation")
            .help("transitions take `@scope` (to narrow) and `@escalate(reason: \"...\")`");
      }
    }
    // A transition's capabilities must be within its domain's.
    if (sym.capability && dom.capability) {
      if (sym.capability->messaging && !dom.capability->messaging) {
        s.sink.error("V-ERR-009", sym.capability->span, "transition `" + t.name.name +
                                                             "` claims `messaging`, which its domain does not have")
            .label("not granted by the domain")
            .secondary(dom.capability->span, "the domain's capabilities")
            .help("add `messaging` to the domain's capability block, or remove it here");
      }
      for (const auto& target : sym.capability->send_to) {
        const auto& allowed = dom.capability->send_to;
        if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), target) == allowed.end()) {
          s.sink.error("V-ERR-009", sym.capability->span,
                       "transition `" + t.name.name + "` claims `send_to: " + target + "`, which its domain does not have")
              .label("not granted by the domain")
              .secondary(dom.capability->span, "the domain's capabilities")
              .help("add `send_to: " + target + "` to the domain's capability block, or remove it here");
        }
      }
    }
    if (sym.is_start) {
      if (start) {
        s.sink.error("V-ERR-017", t.name.span, "domain `" + d.name.name + "` has two start transitions")
            .label("second start transition")
            .secondary(dom.transitions[*start].decl->name.span, "first start transition")
            .help("keep one: `on start`, or a parameterless transition named `Boot`");
      } else if (!sym.params.empty()) {
        s.sink.error("V-TYP-016", t.name.span, "start transition `" + t.name.name + "` cannot take parameters")
            .label("nothing supplies arguments to a start transition")
            .help("remove the parameters; give the fields defaults or set them in a `system` block");
      }
    }
    dom.transition_index[sym.name] = dom.transitions.size();
    dom.transitions.push_back(std::move(sym));
    if (dom.transitions.back().is_start && !start) start = dom.transitions.size() - 1;
  }
}

}  // namespace

TypeRef resolve_type(const ast::TypeExpr& w, CheckState& s) {
  auto& T = s.model.types;
  if (w.path.empty()) return T.error();
  TypeRef base = nullptr;
  const std::string& n = w.path.size() == 1 ? w.path[0].name : "";
  auto expect_args = [&](size_t count) {
    if (w.args.size() != count) {
      s.sink.error("V-TYP-003", w.span, "`" + n + "` takes " + std::to_string(count) + " type argument" +
                                            (count == 1 ? "" : "s"))
          .label("written with " + std::to_string(w.args.size()))
          .help(count == 1 ? "write `" + n + "<T>`" : "write `map<K, V>`");
      return false;
    }
    return true;
  };
  if (w.path.size() == 1 && w.args.empty() && !w.version) {
    if (n == "int" || n == "Int") base = T.int_();
    else if (n == "float" || n == "Float") base = T.float_();
    else if (n == "bool" || n == "Bool" || n == "Boolean") base = T.bool_();
    else if (n == "string" || n == "String") base = T.string();
    else if (n == "unit" || n == "Unit") base = T.unit();
    else if (s.model.records.count(n)) base = T.record(n);
  }
  if (!base && (n == "list" || n == "List")) {
    base = expect_args(1) ? T.list(resolve_type(w.args[0], s)) : T.error();
  } else if (!base && (n == "map" || n == "Map")) {
    if (!expect_args(2)) {
      base = T.error();
    } else {
      TypeRef k = resolve_type(w.args[0], s);
      if (!k->is_error() && k != T.int_() && k != T.string()) {
        s.sink.error("V-TYP-003", w.args[0].span, "map keys must be `int` or `string`")
            .label("`" + type_to_string(k) + "` cannot be a key")
            .help("key maps by an int or string id");
        k = T.error();
      }
      base = T.map(k, resolve_type(w.args[1], s));
    }
  }
  if (!base) {
    std::string written = w.to_string();
    std::vector<std::string> names = {"int", "float", "bool", "string", "list", "map", "unit"};
    for (const auto& [name, r] : s.model.records) names.push_back(name);
    s.sink.error("V-TYP-003", w.span, "unknown type `" + written + "`")
        .label("not a type")
        .help(suggestion(w.path.back().name, names));
    return T.error();
  }
  return w.optional ? T.optional(base) : base;
}

void collect_declarations(const ast::Program& prelude, const ast::Program& program, CheckState& s) {
  // Names first (so that any declaration may refer to any other), then their insides.
  collect_records(prelude, true, s);
  collect_records(program, false, s);
  resolve_record_fields(prelude, s);
  resolve_record_fields(program, s);
  check_record_cycles(program, s);
  collect_effects(prelude, true, s);
  collect_effects(program, false, s);

  for (const auto& a : program.authorities) s.model.authority.declare(a, s.sink);

  // Functions share one namespace, whether declared at the top level or in a domain.
  auto add_fn = [&](const ast::FnDecl& f, const std::string& owner) {
    auto it = s.model.fns.find(f.name.name);
    if (it != s.model.fns.end()) {
      duplicate(s, "function", f.name.name, f.name.span, it->second.decl->name.span);
      return;
    }
    FnSym sym;
    sym.name = f.name.name;
    sym.decl = &f;
    sym.owner = owner;
    sym.params = params_of(f.params, s);
    sym.result = f.result ? resolve_type(*f.result, s) : s.model.types.unit();
    s.model.fns.emplace(sym.name, std::move(sym));
  };
  for (const auto& f : program.fns) add_fn(f, "");
  for (const auto& d : program.domains)
    for (const auto& f : d.fns) add_fn(f, d.name.name);

  for (const auto& d : program.domains) {
    if (s.model.domain_index.count(d.name.name)) {
      duplicate(s, "domain", d.name.name, d.name.span, s.model.domains[s.model.domain_index[d.name.name]].decl->name.span);
      continue;
    }
    DomainSym sym;
    sym.name = d.name.name;
    sym.decl = &d;
    s.model.domain_index[sym.name] = s.model.domains.size();
    s.model.domains.push_back(std::move(sym));
  }
  for (const auto& d : program.domains) {
    if (s.model.domains[s.model.domain_index.at(d.name.name)].decl == &d) collect_domain(d, s);
  }
  for (const auto& e : program.environments) {
    if (s.model.environments.count(e.name.name)) {
      duplicate(s, "environment", e.name.name, e.name.span, s.model.environments[e.name.name]);
      continue;
    }
    s.model.environments[e.name.name] = e.name.span;
  }
}

const DomainSym* require_domain(const ast::Identifier& name, CheckState& s) {
  const DomainSym* d = s.model.domain(name.name);
  if (!d) {
    std::vector<std::string> names;
    for (const auto& x : s.model.domains) names.push_back(x.name);
    s.sink.error("V-TYP-006", name.span, "unknown domain `" + name.name + "`")
        .label("no such domain")
        .help(suggestion(name.name, names));
  }
  return d;
}

std::string suggestion(const std::string& word, const std::vector<std::string>& candidates) {
  std::vector<std::string_view> views(candidates.begin(), candidates.end());
  if (auto near = nearest_word(word, views)) return "did you mean `" + std::string(*near) + "`?";
  if (candidates.empty()) return "nothing by that name is declared";
  std::string list;
  size_t shown = 0;
  for (const auto& c : candidates) {
    if (shown == 8) {
      list += ", ...";
      break;
    }
    list += (shown++ ? ", " : "") + ("`" + c + "`");
  }
  return "declared: " + list;
}

}  // namespace ved::check_detail
