#include "frontend/ast_dump.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace ved {

namespace {

using namespace ved::ast;

std::string format_double(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip
  return std::string(buf, ptr);
}

// Escapes a string for the one-line text format.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      default: out.push_back(ch);
    }
  }
  return out + "\"";
}

class Dumper {
 public:
  explicit Dumper(const SourceManager& sources) : sources_(sources) {}

  DumpNode program(const Program& p) {
    DumpNode n = node("Program", Span{p.file, 0, 0});
    n.attrs.push_back({"file", sources_.file(p.file).name()});
    n.attrs.push_back({"mode", p.mode == FileMode::System ? "system" : "script"});
    for (const auto& x : p.imports) n.children.push_back(import(x));
    for (const auto& x : p.authorities) n.children.push_back(authority(x));
    for (const auto& x : p.types) n.children.push_back(type_decl(x));
    for (const auto& x : p.effects) n.children.push_back(effect(x));
    for (const auto& x : p.observations) n.children.push_back(observe(x));
    for (const auto& x : p.fns) n.children.push_back(fn(x));
    for (const auto& x : p.domains) n.children.push_back(domain(x));
    for (const auto& x : p.environments) n.children.push_back(environment(x));
    for (const auto& x : p.systems) n.children.push_back(system(x));
    for (const auto& x : p.deploys) n.children.push_back(deploy(x));
    for (const auto& x : p.migrations) n.children.push_back(migration(x));
    for (const auto& x : p.tests) n.children.push_back(test(x));
    return n;
  }

 private:
  DumpNode node(std::string kind, Span span, std::string role = "") {
    DumpNode n;
    n.kind = std::move(kind);
    n.role = std::move(role);
    LineColumn lc = sources_.file(span.file).locate(span.begin);
    n.line = lc.line;
    n.column = lc.column;
    return n;
  }

  DumpNode with_role(DumpNode n, std::string role) {
    n.role = std::move(role);
    return n;
  }

  DumpNode annotation(const Annotation& a) {
    DumpNode n = node("Annotation", a.span);
    n.attrs.push_back({"name", a.name.name});
    if (a.number) n.attrs.push_back({"value", std::to_string(*a.number)});
    if (a.scope) n.children.push_back(scope_ref(*a.scope, "scope"));
    for (const auto& arg : a.args) n.children.push_back(argument(arg));
    return n;
  }

  DumpNode scope_ref(const ScopeRef& s, std::string role) {
    DumpNode n = node("ScopeRef", s.span, std::move(role));
    n.attrs.push_back({"level", s.level.name});
    if (s.name) n.attrs.push_back({"name", quote(*s.name)});
    return n;
  }

  DumpNode capability(const CapabilityBlock& c) {
    DumpNode n = node("Capability", c.span);
    for (const auto& item : c.items) {
      DumpNode i = node("CapabilityItem", item.span);
      i.attrs.push_back({"name", item.name.name});
      if (item.value) i.attrs.push_back({"value", item.value->name});
      n.children.push_back(std::move(i));
    }
    return n;
  }

  DumpNode field(const FieldDecl& f, const char* kind = "Field") {
    DumpNode n = node(kind, f.span);
    n.attrs.push_back({"name", f.name.name});
    n.attrs.push_back({"type", f.type.to_string()});
    if (f.default_value) n.children.push_back(expr(*f.default_value, "default"));
    return n;
  }

  DumpNode param(const Param& p) {
    DumpNode n = node("Param", p.span);
    n.attrs.push_back({"name", p.name.name});
    n.attrs.push_back({"type", p.type.to_string()});
    return n;
  }

  DumpNode domain(const DomainDecl& d) {
    DumpNode n = node("Domain", d.span);
    n.attrs.push_back({"name", d.name.name});
    if (d.implicit) n.attrs.push_back({"implicit", "true"});
    for (const auto& a : d.annotations) n.children.push_back(annotation(a));
    if (d.scope) n.children.push_back(scope_ref(*d.scope, "scope"));
    if (d.capability) n.children.push_back(capability(*d.capability));
    if (d.has_state_block) {
      DumpNode s = node("State", d.state.empty() ? d.span : d.state.front().span);
      for (const auto& f : d.state) s.children.push_back(field(f));
      n.children.push_back(std::move(s));
    }
    for (const auto& g : d.goals) n.children.push_back(goal(g));
    for (const auto& i : d.invariants) {
      DumpNode inv = node("Invariant", i.span);
      inv.attrs.push_back({"name", i.name.name});
      inv.children.push_back(expr(*i.condition, "condition"));
      n.children.push_back(std::move(inv));
    }
    for (const auto& t : d.transitions) n.children.push_back(transition(t));
    for (const auto& f : d.fns) n.children.push_back(fn(f));
    return n;
  }

