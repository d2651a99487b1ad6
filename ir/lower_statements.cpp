// Lowering of statements: assignments (copy-on-write updates), control flow, loops,
// messages, effects, slices.
#include <algorithm>

#include "ir/lower_internal.h"

namespace ved::ir {

using namespace ast;
using bytecode::kNoRegister;

void FunctionBuilder::statements(const std::vector<StmtPtr>& list) {
  for (const auto& s : list) statement(*s);
}

void FunctionBuilder::require_state(Span span) {
  cx.sink.error("V-ERR-011", span, "this statement cannot be compiled outside a transition")
      .label("needs an instance")
      .help("run `vedc --check` for the underlying error");
}

void FunctionBuilder::begin_slice(const std::string& name, Span span) {
  uint32_t next = new_block();
  emit(Op::YIELD, 0, 0, 0, static_cast<uint32_t>(f_.slice_entries.size()), span);
  f_.slice_entries.push_back(next);
  f_.slice_names.push_back(name);
  set_block(next);
}

void FunctionBuilder::statement(const Stmt& st) {
  TypeTable& T = cx.module.types;
  statement_temps_.emplace_back();
  switch (st.kind) {
    case StmtKind::Let: {
      auto& s = static_cast<const LetStmt&>(st);
      auto it = cx.model.local_types.find(&st);
      std::optional<TypeId> type = it == cx.model.local_types.end() ? std::nullopt : cx.convert(it->second, s.value->span);
      if (!type) {
        poison(s.name.name);
        break;
      }
      // Evaluate first, then bind: `let x = x + 1` reads the outer `x`. The value is
      // computed into the new local itself, not into a temporary that a MOVE then copies:
      // `let k = i % 1000` in a loop body is one instruction per iteration, not two.
      uint32_t r = unbound_local(*type);
      if (!expr_into(*s.value, r)) break;
      bind(s.name.name, r);
      break;
    }
    case StmtKind::Assign: assign(static_cast<const AssignStmt&>(st)); break;
    case StmtKind::If: {
      auto& s = static_cast<const IfStmt&>(st);
      uint32_t then_b = new_block(), join = new_block();
      uint32_t else_b = s.else_block ? new_block() : join;
      cond(*s.condition, then_b, else_b);
      set_block(then_b);
      push_scope();
      statements(s.then_block.statements);
      pop_scope();
      jump(join, s.span);
      if (s.else_block) {
        set_block(else_b);
        push_scope();
        statements(s.else_block->statements);
        pop_scope();
        jump(join, s.span);
      }
      set_block(join);
      break;
    }
    case StmtKind::While: {
      auto& s = static_cast<const WhileStmt&>(st);
      uint32_t head = new_block(), body = new_block(), exit = new_block();
      jump(head, s.span);
      set_block(head);
      cond(*s.condition, body, exit);
      set_block(body);
      push_scope();
      statements(s.body.statements);
      pop_scope();
      jump(head, s.span);
      set_block(exit);
      break;
    }
    case StmtKind::For: for_loop(static_cast<const ForStmt&>(st)); break;
    case StmtKind::Send: send(static_cast<const SendStmt&>(st)); break;
    case StmtKind::Reply: {
      auto& s = static_cast<const ReplyStmt&>(st);
      if (kind != BodyKind::Transition) {
        require_state(s.span);
        break;
      }
      Message m;
      m.name = s.message.name;
      // The receiver is whoever sent the message being processed; when exactly one
      // domain has this transition the checker typed the arguments against it.
      std::vector<std::string> names;
      std::vector<TypeId> types;
      bool ok = true;
      for (const auto& a : s.args) {
        names.push_back(a.name ? a.name->name : "");
        auto t = cx.convert(cx.checked_type(*a.value), a.value->span);
        if (!t) ok = false;
        types.push_back(t ? *t : 0);
      }
      if (!ok) break;
      uint32_t first = temps(types);
      for (size_t i = 0; i < s.args.size(); ++i)
        if (!expr_into(*s.args[i].value, first + static_cast<uint32_t>(i))) ok = false;
      if (!ok) break;
      m.args = types;
      emit(Op::SEND, kNoRegister, first, static_cast<uint32_t>(s.args.size()), cx.message(std::move(m)), s.span);
      consumed(first, static_cast<uint32_t>(s.args.size()));
      break;
    }
    case StmtKind::Emit: emit_stmt(static_cast<const EmitStmt&>(st)); break;
    case StmtKind::Spawn: {
      auto& s = static_cast<const SpawnStmt&>(st);
      if (kind != BodyKind::Transition) {
        require_state(s.span);
        break;
      }
      const DomainSym* target = cx.model.domain(s.type.name);
      if (!target) break;
      SpawnShape shape;
      shape.domain = cx.domain_index(s.type.name);
      std::vector<TypeId> types;
      bool ok = true;
      for (const auto& init : s.inits) {
        auto idx = target->field_index.find(init.field.name);
        if (idx == target->field_index.end()) {
          ok = false;
          continue;
        }
        shape.fields.push_back(static_cast<uint32_t>(idx->second));
        auto t = cx.convert(target->fields[idx->second].type, init.field.span);
        if (!t) ok = false;
        types.push_back(t ? *t : 0);
      }
      if (!ok) break;
      uint32_t id = kNoRegister;
      if (s.instance_id) {
        auto r = expr(*s.instance_id);
        if (!r) break;
        id = *r;
      }
      uint32_t first = temps(types);
      for (size_t i = 0; i < s.inits.size(); ++i)
        if (!expr_into(*s.inits[i].value, first + static_cast<uint32_t>(i))) ok = false;
      if (!ok) break;
      emit(Op::SPAWN, id, first, static_cast<uint32_t>(s.inits.size()), cx.spawn_shape(std::move(shape)), s.span);
      consumed(first, static_cast<uint32_t>(s.inits.size()));
      break;
    }
    case StmtKind::Schedule: {
      auto& s = static_cast<const ScheduleStmt&>(st);
      if (kind != BodyKind::Transition || !domain) {
        require_state(s.span);
        break;
      }
      const TransitionSym* t = domain->transition(s.message.name);
      if (!t) break;
      Message m;
      m.domain = static_cast<int32_t>(cx.domain_index(domain->name));
      m.transition = static_cast<int32_t>(domain->transition_index.at(s.message.name));
      m.name = s.message.name;
      std::vector<std::string> names;
      bool ok = true;
      for (const auto& p : t->params) {
        names.push_back(p.name);
        auto ty = cx.convert(p.type, s.span);
        if (!ty) ok = false;
        m.args.push_back(ty ? *ty : 0);
      }
      if (!ok) break;
      auto delay = expr(*s.delay, T.integer());
      if (!delay) break;
      auto first = arguments(s.args, names, m.args, s.span);
      if (!first) break;
      uint32_t count = static_cast<uint32_t>(m.args.size());
      emit(Op::SCHEDULE, *delay, *first, count, cx.message(std::move(m)), s.span);
      consumed(*first, count);
      break;
    }
    case StmtKind::Yield: begin_slice("", st.span); break;
    case StmtKind::Fail: {
      auto& s = static_cast<const FailStmt&>(st);
      std::optional<uint32_t> msg = s.reason ? expr(*s.reason, T.string()) : load_string("", s.span);
      if (!msg) break;
      emit(Op::FAIL, *msg, 0, 0, 0, s.span);
      break;
    }
    case StmtKind::Assert: {
      auto& s = static_cast<const AssertStmt&>(st);
      uint32_t ok_b = new_block(), fail_b = new_block();
      cond(*s.condition, ok_b, fail_b);
      set_block(fail_b);
      std::optional<uint32_t> msg = s.message ? expr(*s.message, T.string()) : load_string("assertion failed", s.span);
      if (msg) emit(Op::ASSERT_FAIL, *msg, 0, 0, 0, s.span);
      set_block(ok_b);
      break;
    }
    case StmtKind::Return: {
      auto& s = static_cast<const ReturnStmt&>(st);
      if (kind != BodyKind::Fn && kind != BodyKind::Migration) {
        cx.sink.error("V-SYN-010", s.span, "`return` cannot be compiled here")
            .label("only in `fn` and migrations")
            .help("end a transition by reaching its end, or use `fail`");
        break;
      }
      std::optional<uint32_t> r;
      if (s.value) {
        r = expr(*s.value, f_.result);
      } else {
        r = temp(T.unit());
        emit(Op::LOAD_UNIT, *r, 0, 0, 0, s.span);
      }
      if (r) emit(Op::RET, *r, 0, 0, 0, s.span);
      break;
    }
    case StmtKind::Expr: {
      auto& s = static_cast<const ExprStmt&>(st);
      expr(*s.expr);  // a call for its faults; the value is unused
      break;
    }
  }
  release_statement_temps();
}

// `x = e`, `x += e`, `xs[i] = e`, `m[k] = e`, `r.f = e`, `state.x = e`, and chains of
// them. The root (a local or a state field) is updated in place when uniquely owned.
void FunctionBuilder::assign(const AssignStmt& s) {
  TypeTable& T = cx.module.types;
  // Docs style: `x = e` where x is nothing yet declares a local.
  if (auto* n = s.target->as<NameExpr>(); n && !find_local(n->name) && !state_field(*s.target)) {
    auto it = cx.model.local_types.find(&s);
    if (it == cx.model.local_types.end()) return;
    auto type = cx.convert(it->second, s.value->span);
    if (!type) {
      poison(n->name);
      return;
    }
    // Into the new local directly, as for `let`.
    uint32_t r = unbound_local(*type);
    if (!expr_into(*s.value, r)) return;
    bind(n->name, r);
    return;
  }

  // The access path from the root to the assigned place.
  struct Step {
    const Expr* node;
    bool index;
  };
  std::vector<Step> path;
  const Expr* root = s.target.get();
  while (true) {
    if (auto* ix = root->as<IndexExpr>()) {
      path.push_back({root, true});
      root = ix->base.get();
    } else if (auto* m = root->as<MemberExpr>(); m && !state_field(*root)) {
      path.push_back({root, false});
      root = m->base.get();
    } else {
      break;
    }
  }
  std::reverse(path.begin(), path.end());

  // The new value of the assigned place.
  auto place_type = cx.convert(cx.checked_type(*s.target), s.target->span);
  if (!place_type) return;
  std::optional<uint32_t> value;
  auto* root_name = root->as<NameExpr>();
  const std::optional<uint32_t> root_local = root_name ? find_local(root_name->name) : std::nullopt;
  if (s.op == AssignOp::Set) {
    if (path.empty() && root_local) {
      // Evaluate straight into the local, so that `s = s + x` appends in place.
      expr_into(*s.value, *root_local);
      return;
    }
    value = expr(*s.value, *place_type);
    if (!value) return;
  } else {
    auto current = expr(*s.target, *place_type);
    if (!current) return;
    auto rhs = expr(*s.value, *place_type);
    if (!rhs) return;
    const bool f = *place_type == T.floating();
    Op op;
    if (*place_type == T.string()) {
      op = Op::CONCAT;
    } else {
      switch (s.op) {
        case AssignOp::Add: op = f ? Op::ADD_F64 : Op::ADD_I64; break;
        case AssignOp::Sub: op = f ? Op::SUB_F64 : Op::SUB_I64; break;
        default: op = f ? Op::MUL_F64 : Op::MUL_I64; break;
      }
    }
    // Located at the operator, as `x = x + 1` is at its `+`.
    const Span at = s.op_span.end > 0 ? s.op_span : s.span;
    if (path.empty() && root_local) {
      emit(op, *root_local, *root_local, *rhs, 0, at);
      return;
    }
    uint32_t r = temp(*place_type);
    emit(op, r, *current, *rhs, 0, at);
    value = r;
  }

  // Evaluate the indices before touching the root.
  std::vector<uint32_t> keys;
  std::vector<uint32_t> field_indices;
  for (const Step& step : path) {
    if (step.index) {
      auto* ix = step.node->as<IndexExpr>();
      TypeRef base_t = cx.checked_type(*ix->base);
      std::optional<TypeId> key_t = base_t->kind == ved::TypeKind::Map ? cx.convert(base_t->key, ix->span) : T.integer();
      if (!key_t) return;
      auto k = expr(*ix->index, *key_t);
      if (!k) return;
      keys.push_back(*k);
      field_indices.push_back(0);
    } else {
      auto* m = step.node->as<MemberExpr>();
      TypeRef base_t = cx.checked_type(*m->base);
      const Record& rec = cx.module.records[cx.record_index(base_t->name)];
      uint32_t fi = 0;
      while (fi < rec.fields.size() && rec.fields[fi].name != m->member.name) ++fi;
      keys.push_back(0);
      field_indices.push_back(fi);
    }
  }

  // Root: a local register, or a state field taken out of the state (so that it is
  // uniquely owned while it is updated) and put back.
  std::optional<uint32_t> field = state_field(*root);
  uint32_t root_reg;
  if (field) {
    if (kind != BodyKind::Transition) {
      require_state(s.span);
      return;
    }
    if (path.empty()) {
      emit(Op::STATE_SET, *value, 0, 0, *field, s.span);
      return;
    }
    auto rt = cx.convert(cx.checked_type(*root), root->span);
    if (!rt) return;
    root_reg = temp(*rt);
    emit(Op::STATE_TAKE, root_reg, 0, 0, *field, s.span);
  } else if (root_local) {
    root_reg = *root_local;
    if (path.empty()) {
      emit(Op::MOVE, root_reg, *value, 0, 0, s.span);
      return;
    }
  } else {
    cx.sink.error("V-TYP-001", s.target->span, "this assignment target cannot be compiled")
        .label("not a local or a state field")
        .help("assign to a local, a state field, or an element of one");
    return;
  }

  // Walk down: containers[i] is the value at depth i (containers[0] the root).
  std::vector<uint32_t> containers{root_reg};
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const Step& step = path[i];
    auto t = cx.convert(cx.checked_type(*step.node), step.node->span);
    if (!t) return;
    uint32_t inner = temp(*t);
    uint32_t outer = containers.back();
    const TypeDesc& ot = T[f_.registers[outer]];
    if (step.index) {
      emit(ot.kind == TypeKind::Map ? Op::MAP_GET : Op::LIST_GET, inner, outer, keys[i], 0, step.node->span);
    } else {
      emit(Op::FIELD_GET, inner, outer, 0, field_indices[i], step.node->span);
    }
    containers.push_back(inner);
  }
  // Update from the innermost outwards.
  uint32_t new_value = *value;
  for (size_t i = path.size(); i-- > 0;) {
    uint32_t container = containers[i];
    const TypeDesc& ct = T[f_.registers[container]];
    if (path[i].index) {
      emit(ct.kind == TypeKind::Map ? Op::MAP_SET : Op::LIST_SET, container, keys[i], new_value, 0, path[i].node->span);
    } else {
      emit(Op::FIELD_SET, container, new_value, 0, field_indices[i], path[i].node->span);
    }
    new_value = container;
  }
  if (field) emit(Op::STATE_SET, root_reg, 0, 0, *field, s.span);
}

