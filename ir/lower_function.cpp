// Lowering of one function body: blocks, registers, expressions, conditions.
// Statements are in lower_statements.cpp, calls (and built-ins) in lower_calls.cpp.
#include <algorithm>

#include "ir/lower_internal.h"
#include "ir/passes.h"

namespace ved::ir {

using namespace ast;
using bytecode::kNoRegister;

FunctionBuilder::FunctionBuilder(LowerContext& c, Function& f, BodyKind k, const DomainSym* d)
    : cx(c), f_(f), kind(k), domain(d) {
  cx.quiet_unknown = false;
  f_.blocks.emplace_back();
  f_.slice_entries.push_back(0);
  f_.slice_names.emplace_back();
  scopes_.emplace_back();
}

// ---------------------------------------------------------------------------------
// Structure

uint32_t FunctionBuilder::new_block() {
  f_.blocks.emplace_back();
  return static_cast<uint32_t>(f_.blocks.size() - 1);
}

bool FunctionBuilder::terminated() const {
  const auto& code = f_.blocks[current_].code;
  return !code.empty() && is_terminator(code.back().op);
}

void FunctionBuilder::emit(Op op, uint32_t a, uint32_t b, uint32_t c, uint32_t d, Span span) {
  // Code after `return`, `fail` or a jump is unreachable; it still gets a block (removed
  // later) so that lowering need not special-case it.
  if (terminated()) current_ = new_block();
  f_.blocks[current_].code.push_back(Instr{op, a, b, c, d, span});
}

void FunctionBuilder::jump(uint32_t target, Span span) {
  if (!terminated()) emit(Op::JMP, 0, 0, 0, target, span);
}

// ---------------------------------------------------------------------------------
// Registers

uint32_t FunctionBuilder::named(const std::string& name, TypeId type) {
  uint32_t r = unbound_local(type);
  bind(name, r);
  return r;
}

uint32_t FunctionBuilder::unbound_local(TypeId type) {
  f_.registers.push_back(type);
  f_.register_names.emplace_back();
  return static_cast<uint32_t>(f_.registers.size() - 1);
}

void FunctionBuilder::bind(const std::string& name, uint32_t r) {
  f_.register_names[r] = name;
  scopes_.back()[name] = r;
}

uint32_t FunctionBuilder::temp(TypeId type) {
  uint32_t r;
  if (auto it = free_temps_.find(type); it != free_temps_.end()) {
    r = it->second;
    free_temps_.erase(it);
  } else {
    f_.registers.push_back(type);
    f_.register_names.emplace_back();
    r = static_cast<uint32_t>(f_.registers.size() - 1);
  }
  if (!statement_temps_.empty()) statement_temps_.back().in_use.push_back(r);
  return r;
}

uint32_t FunctionBuilder::temps(const std::vector<TypeId>& types) {
  // Consecutive registers: always fresh, never from the free pool.
  uint32_t first = static_cast<uint32_t>(f_.registers.size());
  for (size_t i = 0; i < types.size(); ++i) {
    f_.registers.push_back(types[i]);
    f_.register_names.emplace_back();
    if (!statement_temps_.empty()) statement_temps_.back().in_use.push_back(first + static_cast<uint32_t>(i));
  }
  return first;
}

std::optional<uint32_t> FunctionBuilder::find_local(const std::string& name) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    if (auto f = it->find(name); f != it->end()) {
      if (f->second == kPoisoned) return std::nullopt;
      return f->second;
    }
  }
  return std::nullopt;
}

bool FunctionBuilder::is_poisoned(const std::string& name) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    if (auto f = it->find(name); f != it->end()) return f->second == kPoisoned;
  }
  return false;
}

void FunctionBuilder::release_statement_temps() {
  TempPool pool = std::move(statement_temps_.back());
  statement_temps_.pop_back();
  for (uint32_t r : pool.in_use) {
    // A temporary holding a string or collection would keep it alive (and shared, so
    // the next in-place update would copy): drop it when the statement is done.
    if (cx.module.types.is_heap(f_.registers[r]) && !terminated()) emit(Op::DROP, r, 0, 0, 0, Span{});
    free_temps_.emplace(f_.registers[r], r);
  }
}