  DumpNode goal(const GoalDecl& g) {
    DumpNode n = node("Goal", g.span);
    n.attrs.push_back({"name", g.name.name});
    if (g.priority) {
      n.attrs.push_back({"priority", g.priority->number ? std::to_string(*g.priority->number) : g.priority->name->name});
    }
    if (g.strategy) {
      std::string names;
      for (size_t i = 0; i < g.strategy->size(); ++i) names += (i ? ", " : "") + (*g.strategy)[i].name;
      n.attrs.push_back({"strategy", "[" + names + "]"});
    }
    if (g.terminate_after) {
      const auto& t = *g.terminate_after;
      n.attrs.push_back({"terminate_after", t.kind == TerminateAfter::Kind::Never ? "never"
                                            : std::to_string(t.count) +
                                                  (t.kind == TerminateAfter::Kind::Ticks ? " ticks" : " attempts")});
    }
    if (g.backoff) {
      DumpNode b = node("Backoff", g.backoff->span);
      b.attrs.push_back({"kind", g.backoff->kind.name});
      for (const auto& a : g.backoff->args) b.children.push_back(argument(a));
      n.children.push_back(std::move(b));
    }
    if (g.predicate) n.children.push_back(expr(*g.predicate, "predicate"));
    return n;
  }

  DumpNode transition(const TransitionDecl& t) {
    DumpNode n = node("Transition", t.span);
    n.attrs.push_back({"name", t.name.name});
    if (t.on) {
      n.attrs.push_back({"on", t.on->kind == OnClause::Kind::Start
                                   ? "start"
                                   : ast::dotted_name(t.on->effect) + (t.on->ok ? ".ok" : ".failed")});
    }
    if (t.budget) n.attrs.push_back({"budget", std::to_string(*t.budget)});
    for (const auto& a : t.annotations) n.children.push_back(annotation(a));
    for (const auto& p : t.params) n.children.push_back(param(p));
    if (t.capability) n.children.push_back(capability(*t.capability));
    for (const auto& s : t.slices) {
      DumpNode sl = node("Slice", s.span);
      if (s.name) sl.attrs.push_back({"name", s.name->name});
      for (const auto& st : s.statements) sl.children.push_back(stmt(*st));
      n.children.push_back(std::move(sl));
    }
    return n;
  }

  DumpNode fn(const FnDecl& f) {
    DumpNode n = node("Fn", f.span);
    n.attrs.push_back({"name", f.name.name});
    if (f.result) n.attrs.push_back({"result", f.result->to_string()});
    for (const auto& p : f.params) n.children.push_back(param(p));
    n.children.push_back(block(f.body, "body"));
    return n;
  }

  DumpNode type_decl(const TypeDecl& t) {
    DumpNode n = node("Type", t.span);
    n.attrs.push_back({"name", t.name.name});
    for (const auto& f : t.fields) n.children.push_back(field(f));
    return n;
  }

  DumpNode effect(const EffectDecl& e) {
    DumpNode n = node("Effect", e.span);
    n.attrs.push_back({"name", ast::dotted_name(e.name)});
    if (e.result) n.attrs.push_back({"result", e.result->to_string()});
    if (e.privilege) n.attrs.push_back({"privilege", e.privilege->name});
    for (const auto& p : e.params) n.children.push_back(param(p));
    return n;
  }

  DumpNode observe(const ObserveDecl& o) {
    DumpNode n = node("Observe", o.span);
    n.attrs.push_back({"name", ast::dotted_name(o.name)});
    if (o.result) n.attrs.push_back({"result", o.result->to_string()});
    for (const auto& p : o.params) n.children.push_back(param(p));
    return n;
  }

  DumpNode scope_node(const ScopeNode& s) {
    DumpNode n = node("Scope", s.span);
    n.attrs.push_back({"level", s.level.name});
    if (s.name) n.attrs.push_back({"name", quote(*s.name)});
    for (const auto& c : s.children) n.children.push_back(scope_node(c));
    return n;
  }

  DumpNode authority(const AuthorityDecl& a) {
    DumpNode n = node("Authority", a.span);
    for (const auto& r : a.roots) n.children.push_back(scope_node(r));
    return n;
  }