void FunctionBuilder::for_loop(const ForStmt& s) {
  TypeTable& T = cx.module.types;
  push_scope();
  uint32_t body = new_block(), exit = new_block();
  if (s.range_end) {
    // for i in a..b: b is evaluated once; the counter is a hidden register so that the
    // body may assign the variable without changing the iteration.
    auto start = expr(*s.iterable, T.integer());
    if (!start) return pop_scope();
    uint32_t counter = temp(T.integer());
    emit(Op::MOVE, counter, *start, 0, 0, s.iterable->span);
    uint32_t end = temp(T.integer());
    if (!expr_into(*s.range_end, end)) return pop_scope();
    emit(Op::BR_LT_I64, counter, end, body, exit, s.span);
    set_block(body);
    uint32_t var = named(s.var.name, T.integer());
    emit(Op::MOVE, var, counter, 0, 0, s.var.span);
    statements(s.body.statements);
    if (!terminated()) emit(Op::FOR_STEP, counter, end, body, exit, s.span);
    set_block(exit);
    pop_scope();
    return;
  }
  auto collection = expr(*s.iterable);
  if (!collection) return pop_scope();
  // Iterate a snapshot: the collection register keeps the value as it was, whatever the
  // body does to the variable it came from.
  uint32_t snapshot = temp(f_.registers[*collection]);
  emit(Op::MOVE, snapshot, *collection, 0, 0, s.iterable->span);
  const TypeDesc ct = T[f_.registers[snapshot]];
  uint32_t keys = snapshot, values = snapshot;
  TypeId key_type = 0, value_type = 0;
  if (ct.kind == TypeKind::Map) {
    key_type = ct.x;
    value_type = ct.y;
    keys = temp(T.list(key_type));
    emit(Op::CALL_BUILTIN, keys, snapshot, 1, static_cast<uint32_t>(bytecode::Builtin::KEYS), s.iterable->span);
    if (s.value_var) {
      values = temp(T.list(value_type));
      emit(Op::CALL_BUILTIN, values, snapshot, 1, static_cast<uint32_t>(bytecode::Builtin::VALUES), s.iterable->span);
    }
  } else if (ct.kind == TypeKind::List) {
    key_type = ct.x;
  } else {
    key_type = T.string();
  }
  uint32_t count = temp(T.integer());
  emit(Op::LEN, count, keys, 0, 0, s.iterable->span);
  uint32_t index = temp(T.integer());
  emit(Op::LOAD_INT, index, 0, 0, 0, s.span);
  emit(Op::BR_LT_I64, index, count, body, exit, s.span);
  set_block(body);
  uint32_t var = named(s.var.name, key_type);
  emit(ct.kind == TypeKind::String ? Op::STR_GET : Op::LIST_GET, var, keys, index, 0, s.var.span);
  if (s.value_var && ct.kind == TypeKind::Map) {
    uint32_t vvar = named(s.value_var->name, value_type);
    emit(Op::LIST_GET, vvar, values, index, 0, s.value_var->span);
  }
  statements(s.body.statements);
  if (!terminated()) emit(Op::FOR_STEP, index, count, body, exit, s.span);
  set_block(exit);
  pop_scope();
}

