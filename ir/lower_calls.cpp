// Lowering of calls: functions, records, effects, observations, and the built-ins, each
// of which becomes an instruction or a type-specialised CALL_BUILTIN.
#include "ir/lower_internal.h"

namespace ved::ir {

using namespace ast;
using bytecode::Builtin;

namespace {

std::optional<std::string> dotted(const Expr& e) {
  if (auto* n = e.as<NameExpr>()) return n->name;
  if (auto* m = e.as<MemberExpr>()) {
    auto base = dotted(*m->base);
    if (!base) return std::nullopt;
    return *base + "." + m->member.name;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint32_t> FunctionBuilder::call(const CallExpr& e, std::optional<uint32_t> into,
                                              std::optional<TypeId> natural) {
  if (auto* v = e.callee->as<VersionedTypeExpr>()) return versioned_state(e, *v, into);
  auto path = dotted(*e.callee);
  if (!path) {
    cx.sink.error("V-TYP-009", e.callee->span, "this call cannot be compiled")
        .label("not a function, record, effect or observation")
        .help("run `vedc --check` for the underlying error");
    return std::nullopt;
  }
  const std::string& p = *path;
  // The checker's order: effects, observations, functions, records, built-ins, then an
  // undeclared effect.
  if (TypeRef t = cx.checked_type(e); t && t->kind == ved::TypeKind::Intent) return intent(e, p, into);
  if (auto it = cx.model.observations.find(p); it != cx.model.observations.end()) {
    if (is_test_body(kind)) {
      refuse_in_test(e.span, "observation `" + p + "`",
                     "a test scripts effects (`effect E { ... }` in `simulate`), not observations");
      return std::nullopt;
    }
    if (kind != BodyKind::Transition && kind != BodyKind::Predicate) {
      require_state(e.span);
      return std::nullopt;
    }
    uint32_t index = cx.observation_index(p);
    const ExternalCall& obs = cx.module.observations[index];
    std::vector<std::string> names;
    std::vector<TypeId> types;
    for (const auto& f : obs.params) {
      names.push_back(f.name);
      types.push_back(f.type);
    }
    auto first = arguments(e.args, names, types, e.span);
    if (!first) return std::nullopt;
    uint32_t dst = destination(into, obs.result);
    emit(Op::OBSERVE, dst, *first, static_cast<uint32_t>(types.size()), index, e.span);
    consumed(*first, static_cast<uint32_t>(types.size()));
    return dst;
  }
  if (auto it = cx.model.fns.find(p); it != cx.model.fns.end()) {
    uint32_t index = cx.function_index(p);
    std::vector<std::string> names;
    std::vector<TypeId> types;
    for (const auto& param : it->second.params) {
      names.push_back(param.name);
      auto t = cx.convert(param.type, e.span);
      if (!t) return std::nullopt;
      types.push_back(*t);
    }
    auto result = cx.convert(it->second.result, e.span);
    if (!result) return std::nullopt;
    auto first = arguments(e.args, names, types, e.span);
    if (!first) return std::nullopt;
    uint32_t dst = destination(into, *result);
    emit(Op::CALL, dst, *first, static_cast<uint32_t>(types.size()), index, e.span);
    consumed(*first, static_cast<uint32_t>(types.size()));
    return dst;
  }
  if (cx.is_record(p)) return record_new(e, p, into);
  return builtin(e, p, into);
}

std::optional<uint32_t> FunctionBuilder::record_new(const CallExpr& e, const std::string& name,
                                                    std::optional<uint32_t> into) {
  return record_from_args(e, cx.record_index(name), cx.model.records.at(name).fields, into);
}

std::optional<uint32_t> FunctionBuilder::record_from_args(const CallExpr& e, uint32_t index,
                                                          const std::vector<FieldSym>& fields,
                                                          std::optional<uint32_t> into) {
  const Record& rec = cx.module.records[index];
  std::vector<TypeId> types;
  for (const auto& f : rec.fields) types.push_back(f.type);
  uint32_t first = temps(types);
  size_t position = 0;
  std::vector<const Expr*> given(rec.fields.size(), nullptr);
  for (const auto& a : e.args) {
    if (!a.name) {
      if (position < given.size()) given[position] = a.value.get();
      ++position;
      continue;
    }
    for (size_t i = 0; i < rec.fields.size(); ++i)
      if (rec.fields[i].name == a.name->name) given[i] = a.value.get();
  }
  for (size_t i = 0; i < rec.fields.size(); ++i) {
    uint32_t slot = first + static_cast<uint32_t>(i);
    const Expr* value = given[i];
    if (!value && i < fields.size() && fields[i].decl && fields[i].decl->default_value)
      value = fields[i].decl->default_value.get();
    if (value) {
      if (!expr_into(*value, slot)) return std::nullopt;
    } else if (!zero_value(types[i], e.span, slot)) {
      return std::nullopt;
    }
  }
  uint32_t dst = destination(into, cx.module.types.record(index));
  emit(Op::RECORD_NEW, dst, first, static_cast<uint32_t>(types.size()), index, e.span);
  consumed(first, static_cast<uint32_t>(types.size()));
  return dst;
}

std::optional<uint32_t> FunctionBuilder::intent(const CallExpr& e, const std::string& name,
                                                std::optional<uint32_t> into) {
  TypeTable& T = cx.module.types;
  // The idempotency key is a named argument every effect accepts; it is passed last.
  const Expr* key = nullptr;
  std::vector<const Argument*> rest;
  for (const auto& a : e.args) {
    if (a.name && a.name->name == "idempotency_key") {
      key = a.value.get();
    } else {
      rest.push_back(&a);
    }
  }
  // Declared, or undeclared (V-WRN-004) with the parameters its first use gave it: the
  // checker has made every use agree with them.
  auto found = cx.effect_index(name);
  if (!found) return std::nullopt;
  const uint32_t index = *found;
  const ExternalCall& effect = cx.module.effects[index];
  std::vector<std::string> names;
  std::vector<TypeId> types;
  for (const auto& f : effect.params) {
    names.push_back(f.name);
    types.push_back(f.type);
  }
  std::vector<TypeId> all_types = types;
  if (key) all_types.push_back(T.string());
  uint32_t first = temps(all_types);
  // Fill parameters: positional first, then by name.
  std::vector<const Expr*> filled(types.size(), nullptr);
  size_t position = 0;
  for (const Argument* a : rest) {
    if (!a->name) {
      if (position < filled.size()) filled[position] = a->value.get();
      ++position;
    } else {
      for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == a->name->name) filled[i] = a->value.get();
    }
  }
  for (size_t i = 0; i < types.size(); ++i) {
    if (!filled[i]) {
      cx.sink.error("V-TYP-004", e.span, "missing argument `" + names[i] + "` of effect `" + name + "`")
          .label("not given")
          .help("pass every parameter of the effect");
      return std::nullopt;
    }
    if (!expr_into(*filled[i], first + static_cast<uint32_t>(i))) return std::nullopt;
  }
  if (key && !expr_into(*key, first + static_cast<uint32_t>(types.size()))) return std::nullopt;
  uint32_t dst = destination(into, T.intent(index));
  emit(Op::INTENT_NEW, dst, first, static_cast<uint32_t>(all_types.size()), index, e.span);
  consumed(first, static_cast<uint32_t>(all_types.size()));
  return dst;
}

std::optional<uint32_t> FunctionBuilder::zero_value(TypeId type, Span span, std::optional<uint32_t> into) {
  TypeTable& T = cx.module.types;
  const TypeDesc t = T[type];
  uint32_t dst = destination(into, type);
  switch (t.kind) {
    case TypeKind::Unit: emit(Op::LOAD_UNIT, dst, 0, 0, 0, span); break;
    case TypeKind::Bool: emit(Op::LOAD_BOOL, dst, 0, 0, 0, span); break;
    case TypeKind::Int: emit(Op::LOAD_INT, dst, 0, 0, 0, span); break;
    case TypeKind::Float: {
      Constant c;
      c.kind = Constant::Kind::Float;
      emit(Op::LOAD_CONST, dst, 0, 0, cx.module.add_constant(c), span);
      break;
    }
    case TypeKind::String: {
      Constant c;
      c.kind = Constant::Kind::String;
      emit(Op::LOAD_CONST, dst, 0, 0, cx.module.add_constant(c), span);
      break;
    }
    case TypeKind::List: emit(Op::LIST_NEW, dst, 0, 0, type, span); break;
    case TypeKind::Map: emit(Op::MAP_NEW, dst, 0, 0, type, span); break;
    case TypeKind::Optional: emit(Op::LOAD_NONE, dst, 0, 0, 0, span); break;
    case TypeKind::Record: {
      // This recursion ends: the checker refuses a record that contains itself through
      // plain record fields (V-TYP-019), and T?, lists and maps start empty.
      const Record& rec = cx.module.records[t.x];
      std::vector<TypeId> types;
      for (const auto& f : rec.fields) types.push_back(f.type);
      uint32_t first = temps(types);
      for (size_t i = 0; i < types.size(); ++i)
        if (!zero_value(types[i], span, first + static_cast<uint32_t>(i))) return std::nullopt;
      emit(Op::RECORD_NEW, dst, first, static_cast<uint32_t>(types.size()), t.x, span);
      break;
    }
    case TypeKind::Intent:
      cx.sink.error("V-TYP-018", span, "an intent has no default value")
          .label("needs a value")
          .help("make intents with an effect call");
      return std::nullopt;
  }
  return dst;
}

// ---------------------------------------------------------------------------------
// Built-ins: pick the instruction or the type-specialised variant.

std::optional<uint32_t> FunctionBuilder::builtin(const CallExpr& e, const std::string& name,
                                                 std::optional<uint32_t> into) {
  TypeTable& T = cx.module.types;
  auto result_type = cx.convert(cx.checked_type(e), e.span);
  if (!result_type) return std::nullopt;
  // Argument types as the checker saw them; an empty literal passed to `append` takes
  // its type from the result.
  std::vector<TypeId> types;
  for (size_t i = 0; i < e.args.size(); ++i) {
    TypeRef t = cx.checked_type(*e.args[i].value);
    std::optional<TypeId> id;
    if (contains_unknown_type(t) && name == "append") {
      id = i == 0 ? *result_type : T[*result_type].x;
    } else {
      id = cx.convert(t, e.args[i].value->span);
    }
    if (!id) return std::nullopt;
    types.push_back(*id);
  }
  auto args_into = [&](const std::vector<TypeId>& want) -> std::optional<uint32_t> {
    uint32_t first = temps(want);
    for (size_t i = 0; i < want.size(); ++i)
      if (!expr_into(*e.args[i].value, first + static_cast<uint32_t>(i))) return std::nullopt;
    return first;
  };
  auto call_builtin = [&](Builtin b, const std::vector<TypeId>& want) -> std::optional<uint32_t> {
    auto first = args_into(want);
    if (!first) return std::nullopt;
    uint32_t dst = destination(into, *result_type);
    emit(Op::CALL_BUILTIN, dst, *first, static_cast<uint32_t>(want.size()), static_cast<uint32_t>(b), e.span);
    consumed(*first, static_cast<uint32_t>(want.size()));
    return dst;
  };
  auto one = [&](Op op, TypeId arg) -> std::optional<uint32_t> {
    auto r = expr(*e.args[0].value, arg);
    if (!r) return std::nullopt;
    uint32_t dst = destination(into, *result_type);
    emit(op, dst, *r, 0, 0, e.span);
    return dst;
  };
  const TypeId I = T.integer(), F = T.floating(), S = T.string(), B = T.boolean();
  auto kind0 = [&] { return T[types[0]].kind; };

  if (name == "len") return one(Op::LEN, types[0]);
  if (name == "tick") {
    if (kind == BodyKind::Fn || kind == BodyKind::Initializer || kind == BodyKind::Migration) {
      require_state(e.span);
      return std::nullopt;
    }
    uint32_t dst = destination(into, I);
    emit(Op::TICK, dst, 0, 0, 0, e.span);
    return dst;
  }
  if (name == "rand") {
    if (is_test_body(kind) && kind != BodyKind::TestScript) {
      refuse_in_test(e.span, "`rand`", "draw random numbers in `simulate`");
      return std::nullopt;
    }
    if (kind != BodyKind::Transition && kind != BodyKind::TestScript) {
      require_state(e.span);
      return std::nullopt;
    }
    return one(Op::RAND, I);
  }
  if (name == "min" || name == "max") {
    const bool mn = name == "min";
    if (types.size() == 1) {
      const bool f = T[types[0]].x == F;
      return call_builtin(mn ? (f ? Builtin::MIN_LIST_F64 : Builtin::MIN_LIST_I64)
                             : (f ? Builtin::MAX_LIST_F64 : Builtin::MAX_LIST_I64),
                          {types[0]});
    }
    const bool f = *result_type == F;
    return call_builtin(mn ? (f ? Builtin::MIN_F64 : Builtin::MIN_I64) : (f ? Builtin::MAX_F64 : Builtin::MAX_I64),
                        {*result_type, *result_type});
  }
  if (name == "abs") return call_builtin(*result_type == F ? Builtin::ABS_F64 : Builtin::ABS_I64, {*result_type});
  if (name == "contains") {
    if (kind0() == TypeKind::String) return call_builtin(Builtin::CONTAINS_STR, {S, S});
    if (kind0() == TypeKind::List) return call_builtin(Builtin::CONTAINS_LIST, {types[0], T[types[0]].x});
    // A map lookup is an instruction of its own: its operands are single registers, so
    // copy propagation reads the map's own register and no reference is taken.
    auto map = expr(*e.args[0].value, types[0]);
    if (!map) return std::nullopt;
    auto key = expr(*e.args[1].value, T[types[0]].x);
    if (!key) return std::nullopt;
    uint32_t dst = destination(into, B);
    emit(Op::MAP_HAS, dst, *map, *key, 0, e.span);
    return dst;
  }
  if (name == "keys") return call_builtin(Builtin::KEYS, {types[0]});
  if (name == "values") return call_builtin(Builtin::VALUES, {types[0]});
  if (name == "append") {
    auto first = args_into({*result_type, T[*result_type].x});
    if (!first) return std::nullopt;
    uint32_t dst = destination(into, *result_type);
    emit(Op::LIST_APPEND, dst, *first, *first + 1, 0, e.span);
    consumed(*first, 2);
    return dst;
  }
  if (name == "remove") {
    if (kind0() == TypeKind::List) return call_builtin(Builtin::REMOVE_LIST, {types[0], I});
    return call_builtin(Builtin::REMOVE_MAP, {types[0], T[types[0]].x});
  }
  if (name == "slice")
    return call_builtin(kind0() == TypeKind::String ? Builtin::SLICE_STR : Builtin::SLICE_LIST, {types[0], I, I});
  if (name == "split") return call_builtin(Builtin::SPLIT, {S, S});
  if (name == "join") return call_builtin(Builtin::JOIN, {T.list(S), S});
  if (name == "upper") return call_builtin(Builtin::UPPER, {S});
  if (name == "lower") return call_builtin(Builtin::LOWER, {S});
  if (name == "starts_with") return call_builtin(Builtin::STARTS_WITH, {S, S});
  if (name == "ends_with") return call_builtin(Builtin::ENDS_WITH, {S, S});
  if (name == "format") {
    std::vector<TypeId> want = types;
    want[0] = S;
    return call_builtin(Builtin::FORMAT, want);
  }
  if (name == "hash") return call_builtin(Builtin::HASH, {types[0]});
  if (name == "str") return call_builtin(Builtin::STR, {types[0]});
  if (name == "int") {
    if (types[0] == I) return one(Op::MOVE, I);
    if (types[0] == F) return call_builtin(Builtin::INT_F64, {F});
    if (types[0] == B) return call_builtin(Builtin::INT_BOOL, {B});
    return call_builtin(Builtin::INT_STR, {S});
  }
  if (name == "float") {
    if (types[0] == F) return one(Op::MOVE, F);
    if (types[0] == I) return one(Op::I2F, I);
    if (types[0] == B) return call_builtin(Builtin::FLOAT_BOOL, {B});
    return call_builtin(Builtin::FLOAT_STR, {S});
  }
  if (name == "advance_ticks") return advance_ticks(e, into);
  cx.sink.error("V-TYP-009", e.span, "`" + name + "` cannot be compiled here")
      .label("not available outside simulation tests")
      .help("use it in a `test` block");
  return std::nullopt;
}

}  // namespace ved::ir
