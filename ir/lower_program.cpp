// Lowering of a whole program: the module's tables in a deterministic order, then each
// function body, then the passes.
#include <filesystem>

#include "ir/lower.h"
#include "ir/lower_internal.h"
#include "ir/passes.h"

namespace ved::ir {

using namespace ast;

bool contains_unknown_type(TypeRef t) {
  if (!t) return true;
  if (t->kind == ved::TypeKind::Unknown || t->kind == ved::TypeKind::Error || t->kind == ved::TypeKind::None)
    return true;
  return (t->element && contains_unknown_type(t->element)) || (t->key && contains_unknown_type(t->key));
}

LowerContext::LowerContext(Module& m, const ProgramModel& mo, DiagnosticSink& s) : module(m), model(mo), sink(s) {}

TypeRef LowerContext::checked_type(const Expr& e) const {
  auto it = model.expr_types.find(&e);
  return it == model.expr_types.end() ? nullptr : it->second;
}

std::optional<TypeId> LowerContext::convert(TypeRef t, Span at) {
  TypeTable& T = module.types;
  auto unknown = [&]() -> std::optional<TypeId> {
    if (quiet_unknown) return std::nullopt;
    sink.error("V-TYP-018", at, "the type of this value cannot be inferred")
        .label("an empty `[]`, `{}` or `none` with nothing to say what it holds")
        .help("declare the type, e.g. `let xs: list<int> = []`");
    return std::nullopt;
  };
  if (!t) return unknown();
  switch (t->kind) {
    case ved::TypeKind::Unit: return T.unit();
    case ved::TypeKind::Bool: return T.boolean();
    case ved::TypeKind::Int: return T.integer();
    case ved::TypeKind::Float: return T.floating();
    case ved::TypeKind::String: return T.string();
    case ved::TypeKind::List: {
      auto e = convert(t->element, at);
      if (!e) return std::nullopt;
      return T.list(*e);
    }
    case ved::TypeKind::Map: {
      auto k = convert(t->key, at);
      if (!k) return std::nullopt;
      auto v = convert(t->element, at);
      if (!v) return std::nullopt;
      return T.map(*k, *v);
    }
    case ved::TypeKind::Optional: {
      auto e = convert(t->element, at);
      if (!e) return std::nullopt;
      return T.optional(*e);
    }
    case ved::TypeKind::Record: {
      auto it = records_.find(t->name);
      if (it == records_.end()) return unknown();
      return T.record(it->second);
    }
    case ved::TypeKind::Intent: {
      if (auto index = find_effect(t->name)) return T.intent(*index);
      // Undeclared (V-WRN-004): added now if a use gave it a signature, e.g. for the
      // local of `let i = Pager.Page(who: "x")`.
      if (!model.undeclared_effects.count(t->name)) return unknown();
      if (auto index = effect_index(t->name)) return T.intent(*index);
      return std::nullopt;  // its first use's V-TYP-018 explains it
    }
    case ved::TypeKind::Error:
    case ved::TypeKind::Unknown:
    case ved::TypeKind::None: return unknown();
  }
  return unknown();
}

std::optional<uint32_t> LowerContext::find_effect(const std::string& name) const {
  auto it = effects_.find(name);
  if (it == effects_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> LowerContext::effect_index(const std::string& name) {
  if (auto known = find_effect(name)) return *known;
  if (unlowerable_effects_.count(name)) return std::nullopt;  // reported once, at its first use
  ExternalCall e;
  e.name = name;
  e.declared = false;
  e.privilege = 0;
  // The checker's implicit signature: the first use's argument names and types. An
  // effect that is only stubbed by a test has none: it takes no parameters.
  if (auto it = model.undeclared_effects.find(name); it != model.undeclared_effects.end()) {
    for (const auto& p : it->second.params) {
      auto t = convert(p.type, p.span);
      if (!t) {
        unlowerable_effects_.insert(name);
        return std::nullopt;
      }
      e.params.push_back(Field{p.name, *t});
    }
  }
  e.result = module.types.unit();
  module.effects.push_back(std::move(e));
  uint32_t index = static_cast<uint32_t>(module.effects.size() - 1);
  effects_[name] = index;
  return index;
}

uint32_t LowerContext::message(Message m) {
  for (size_t i = 0; i < module.messages.size(); ++i) {
    const Message& o = module.messages[i];
    if (o.domain == m.domain && o.transition == m.transition && o.name == m.name && o.high_lane == m.high_lane &&
        o.args == m.args)
      return static_cast<uint32_t>(i);
  }
  module.messages.push_back(std::move(m));
  return static_cast<uint32_t>(module.messages.size() - 1);
}

uint32_t LowerContext::spawn_shape(SpawnShape s) {
  for (size_t i = 0; i < module.spawns.size(); ++i) {
    if (module.spawns[i].domain == s.domain && module.spawns[i].fields == s.fields) return static_cast<uint32_t>(i);
  }
  module.spawns.push_back(std::move(s));
  return static_cast<uint32_t>(module.spawns.size() - 1);
}

namespace {

std::optional<std::vector<Field>> convert_params(LowerContext& cx, const std::vector<ParamSym>& params) {
  std::vector<Field> out;
  for (const auto& p : params) {
    auto t = cx.convert(p.type, p.span);
    if (!t) return std::nullopt;
    out.push_back(Field{p.name, *t});
  }
  return out;
}

void declare_params(FunctionBuilder& fb, const std::vector<Field>& params) {
  for (const auto& p : params) fb.named(p.name, p.type);
  fb.f_.param_count = static_cast<uint32_t>(params.size());
}

Function& new_function(Module& m, std::string name, FunctionKind kind, int32_t domain, Span span) {
  m.functions.emplace_back();
  Function& f = m.functions.back();
  f.name = std::move(name);
  f.kind = kind;
  f.domain = domain;
  f.span = span;
  return f;
}

Span end_of(Span s) { return Span{s.file, s.end > s.begin ? s.end - 1 : s.end, s.end}; }

// A literal (possibly negated) as a constant, for `system` start values.
std::optional<Constant> literal_constant(const Expr& e) {
  Constant c;
  if (auto* i = e.as<IntLit>()) {
    c.i = i->value;
    return c;
  }
  if (auto* f = e.as<FloatLit>()) {
    c.kind = Constant::Kind::Float;
    c.f = f->value;
    return c;
  }
  if (auto* s = e.as<StringLit>()) {
    c.kind = Constant::Kind::String;
    c.s = s->value;
    return c;
  }
  if (auto* b = e.as<BoolLit>()) {
    c.kind = Constant::Kind::Bool;
    c.i = b->value ? 1 : 0;
    return c;
  }
  if (auto* u = e.as<UnaryExpr>(); u && u->op == UnaryOp::Neg) {
    auto inner = literal_constant(*u->operand);
    if (inner && inner->kind == Constant::Kind::Int && inner->i != INT64_MIN) {
      inner->i = -inner->i;
      return inner;
    }
    if (inner && inner->kind == Constant::Kind::Float) {
      inner->f = -inner->f;
      return inner;
    }
  }
  return std::nullopt;
}

class ProgramLowering {
 public:
  ProgramLowering(Module& m, const Program& p, const ProgramModel& model, const SourceManager& sources,
                  DiagnosticSink& sink)
      : m_(m), program_(p), model_(model), sources_(sources), cx_(m, model, sink), sink_(sink) {}

  void run() {
    declare_tables();
    lower_fns();
    for (size_t i = 0; i < model_.domains.size(); ++i) lower_domain(static_cast<uint32_t>(i));
    lower_system();
    for (const auto& dep : program_.deploys)
      if (const DomainSym* d = model_.domain(dep.domain.name))
        m_.deploys.push_back(Deploy{cx_.domain_index(d->name), dep.environment.name, dep.service});
    for (const auto& mig : program_.migrations) lower_migration(mig);
    lower_tests(cx_, program_, sources_);
  }

 private:
  void declare_tables() {
    // Records by name (the model keeps them sorted), then each domain's state record.
    for (const auto& [name, rec] : model_.records) {
      cx_.declare_record(name, static_cast<uint32_t>(m_.records.size()));
      m_.records.push_back(Record{name, {}});
    }
    for (size_t i = 0; i < model_.domains.size(); ++i) {
      const DomainSym& d = model_.domains[i];
      cx_.declare_domain(d.name, static_cast<uint32_t>(i));
      cx_.declare_record(d.name + ".State", static_cast<uint32_t>(m_.records.size()));
      m_.records.push_back(Record{d.name + ".State", {}});
    }
    for (const auto& [name, eff] : model_.effects) {
      cx_.declare_effect(name, static_cast<uint32_t>(m_.effects.size()));
      m_.effects.push_back(ExternalCall{name, {}, 0, static_cast<uint8_t>(eff.privilege), true});
    }
    for (const auto& [name, obs] : model_.observations) {
      cx_.declare_observation(name, static_cast<uint32_t>(m_.observations.size()));
      m_.observations.push_back(ExternalCall{name, {}, 0, 0, true});
    }
    // Now that every name has an index, the types that mention them.
    for (const auto& [name, rec] : model_.records) {
      Record& r = m_.records[cx_.record_index(name)];
      for (const auto& f : rec.fields) {
        auto t = cx_.convert(f.type, f.span);
        r.fields.push_back(Field{f.name, t ? *t : 0});
      }
    }
    for (const auto& d : model_.domains) {
      Record& r = m_.records[cx_.record_index(d.name + ".State")];
      for (const auto& f : d.fields) {
        auto t = cx_.convert(f.type, f.span);
        r.fields.push_back(Field{f.name, t ? *t : 0});
      }
    }
    auto externals = [&](const auto& table, std::vector<ExternalCall>& out) {
      size_t i = 0;
      for (const auto& [name, sym] : table) {
        ExternalCall& e = out[i++];
        if (auto params = convert_params(cx_, sym.params)) e.params = *params;
        auto result = cx_.convert(sym.result, sym.span);
        e.result = result ? *result : 0;
      }
    };
    externals(model_.effects, m_.effects);
    externals(model_.observations, m_.observations);
    for (const auto& [name, fn] : model_.fns) {
      cx_.declare_function(name, static_cast<uint32_t>(m_.functions.size()));
      new_function(m_, name, FunctionKind::Fn, -1, fn.decl ? fn.decl->span : Span{});
    }
  }

  void lower_fns() {
    for (const auto& [name, fn] : model_.fns) {
      Function& f = m_.functions[cx_.function_index(name)];
      auto params = convert_params(cx_, fn.params);
      auto result = cx_.convert(fn.result, fn.decl ? fn.decl->name.span : Span{});
      if (!params || !result || !fn.decl) continue;
      f.result = *result;
      FunctionBuilder fb(cx_, f, BodyKind::Fn, nullptr);
      declare_params(fb, *params);
      fb.statements(fn.decl->body.statements);
      fb.finish(*result == m_.types.unit() ? FunctionBuilder::Ending::ReturnUnit : FunctionBuilder::Ending::MissingReturn,
                end_of(fn.decl->body.span.end > 0 ? fn.decl->body.span : fn.decl->span));
    }
  }

  void lower_domain(uint32_t index) {
    const DomainSym& d = model_.domains[index];
    Domain dom;
    dom.name = d.name;
    dom.state_record = cx_.record_index(d.name + ".State");
    dom.scope = d.scope_unresolved ? "Root" : model_.authority.describe(d.scope);
    dom.scope_depth = static_cast<uint8_t>(d.scope_unresolved ? 0 : model_.authority.depth_rank(d.scope));
    dom.privilege = static_cast<uint8_t>(d.privilege);
    dom.version = d.version;
    const int32_t di = static_cast<int32_t>(index);

    // The initial state: each field's default, or its type's zero value.
    {
      uint32_t fi = static_cast<uint32_t>(m_.functions.size());
      Function& f = new_function(m_, d.name + ".init", FunctionKind::Initializer, di, d.decl->span);
      f.result = m_.types.record(dom.state_record);
      FunctionBuilder fb(cx_, f, BodyKind::Initializer, &d);
      const Record& rec = m_.records[dom.state_record];
      std::vector<TypeId> types;
      for (const auto& field : rec.fields) types.push_back(field.type);
      uint32_t first = fb.temps(types);
      for (size_t i = 0; i < d.fields.size(); ++i) {
        uint32_t slot = first + static_cast<uint32_t>(i);
        const FieldDecl* decl = d.fields[i].decl;
        if (decl && decl->default_value) {
          fb.expr_into(*decl->default_value, slot);
        } else {
          fb.zero_value(types[i], d.fields[i].span, slot);
        }
      }
      uint32_t out = fb.temp(f.result);
      fb.emit(Op::RECORD_NEW, out, first, static_cast<uint32_t>(types.size()), dom.state_record, d.decl->name.span);
      fb.emit(Op::RET, out, 0, 0, 0, d.decl->name.span);
      fb.finish(FunctionBuilder::Ending::End, d.decl->name.span);
      dom.initializer = fi;
    }

    for (const auto& t : d.transitions) {
      Transition tr;
      tr.name = t.name;
      tr.is_start = t.is_start;
      tr.span = t.decl->span;
      tr.budget = t.decl->budget.value_or(0);
      tr.escalation = t.escalation_reason.value_or("");
      tr.scope = t.scope_unresolved ? dom.scope : model_.authority.describe(t.scope);
      if (t.decl->on && t.decl->on->kind == OnClause::Kind::Outcome) {
        std::string effect = dotted_name(t.decl->on->effect);
        // An undeclared effect is added here if a use declared it implicitly, so that a
        // handler declared before the transition that emits it still handles it.
        std::optional<uint32_t> e = cx_.find_effect(effect);
        if (!e && model_.undeclared_effects.count(effect)) e = cx_.effect_index(effect);
        if (e) tr.on_effect = static_cast<int32_t>(*e);
        tr.on_ok = t.decl->on->ok;
      }
      auto params = convert_params(cx_, t.params);
      if (!params) continue;
      tr.params = *params;
      tr.function = static_cast<uint32_t>(m_.functions.size());
      Function& f = new_function(m_, d.name + "." + t.name, FunctionKind::Transition, di, t.decl->span);
      f.result = m_.types.unit();
      FunctionBuilder fb(cx_, f, BodyKind::Transition, &d);
      declare_params(fb, *params);
      for (size_t s = 0; s < t.decl->slices.size(); ++s) {
        const Slice& slice = t.decl->slices[s];
        std::string name = slice.name ? slice.name->name : "";
        if (s == 0) {
          f.slice_names[0] = name;
        } else {
          fb.begin_slice(name, slice.span);
        }
        fb.statements(slice.statements);
      }
      fb.finish(FunctionBuilder::Ending::End, end_of(t.decl->span));
      dom.transitions.push_back(std::move(tr));
    }

    for (const auto& g : model_.goals) {
      if (g.domain != d.name || !g.decl || !g.decl->predicate) continue;
      Goal goal;
      goal.name = g.decl->name.name;
      goal.span = g.decl->span;
      goal.priority = static_cast<uint32_t>(g.priority);
      goal.inferred_strategy = g.inferred_strategy;
      for (const auto& s : g.strategy) {
        auto it = d.transition_index.find(s);
        if (it != d.transition_index.end()) goal.strategy.push_back(static_cast<uint32_t>(it->second));
      }
      if (g.decl->terminate_after) {
        goal.terminate_kind = static_cast<uint8_t>(g.decl->terminate_after->kind);
        goal.terminate_count = g.decl->terminate_after->count;
      }
      if (g.decl->backoff && g.decl->backoff->kind.name == "exponential" && !g.decl->backoff->args.empty()) {
        goal.backoff_exponential = true;
        if (auto* n = g.decl->backoff->args[0].value->as<IntLit>()) goal.backoff_max = n->value;
      }
      goal.predicate = predicate(d, di, d.name + ".goal." + goal.name, *g.decl->predicate, FunctionKind::Predicate,
                                 BodyKind::Predicate);
      dom.goals.push_back(std::move(goal));
    }
    for (const auto& inv : d.decl->invariants) {
      if (!inv.condition) continue;
      Invariant i;
      i.name = inv.name.name;
      i.span = inv.span;
      i.function = predicate(d, di, d.name + ".invariant." + i.name, *inv.condition, FunctionKind::Invariant,
                             BodyKind::Invariant);
      dom.invariants.push_back(std::move(i));
    }
    dom.activated_by_default = !dom.goals.empty();
    for (const auto& t : dom.transitions) dom.activated_by_default = dom.activated_by_default || t.is_start;
    m_.domains.push_back(std::move(dom));
  }

  uint32_t predicate(const DomainSym& d, int32_t di, std::string name, const Expr& e, FunctionKind fk, BodyKind bk) {
    uint32_t index = static_cast<uint32_t>(m_.functions.size());
    Function& f = new_function(m_, std::move(name), fk, di, e.span);
    f.result = m_.types.boolean();
    FunctionBuilder fb(cx_, f, bk, &d);
    if (auto r = fb.expr(e, m_.types.boolean())) fb.emit(Op::RET, *r, 0, 0, 0, e.span);
    fb.finish(FunctionBuilder::Ending::End, e.span);
    return index;
  }

  void lower_system() {
    for (const auto& sys : program_.systems) {
      m_.has_system = true;
      for (const auto& item : sys.starts) {
        const DomainSym* d = model_.domain(item.type.name);
        if (!d) continue;
        StartItem s;
        s.domain = cx_.domain_index(d->name);
        if (item.instance_id) {
          auto c = literal_constant(*item.instance_id);
          if (!c || (c->kind != Constant::Kind::Int && c->kind != Constant::Kind::String)) {
            sink_.error("V-TYP-002", item.instance_id->span, "an instance id in `system` must be an int or string literal")
                .label("not a literal")
                .help("write the id literally, e.g. `start domain Worker[1] { ... }`");
            continue;
          }
          s.id_constant = static_cast<int32_t>(m_.add_constant(*c));
        }
        for (const auto& init : item.inits) {
          auto fi = d->field_index.find(init.field.name);
          if (fi == d->field_index.end()) continue;
          auto c = literal_constant(*init.value);
          if (!c) {
            sink_.error("V-TYP-002", init.value->span, "a start value in `system` must be a literal")
                .label("not a literal")
                .help("set computed values in a start transition instead");
            continue;
          }
          s.fields.emplace_back(static_cast<uint32_t>(fi->second), m_.add_constant(*c));
        }
        m_.system.push_back(std::move(s));
      }
    }
  }

  // A migration becomes a function of its domain (FunctionKind::Migration) from the
  // stored state, as the record of the fields it reads, to the state it returns; see
  // MigrationTarget (lower_internal.h) for why the input is a record of its own.
  void lower_migration(const MigrationDecl& mig) {
    if (!mig.from || !mig.to || mig.from->path.empty()) return;
    const DomainSym* d = model_.domain(mig.from->path[0].name);
    if (!d) return;
    Migration m;
    m.name = mig.name.name;
    m.domain = cx_.domain_index(d->name);
    m.from_version = mig.from->version.value_or(1);
    m.to_version = mig.to->version.value_or(1);

    MigrationTarget target;
    target.domain = d;
    target.to_version = m.to_version;
    target.from_record = static_cast<uint32_t>(m_.records.size());
    m_.records.push_back(Record{m.name + ".from", {}});
    target.to_is_state = m.to_version == d->version;
    if (target.to_is_state) {
      target.to_record = cx_.record_index(d->name + ".State");
    } else {
      target.to_record = static_cast<uint32_t>(m_.records.size());
      m_.records.push_back(Record{m.name + ".to", {}});
    }
    // `D.State@N` names the record this migration builds, for the checker's types of
    // its locals (each migration has its own: declared again before each body).
    cx_.declare_record(d->name + ".State@" + std::to_string(m.to_version), target.to_record);
    cx_.declare_record(d->name + ".State@" + std::to_string(m.from_version), target.from_record);

    m.function = static_cast<uint32_t>(m_.functions.size());
    Function& f = new_function(m_, "migration." + m.name, FunctionKind::Migration, static_cast<int32_t>(m.domain),
                               mig.span);
    f.result = m_.types.record(target.to_record);
    FunctionBuilder fb(cx_, f, BodyKind::Migration, nullptr);
    target.from_register = fb.named("from", m_.types.record(target.from_record));
    f.param_count = 1;
    fb.migration = target;
    fb.statements(mig.body);
    fb.finish(FunctionBuilder::Ending::MissingReturn, end_of(mig.span));
    m_.migrations.push_back(std::move(m));
  }

  Module& m_;
  const Program& program_;
  const ProgramModel& model_;
  const SourceManager& sources_;
  LowerContext cx_;
  DiagnosticSink& sink_;
};

}  // namespace

std::unique_ptr<Module> lower_program(const Program& program, const ProgramModel& model, const SourceManager& sources,
                                      DiagnosticSink& sink) {
  auto module = std::make_unique<Module>();
  const SourceFile& file = sources.file(program.file);
  module->program_name = std::filesystem::path(file.name()).stem().string();
  for (size_t i = 0; i < sources.size(); ++i) module->source_files.push_back(sources.file(static_cast<FileId>(i)).name());
  size_t errors_before = sink.error_count();
  ProgramLowering(*module, program, model, sources, sink).run();
  if (sink.error_count() > errors_before) return nullptr;
  optimize(*module);
  return module;
}

}  // namespace ved::ir