void FunctionBuilder::consumed(uint32_t first, uint32_t count) {
  for (uint32_t r = first; r < first + count; ++r)
    if (cx.module.types.is_heap(f_.registers[r])) emit(Op::DROP, r, 0, 0, 0, Span{});
}

uint32_t FunctionBuilder::load_string(const std::string& s, Span span) {
  Constant c;
  c.kind = Constant::Kind::String;
  c.s = s;
  uint32_t r = temp(cx.module.types.string());
  emit(Op::LOAD_CONST, r, 0, 0, cx.module.add_constant(std::move(c)), span);
  return r;
}

// ---------------------------------------------------------------------------------
// Expressions

bool FunctionBuilder::expr_into(const Expr& e, uint32_t dst) {
  auto r = expr_uncached(e, f_.registers[dst], dst);
  if (!r) return false;
  if (*r != dst) emit(Op::MOVE, dst, *r, 0, 0, e.span);
  return true;
}

std::optional<uint32_t> FunctionBuilder::expr(const Expr& e, std::optional<TypeId> want) {
  return expr_uncached(e, want, std::nullopt);
}

std::optional<uint32_t> FunctionBuilder::coerce(uint32_t reg, TypeId want, Span span, std::optional<uint32_t> into) {
  TypeTable& T = cx.module.types;
  TypeId have = f_.registers[reg];
  if (have == want) {
    if (into && *into != reg) emit(Op::MOVE, *into, reg, 0, 0, span);
    return into ? *into : reg;
  }
  uint32_t dst = destination(into, want);
  if (T[want].kind == TypeKind::Optional && T[want].x == have) {
    emit(Op::WRAP, dst, reg, 0, 0, span);
    return dst;
  }
  if (want == T.floating() && have == T.integer()) {
    emit(Op::I2F, dst, reg, 0, 0, span);
    return dst;
  }
  cx.sink.error("V-TYP-002", span, "this value cannot be converted to the type needed here")
      .label("cannot convert")
      .help("convert it explicitly; if the program checks with `vedc --check`, please report this");
  return std::nullopt;
}