void FunctionBuilder::send(const SendStmt& s) {
  TypeTable& T = cx.module.types;
  // A test script sends as the outside world does: the runner delivers its messages.
  if (kind != BodyKind::Transition && kind != BodyKind::TestScript) {
    require_state(s.span);
    return;
  }
  const DomainSym* target = cx.model.domain(s.target_type.name);
  if (!target) return;
  const TransitionSym* t = target->transition(s.message.name);
  if (!t) return;
  Message m;
  m.domain = static_cast<int32_t>(cx.domain_index(target->name));
  m.transition = static_cast<int32_t>(target->transition_index.at(s.message.name));
  m.name = s.message.name;
  m.high_lane = s.high_lane;
  std::vector<std::string> names;
  for (const auto& p : t->params) {
    names.push_back(p.name);
    auto ty = cx.convert(p.type, s.span);
    if (!ty) return;
    m.args.push_back(*ty);
  }
  uint32_t id = kNoRegister;
  if (s.instance_id) {
    TypeRef it = cx.checked_type(*s.instance_id);
    auto r = expr(*s.instance_id, it && it->kind == ved::TypeKind::String ? T.string() : T.integer());
    if (!r) return;
    id = *r;
  }
  auto first = arguments(s.args, names, m.args, s.span);
  if (!first) return;
  uint32_t count = static_cast<uint32_t>(m.args.size());
  emit(Op::SEND, id, *first, count, cx.message(std::move(m)), s.span);
  consumed(*first, count);
}

