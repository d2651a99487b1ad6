// Lowering of simulation tests (language.md §12). Each part of a `test` block becomes a
// function of its own kind (FunctionKind::TestValue ... in bytecode/format.h), and the
// test a row of Module::tests that names them; the runner (`vedvm test`) reads that row
// (docs/bundle.md, "Tests"):
//
//   given { domain D[id] { f = v } }  -> a TestValue for the id, a TestGiven that
//                                        STATE_SETs f on the instance's initial state
//   simulate { effect E { ... } }     -> a stub, with a TestValue for its value
//   simulate { statements }           -> one TestScript; `advance_ticks(n)` ends a step
//                                        (ADVANCE), so each step is a slice
//   expect { [always|eventually] c }  -> a TestExpect per condition, whose parameters are
//                                        the state records of the domains `c` reads
#include <algorithm>

#include "ir/lower_internal.h"

namespace ved::ir {

using namespace ast;

// ---------------------------------------------------------------------------------
// What FunctionBuilder does differently in a test

void FunctionBuilder::refuse_in_test(Span span, const std::string& what, const std::string& help) {
  const char* part = kind == BodyKind::TestGiven    ? "`given`"
                     : kind == BodyKind::TestScript ? "`simulate`"
                     : kind == BodyKind::TestExpect ? "`expect`"
                                                    : "a given instance id or an effect stub";
  cx.sink.error("V-ERR-011", span, what + " cannot be used in " + part)
      .label("not available in this part of a test")
      .help(help);
}

std::optional<uint32_t> FunctionBuilder::advance_ticks(const CallExpr& e, std::optional<uint32_t> into) {
  TypeTable& T = cx.module.types;
  if (kind != BodyKind::TestScript) {
    if (is_test_body(kind)) {
      refuse_in_test(e.span, "`advance_ticks`", "advance time in `simulate { }`");
    } else {  // the checker reports this first (V-TYP-009); kept for programs it let through
      cx.sink.error("V-TYP-009", e.span, "`advance_ticks` is only available in simulation tests")
          .label("test-only function")
          .help("use it inside a `test` block's `simulate { }`");
    }
    return std::nullopt;
  }
  if (e.args.size() != 1) return std::nullopt;  // reported by the checker
  auto ticks = expr(*e.args[0].value, T.integer());
  if (!ticks) return std::nullopt;
  // The step ends here; what follows is the next slice, run once the ticks have passed.
  // Registers live on in the continuation, as they do across a transition's `yield`.
  uint32_t next = new_block();
  emit(Op::ADVANCE, *ticks, 0, 0, static_cast<uint32_t>(f_.slice_entries.size()), e.span);
  f_.slice_entries.push_back(next);
  f_.slice_names.emplace_back();
  set_block(next);
  uint32_t dst = destination(into, T.unit());
  emit(Op::LOAD_UNIT, dst, 0, 0, 0, e.span);
  return dst;
}

std::optional<uint32_t> FunctionBuilder::domain_field_read(const MemberExpr& e, TypeId type,
                                                           std::optional<uint32_t> into, bool& handled) {
  auto* base = e.base->as<NameExpr>();
  if (!base || find_local(base->name) || is_poisoned(base->name)) return std::nullopt;
  const DomainSym* d = cx.model.domain(base->name);
  if (!d) return std::nullopt;
  auto field = d->field_index.find(e.member.name);
  if (field == d->field_index.end()) return std::nullopt;
  handled = true;
  if (kind != BodyKind::TestExpect) {
    refuse_in_test(e.span, "`" + base->name + "." + e.member.name + "`",
                   "a test reads domain state in `expect { }`; in `simulate`, act on it with `send`");
    return std::nullopt;
  }
  auto state = domain_states.find(cx.domain_index(d->name));
  if (state == domain_states.end()) {  // lower_tests' domains_read and this must agree
    cx.sink.error("V-TYP-009", e.span, "this read of `" + d->name + "`'s state cannot be compiled")
        .label("not a parameter of the expectation")
        .help("please report this: the compiler missed a domain this expectation reads");
    return std::nullopt;
  }
  uint32_t dst = destination(into, type);
  emit(Op::FIELD_GET, dst, state->second, 0, static_cast<uint32_t>(field->second), e.span);
  return dst;
}

// ---------------------------------------------------------------------------------
// The tests table

namespace {

// The domains whose state `e` reads as `Domain.field`, in order of first appearance
// (the TestExpect's parameters, so the order must not depend on anything but the source).
void domains_read(const Expr& e, const LowerContext& cx, std::vector<uint32_t>& out) {
  switch (e.kind) {
    case ExprKind::Member: {
      auto& m = static_cast<const MemberExpr&>(e);
      if (auto* n = m.base->as<NameExpr>()) {
        if (const DomainSym* d = cx.model.domain(n->name); d && d->field(m.member.name)) {
          uint32_t index = cx.domain_index(d->name);
          if (std::find(out.begin(), out.end(), index) == out.end()) out.push_back(index);
          return;
        }
      }
      domains_read(*m.base, cx, out);
      return;
    }
    case ExprKind::Index: {
      auto& ix = static_cast<const IndexExpr&>(e);
      domains_read(*ix.base, cx, out);
      domains_read(*ix.index, cx, out);
      return;
    }
    case ExprKind::Unary: domains_read(*static_cast<const UnaryExpr&>(e).operand, cx, out); return;
    case ExprKind::Binary: {
      auto& b = static_cast<const BinaryExpr&>(e);
      domains_read(*b.lhs, cx, out);
      domains_read(*b.rhs, cx, out);
      return;
    }
    case ExprKind::Call:  // the callee is a name (`len`, `Infra.Provision`), never a state read
      for (const auto& a : static_cast<const CallExpr&>(e).args) domains_read(*a.value, cx, out);
      return;
    case ExprKind::List:
      for (const auto& x : static_cast<const ListLit&>(e).elements) domains_read(*x, cx, out);
      return;
    case ExprKind::Map:
      for (const auto& entry : static_cast<const MapLit&>(e).entries) {
        domains_read(*entry.key, cx, out);
        domains_read(*entry.value, cx, out);
      }
      return;
    default: return;
  }
}

Span last_char(Span s) { return Span{s.file, s.end > s.begin ? s.end - 1 : s.end, s.end}; }

class TestLowering {
 public:
  TestLowering(LowerContext& cx, const SourceManager& sources) : cx_(cx), m_(cx.module), sources_(sources) {}