std::optional<uint32_t> FunctionBuilder::expr_uncached(const Expr& e, std::optional<TypeId> want,
                                                       std::optional<uint32_t> into) {
  TypeTable& T = cx.module.types;
  TypeRef checked = cx.checked_type(e);
  if (checked && checked->kind == ved::TypeKind::Intent && e.kind == ExprKind::Call) {
    // An effect call: its intent type is known only once an undeclared effect has been
    // given its parameters, from this very call.
    auto r = call(static_cast<const CallExpr&>(e), into, std::nullopt);
    if (!r) return std::nullopt;
    if (into && *into != *r) emit(Op::MOVE, *into, *r, 0, 0, e.span);
    return into ? *into : *r;
  }
  std::optional<TypeId> natural;
  if (!contains_unknown_type(checked)) {
    natural = cx.convert(checked, e.span);
  } else if (want) {
    natural = want;  // `[]`, `{}`, `none`, or an expression built from them
  } else if (auto* n = e.as<NameExpr>(); n && find_local(n->name)) {
    natural = f_.registers[*find_local(n->name)];
  } else if (auto* pn = e.as<NameExpr>(); pn && is_poisoned(pn->name)) {
    return std::nullopt;
  } else {
    natural = cx.convert(checked, e.span);  // reports V-TYP-018
    if (!natural) return std::nullopt;
  }
  if (!natural) return std::nullopt;
  // Produce directly into `into` when no conversion follows.
  std::optional<uint32_t> direct = (into && f_.registers[*into] == *natural) ? into : std::nullopt;
  auto finish = [&](uint32_t r) -> std::optional<uint32_t> {
    if (want && f_.registers[r] != *want) return coerce(r, *want, e.span, into);
    if (into && *into != r) {
      emit(Op::MOVE, *into, r, 0, 0, e.span);
      return *into;
    }
    return r;
  };

  switch (e.kind) {
    case ExprKind::Error:
    case ExprKind::VersionedType:
      cx.sink.error("V-TYP-009", e.span, "this expression cannot be compiled")
          .label("not a value")
          .help("run `vedc --check` for the underlying error");
      return std::nullopt;
    case ExprKind::Int: {
      int64_t v = static_cast<const IntLit&>(e).value;
      uint32_t dst = direct ? *direct : temp(T.integer());
      if (v >= INT32_MIN && v <= INT32_MAX) {
        emit(Op::LOAD_INT, dst, 0, 0, static_cast<uint32_t>(static_cast<int32_t>(v)), e.span);
      } else {
        Constant c;
        c.i = v;
        emit(Op::LOAD_CONST, dst, 0, 0, cx.module.add_constant(c), e.span);
      }
      return finish(dst);
    }
    case ExprKind::Float: {
      Constant c;
      c.kind = Constant::Kind::Float;
      c.f = static_cast<const FloatLit&>(e).value;
      uint32_t dst = direct ? *direct : temp(T.floating());
      emit(Op::LOAD_CONST, dst, 0, 0, cx.module.add_constant(c), e.span);
      return finish(dst);
    }
    case ExprKind::String: {
      Constant c;
      c.kind = Constant::Kind::String;
      c.s = static_cast<const StringLit&>(e).value;
      uint32_t dst = direct ? *direct : temp(T.string());
      emit(Op::LOAD_CONST, dst, 0, 0, cx.module.add_constant(std::move(c)), e.span);
      return finish(dst);
    }
    case ExprKind::Bool: {
      uint32_t dst = direct ? *direct : temp(T.boolean());
      emit(Op::LOAD_BOOL, dst, 0, 0, static_cast<const BoolLit&>(e).value ? 1 : 0, e.span);
      return finish(dst);
    }
    case ExprKind::None: {
      if (T[*natural].kind != TypeKind::Optional) {
        cx.sink.error("V-TYP-018", e.span, "the type of this `none` cannot be inferred")
            .label("`none` of what?")
            .help("give the variable a declared optional type: `let x: int? = none`");
        return std::nullopt;
      }
      uint32_t dst = direct ? *direct : temp(*natural);
      emit(Op::LOAD_NONE, dst, 0, 0, 0, e.span);
      return finish(dst);
    }
    case ExprKind::List: {
      auto& l = static_cast<const ListLit&>(e);
      if (T[*natural].kind != TypeKind::List) return std::nullopt;
      TypeId elem = T[*natural].x;
      uint32_t first = temps(std::vector<TypeId>(l.elements.size(), elem));
      for (size_t i = 0; i < l.elements.size(); ++i)
        if (!expr_into(*l.elements[i], first + static_cast<uint32_t>(i))) return std::nullopt;
      uint32_t dst = direct ? *direct : temp(*natural);
      emit(Op::LIST_NEW, dst, first, static_cast<uint32_t>(l.elements.size()), *natural, e.span);
      consumed(first, static_cast<uint32_t>(l.elements.size()));
      return finish(dst);
    }
    case ExprKind::Map: {
      auto& m = static_cast<const MapLit&>(e);
      if (T[*natural].kind != TypeKind::Map) return std::nullopt;
      std::vector<TypeId> slots;
      for (size_t i = 0; i < m.entries.size(); ++i) {
        slots.push_back(T[*natural].x);
        slots.push_back(T[*natural].y);
      }
      uint32_t first = temps(slots);
      for (size_t i = 0; i < m.entries.size(); ++i) {
        if (!expr_into(*m.entries[i].key, first + 2 * static_cast<uint32_t>(i))) return std::nullopt;
        if (!expr_into(*m.entries[i].value, first + 2 * static_cast<uint32_t>(i) + 1)) return std::nullopt;
      }
      uint32_t dst = direct ? *direct : temp(*natural);
      emit(Op::MAP_NEW, dst, first, static_cast<uint32_t>(m.entries.size()), *natural, e.span);
      consumed(first, 2 * static_cast<uint32_t>(m.entries.size()));
      return finish(dst);
    }
    case ExprKind::Name: {
      auto& n = static_cast<const NameExpr&>(e);
      if (auto r = find_local(n.name)) return finish(*r);
      if (is_poisoned(n.name)) return std::nullopt;
      if (auto field = state_field(e)) {
        uint32_t dst = direct ? *direct : temp(*natural);
        emit(Op::STATE_GET, dst, 0, 0, *field, e.span);
        return finish(dst);
      }
      if (is_test_body(kind)) {
        // The checker keeps `simulate`'s locals in scope for the rest of the test, but
        // each part of a test is a function of its own.
        cx.sink.error("V-TYP-001", e.span, "`" + n.name + "` is not visible in this part of the test")
            .label("a local of `simulate`?")
            .help("`simulate`'s locals are visible only in `simulate`; `expect` reads state as `Domain.field`");
        return std::nullopt;
      }
      cx.sink.error("V-TYP-001", e.span, "`" + n.name + "` cannot be compiled here")
          .label("not a local, parameter or state field")
          .help("run `vedc --check` for the underlying error");
      return std::nullopt;
    }
    case ExprKind::Member: {
      auto& m = static_cast<const MemberExpr&>(e);
      if (migration) {
        if (auto* base = m.base->as<NameExpr>(); base && base->name == "from" && find_local("from") &&
                                                 *find_local("from") == migration->from_register) {
          auto r = migration_input(m, *natural, direct);
          return r ? finish(*r) : std::nullopt;
        }
      }
      if (is_test_body(kind)) {
        bool handled = false;
        auto r = domain_field_read(m, *natural, direct, handled);
        if (handled) return r ? finish(*r) : std::nullopt;
      }
      if (auto field = state_field(e)) {
        uint32_t dst = direct ? *direct : temp(*natural);
        emit(Op::STATE_GET, dst, 0, 0, *field, e.span);
        return finish(dst);
      }
      TypeRef base_type = cx.checked_type(*m.base);
      if (base_type && base_type->kind == ved::TypeKind::Record) {
        auto base = expr(*m.base);
        if (!base) return std::nullopt;
        const Record& rec = cx.module.records[cx.record_index(base_type->name)];
        for (uint32_t i = 0; i < rec.fields.size(); ++i) {
          if (rec.fields[i].name == m.member.name) {
            uint32_t dst = direct ? *direct : temp(*natural);
            emit(Op::FIELD_GET, dst, *base, 0, i, e.span);
            return finish(dst);
          }
        }
      }
      cx.sink.error("V-TYP-001", e.span, "this field read cannot be compiled")
          .label("not a state field or record field")
          .help("another domain's state is readable only in tests; send a message instead");
      return std::nullopt;
    }
    case ExprKind::Index: {
      auto& ix = static_cast<const IndexExpr&>(e);
      auto base = expr(*ix.base);
      if (!base) return std::nullopt;
      const TypeDesc& bt = T[f_.registers[*base]];
      std::optional<uint32_t> index;
      if (bt.kind == TypeKind::Map) {
        index = expr(*ix.index, bt.x);
      } else {
        index = expr(*ix.index, T.integer());
      }
      if (!index) return std::nullopt;
      uint32_t dst = direct ? *direct : temp(*natural);
      Op op = bt.kind == TypeKind::Map ? Op::MAP_GET : bt.kind == TypeKind::List ? Op::LIST_GET : Op::STR_GET;
      emit(op, dst, *base, *index, 0, e.span);
      return finish(dst);
    }
    case ExprKind::Unary: {
      auto& u = static_cast<const UnaryExpr&>(e);
      auto operand = expr(*u.operand, *natural);
      if (!operand) return std::nullopt;
      uint32_t dst = direct ? *direct : temp(*natural);
      Op op = u.op == UnaryOp::Not ? Op::NOT : *natural == T.floating() ? Op::NEG_F64 : Op::NEG_I64;
      emit(op, dst, *operand, 0, 0, e.span);
      return finish(dst);
    }
    case ExprKind::Binary: {
      auto r = binary(static_cast<const BinaryExpr&>(e), direct, natural);
      if (!r) return std::nullopt;
      return finish(*r);
    }
    case ExprKind::Call: {
      auto r = call(static_cast<const CallExpr&>(e), direct, natural);
      if (!r) return std::nullopt;
      return finish(*r);
    }
  }
  return std::nullopt;
}

