// Checks of what surrounds the domains: effect outcome handlers, `system` blocks,
// `environment`s, `deploy`s, `migration` chains, and `test` blocks.
#include <algorithm>
#include <set>

#include "frontend/body_checker.h"

namespace ved::check_detail {

namespace {

using namespace ved::ast;

void check_inits(const DomainSym& d, const std::vector<FieldInit>& inits, BodyChecker& b, CheckState& s) {
  std::set<std::string> seen;
  for (const auto& i : inits) {
    const FieldSym* f = d.field(i.field.name);
    if (!f) {
      std::vector<std::string> names;
      for (const auto& x : d.fields) names.push_back(x.name);
      s.sink.error("V-TYP-005", i.field.span, "domain `" + d.name + "` has no state field `" + i.field.name + "`")
          .label("unknown field")
          .help(suggestion(i.field.name, names));
      b.expr(*i.value);
      continue;
    }
    if (!seen.insert(f->name).second) {
      s.sink.error("V-TYP-010", i.field.span, "field `" + f->name + "` is initialised twice")
          .label("second value")
          .help("give each field one value");
    }
    b.expect_type(*i.value, f->type, "field `" + f->name + "`");
  }
}

void check_handlers(CheckState& s) {
  auto& T = s.model.types;
  for (const auto& d : s.model.domains) {
    for (const auto& t : d.transitions) {
      if (!t.is_handler) continue;
      const OnClause& on = *t.decl->on;
      std::string name = ast::dotted_name(on.effect);
      auto it = s.model.effects.find(name);
      if (it == s.model.effects.end()) {
        s.sink.warning("V-WRN-004", on.span, "effect `" + name + "` is not declared")
            .label("outcome of an undeclared effect")
            .help("declare it, e.g. `effect " + name + "() : local`, so the handler can be checked");
        continue;
      }
      TypeRef want = on.ok ? it->second.result : T.record("EffectError");
      bool takes_value = !on.ok || want != T.unit();
      if (!takes_value && !t.params.empty()) {
        s.sink.error("V-TYP-016", t.decl->name.span, "`" + name + ".ok` carries no value, but `" + t.name +
                                                         "` takes parameters")
            .label("the effect's result type is `unit`")
            .secondary(it->second.span, "declared here")
            .help("remove the parameters: `transition " + t.name + "() on " + name + ".ok`");
      } else if (takes_value && t.params.size() != 1) {
        s.sink.error("V-TYP-016", t.decl->name.span, "handler `" + t.name + "` of `" + name +
                                                         (on.ok ? ".ok" : ".failed") + "` must take one parameter of type `" +
                                                         type_to_string(want) + "`")
            .label("takes " + std::to_string(t.params.size()))
            .help("declare it as `transition " + t.name + "(" + (on.ok ? "result" : "e") + ": " + type_to_string(want) +
                  ") on " + name + (on.ok ? ".ok`" : ".failed`"));
      } else if (takes_value && !assignable(want, t.params[0].type)) {
        s.sink.error("V-TYP-016", t.params[0].span, "handler parameter is `" + type_to_string(t.params[0].type) +
                                                        "`, but `" + name + (on.ok ? ".ok" : ".failed") + "` delivers `" +
                                                        type_to_string(want) + "`")
            .label("wrong type")
            .secondary(it->second.span, "effect declared here")
            .help("declare the parameter as `" + type_to_string(want) + "`");
      }
    }
  }
}

void check_systems(CheckState& s) {
  for (const auto& sys : s.program.systems) {
    std::set<std::string> started;
    for (const auto& st : sys.starts) {
      const DomainSym* d = require_domain(st.type, s);
      BodyChecker b(s, BodyKind::FieldDefault, nullptr);
      if (st.instance_id) b.check_instance_id(*st.instance_id);
      if (!d) {
        for (const auto& i : st.inits) b.expr(*i.value);
        continue;
      }
      // Instances with literal ids (or the default instance) can be compared statically.
      std::optional<std::string> key = d->name;
      if (st.instance_id) {
        if (auto* i = st.instance_id->as<IntLit>()) key = d->name + "[" + std::to_string(i->value) + "]";
        else if (auto* str = st.instance_id->as<StringLit>()) key = d->name + "[\"" + str->value + "\"]";
        else key.reset();
      }
      if (key && !started.insert(*key).second) {
        s.sink.error("V-TYP-010", st.span, "instance `" + *key + "` is started twice")
            .label("second start")
            .help("start each instance once; distinct instances are `" + d->name + "[id]`");
      }
      check_inits(*d, st.inits, b, s);
    }
  }
}

void check_environments(CheckState& s) {
  for (const auto& e : s.program.environments) {
    if (e.scope) s.model.authority.resolve(*e.scope, s.sink);
    if (e.capability) {
      for (const auto& item : e.capability->items) {
        if (item.name.name == "send_to" && item.value) require_domain(*item.value, s);
        else if (item.name.name != "messaging" || item.value) {
          s.sink.error("V-ERR-009", item.span, "unknown capability `" + item.name.name + "`")
              .label("not a capability")
              .help("capabilities are `messaging` and `send_to: Domain`");
        }
      }
    }
    BodyChecker b(s, BodyKind::FieldDefault, nullptr);
    for (const auto& setting : e.settings) b.expr(*setting.value);
  }
}

void check_deploys(CheckState& s) {
  for (const auto& dep : s.program.deploys) {
    if (!s.model.domain(dep.domain.name)) {
      std::vector<std::string> names;
      for (const auto& x : s.model.domains) names.push_back(x.name);
      s.sink.error("V-ERR-013", dep.domain.span, "`deploy` names unknown domain `" + dep.domain.name + "`")
          .label("no such domain")
          .help(suggestion(dep.domain.name, names));
    }
    if (!s.model.environments.count(dep.environment.name)) {
      std::vector<std::string> names;
      for (const auto& [n, span] : s.model.environments) names.push_back(n);
      s.sink.error("V-ERR-014", dep.environment.span, "`deploy` names undeclared environment `" +
                                                          dep.environment.name + "`")
          .label("no such environment")
          .help(names.empty() ? "declare it: `environment " + dep.environment.name + " { ... }`"
                              : suggestion(dep.environment.name, names));
    }
  }
}

// `D.State@N` of a migration head.
struct VersionRef {
  const DomainSym* domain = nullptr;
  int64_t version = 0;
};

std::optional<VersionRef> version_ref(const std::optional<ast::TypeExpr>& t, Span fallback, const char* which,
                                      CheckState& s) {
  if (!t || t->path.size() != 2 || t->path[1].name != "State" || !t->version) {
    s.sink.error("V-ERR-003", t ? t->span : fallback, std::string("migration `") + which + ":` must name `Domain.State@N`")
        .label(t ? "not a versioned state" : "missing")
        .help(std::string("write `") + which + ": Domain.State@1`");
    return std::nullopt;
  }
  const DomainSym* d = require_domain(t->path[0], s);
  if (!d) return std::nullopt;
  return VersionRef{d, *t->version};
}

void check_migrations(CheckState& s) {
  auto& T = s.model.types;
  // Per domain: the version steps the migrations provide.
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> steps;
  for (const auto& m : s.program.migrations) {
    auto from = version_ref(m.from, m.name.span, "from", s);
    auto to = version_ref(m.to, m.name.span, "to", s);
    BodyChecker b(s, BodyKind::Migration, from ? from->domain : nullptr);
    if (from && to) {
      if (from->domain != to->domain) {
        s.sink.error("V-ERR-003", m.to->span, "migration `" + m.name.name + "` changes domain")
            .label("from `" + from->domain->name + "` to `" + to->domain->name + "`")
            .help("a migration converts one domain's state between versions");
      } else if (from->version >= to->version || to->version > to->domain->version) {
        s.sink.error("V-ERR-003", m.to->span, "migration `" + m.name.name + "` goes from version " +
                                                  std::to_string(from->version) + " to " + std::to_string(to->version))
            .label(to->version > to->domain->version ? "beyond the domain's `@version " +
                                                           std::to_string(to->domain->version) + "`"
                                                     : "versions must increase")
            .help("migrate from an older version to a newer one, up to the domain's current version");
      } else {
        steps[from->domain->name].emplace_back(from->version, to->version);
      }
    }
    if (from) {
      b.bind_migration_input(from->domain);
    } else {
      b.declare_local("from", T.unknown(), m.name.span);  // unknown schema: reads are unchecked
    }
    // Without a resolved target there is nothing to compare the returned value with.
    b.set_return_type(to ? T.record(to->domain->name + ".State@" + std::to_string(to->version)) : T.error());
    b.statements(m.body);
    if (!always_returns(m.body)) {
      s.sink.error("V-ERR-003", m.name.span, "migration `" + m.name.name + "` does not return the new state")
          .label("no final `return`")
          .help("end it with `return Domain.State@N(field = from.field, ...)`");
    }
  }
  // Every versioned domain needs a chain of migrations from version 1.
  for (const auto& d : s.model.domains) {
    if (d.version <= 1) continue;
    std::set<int64_t> reachable{1};
    bool grew = true;
    while (grew) {
      grew = false;
      for (const auto& [a, b] : steps[d.name]) {
        if (reachable.count(a) && reachable.insert(b).second) grew = true;
      }
    }
    if (reachable.count(d.version)) continue;
    int64_t highest = *reachable.rbegin();
    s.sink.error("V-ERR-003", d.version_span, "no migration chain brings `" + d.name + "` from version 1 to " +
                                                  std::to_string(d.version))
        .label("state schema version " + std::to_string(d.version))
        .help("add `migration name { from: " + d.name + ".State@" + std::to_string(highest) + " to: " + d.name +
              ".State@" + std::to_string(highest + 1) + " ... }`" + (highest + 1 < d.version ? " and the steps after it" : ""))
        .note("stored instances of an older version could not be loaded by this program");
  }
}

void check_tests(CheckState& s) {
  std::set<std::string> names;
  for (const auto& t : s.program.tests) {
    if (!names.insert(t.name).second) {
      s.sink.error("V-TYP-010", t.span, "test \"" + t.name + "\" is declared twice")
          .label("second declaration")
          .help("give every test a distinct name");
    }
    BodyChecker b(s, BodyKind::Test, nullptr);
    for (const auto& g : t.given) {
      if (g.instance_id) b.check_instance_id(*g.instance_id);
      if (const DomainSym* d = require_domain(g.type, s)) check_inits(*d, g.inits, b, s);
    }
    for (const auto& item : t.simulate) {
      if (item.stub) {
        std::string name = ast::dotted_name(item.stub->effect);
        auto it = s.model.effects.find(name);
        if (it == s.model.effects.end()) {
          s.sink.warning("V-WRN-004", item.stub->span, "effect `" + name + "` is not declared")
              .label("stub for an undeclared effect")
              .help("declare it, e.g. `effect " + name + "() : local`");
          if (item.stub->value) b.expr(*item.stub->value);
        } else if (item.stub->value) {
          if (item.stub->fails) b.expect_type(*item.stub->value, s.model.types.string(), "a failure message");
          else b.expect_type(*item.stub->value, it->second.result, "the stubbed result of `" + name + "`");
        }
      } else if (item.statement) {
        b.statement(*item.statement);
      }
    }
    for (const auto& e : t.expect) {
      b.condition(*e.condition, "an expectation");
    }
  }
}

}  // namespace

void check_orchestration(CheckState& s) {
  check_handlers(s);
  check_systems(s);
  check_environments(s);
  check_deploys(s);
  check_migrations(s);
  check_tests(s);
}

}  // namespace ved::check_detail