  void lower(const TestDecl& t) {
    Test test;
    test.name = t.name;
    test.span = t.span;
    const std::string prefix = "test \"" + t.name + "\"";
    for (size_t i = 0; i < t.given.size(); ++i) given(t.given[i], prefix + ".given." + std::to_string(i), test);
    for (size_t i = 0; i < t.simulate.size(); ++i)
      if (t.simulate[i].stub) stub(*t.simulate[i].stub, prefix + ".stub." + std::to_string(test.stubs.size()), test);
    script(t, prefix + ".simulate", test);
    for (size_t i = 0; i < t.expect.size(); ++i)
      if (t.expect[i].condition) expectation(t.expect[i], prefix + ".expect." + std::to_string(i), test);
    m_.tests.push_back(std::move(test));
  }

 private:
  // A new function at the end of the table. Returns its index; the reference stays
  // valid until the next function is added.
  uint32_t add_function(std::string name, FunctionKind kind, int32_t domain, TypeId result, Span span) {
    m_.functions.emplace_back();
    Function& f = m_.functions.back();
    f.name = std::move(name);
    f.kind = kind;
    f.domain = domain;
    f.result = result;
    f.span = span;
    return static_cast<uint32_t>(m_.functions.size() - 1);
  }

  // A TestValue returning `e` as `result`.
  uint32_t value_function(std::string name, const Expr& e, TypeId result) {
    uint32_t index = add_function(std::move(name), FunctionKind::TestValue, -1, result, e.span);
    FunctionBuilder fb(cx_, m_.functions[index], BodyKind::TestValue, nullptr);
    if (auto r = fb.expr(e, result)) fb.emit(Op::RET, *r, 0, 0, 0, e.span);
    fb.finish(FunctionBuilder::Ending::End, e.span);
    return index;
  }

  void given(const GivenItem& g, const std::string& name, Test& test) {
    const DomainSym* d = cx_.model.domain(g.type.name);
    if (!d) return;  // reported by the checker
    TestGivenItem item;
    item.domain = cx_.domain_index(d->name);
    if (g.instance_id) {
      auto type = cx_.convert(cx_.checked_type(*g.instance_id), g.instance_id->span);
      if (!type) return;
      item.id_function = static_cast<int32_t>(value_function(name + ".id", *g.instance_id, *type));
    }
    item.fields_function =
        add_function(name, FunctionKind::TestGiven, static_cast<int32_t>(item.domain), m_.types.unit(), g.span);
    FunctionBuilder fb(cx_, m_.functions[item.fields_function], BodyKind::TestGiven, d);
    const Record& state = m_.records[m_.domains[item.domain].state_record];
    for (const auto& init : g.inits) {
      auto field = d->field_index.find(init.field.name);
      if (field == d->field_index.end() || !init.value) continue;  // reported by the checker
      const uint32_t fi = static_cast<uint32_t>(field->second);
      if (auto r = fb.expr(*init.value, state.fields[fi].type)) fb.emit(Op::STATE_SET, *r, 0, 0, fi, init.value->span);
    }
    fb.finish(FunctionBuilder::Ending::ReturnUnit, last_char(g.span));
    test.given.push_back(item);
  }