static bool is_none_literal(const Expr& e) { return e.kind == ExprKind::None; }

std::optional<uint32_t> FunctionBuilder::binary(const BinaryExpr& e, std::optional<uint32_t> into,
                                                std::optional<TypeId> natural) {
  TypeTable& T = cx.module.types;
  const TypeId result = *natural;
  auto operands = [&](TypeId ty) -> std::optional<std::pair<uint32_t, uint32_t>> {
    auto l = expr(*e.lhs, ty);
    if (!l) return std::nullopt;
    auto r = expr(*e.rhs, ty);
    if (!r) return std::nullopt;
    return std::pair{*l, *r};
  };
  switch (e.op) {
    case BinaryOp::Add:
    case BinaryOp::Sub:
    case BinaryOp::Mul:
    case BinaryOp::Div:
    case BinaryOp::Rem: {
      if (result == T.string()) {
        auto ops = operands(T.string());
        if (!ops) return std::nullopt;
        uint32_t dst = destination(into, result);
        emit(Op::CONCAT, dst, ops->first, ops->second, 0, e.op_span);
        return dst;
      }
      auto ops = operands(result);
      if (!ops) return std::nullopt;
      const bool f = result == T.floating();
      static constexpr Op kInt[] = {Op::MUL_I64, Op::DIV_I64, Op::REM_I64, Op::ADD_I64, Op::SUB_I64};
      static constexpr Op kFloat[] = {Op::MUL_F64, Op::DIV_F64, Op::REM_F64, Op::ADD_F64, Op::SUB_F64};
      size_t i = static_cast<size_t>(e.op) - static_cast<size_t>(BinaryOp::Mul);
      uint32_t dst = destination(into, result);
      emit(f ? kFloat[i] : kInt[i], dst, ops->first, ops->second, 0, e.op_span);
      return dst;
    }
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
    case BinaryOp::Eq:
    case BinaryOp::Ne: {
      const bool eq = e.op == BinaryOp::Eq || e.op == BinaryOp::Ne;
      uint32_t dst = destination(into, T.boolean());
      // `x == none`, `none != x`
      if (eq && (is_none_literal(*e.lhs) || is_none_literal(*e.rhs))) {
        const Expr& other = is_none_literal(*e.lhs) ? *e.rhs : *e.lhs;
        if (is_none_literal(other)) {
          emit(Op::LOAD_BOOL, dst, 0, 0, e.op == BinaryOp::Eq ? 1 : 0, e.span);
          return dst;
        }
        auto r = expr(other);
        if (!r) return std::nullopt;
        emit(Op::IS_NONE, dst, *r, 0, 0, e.span);
        if (e.op == BinaryOp::Ne) emit(Op::NOT, dst, dst, 0, 0, e.span);
        return dst;
      }
      TypeRef lt = cx.checked_type(*e.lhs), rt = cx.checked_type(*e.rhs);
      TypeId operand_type;
      if (lt->is_numeric() && rt->is_numeric()) {
        operand_type = (lt->kind == ved::TypeKind::Float || rt->kind == ved::TypeKind::Float) ? T.floating() : T.integer();
      } else {
        // One side may be T and the other T?: compare as T?. An empty literal takes the
        // other side's type.
        auto lt_id = contains_unknown_type(lt) ? std::nullopt : cx.convert(lt, e.lhs->span);
        auto rt_id = contains_unknown_type(rt) ? std::nullopt : cx.convert(rt, e.rhs->span);
        if (!lt_id && !rt_id) {
          cx.sink.error("V-TYP-018", e.span, "the types compared here cannot be inferred")
              .label("both sides are empty literals")
              .help("compare with a typed value");
          return std::nullopt;
        }
        operand_type = lt_id ? *lt_id : *rt_id;
        if (lt_id && rt_id && *lt_id != *rt_id && T[*rt_id].kind == TypeKind::Optional) operand_type = *rt_id;
      }
      const Expr* a = e.lhs.get();
      const Expr* b = e.rhs.get();
      if (e.op == BinaryOp::Gt || e.op == BinaryOp::Ge) std::swap(a, b);
      auto ra = expr(*a, operand_type);
      if (!ra) return std::nullopt;
      auto rb = expr(*b, operand_type);
      if (!rb) return std::nullopt;
      const bool strict = e.op == BinaryOp::Lt || e.op == BinaryOp::Gt;
      Op op;
      if (operand_type == T.integer()) {
        op = eq ? Op::EQ_I64 : strict ? Op::LT_I64 : Op::LE_I64;
      } else if (operand_type == T.floating()) {
        op = eq ? Op::EQ_F64 : strict ? Op::LT_F64 : Op::LE_F64;
      } else if (operand_type == T.string()) {
        op = eq ? Op::EQ_STR : strict ? Op::LT_STR : Op::LE_STR;
      } else {
        op = Op::EQ_ANY;
      }
      emit(op, dst, *ra, *rb, 0, e.op_span);
      if (e.op == BinaryOp::Ne) emit(Op::NOT, dst, dst, 0, 0, e.op_span);
      return dst;
    }
    case BinaryOp::And:
    case BinaryOp::Or: {
      uint32_t dst = destination(into, T.boolean());
      uint32_t yes = new_block(), no = new_block(), join = new_block();
      cond(e, yes, no);
      set_block(yes);
      emit(Op::LOAD_BOOL, dst, 0, 0, 1, e.span);
      jump(join, e.span);
      set_block(no);
      emit(Op::LOAD_BOOL, dst, 0, 0, 0, e.span);
      jump(join, e.span);
      set_block(join);
      return dst;
    }
    case BinaryOp::Coalesce: {
      auto l = expr(*e.lhs);
      if (!l) return std::nullopt;
      uint32_t dst = destination(into, result);
      uint32_t none_b = new_block(), some_b = new_block(), join = new_block();
      emit(Op::BR_NONE, *l, none_b, some_b, 0, e.op_span);
      set_block(some_b);
      if (T[result].kind == TypeKind::Optional) {
        emit(Op::MOVE, dst, *l, 0, 0, e.span);
      } else {
        emit(Op::UNWRAP, dst, *l, 0, 0, e.span);
      }
      jump(join, e.span);
      set_block(none_b);
      if (!expr_into(*e.rhs, dst)) return std::nullopt;
      jump(join, e.span);
      set_block(join);
      return dst;
    }
  }
  return std::nullopt;
}