  void inits(DumpNode& n, const std::vector<FieldInit>& list) {
    for (const auto& f : list) {
      DumpNode i = node("Init", f.field.span);
      i.attrs.push_back({"field", f.field.name});
      i.children.push_back(expr(*f.value, "value"));
      n.children.push_back(std::move(i));
    }
  }

  DumpNode system(const SystemDecl& s) {
    DumpNode n = node("System", s.span);
    n.attrs.push_back({"name", s.name.name});
    for (const auto& st : s.starts) {
      DumpNode i = node("Start", st.span);
      i.attrs.push_back({"domain", st.type.name});
      if (st.instance_id) i.children.push_back(expr(*st.instance_id, "id"));
      inits(i, st.inits);
      n.children.push_back(std::move(i));
    }
    return n;
  }

  DumpNode environment(const EnvironmentDecl& e) {
    DumpNode n = node("Environment", e.span);
    n.attrs.push_back({"name", e.name.name});
    if (e.scope) n.children.push_back(scope_ref(*e.scope, "scope"));
    if (e.capability) n.children.push_back(capability(*e.capability));
    for (const auto& s : e.settings) {
      DumpNode i = node("Setting", s.key.span);
      i.attrs.push_back({"key", s.key.name});
      i.children.push_back(expr(*s.value, "value"));
      n.children.push_back(std::move(i));
    }
    return n;
  }

  DumpNode deploy(const DeployDecl& d) {
    DumpNode n = node("Deploy", d.span);
    n.attrs.push_back({"domain", d.domain.name});
    n.attrs.push_back({"environment", d.environment.name});
    return n;
  }

  DumpNode migration(const MigrationDecl& m) {
    DumpNode n = node("Migration", m.span);
    n.attrs.push_back({"name", m.name.name});
    if (m.from) n.attrs.push_back({"from", m.from->to_string()});
    if (m.to) n.attrs.push_back({"to", m.to->to_string()});
    for (const auto& s : m.body) n.children.push_back(stmt(*s));
    return n;
  }

  DumpNode test(const TestDecl& t) {
    DumpNode n = node("Test", t.span);
    n.attrs.push_back({"name", quote(t.name)});
    for (const auto& g : t.given) {
      DumpNode i = node("Given", g.span);
      i.attrs.push_back({"domain", g.type.name});
      if (g.instance_id) i.children.push_back(expr(*g.instance_id, "id"));
      inits(i, g.inits);
      n.children.push_back(std::move(i));
    }
    for (const auto& s : t.simulate) {
      if (s.stub) {
        DumpNode i = node("EffectStub", s.stub->span);
        i.attrs.push_back({"effect", ast::dotted_name(s.stub->effect)});
        i.attrs.push_back({"outcome", s.stub->fails ? "fail" : "return"});
        if (s.stub->value) i.children.push_back(expr(*s.stub->value, "value"));
        n.children.push_back(std::move(i));
      } else if (s.statement) {
        n.children.push_back(stmt(*s.statement));
      }
    }
    for (const auto& e : t.expect) {
      DumpNode i = node("Expect", e.span);
      i.attrs.push_back({"kind", e.kind == Expectation::Kind::Always       ? "always"
                                 : e.kind == Expectation::Kind::Eventually ? "eventually"
                                                                           : "final"});
      i.children.push_back(expr(*e.condition, "condition"));
      n.children.push_back(std::move(i));
    }
    return n;
  }

  DumpNode import(const ImportDecl& i) {
    DumpNode n = node("Import", i.span);
    n.attrs.push_back({"target", i.path ? quote(*i.path) : ast::dotted_name(i.module)});
    return n;
  }

  DumpNode block(const Block& b, std::string role) {
    DumpNode n = node("Block", b.span, std::move(role));
    for (const auto& s : b.statements) n.children.push_back(stmt(*s));
    return n;
  }

  DumpNode argument(const Argument& a) {
    DumpNode n = expr(*a.value, a.name ? "arg " + a.name->name : "arg");
    return n;
  }

  void arguments(DumpNode& n, const std::vector<Argument>& args) {
    for (const auto& a : args) n.children.push_back(argument(a));
  }

