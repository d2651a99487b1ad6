// Parse tree -> AST.
//
// Walks the ANTLR contexts directly (no visitor: antlrcpp::Any boxing costs more than
// the parse itself on large files). Every child accessor may return null after error
// recovery, so every access goes through a helper that substitutes an error node.
//
// Also reports the mistakes the grammar accepts on purpose so that they can be named
// precisely (V-SYN-003/004/005/009/010/016/017/019/021/022/023) and literal errors
// (V-SYN-011/012).
#include <algorithm>
#include <type_traits>
#include <typeinfo>

#include "frontend/literals.h"
#include "frontend/parser_internal.h"

namespace ved::parse_detail {

namespace {

using P = VedParser;
using namespace ved::ast;

// `ctx` as the labelled alternative T, or null. The alternative contexts ANTLR
// generates are leaves of their class hierarchy, so an exact type test gives
// dynamic_cast's answer, at the cost of one type_info comparison (equal addresses when
// it matches); dynamic_cast walked the hierarchy comparing type names, a tenth of the
// whole parse when every statement and expression was dispatched that way.
template <class T, class Context>
T* alt(Context* ctx) {
  static_assert(std::is_base_of_v<Context, T>);
  return ctx && typeid(*ctx) == typeid(T) ? static_cast<T*>(ctx) : nullptr;
}

class AstBuilder {
 public:
  AstBuilder(const TokenLocator& locator, const std::vector<uint32_t>& parse_errors, DiagnosticSink& sink)
      : loc_(locator), parse_errors_(parse_errors), sink_(sink) {
    program_->file = loc_.file();
  }

  // The AST is built one top-level item at a time, in source order, so that the SLL
  // pass can release each item's parse tree as soon as its AST exists (parser.cpp).
  void add(P::TopItemContext* item);
  std::unique_ptr<Program> finish();

 private:
  // ---- helpers -------------------------------------------------------------------
  Span span(antlr4::ParserRuleContext* ctx) const { return loc_.span_of(ctx); }
  Span span(antlr4::tree::TerminalNode* node) const { return node ? loc_.span_of(node) : Span{loc_.file(), 0, 0}; }
  Span span(const antlr4::Token* t) const { return loc_.span_of(t); }

  Identifier ident(P::IdentContext* ctx) const {
    if (!ctx) return Identifier{"<missing>", Span{loc_.file(), 0, 0}};
    // `ident` is always one token.
    return Identifier{loc_.text_of(ctx->getStart()), span(ctx)};
  }
  // The source text of a rule as written, whitespace included (getText() drops it).
  static std::string source_text(antlr4::ParserRuleContext* ctx) {
    antlr4::Token* start = ctx->getStart();
    antlr4::Token* stop = ctx->getStop();
    if (!start || !stop || stop->getTokenIndex() < start->getTokenIndex()) return ctx->getText();
    return start->getInputStream()->getText(antlr4::misc::Interval(start->getStartIndex(), stop->getStopIndex()));
  }
  std::vector<Identifier> qualified(P::QualifiedNameContext* ctx) const {
    std::vector<Identifier> out;
    if (!ctx) return out;
    for (auto* id : ctx->ident()) out.push_back(ident(id));
    return out;
  }
  std::string string_value(antlr4::tree::TerminalNode* node);
  int64_t int_value(antlr4::tree::TerminalNode* node);

  // ---- declarations --------------------------------------------------------------
  void top_item(P::TopItemContext* ctx, Program& program);
  std::vector<Annotation> annotations(const std::vector<P::AnnotationContext*>& list);
  void reject_annotations(const std::vector<Annotation>& list, const char* what);
  DomainDecl domain(P::DomainDeclContext* ctx, std::vector<Annotation> annots);
  ScopeRef scope_ref(P::ScopeRefContext* ctx);
  std::optional<ScopeRef> scope_member(P::ScopeMemberContext* ctx);
  CapabilityBlock capability(P::CapabilityBlockContext* ctx);
  void state_block(P::StateBlockContext* ctx, DomainDecl& into);
  FieldDecl field(P::FieldDeclContext* ctx);
  GoalDecl goal(P::GoalDeclContext* ctx);
  InvariantDecl invariant(P::InvariantDeclContext* ctx);
  TransitionDecl transition(P::TransitionDeclContext* ctx, std::vector<Annotation> annots);
  FnDecl fn(P::FnDeclContext* ctx);
  TypeDecl type_decl(P::TypeDeclContext* ctx);
  EffectDecl effect(P::EffectDeclContext* ctx);
  ObserveDecl observe(P::ObserveDeclContext* ctx);
  AuthorityDecl authority(P::AuthorityDeclContext* ctx);
  ScopeNode scope_node(P::ScopeNodeContext* ctx);
  SystemDecl system(P::SystemDeclContext* ctx);
  EnvironmentDecl environment(P::EnvironmentDeclContext* ctx);
  DeployDecl deploy(P::DeployDeclContext* ctx);
  MigrationDecl migration(P::MigrationDeclContext* ctx);
  TestDecl test(P::TestDeclContext* ctx);
  ImportDecl import(P::ImportDeclContext* ctx);
  std::vector<Param> params(P::ParamListContext* ctx);
  TypeExpr type(P::TypeContext* ctx);
  std::vector<FieldInit> field_inits(const std::vector<P::FieldInitContext*>& list);

  // ---- statements and expressions ------------------------------------------------
  std::vector<StmtPtr> statements(const std::vector<P::StatementContext*>& list);
  Block block(P::BlockContext* ctx);
  StmtPtr statement(P::StatementContext* ctx);
  StmtPtr if_statement(P::IfStatementContext* ctx);
  StmtPtr send_statement(P::SendStatementContext* ctx);
  ExprPtr condition(P::ConditionContext* ctx);
  // `on_left_spine`: ctx is the left operand of a postfix or binary expression whose
  // chain length was already checked.
  ExprPtr expr(P::ExprContext* ctx, bool on_left_spine = false);
  ExprPtr primary(P::PrimaryContext* ctx);
  std::vector<Argument> args(P::ArgListContext* ctx);
  void check_assign_target(const Expr& target);

  bool has_parse_error_in(Span s) const {
    auto it = std::lower_bound(parse_errors_.begin(), parse_errors_.end(), s.begin);
    return it != parse_errors_.end() && *it <= s.end;
  }