void FunctionBuilder::cond(const Expr& e, uint32_t then_b, uint32_t else_b) {
  TypeTable& T = cx.module.types;
  auto branch = [&](Op op, uint32_t a, uint32_t b) {
    if (op == Op::JMP_IF || op == Op::BR_NONE) {
      emit(op, a, then_b, else_b, 0, e.span);
    } else {
      emit(op, a, b, then_b, else_b, e.span);
    }
  };
  if (auto* b = e.as<BoolLit>()) {
    jump(b->value ? then_b : else_b, e.span);
    return;
  }
  if (auto* u = e.as<UnaryExpr>(); u && u->op == UnaryOp::Not) {
    cond(*u->operand, else_b, then_b);
    return;
  }
  if (auto* bin = e.as<BinaryExpr>()) {
    if (bin->op == BinaryOp::And || bin->op == BinaryOp::Or) {
      uint32_t mid = new_block();
      if (bin->op == BinaryOp::And) {
        cond(*bin->lhs, mid, else_b);
      } else {
        cond(*bin->lhs, then_b, mid);
      }
      set_block(mid);
      cond(*bin->rhs, then_b, else_b);
      return;
    }
    const bool eq = bin->op == BinaryOp::Eq || bin->op == BinaryOp::Ne;
    if (eq && (is_none_literal(*bin->lhs) != is_none_literal(*bin->rhs))) {
      const Expr& other = is_none_literal(*bin->lhs) ? *bin->rhs : *bin->lhs;
      auto r = expr(other);
      if (!r) return;
      if (bin->op == BinaryOp::Eq) {
        emit(Op::BR_NONE, *r, then_b, else_b, 0, e.span);
      } else {
        emit(Op::BR_NONE, *r, else_b, then_b, 0, e.span);
      }
      return;
    }
    TypeRef lt = cx.checked_type(*bin->lhs), rt = cx.checked_type(*bin->rhs);
    const bool ints = lt && rt && lt->kind == ved::TypeKind::Int && rt->kind == ved::TypeKind::Int;
    if (ints && (is_comparison(bin->op))) {
      auto l = expr(*bin->lhs, T.integer());
      if (!l) return;
      auto r = expr(*bin->rhs, T.integer());
      if (!r) return;
      switch (bin->op) {
        case BinaryOp::Lt: emit(Op::BR_LT_I64, *l, *r, then_b, else_b, bin->op_span); return;
        case BinaryOp::Le: emit(Op::BR_LE_I64, *l, *r, then_b, else_b, bin->op_span); return;
        case BinaryOp::Gt: emit(Op::BR_LT_I64, *r, *l, then_b, else_b, bin->op_span); return;
        case BinaryOp::Ge: emit(Op::BR_LE_I64, *r, *l, then_b, else_b, bin->op_span); return;
        case BinaryOp::Eq: emit(Op::BR_EQ_I64, *l, *r, then_b, else_b, bin->op_span); return;
        case BinaryOp::Ne: emit(Op::BR_EQ_I64, *l, *r, else_b, then_b, bin->op_span); return;
        default: break;
      }
    }
  }
  auto r = expr(e, T.boolean());
  if (!r) return;
  branch(Op::JMP_IF, *r, 0);
}