void FunctionBuilder::emit_stmt(const EmitStmt& s) {
  if (kind != BodyKind::Transition) {
    require_state(s.span);
    return;
  }
  auto r = expr(*s.intent);
  if (!r) return;
  emit(Op::EMIT, *r, 0, 0, 0, s.span);
}

std::optional<uint32_t> FunctionBuilder::arguments(const std::vector<Argument>& args,
                                                   const std::vector<std::string>& names,
                                                   const std::vector<TypeId>& types, Span span) {
  // Which argument fills each parameter: positional ones first, then named ones.
  std::vector<const Expr*> filled(types.size(), nullptr);
  size_t position = 0;
  for (const auto& a : args) {
    if (!a.name) {
      if (position < filled.size()) filled[position] = a.value.get();
      ++position;
      continue;
    }
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == a.name->name) filled[i] = a.value.get();
  }
  uint32_t first = temps(types);
  for (size_t i = 0; i < types.size(); ++i) {
    if (!filled[i]) {
      cx.sink.error("V-TYP-004", span, "missing argument `" + names[i] + "`")
          .label("not given")
          .help("pass every parameter");
      return std::nullopt;
    }
    if (!expr_into(*filled[i], first + static_cast<uint32_t>(i))) return std::nullopt;
  }
  return first;
}

}  // namespace ved::ir