  std::unique_ptr<Program> program_ = std::make_unique<Program>();
  // After a parse error, recovery often leaves fragments of the broken declaration as
  // top-level "statements"; they are echoes of that error, not new ones, until the next
  // clean declaration.
  bool recovering_ = false;
  uint32_t previous_end_ = 0;
  Span script_state_span_{};  // the first top-level `state` block of a script-mode file
  const TokenLocator& loc_;
  const std::vector<uint32_t>& parse_errors_;  // byte offsets of reported parse errors, sorted
  DiagnosticSink& sink_;
  // Expressions being built around the one being built now: a chain is bounded by how
  // deep it would take the tree in all, not by its own length alone (expr()).
  size_t expr_depth_ = 0;
  // > 0 while inside a nested block (if/while/for) or a non-transition body, where
  // `yield` is not allowed.
  int yield_forbidden_ = 0;
};

// ---------------------------------------------------------------------------------
// Literals

std::string AstBuilder::string_value(antlr4::tree::TerminalNode* node) {
  if (!node) return "";
  std::string text = loc_.text_of(node->getSymbol());
  if (text.size() < 2) return "";
  StringDecodeError error;
  auto value = decode_string_literal(text, error);
  if (!value) {
    Span s = span(node);
    // Escape offsets are bytes within the token; the token text is the source bytes.
    Span bad{s.file, s.begin + static_cast<uint32_t>(error.offset),
             s.begin + static_cast<uint32_t>(error.offset + error.length)};
    sink_.error("V-SYN-011", bad, "invalid escape sequence in string literal")
        .label(error.message)
        .help("valid escapes are \\n \\t \\r \\0 \\\" \\\\ and \\u{XXXX}; write a backslash as \\\\");
    return "";
  }
  return *value;
}

int64_t AstBuilder::int_value(antlr4::tree::TerminalNode* node) {
  if (!node) return 0;
  auto value = decode_int_literal(loc_.text_of(node->getSymbol()));
  if (!value) {
    sink_.error("V-SYN-012", span(node), "integer literal out of range")
        .label("does not fit in a 64-bit signed integer")
        .help("the largest int is 9_223_372_036_854_775_807; use a float for larger magnitudes");
    return 0;
  }
  return *value;
}

// ---------------------------------------------------------------------------------
// Program and modes

void AstBuilder::add(P::TopItemContext* item) {
  Program& program = *program_;
  Span s = span(item);
  bool broken = has_parse_error_in(s) || has_parse_error_in(Span{s.file, previous_end_, s.begin});
  previous_end_ = s.end;
  if (alt<P::TopLevelStatementContext>(item)) {
    if (!recovering_ && !broken) top_item(item, program);
    recovering_ = recovering_ || broken;
    return;
  }
  top_item(item, program);
  recovering_ = broken;
}

std::unique_ptr<Program> AstBuilder::finish() {
  std::unique_ptr<Program> program = std::move(program_);
  // Script-mode members were collected into an implicit `Main`, created where the
  // first of them appeared (see top_item). Mixing is V-SYN-003.
  bool has_explicit = std::any_of(program->domains.begin(), program->domains.end(),
                                  [](const DomainDecl& d) { return !d.implicit; });
  auto main = std::find_if(program->domains.begin(), program->domains.end(),
                           [](const DomainDecl& d) { return d.implicit; });
  if (has_explicit && main != program->domains.end()) {
    auto first_domain = std::find_if(program->domains.begin(), program->domains.end(),
                                     [](const DomainDecl& d) { return !d.implicit; });
    sink_.error("V-SYN-003", main->span, "script-mode declaration in a system-mode file")
        .label("top-level member outside any domain")
        .secondary(first_domain->name.span, "this file declares a domain, so it is in system mode")
        .help("move this declaration into a domain, or remove the domains to use script mode");
  }
  program->mode = has_explicit ? FileMode::System : FileMode::Script;
  return program;
}

void AstBuilder::top_item(P::TopItemContext* ctx, Program& program) {
  if (auto* stmt = alt<P::TopLevelStatementContext>(ctx)) {
    sink_.error("V-SYN-004", span(stmt), "statement at the top level of the file")
        .label("statements cannot appear here")
        .help("put it inside a transition, or give a state field a default value with `name: Type = value`");
    return;
  }
  auto* annotated = alt<P::AnnotatedDeclContext>(ctx);
  if (!annotated) return;
  std::vector<Annotation> annots = annotations(annotated->annotation());
  P::DeclarationContext* decl = annotated->declaration();
  if (!decl) {
    if (!annots.empty()) {
      sink_.error("V-SYN-021", annots.front().span, "annotation without a declaration")
          .label("nothing follows this annotation")
          .help("put the annotation directly before the `domain` or `transition` it applies to");
    }
    return;
  }

  // Script-mode members go into the implicit domain `Main`, created on first use.
  auto main = [&]() -> DomainDecl& {
    for (auto& d : program.domains)
      if (d.implicit) return d;
    DomainDecl m;
    m.name = Identifier{"Main", span(decl)};
    m.implicit = true;
    m.span = span(decl);
    program.domains.push_back(std::move(m));
    return program.domains.back();
  };

  if (auto* d = decl->domainDecl()) {
    program.domains.push_back(domain(d, std::move(annots)));
    return;
  }
  if (auto* t = decl->transitionDecl()) {
    DomainDecl& m = main();
    m.transitions.push_back(transition(t, std::move(annots)));
    return;
  }
  if (auto* s = decl->stateBlock()) {
    reject_annotations(annots, "a state block");
    DomainDecl& m = main();
    if (m.has_state_block) {
      sink_.error("V-SYN-022", span(s), "second top-level `state` block")
          .label("another state block")
          .secondary(script_state_span_, "the first one is here")
          .help("declare all fields in one `state { ... }` block");
    } else {
      script_state_span_ = span(s);
    }
    state_block(s, m);
    return;
  }
  if (auto* g = decl->goalDecl()) {
    reject_annotations(annots, "a goal");
    GoalDecl goal_decl = goal(g);
    main().goals.push_back(std::move(goal_decl));
    return;
  }
  if (auto* i = decl->invariantDecl()) {
    reject_annotations(annots, "an invariant");
    InvariantDecl inv = invariant(i);
    main().invariants.push_back(std::move(inv));
    return;
  }
  if (auto* f = decl->fnDecl()) {
    reject_annotations(annots, "a function");
    program.fns.push_back(fn(f));
  } else if (auto* t = decl->typeDecl()) {
    reject_annotations(annots, "a record type");
    program.types.push_back(type_decl(t));
  } else if (auto* e = decl->effectDecl()) {
    reject_annotations(annots, "an effect declaration");
    program.effects.push_back(effect(e));
  } else if (auto* o = decl->observeDecl()) {
    reject_annotations(annots, "an observation declaration");
    program.observations.push_back(observe(o));
  } else if (auto* a = decl->authorityDecl()) {
    reject_annotations(annots, "an authority tree");
    program.authorities.push_back(authority(a));
  } else if (auto* s = decl->systemDecl()) {
    reject_annotations(annots, "a system block");
    program.systems.push_back(system(s));
  } else if (auto* e = decl->environmentDecl()) {
    reject_annotations(annots, "an environment");
    program.environments.push_back(environment(e));
  } else if (auto* d = decl->deployDecl()) {
    reject_annotations(annots, "a deploy declaration");
    program.deploys.push_back(deploy(d));
  } else if (auto* m = decl->migrationDecl()) {
    reject_annotations(annots, "a migration");
    program.migrations.push_back(migration(m));
  } else if (auto* t = decl->testDecl()) {
    reject_annotations(annots, "a test");
    program.tests.push_back(test(t));
  } else if (auto* i = decl->importDecl()) {
    reject_annotations(annots, "an import");
    program.imports.push_back(import(i));
  }
}

std::vector<Annotation> AstBuilder::annotations(const std::vector<P::AnnotationContext*>& list) {
  std::vector<Annotation> out;
  for (auto* a : list) {
    Annotation an;
    an.name = ident(a->ident());
    an.span = span(a);
    if (auto* args_ctx = a->annotationArgs()) {
      if (args_ctx->ident()) {  // `word(args)`: the word as a bare scope, then the arguments
        an.scope = ScopeRef{ident(args_ctx->ident()), std::nullopt, span(args_ctx->ident())};
        an.args = args(args_ctx->argList());
      } else if (args_ctx->LPAREN()) {
        an.args = args(args_ctx->argList());
      } else if (args_ctx->INT()) {
        an.number = int_value(args_ctx->INT());
      } else if (args_ctx->STRING()) {
        an.text = string_value(args_ctx->STRING());
      } else if (args_ctx->scopeRef()) {
        an.scope = scope_ref(args_ctx->scopeRef());
      }
    }
    out.push_back(std::move(an));
  }
  return out;
}

void AstBuilder::reject_annotations(const std::vector<Annotation>& list, const char* what) {
  for (const auto& a : list) {
    sink_.error("V-SYN-021", a.span, "annotation `@" + a.name.name + "` cannot apply to " + what)
        .label("misplaced annotation")
        .help("annotations apply to a `domain` or a `transition`; move it before one");
  }
}

// ---------------------------------------------------------------------------------
// Domains

DomainDecl AstBuilder::domain(P::DomainDeclContext* ctx, std::vector<Annotation> annots) {
  DomainDecl d;
  d.annotations = std::move(annots);
  d.name = ident(ctx->ident());
  d.span = span(ctx);
  Span state_span{};
  const std::vector<P::DomainMemberContext*> members = ctx->domainMember();
  // Transitions are large records: reserved at once, not grown by doubling, since each
  // large allocation made glibc consolidate the parse tree's freed contexts.
  d.transitions.reserve(static_cast<size_t>(
      std::count_if(members.begin(), members.end(), [](P::DomainMemberContext* m) { return m->transitionDecl(); })));
  for (auto* m : members) {
    if (auto* c = m->capabilityBlock()) {
      CapabilityBlock block = capability(c);
      if (d.capability) {
        sink_.error("V-SYN-022", block.span, "second `capability` block in domain `" + d.name.name + "`")
            .label("another capability block")
            .secondary(d.capability->span, "the first one is here")
            .help("merge the two blocks into one");
      } else {
        d.capability = std::move(block);
      }
    } else if (auto* s = m->stateBlock()) {
      if (d.has_state_block) {
        sink_.error("V-SYN-022", span(s), "second `state` block in domain `" + d.name.name + "`")
            .label("another state block")
            .secondary(state_span, "the first one is here")
            .help("declare all fields in one `state { ... }` block");
      } else {
        state_span = span(s);
      }
      state_block(s, d);
    } else if (auto* g = m->goalDecl()) {
      d.goals.push_back(goal(g));
    } else if (auto* i = m->invariantDecl()) {
      d.invariants.push_back(invariant(i));
    } else if (auto* t = m->transitionDecl()) {
      d.transitions.push_back(transition(t, annotations(m->annotation())));
    } else if (auto* s = m->scopeMember()) {
      auto scope = scope_member(s);
      if (d.scope && scope) {
        sink_.error("V-SYN-022", scope->span, "second scope for domain `" + d.name.name + "`")
            .label("another scope")
            .secondary(d.scope->span, "the first one is here")
            .help("a domain has exactly one scope");
      } else if (scope) {
        d.scope = std::move(scope);
      }
    } else if (auto* f = m->fnDecl()) {
      d.fns.push_back(fn(f));
    }
  }
  return d;
}

ScopeRef AstBuilder::scope_ref(P::ScopeRefContext* ctx) {
  ScopeRef r;
  r.span = span(ctx);
  if (ctx->DOMAIN()) {
    r.level = Identifier{"domain", span(ctx->DOMAIN())};
  } else {
    r.level = ident(ctx->ident());
    if (ctx->STRING()) r.name = string_value(ctx->STRING());
  }
  return r;
}

std::optional<ScopeRef> AstBuilder::scope_member(P::ScopeMemberContext* ctx) {
  if (!ctx->scopeRef()) return std::nullopt;
  return scope_ref(ctx->scopeRef());
}

CapabilityBlock AstBuilder::capability(P::CapabilityBlockContext* ctx) {
  CapabilityBlock b;
  b.span = span(ctx);
  for (auto* item : ctx->capabilityItem()) {
    CapabilityItem ci;
    ci.span = span(item);
    auto ids = item->ident();
    if (!ids.empty()) ci.name = ident(ids[0]);
    if (ids.size() > 1) ci.value = ident(ids[1]);
    b.items.push_back(std::move(ci));
  }
  return b;
}

void AstBuilder::state_block(P::StateBlockContext* ctx, DomainDecl& into) {
  into.has_state_block = true;
  for (auto* f : ctx->fieldDecl()) into.state.push_back(field(f));
}

FieldDecl AstBuilder::field(P::FieldDeclContext* ctx) {
  FieldDecl f;
  f.name = ident(ctx->ident());
  f.type = type(ctx->type());
  if (ctx->expr()) f.default_value = expr(ctx->expr());
  f.span = span(ctx);
  return f;
}

TypeExpr AstBuilder::type(P::TypeContext* ctx) {
  TypeExpr t;
  if (!ctx) return t;
  t.span = span(ctx);
  t.path = qualified(ctx->qualifiedName());
  if (ctx->AT()) t.version = int_value(ctx->INT());
  for (auto* arg : ctx->type()) t.args.push_back(type(arg));
  t.optional = ctx->QUESTION() != nullptr;
  return t;
}

// ---------------------------------------------------------------------------------
// Goals and invariants

GoalDecl AstBuilder::goal(P::GoalDeclContext* ctx) {
  GoalDecl g;
  g.name = ident(ctx->ident());
  g.span = span(ctx);
  Span predicate_span{};
  auto repeated = [&](antlr4::ParserRuleContext* item, const char* what) {
    sink_.error("V-SYN-016", span(item), std::string("goal `") + g.name.name + "` has more than one " + what)
        .label("repeated here")
        .help(std::string("keep a single ") + what);
  };
  for (auto* item : ctx->goalItem()) {
    if (auto* p = alt<P::GoalPredicateContext>(item)) {
      if (g.predicate) {
        sink_.error("V-SYN-016", span(p), "goal `" + g.name.name + "` has more than one predicate")
            .label("second predicate")
            .secondary(predicate_span, "first predicate")
            .help("combine the conditions with `&&` into one predicate");
        continue;
      }
      predicate_span = span(p);
      g.style_target = p->TARGET() != nullptr;
      g.predicate = condition(p->condition());
    } else if (auto* pr = alt<P::GoalPriorityContext>(item)) {
      if (g.priority) { repeated(pr, "priority"); continue; }
      Priority priority;
      priority.span = span(pr);
      if (pr->INT()) priority.number = int_value(pr->INT());
      else priority.name = ident(pr->ident());
      g.priority = std::move(priority);
    } else if (auto* sb = alt<P::GoalStrategyBlockContext>(item)) {
      if (g.strategy) { repeated(sb, "strategy"); continue; }
      std::vector<Identifier> names;
      for (auto* id : sb->ident()) names.push_back(ident(id));
      g.strategy = std::move(names);
    } else if (auto* sl = alt<P::GoalStrategyListContext>(item)) {
      if (g.strategy) { repeated(sl, "strategy"); continue; }
      std::vector<Identifier> names;
      for (auto* id : sl->ident()) names.push_back(ident(id));
      g.strategy = std::move(names);
    } else if (auto* ta = alt<P::GoalTerminateAfterContext>(item)) {
      if (g.terminate_after) { repeated(ta, "terminate_after"); continue; }
      TerminateAfter t;
      t.span = span(ta);
      if (ta->NEVER()) {
        t.kind = TerminateAfter::Kind::Never;
      } else {
        t.count = int_value(ta->INT());
        t.kind = ta->TICKS() ? TerminateAfter::Kind::Ticks : TerminateAfter::Kind::Attempts;
      }
      g.terminate_after = t;
    } else if (auto* bo = alt<P::GoalBackoffContext>(item)) {
      if (g.backoff) { repeated(bo, "backoff"); continue; }
      Backoff b;
      b.span = span(bo);
      if (bo->NONE()) b.kind = Identifier{"none", span(bo->NONE())};
      else b.kind = ident(bo->ident());
      b.args = args(bo->argList());
      g.backoff = std::move(b);
    }
  }
  if (!g.predicate) {
    sink_.error("V-SYN-016", g.name.span, "goal `" + g.name.name + "` has no predicate")
        .label("this goal never says when it holds")
        .help("add `predicate: <condition>` (or `target <condition>`) inside the goal");
  }
  return g;
}

InvariantDecl AstBuilder::invariant(P::InvariantDeclContext* ctx) {
  InvariantDecl inv;
  inv.name = ident(ctx->ident());
  inv.span = span(ctx);
  inv.condition = condition(ctx->condition());
  return inv;
}

ExprPtr AstBuilder::condition(P::ConditionContext* ctx) {
  if (!ctx) return std::make_unique<ErrorExpr>(Span{loc_.file(), 0, 0});
  auto exprs = ctx->expr();
  if (ctx->ASSIGN()) {
    Span eq = span(ctx->ASSIGN());
    std::string lhs = exprs.empty() ? "a" : source_text(exprs[0]);
    std::string rhs = exprs.size() < 2 ? "b" : source_text(exprs[1]);
    sink_.error("V-SYN-005", eq, "`=` assigns; a condition compares with `==`")
        .label("assignment in a condition")
        .help("write `" + lhs + " == " + rhs + "`");
  }
  if (exprs.empty()) return std::make_unique<ErrorExpr>(span(ctx));
  return expr(exprs[0]);
}

// ---------------------------------------------------------------------------------
// Transitions

TransitionDecl AstBuilder::transition(P::TransitionDeclContext* ctx, std::vector<Annotation> annots) {
  TransitionDecl t;
  t.annotations = std::move(annots);
  t.name = ident(ctx->ident());
  t.span = span(ctx);
  t.has_param_list = ctx->LPAREN() != nullptr;
  t.params = params(ctx->paramList());

  if (auto* on = ctx->onClause()) {
    OnClause clause;
    clause.span = span(on);
    if (on->START()) {
      clause.kind = OnClause::Kind::Start;
    } else {
      clause.kind = OnClause::Kind::Outcome;
      auto path = qualified(on->qualifiedName());
      const std::string last = path.empty() ? "" : path.back().name;
      if (path.size() < 2 || (last != "ok" && last != "failed")) {
        sink_.error("V-SYN-023", clause.span, "malformed `on` clause")
            .label("expected `start`, `Effect.ok` or `Effect.failed`")
            .help(path.size() >= 2 ? "end the effect name with `.ok` or `.failed`"
                                   : "name the effect and its outcome, e.g. `on Infra.Provision.ok`");
      } else {
        clause.ok = last == "ok";
        path.pop_back();
      }
      clause.effect = std::move(path);
    }
    t.on = std::move(clause);
  }

  for (auto* head : ctx->transitionHead()) {
    if (auto* c = head->capabilityBlock()) {
      CapabilityBlock block = capability(c);
      if (t.capability) {
        sink_.error("V-SYN-022", block.span, "second `capability` block in transition `" + t.name.name + "`")
            .label("another capability block")
            .secondary(t.capability->span, "the first one is here")
            .help("merge the two blocks into one");
      } else {
        t.capability = std::move(block);
      }
    } else if (head->BUDGET()) {
      if (t.budget) {
        sink_.error("V-SYN-022", span(head), "second `budget` in transition `" + t.name.name + "`")
            .label("another budget")
            .help("keep one `budget: N`");
      }
      t.budget = int_value(head->INT());
    }
  }

  // The body: statements (one slice, split by `yield` later) or slice blocks.
  Slice plain;
  plain.span = t.span;
  Span first_statement{}, first_slice{};
  bool has_statements = false, has_slices = false;
  for (auto* item : ctx->bodyItem()) {
    if (auto* st = alt<P::BodyStatementContext>(item)) {
      auto* sc = st->statement();
      if (!sc || alt<P::EmptyStmtContext>(sc)) continue;
      if (!has_statements) first_statement = span(sc);
      has_statements = true;
      if (auto s = statement(sc)) plain.statements.push_back(std::move(s));
    } else {
      Slice slice;
      slice.span = span(item);
      P::BlockContext* body = nullptr;
      if (auto* named = alt<P::NamedSliceContext>(item)) {
        slice.name = ident(named->ident());
        slice.step_block = slice.name->name == "step";
        body = named->block();
      } else if (auto* step = alt<P::StepSliceContext>(item)) {
        slice.name = Identifier{"step", span(step->STEP())};
        slice.step_block = true;
        body = step->block();
      }
      if (!has_slices) first_slice = slice.span;
      has_slices = true;
      ++yield_forbidden_;
      if (body) slice.statements = statements(body->statement());
      --yield_forbidden_;
      t.slices.push_back(std::move(slice));
    }
  }
  if (has_statements && has_slices) {
    sink_.error("V-SYN-017", first_statement, "statements outside the slice blocks of transition `" + t.name.name + "`")
        .label("this statement is in no slice")
        .secondary(first_slice, "the body is split into slice blocks here")
        .help("move the statement into a `slice name { }` block of its own, or into an existing one");
  }
  if (!has_slices) t.slices.push_back(std::move(plain));
  return t;
}

std::vector<Param> AstBuilder::params(P::ParamListContext* ctx) {
  std::vector<Param> out;
  if (!ctx) return out;
  for (auto* p : ctx->param()) out.push_back(Param{ident(p->ident()), type(p->type()), span(p)});
  return out;
}

FnDecl AstBuilder::fn(P::FnDeclContext* ctx) {
  FnDecl f;
  f.name = ident(ctx->ident());
  f.span = span(ctx);
  f.params = params(ctx->paramList());
  if (ctx->type()) f.result = type(ctx->type());
  ++yield_forbidden_;
  f.body = block(ctx->block());
  --yield_forbidden_;
  return f;
}

TypeDecl AstBuilder::type_decl(P::TypeDeclContext* ctx) {
  TypeDecl t;
  t.name = ident(ctx->ident());
  t.span = span(ctx);
  for (auto* f : ctx->fieldDecl()) t.fields.push_back(field(f));
  return t;
}

EffectDecl AstBuilder::effect(P::EffectDeclContext* ctx) {
  EffectDecl e;
  e.name = qualified(ctx->qualifiedName());
  e.span = span(ctx);
  e.params = params(ctx->paramList());
  if (ctx->type()) e.result = type(ctx->type());
  if (ctx->ident()) e.privilege = ident(ctx->ident());
  return e;
}

ObserveDecl AstBuilder::observe(P::ObserveDeclContext* ctx) {
  ObserveDecl o;
  o.name = qualified(ctx->qualifiedName());
  o.span = span(ctx);
  o.params = params(ctx->paramList());
  if (ctx->type()) o.result = type(ctx->type());
  return o;
}

AuthorityDecl AstBuilder::authority(P::AuthorityDeclContext* ctx) {
  AuthorityDecl a;
  a.span = span(ctx);
  for (auto* n : ctx->scopeNode()) {
    if (n->ident()) a.roots.push_back(scope_node(n));
  }
  return a;
}

ScopeNode AstBuilder::scope_node(P::ScopeNodeContext* ctx) {
  ScopeNode n;
  n.level = ident(ctx->ident());
  n.span = span(ctx);
  if (ctx->STRING()) n.name = string_value(ctx->STRING());
  for (auto* c : ctx->scopeNode()) {
    if (c->ident()) n.children.push_back(scope_node(c));
  }
  return n;
}

std::vector<FieldInit> AstBuilder::field_inits(const std::vector<P::FieldInitContext*>& list) {
  std::vector<FieldInit> out;
  for (auto* f : list) out.push_back(FieldInit{ident(f->ident()), expr(f->expr())});
  return out;
}

SystemDecl AstBuilder::system(P::SystemDeclContext* ctx) {
  SystemDecl s;
  s.name = ident(ctx->ident());
  s.span = span(ctx);
  for (auto* item : ctx->systemItem()) {
    if (!item->START()) continue;
    StartItem st;
    st.type = ident(item->ident());
    st.span = span(item);
    if (item->LBRACK()) st.instance_id = expr(item->expr());
    st.inits = field_inits(item->fieldInit());
    s.starts.push_back(std::move(st));
  }
  return s;
}

EnvironmentDecl AstBuilder::environment(P::EnvironmentDeclContext* ctx) {
  EnvironmentDecl e;
  e.name = ident(ctx->ident());
  e.span = span(ctx);
  for (auto* item : ctx->environmentItem()) {
    if (auto* s = item->scopeMember()) {
      e.scope = scope_member(s);
    } else if (auto* c = item->capabilityBlock()) {
      e.capability = capability(c);
    } else if (item->ident()) {
      e.settings.push_back(Setting{ident(item->ident()), expr(item->expr())});
    }
  }
  return e;
}

DeployDecl AstBuilder::deploy(P::DeployDeclContext* ctx) {
  DeployDecl d;
  auto ids = ctx->ident();
  if (ids.size() > 0) d.domain = ident(ids[0]);
  if (ids.size() > 1) d.environment = ident(ids[1]);
  d.service = ctx->SERVICE() != nullptr;
  d.span = span(ctx);
  return d;
}

MigrationDecl AstBuilder::migration(P::MigrationDeclContext* ctx) {
  MigrationDecl m;
  m.name = ident(ctx->ident());
  m.span = span(ctx);
  for (auto* h : ctx->migrationHead()) {
    if (h->FROM()) m.from = type(h->type());
    else m.to = type(h->type());
  }
  ++yield_forbidden_;
  m.body = statements(ctx->statement());
  --yield_forbidden_;
  return m;
}

TestDecl AstBuilder::test(P::TestDeclContext* ctx) {
  TestDecl t;
  t.name = string_value(ctx->STRING());
  t.span = span(ctx);
  ++yield_forbidden_;
  for (auto* section : ctx->testSection()) {
    if (auto* given = alt<P::GivenSectionContext>(section)) {
      for (auto* item : given->givenItem()) {
        if (!item->ident()) continue;
        GivenItem gi;
        gi.type = ident(item->ident());
        gi.span = span(item);
        if (item->LBRACK()) gi.instance_id = expr(item->expr());
        gi.inits = field_inits(item->fieldInit());
        t.given.push_back(std::move(gi));
      }
    } else if (auto* sim = alt<P::SimulateSectionContext>(section)) {
      for (auto* item : sim->simulateItem()) {
        SimulateItem si;
        if (auto* stub = alt<P::SimulateEffectContext>(item)) {
          EffectStub es;
          es.effect = qualified(stub->qualifiedName());
          es.fails = stub->FAIL() != nullptr;
          if (stub->expr()) es.value = expr(stub->expr());
          es.span = span(stub);
          si.stub = std::move(es);
        } else if (auto* st = alt<P::SimulateStatementContext>(item)) {
          if (!st->statement() || alt<P::EmptyStmtContext>(st->statement())) continue;
          si.statement = statement(st->statement());
          if (!si.statement) continue;
        }
        t.simulate.push_back(std::move(si));
      }
    } else if (auto* ex = alt<P::ExpectSectionContext>(section)) {
      for (auto* item : ex->expectItem()) {
        Expectation e;
        e.span = span(item);
        if (auto* a = alt<P::ExpectAlwaysContext>(item)) {
          e.kind = Expectation::Kind::Always;
          e.condition = condition(a->condition());
        } else if (auto* ev = alt<P::ExpectEventuallyContext>(item)) {
          e.kind = Expectation::Kind::Eventually;
          e.condition = condition(ev->condition());
        } else if (auto* f = alt<P::ExpectFinalContext>(item)) {
          e.kind = Expectation::Kind::Final;
          e.condition = condition(f->condition());
        } else {
          continue;
        }
        t.expect.push_back(std::move(e));
      }
    }
  }
  --yield_forbidden_;
  return t;
}

ImportDecl AstBuilder::import(P::ImportDeclContext* ctx) {
  ImportDecl i;
  i.span = span(ctx);
  if (ctx->STRING()) i.path = string_value(ctx->STRING());
  else i.module = qualified(ctx->qualifiedName());
  return i;
}

// ---------------------------------------------------------------------------------
// Statements

std::vector<StmtPtr> AstBuilder::statements(const std::vector<P::StatementContext*>& list) {
  std::vector<StmtPtr> out;
  for (auto* s : list) {
    if (auto st = statement(s)) out.push_back(std::move(st));
  }
  return out;
}

Block AstBuilder::block(P::BlockContext* ctx) {
  Block b;
  if (!ctx) return b;
  b.span = span(ctx);
  ++yield_forbidden_;
  b.statements = statements(ctx->statement());
  --yield_forbidden_;
  return b;
}

void AstBuilder::check_assign_target(const Expr& target) {
  const Expr* e = &target;
  while (true) {
    if (e->kind == ExprKind::Name || e->kind == ExprKind::Error) return;
    if (auto* m = e->as<MemberExpr>()) {
      e = m->base.get();
    } else if (auto* i = e->as<IndexExpr>()) {
      e = i->base.get();
    } else {
      break;
    }
  }
  sink_.error("V-SYN-019", target.span, "cannot assign to this expression")
      .label("not a field, local, element or member")
      .help("assign to a state field, a local, or `xs[i]` / `m[k]` / `r.f` of one");
}

StmtPtr AstBuilder::statement(P::StatementContext* ctx) {
  if (!ctx) return nullptr;
  Span s = span(ctx);
  if (auto* let = alt<P::LetStmtContext>(ctx)) {
    auto st = std::make_unique<LetStmt>(s);
    st->name = ident(let->ident());
    if (let->type()) st->type = type(let->type());
    st->value = expr(let->expr());
    return st;
  }
  if (auto* as = alt<P::ExprOrAssignStmtContext>(ctx)) {
    auto exprs = as->expr();
    if (!as->assignOp()) {
      auto st = std::make_unique<ExprStmt>(s);
      st->expr = expr(exprs.empty() ? nullptr : exprs[0]);
      return st;
    }
    auto st = std::make_unique<AssignStmt>(s);
    st->target = expr(exprs.size() > 0 ? exprs[0] : nullptr);
    st->value = expr(exprs.size() > 1 ? exprs[1] : nullptr);
    if (auto* op = as->assignOp()) {
      st->op_span = span(op);
      if (op->PLUS_ASSIGN()) st->op = AssignOp::Add;
      else if (op->MINUS_ASSIGN()) st->op = AssignOp::Sub;
      else if (op->STAR_ASSIGN()) st->op = AssignOp::Mul;
    }
    check_assign_target(*st->target);
    return st;
  }
  if (auto* i = alt<P::IfStmtContext>(ctx)) return if_statement(i->ifStatement());
  if (auto* w = alt<P::WhileStmtContext>(ctx)) {
    auto st = std::make_unique<WhileStmt>(s);
    st->condition = condition(w->condition());
    st->body = block(w->block());
    return st;
  }
  if (auto* f = alt<P::ForStmtContext>(ctx)) {
    auto st = std::make_unique<ForStmt>(s);
    auto ids = f->ident();
    if (!ids.empty()) st->var = ident(ids[0]);
    if (ids.size() > 1) st->value_var = ident(ids[1]);
    auto exprs = f->expr();
    st->iterable = expr(exprs.empty() ? nullptr : exprs[0]);
    if (f->RANGE()) st->range_end = expr(exprs.size() > 1 ? exprs[1] : nullptr);
    st->body = block(f->block());
    return st;
  }
  if (auto* sd = alt<P::SendStmtContext>(ctx)) return send_statement(sd->sendStatement());
  if (auto* r = alt<P::ReplyStmtContext>(ctx)) {
    auto st = std::make_unique<ReplyStmt>(s);
    st->message = ident(r->ident());
    st->args = args(r->argList());
    return st;
  }
  if (auto* e = alt<P::EmitStmtContext>(ctx)) {
    auto st = std::make_unique<EmitStmt>(s);
    st->intent = expr(e->expr());
    return st;
  }
  if (auto* sp = alt<P::SpawnStmtContext>(ctx)) {
    auto st = std::make_unique<SpawnStmt>(s);
    st->type = ident(sp->ident());
    if (sp->LBRACK()) st->instance_id = expr(sp->expr());
    st->inits = field_inits(sp->fieldInit());
    return st;
  }
  if (auto* sc = alt<P::ScheduleStmtContext>(ctx)) {
    auto st = std::make_unique<ScheduleStmt>(s);
    st->message = ident(sc->ident());
    st->args = args(sc->argList());
    st->delay = expr(sc->expr());
    return st;
  }
  if (alt<P::YieldStmtContext>(ctx)) {
    if (yield_forbidden_ > 0) {
      sink_.error("V-SYN-010", s, "`yield` is only allowed between the top-level statements of a transition")
          .label("`yield` inside a nested block")
          .help("move the `yield` out of the `if`/loop, or split the work into `slice name { }` blocks");
    }
    return std::make_unique<YieldStmt>(s);
  }
  if (auto* f = alt<P::FailStmtContext>(ctx)) {
    auto st = std::make_unique<FailStmt>(s);
    if (f->expr()) st->reason = expr(f->expr());
    return st;
  }
  if (auto* a = alt<P::AssertStmtContext>(ctx)) {
    auto st = std::make_unique<AssertStmt>(s);
    st->condition = condition(a->condition());
    if (a->expr()) st->message = expr(a->expr());
    return st;
  }
  if (auto* r = alt<P::ReturnStmtContext>(ctx)) {
    auto st = std::make_unique<ReturnStmt>(s);
    if (r->expr()) st->value = expr(r->expr());
    return st;
  }
  return nullptr;  // `;`
}

StmtPtr AstBuilder::if_statement(P::IfStatementContext* ctx) {
  if (!ctx) return nullptr;
  auto st = std::make_unique<IfStmt>(span(ctx));
  st->condition = condition(ctx->condition());
  st->then_block = block(ctx->block(0));
  if (ctx->ELSE()) {
    if (auto* nested = ctx->ifStatement()) {
      Block b;
      b.span = span(nested);
      if (auto s = if_statement(nested)) b.statements.push_back(std::move(s));
      st->else_block = std::move(b);
    } else {
      st->else_block = block(ctx->block(1));
    }
  }
  return st;
}

StmtPtr AstBuilder::send_statement(P::SendStatementContext* ctx) {
  if (!ctx) return nullptr;
  auto st = std::make_unique<SendStmt>(span(ctx));
  if (auto* by_name = alt<P::SendByNameContext>(ctx)) {
    st->by_name = true;
    st->high_lane = by_name->SEND_HIGH() != nullptr;
    auto strings = by_name->STRING();
    if (strings.size() > 0) st->target_type = Identifier{string_value(strings[0]), span(strings[0])};
    if (strings.size() > 1) st->message = Identifier{string_value(strings[1]), span(strings[1])};
    st->args = args(by_name->argList());
  } else if (auto* typed = alt<P::SendTypedContext>(ctx)) {
    st->high_lane = typed->HIGH() != nullptr;
    auto ids = typed->ident();
    if (ids.size() > 0) st->target_type = ident(ids[0]);
    if (ids.size() > 1) st->message = ident(ids[1]);
    if (typed->LBRACK()) st->instance_id = expr(typed->expr());
    st->args = args(typed->argList());
  }
  return st;
}

// ---------------------------------------------------------------------------------
// Expressions

std::vector<Argument> AstBuilder::args(P::ArgListContext* ctx) {
  std::vector<Argument> out;
  if (!ctx) return out;
  for (auto* a : ctx->arg()) {
    Argument arg;
    arg.span = span(a);
    if (a->ident()) arg.name = ident(a->ident());
    arg.value = expr(a->expr());
    out.push_back(std::move(arg));
  }
  return out;
}

// The left operand of a left-recursive expression (`a.b`, `a[i]`, `a(x)`, `a + b`).
P::ExprContext* left_operand(P::ExprContext* ctx) {
  if (auto* m = alt<P::MemberExprContext>(ctx)) return m->expr();
  if (auto* i = alt<P::IndexExprContext>(ctx)) return i->expr(0);
  if (auto* c = alt<P::CallExprContext>(ctx)) return c->expr();
  if (auto* b = alt<P::BinaryExprContext>(ctx)) return b->expr(0);
  return nullptr;
}

ExprPtr AstBuilder::expr(P::ExprContext* ctx, bool on_left_spine) {
  if (!ctx) return std::make_unique<ErrorExpr>(Span{loc_.file(), 0, 0});
  Span s = span(ctx);
  if (auto* p = alt<P::PrimaryExprContext>(ctx)) return primary(p->primary());
  struct Deeper {
    size_t& depth;
    explicit Deeper(size_t& d) : depth(++d) {}
    ~Deeper() { --depth; }
  } deeper(expr_depth_);
  // ANTLR parses `1 + 1 + ... + 1` iteratively, but the tree it builds is as deep as the
  // chain is long, and everything after the parser recurses over it: bound it here, at
  // the top of each chain, with the expressions it is inside of, as GuardedParser bounds
  // the parser's own recursion.
  if (!on_left_spine) {
    size_t length = 0;
    for (P::ExprContext* c = ctx; c; c = left_operand(c)) ++length;
    if (length + expr_depth_ > GuardedParser::kMaxExpressionDepth) {
      sink_.error("V-SYN-024", s, "nesting too deep")
          .label("a chain of " + std::to_string(length - 1) + " operators")
          .help("split the expression: compute parts into locals");
      return std::make_unique<ErrorExpr>(s);
    }
  }
  if (auto* m = alt<P::MemberExprContext>(ctx)) {
    return std::make_unique<MemberExpr>(s, expr(m->expr(), true), ident(m->ident()));
  }
  if (auto* i = alt<P::IndexExprContext>(ctx)) {
    return std::make_unique<IndexExpr>(s, expr(i->expr(0), true), expr(i->expr(1)));
  }
  if (auto* c = alt<P::CallExprContext>(ctx)) {
    auto call = std::make_unique<CallExpr>(s, expr(c->expr(), true));
    call->args = args(c->argList());
    return call;
  }
  if (auto* u = alt<P::UnaryExprContext>(ctx)) {
    UnaryOp op = u->op && u->op->getType() == VedLexer::MINUS ? UnaryOp::Neg : UnaryOp::Not;
    // `-9223372036854775808` is a literal, not the negation of an out-of-range one.
    if (op == UnaryOp::Neg) {
      if (auto* pe = alt<P::PrimaryExprContext>(u->expr())) {
        if (auto* lit = alt<P::IntLiteralContext>(pe->primary())) {
          std::string digits = loc_.text_of(lit->INT()->getSymbol());
          digits.erase(std::remove(digits.begin(), digits.end(), '_'), digits.end());
          if (digits == "9223372036854775808") return std::make_unique<IntLit>(s, INT64_MIN);
        }
      }
    }
    return std::make_unique<UnaryExpr>(s, op, expr(u->expr()));
  }
  if (auto* b = alt<P::BinaryExprContext>(ctx)) {
    BinaryOp op = BinaryOp::Add;
    switch (b->op ? b->op->getType() : static_cast<size_t>(VedLexer::PLUS)) {
      case VedLexer::STAR: op = BinaryOp::Mul; break;
      case VedLexer::SLASH: op = BinaryOp::Div; break;
      case VedLexer::PERCENT: op = BinaryOp::Rem; break;
      case VedLexer::PLUS: op = BinaryOp::Add; break;
      case VedLexer::MINUS: op = BinaryOp::Sub; break;
      case VedLexer::COALESCE: op = BinaryOp::Coalesce; break;
      case VedLexer::LT: op = BinaryOp::Lt; break;
      case VedLexer::LE: op = BinaryOp::Le; break;
      case VedLexer::GT: op = BinaryOp::Gt; break;
      case VedLexer::GE: op = BinaryOp::Ge; break;
      case VedLexer::EQ: op = BinaryOp::Eq; break;
      case VedLexer::NE: op = BinaryOp::Ne; break;
      case VedLexer::ANDAND: case VedLexer::AND: op = BinaryOp::And; break;
      case VedLexer::OROR: case VedLexer::OR: op = BinaryOp::Or; break;
      default: break;
    }
    auto lhs = expr(b->expr(0), true);
    auto rhs = expr(b->expr(1));
    Span op_span = b->op ? span(b->op) : s;
    if (is_comparison(op)) {
      auto chained = [](const Expr& e) {
        auto* be = e.as<BinaryExpr>();
        return be && !e.parenthesized && is_comparison(be->op);
      };
      if (chained(*lhs) || chained(*rhs)) {
        const BinaryExpr& inner = chained(*lhs) ? *lhs->as<BinaryExpr>() : *rhs->as<BinaryExpr>();
        sink_.error("V-SYN-009", op_span, "comparison operators do not chain")
            .label("second comparison")
            .secondary(inner.op_span, "first comparison")
            .help("compare twice and combine with `&&`, e.g. `a < b && b < c`");
      }
    }
    return std::make_unique<BinaryExpr>(s, op, op_span, std::move(lhs), std::move(rhs));
  }
  return std::make_unique<ErrorExpr>(s);
}

ExprPtr AstBuilder::primary(P::PrimaryContext* ctx) {
  if (!ctx) return std::make_unique<ErrorExpr>(Span{loc_.file(), 0, 0});
  Span s = span(ctx);
  if (auto* i = alt<P::IntLiteralContext>(ctx)) return std::make_unique<IntLit>(s, int_value(i->INT()));
  if (auto* f = alt<P::FloatLiteralContext>(ctx)) {
    auto value = decode_float_literal(loc_.text_of(f->FLOAT()->getSymbol()));
    if (!value) {
      sink_.error("V-SYN-012", s, "float literal out of range")
          .label("not a finite binary64 value")
          .help("the largest float is about 1.8e308");
    }
    return std::make_unique<FloatLit>(s, value.value_or(0.0));
  }
  if (auto* str = alt<P::StringLiteralContext>(ctx)) {
    return std::make_unique<StringLit>(s, string_value(str->STRING()));
  }
  if (auto* b = alt<P::BoolLiteralContext>(ctx)) return std::make_unique<BoolLit>(s, b->TRUE() != nullptr);
  if (alt<P::NoneLiteralContext>(ctx)) return std::make_unique<NoneLit>(s);
  if (auto* l = alt<P::ListLiteralContext>(ctx)) {
    auto list = std::make_unique<ListLit>(s);
    for (auto* e : l->expr()) list->elements.push_back(expr(e));
    return list;
  }
  if (auto* m = alt<P::MapLiteralContext>(ctx)) {
    auto map = std::make_unique<MapLit>(s);
    for (auto* entry : m->mapEntry()) map->entries.push_back(MapEntry{expr(entry->expr(0)), expr(entry->expr(1))});
    return map;
  }
  if (auto* p = alt<P::ParenExprContext>(ctx)) {
    auto inner = expr(p->expr());
    inner->parenthesized = true;
    inner->span = s;
    return inner;
  }
  if (auto* v = alt<P::VersionedTypeRefContext>(ctx)) {
    return std::make_unique<VersionedTypeExpr>(s, ident(v->ident(0)), ident(v->ident(1)), int_value(v->INT()));
  }
  if (auto* n = alt<P::NameExprContext>(ctx)) return std::make_unique<NameExpr>(s, loc_.text_of(n->getStart()));
  if (alt<P::StateRefContext>(ctx)) return std::make_unique<NameExpr>(s, "state");
  return std::make_unique<ErrorExpr>(s);
}

}  // namespace

struct ProgramBuilder::Impl : AstBuilder {
  using AstBuilder::AstBuilder;
};

ProgramBuilder::ProgramBuilder(const TokenLocator& locator, const std::vector<uint32_t>& parse_errors,
                               DiagnosticSink& sink)
    : impl_(std::make_unique<Impl>(locator, parse_errors, sink)) {}

ProgramBuilder::~ProgramBuilder() = default;

void ProgramBuilder::add(VedParser::TopItemContext* item) { impl_->add(item); }

std::unique_ptr<ast::Program> ProgramBuilder::finish() { return impl_->finish(); }

std::unique_ptr<ast::Program> build_ast(VedParser::ProgramContext* tree, const TokenLocator& locator,
                                        const std::vector<uint32_t>& parse_errors, DiagnosticSink& sink) {
  ProgramBuilder builder(locator, parse_errors, sink);
  for (auto* item : tree->topItem()) builder.add(item);
  return builder.finish();
}

}  // namespace ved::parse_detail