// ---------------------------------------------------------------------------------
// State

bool FunctionBuilder::is_state_alias(const Expr& e) const {
  auto* n = e.as<NameExpr>();
  return n && !find_local(n->name) && (n->name == "state" || n->name == "self" || n->name == "internal_state");
}

std::optional<uint32_t> FunctionBuilder::state_field(const Expr& e) const {
  // Only these read an instance's state by field name (a TestGiven writes its fields
  // with STATE_SET, but its values cannot name them).
  if (!domain || (kind != BodyKind::Transition && kind != BodyKind::Predicate && kind != BodyKind::Invariant))
    return std::nullopt;
  std::string name;
  if (auto* n = e.as<NameExpr>()) {
    if (find_local(n->name)) return std::nullopt;
    name = n->name;
  } else if (auto* m = e.as<MemberExpr>(); m && is_state_alias(*m->base)) {
    name = m->member.name;
  } else {
    return std::nullopt;
  }
  auto it = domain->field_index.find(name);
  if (it == domain->field_index.end()) return std::nullopt;
  return static_cast<uint32_t>(it->second);
}

// ---------------------------------------------------------------------------------
// Finishing

void FunctionBuilder::finish(Ending ending, Span end_span) {
  if (!terminated()) {
    // Is the open block reachable from an entry?
    std::vector<bool> seen(f_.blocks.size(), false);
    std::vector<uint32_t> work(f_.slice_entries.begin(), f_.slice_entries.end());
    while (!work.empty()) {
      uint32_t b = work.back();
      work.pop_back();
      if (seen[b]) continue;
      seen[b] = true;
      const auto& code = f_.blocks[b].code;
      if (!code.empty() && is_terminator(code.back().op))
        for (uint32_t s : successors(code.back())) work.push_back(s);
    }
    if (seen[current_]) {
      switch (ending) {
        case Ending::ReturnUnit: {
          uint32_t r = temp(cx.module.types.unit());
          emit(Op::LOAD_UNIT, r, 0, 0, 0, end_span);
          emit(Op::RET, r, 0, 0, 0, end_span);
          break;
        }
        case Ending::End: emit(Op::END, 0, 0, 0, 0, end_span); break;
        case Ending::MissingReturn: {
          // The checker (V-TYP-012) rejects a fn that may end without `return`, so this
          // is reached only where its analysis and this one disagree: a fault, not UB.
          uint32_t msg = load_string("`" + f_.name + "` ended without returning a value", end_span);
          emit(Op::FAIL, msg, 0, 0, 0, end_span);
          break;
        }
      }
    } else {
      emit(Op::END, 0, 0, 0, 0, end_span);  // unreachable; removed below
    }
  }
  remove_unreachable_blocks(f_);
}

}  // namespace ved::ir