  DumpNode stmt(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::Let: {
        auto& x = static_cast<const LetStmt&>(s);
        DumpNode n = node("Let", s.span);
        n.attrs.push_back({"name", x.name.name});
        if (x.type) n.attrs.push_back({"type", x.type->to_string()});
        n.children.push_back(expr(*x.value, "value"));
        return n;
      }
      case StmtKind::Assign: {
        auto& x = static_cast<const AssignStmt&>(s);
        DumpNode n = node("Assign", s.span);
        n.attrs.push_back({"op", assign_op_spelling(x.op)});
        n.children.push_back(expr(*x.target, "target"));
        n.children.push_back(expr(*x.value, "value"));
        return n;
      }
      case StmtKind::If: {
        auto& x = static_cast<const IfStmt&>(s);
        DumpNode n = node("If", s.span);
        n.children.push_back(expr(*x.condition, "condition"));
        n.children.push_back(block(x.then_block, "then"));
        if (x.else_block) n.children.push_back(block(*x.else_block, "else"));
        return n;
      }
      case StmtKind::While: {
        auto& x = static_cast<const WhileStmt&>(s);
        DumpNode n = node("While", s.span);
        n.children.push_back(expr(*x.condition, "condition"));
        n.children.push_back(block(x.body, "body"));
        return n;
      }
      case StmtKind::For: {
        auto& x = static_cast<const ForStmt&>(s);
        DumpNode n = node("For", s.span);
        n.attrs.push_back({"var", x.var.name});
        if (x.value_var) n.attrs.push_back({"value_var", x.value_var->name});
        n.children.push_back(expr(*x.iterable, x.range_end ? "from" : "in"));
        if (x.range_end) n.children.push_back(expr(*x.range_end, "to"));
        n.children.push_back(block(x.body, "body"));
        return n;
      }
      case StmtKind::Send: {
        auto& x = static_cast<const SendStmt&>(s);
        DumpNode n = node("Send", s.span);
        n.attrs.push_back({"target", x.target_type.name});
        n.attrs.push_back({"message", x.message.name});
        if (x.high_lane) n.attrs.push_back({"lane", "high"});
        if (x.by_name) n.attrs.push_back({"by_name", "true"});
        if (x.instance_id) n.children.push_back(expr(*x.instance_id, "id"));
        arguments(n, x.args);
        return n;
      }
      case StmtKind::Reply: {
        auto& x = static_cast<const ReplyStmt&>(s);
        DumpNode n = node("Reply", s.span);
        n.attrs.push_back({"message", x.message.name});
        arguments(n, x.args);
        return n;
      }
      case StmtKind::Emit: {
        auto& x = static_cast<const EmitStmt&>(s);
        DumpNode n = node("Emit", s.span);
        n.children.push_back(expr(*x.intent, "intent"));
        return n;
      }
      case StmtKind::Spawn: {
        auto& x = static_cast<const SpawnStmt&>(s);
        DumpNode n = node("Spawn", s.span);
        n.attrs.push_back({"domain", x.type.name});
        if (x.instance_id) n.children.push_back(expr(*x.instance_id, "id"));
        inits(n, x.inits);
        return n;
      }
      case StmtKind::Schedule: {
        auto& x = static_cast<const ScheduleStmt&>(s);
        DumpNode n = node("Schedule", s.span);
        n.attrs.push_back({"message", x.message.name});
        arguments(n, x.args);
        n.children.push_back(expr(*x.delay, "after"));
        return n;
      }
      case StmtKind::Yield: return node("Yield", s.span);
      case StmtKind::Fail: {
        auto& x = static_cast<const FailStmt&>(s);
        DumpNode n = node("Fail", s.span);
        if (x.reason) n.children.push_back(expr(*x.reason, "reason"));
        return n;
      }
      case StmtKind::Assert: {
        auto& x = static_cast<const AssertStmt&>(s);
        DumpNode n = node("Assert", s.span);
        n.children.push_back(expr(*x.condition, "condition"));
        if (x.message) n.children.push_back(expr(*x.message, "message"));
        return n;
      }
      case StmtKind::Return: {
        auto& x = static_cast<const ReturnStmt&>(s);
        DumpNode n = node("Return", s.span);
        if (x.value) n.children.push_back(expr(*x.value, "value"));
        return n;
      }
      case StmtKind::Expr: {
        auto& x = static_cast<const ExprStmt&>(s);
        DumpNode n = node("ExprStmt", s.span);
        n.children.push_back(expr(*x.expr, "expr"));
        return n;
      }
    }
    return node("Unknown", s.span);
  }

  DumpNode expr(const Expr& e, std::string role = "") {
    DumpNode n = node("", e.span, std::move(role));
    switch (e.kind) {
      case ExprKind::Error: n.kind = "Error"; break;
      case ExprKind::Int:
        n.kind = "Int";
        n.attrs.push_back({"value", std::to_string(static_cast<const IntLit&>(e).value)});
        break;
      case ExprKind::Float:
        n.kind = "Float";
        n.attrs.push_back({"value", format_double(static_cast<const FloatLit&>(e).value)});
        break;
      case ExprKind::String:
        n.kind = "String";
        n.attrs.push_back({"value", quote(static_cast<const StringLit&>(e).value)});
        break;
      case ExprKind::Bool:
        n.kind = "Bool";
        n.attrs.push_back({"value", static_cast<const BoolLit&>(e).value ? "true" : "false"});
        break;
      case ExprKind::None: n.kind = "None"; break;
      case ExprKind::List: {
        n.kind = "List";
        for (const auto& x : static_cast<const ListLit&>(e).elements) n.children.push_back(expr(*x));
        break;
      }
      case ExprKind::Map: {
        n.kind = "Map";
        for (const auto& entry : static_cast<const MapLit&>(e).entries) {
          n.children.push_back(expr(*entry.key, "key"));
          n.children.push_back(expr(*entry.value, "value"));
        }
        break;
      }
      case ExprKind::Name:
        n.kind = "Name";
        n.attrs.push_back({"name", static_cast<const NameExpr&>(e).name});
        break;
      case ExprKind::Member: {
        auto& x = static_cast<const MemberExpr&>(e);
        n.kind = "Member";
        n.attrs.push_back({"member", x.member.name});
        n.children.push_back(expr(*x.base, "base"));
        break;
      }
      case ExprKind::Index: {
        auto& x = static_cast<const IndexExpr&>(e);
        n.kind = "Index";
        n.children.push_back(expr(*x.base, "base"));
        n.children.push_back(expr(*x.index, "index"));
        break;
      }
      case ExprKind::Call: {
        auto& x = static_cast<const CallExpr&>(e);
        n.kind = "Call";
        n.children.push_back(expr(*x.callee, "callee"));
        arguments(n, x.args);
        break;
      }
      case ExprKind::Unary: {
        auto& x = static_cast<const UnaryExpr&>(e);
        n.kind = "Unary";
        n.attrs.push_back({"op", unary_op_spelling(x.op)});
        n.children.push_back(expr(*x.operand, "operand"));
        break;
      }
      case ExprKind::Binary: {
        auto& x = static_cast<const BinaryExpr&>(e);
        n.kind = "Binary";
        n.attrs.push_back({"op", binary_op_spelling(x.op)});
        n.children.push_back(expr(*x.lhs, "lhs"));
        n.children.push_back(expr(*x.rhs, "rhs"));
        break;
      }
      case ExprKind::VersionedType: {
        auto& x = static_cast<const VersionedTypeExpr&>(e);
        n.kind = "VersionedType";
        n.attrs.push_back({"type", x.domain.name + "." + x.type.name + "@" + std::to_string(x.version)});
        break;
      }
    }
    return n;
  }

  const SourceManager& sources_;
};