  void stub(const EffectStub& s, const std::string& name, Test& test) {
    const std::string effect_name = dotted_name(s.effect);
    auto declared = cx_.find_effect(effect_name);
    TestStub out;
    auto index = declared ? declared : cx_.effect_index(effect_name);
    if (!index) return;  // its first use's V-TYP-018 explains it
    out.effect = *index;
    out.fails = s.fails;
    const TypeId result = m_.effects[out.effect].result;
    if (s.fails) {
      if (s.value) out.value_function = static_cast<int32_t>(value_function(name, *s.value, m_.types.string()));
    } else if (!declared) {
      // An undeclared effect (V-WRN-004) has a unit result, whatever the stub returns:
      // nothing can read the value, so it is not compiled.
    } else if (s.value) {
      out.value_function = static_cast<int32_t>(value_function(name, *s.value, result));
    } else if (result != m_.types.unit()) {
      // `return` without a value for an effect with a result: its type's zero value.
      uint32_t index = add_function(name, FunctionKind::TestValue, -1, result, s.span);
      FunctionBuilder fb(cx_, m_.functions[index], BodyKind::TestValue, nullptr);
      if (auto r = fb.zero_value(result, s.span, std::nullopt)) fb.emit(Op::RET, *r, 0, 0, 0, s.span);
      fb.finish(FunctionBuilder::Ending::End, s.span);
      out.value_function = static_cast<int32_t>(index);
    }
    test.stubs.push_back(out);
  }

  void script(const TestDecl& t, const std::string& name, Test& test) {
    if (std::none_of(t.simulate.begin(), t.simulate.end(), [](const SimulateItem& i) { return i.statement != nullptr; }))
      return;
    uint32_t index = add_function(name, FunctionKind::TestScript, -1, m_.types.unit(), t.span);
    FunctionBuilder fb(cx_, m_.functions[index], BodyKind::TestScript, nullptr);
    for (const auto& item : t.simulate)
      if (item.statement) fb.statement(*item.statement);
    fb.finish(FunctionBuilder::Ending::End, last_char(t.span));
    test.script = static_cast<int32_t>(index);
  }

  void expectation(const ast::Expectation& e, const std::string& name, Test& test) {
    TestExpectation out;
    switch (e.kind) {
      case ast::Expectation::Kind::Always: out.kind = 0; break;
      case ast::Expectation::Kind::Eventually: out.kind = 1; break;
      case ast::Expectation::Kind::Final: out.kind = 2; break;
    }
    domains_read(*e.condition, cx_, out.domains);
    out.function = add_function(name, FunctionKind::TestExpect, -1, m_.types.boolean(), e.span);
    Function& f = m_.functions[out.function];
    FunctionBuilder fb(cx_, f, BodyKind::TestExpect, nullptr);
    // The parameters, registers 0 .. n-1. Not locals: `Counter.n` must not find a local
    // called `Counter`.
    for (uint32_t d : out.domains) {
      fb.domain_states[d] = static_cast<uint32_t>(f.registers.size());
      f.registers.push_back(m_.types.record(m_.domains[d].state_record));
      f.register_names.push_back(m_.domains[d].name);
    }
    f.param_count = static_cast<uint32_t>(out.domains.size());
    if (auto r = fb.expr(*e.condition, m_.types.boolean())) fb.emit(Op::RET, *r, 0, 0, 0, e.condition->span);
    fb.finish(FunctionBuilder::Ending::End, e.condition->span);
    const Span c = e.condition->span;
    out.text = sources_.file(c.file).text().substr(c.begin, c.end - c.begin);
    out.span = e.span;
    test.expectations.push_back(std::move(out));
  }

  LowerContext& cx_;
  Module& m_;
  const SourceManager& sources_;
};

}  // namespace

void lower_tests(LowerContext& cx, const Program& program, const SourceManager& sources) {
  TestLowering lowering(cx, sources);
  for (const auto& t : program.tests) lowering.lower(t);
}

}  // namespace ved::ir