void render_text(const DumpNode& n, int depth, std::string& out) {
  out.append(static_cast<size_t>(depth) * 2, ' ');
  if (!n.role.empty()) out += n.role + ": ";
  out += n.kind;
  for (const auto& [k, v] : n.attrs) out += " " + k + "=" + v;
  out += " @" + std::to_string(n.line) + ":" + std::to_string(n.column) + "\n";
  for (const auto& c : n.children) render_text(c, depth + 1, out);
}

nlohmann::ordered_json to_json(const DumpNode& n) {
  nlohmann::ordered_json j;
  j["kind"] = n.kind;
  if (!n.role.empty()) j["role"] = n.role;
  for (const auto& [k, v] : n.attrs) j[k] = v;
  j["line"] = n.line;
  j["column"] = n.column;
  if (!n.children.empty()) {
    auto children = nlohmann::ordered_json::array();
    for (const auto& c : n.children) children.push_back(to_json(c));
    j["children"] = std::move(children);
  }
  return j;
}

}  // namespace

DumpNode ast_to_dump(const ast::Program& program, const SourceManager& sources) {
  return Dumper(sources).program(program);
}

std::string render_dump_text(const DumpNode& root) {
  std::string out;
  render_text(root, 0, out);
  return out;
}

std::string render_dump_json(const DumpNode& root) {
  return to_json(root).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace ved
