#include "frontend/types.h"

namespace ved {

std::string type_to_string(TypeRef t) {
  if (!t) return "?";
  switch (t->kind) {
    case TypeKind::Error: return "{error}";
    case TypeKind::Unknown: return "_";
    case TypeKind::Unit: return "unit";
    case TypeKind::Int: return "int";
    case TypeKind::Float: return "float";
    case TypeKind::Bool: return "bool";
    case TypeKind::String: return "string";
    case TypeKind::None: return "none";
    case TypeKind::List: return "list<" + type_to_string(t->element) + ">";
    case TypeKind::Map: return "map<" + type_to_string(t->key) + ", " + type_to_string(t->element) + ">";
    case TypeKind::Optional: return type_to_string(t->element) + "?";
    case TypeKind::Record: return t->name;
    case TypeKind::Intent: return "intent " + t->name;
  }
  return "?";
}

std::string a_type(TypeRef t) {
  std::string name = type_to_string(t);
  bool vowel = !name.empty() && std::string("aeiou").find(name[0]) != std::string::npos;
  return (vowel ? "an `" : "a `") + name + "`";
}

TypeTable::TypeTable() {
  error_ = intern(TypeKind::Error, nullptr, nullptr, "");
  unknown_ = intern(TypeKind::Unknown, nullptr, nullptr, "");
  unit_ = intern(TypeKind::Unit, nullptr, nullptr, "");
  int_t_ = intern(TypeKind::Int, nullptr, nullptr, "");
  float_t_ = intern(TypeKind::Float, nullptr, nullptr, "");
  bool_t_ = intern(TypeKind::Bool, nullptr, nullptr, "");
  string_t_ = intern(TypeKind::String, nullptr, nullptr, "");
  none_ = intern(TypeKind::None, nullptr, nullptr, "");
}

TypeRef TypeTable::intern(TypeKind kind, TypeRef element, TypeRef key, const std::string& name) {
  // Children are themselves interned, so their identity is structural; ordering the
  // map by child pointer is still deterministic in *which* type is returned (the map
  // is only a lookup, never iterated for output).
  Key k{static_cast<int>(kind), element, key, name};
  auto it = types_.find(k);
  if (it != types_.end()) return it->second.get();
  auto t = std::make_unique<Type>(Type{kind, element, key, name});
  TypeRef raw = t.get();
  types_.emplace(std::move(k), std::move(t));
  return raw;
}

TypeRef TypeTable::list(TypeRef element) { return intern(TypeKind::List, element, nullptr, ""); }
TypeRef TypeTable::map(TypeRef key, TypeRef value) { return intern(TypeKind::Map, value, key, ""); }
TypeRef TypeTable::optional(TypeRef element) {
  if (element->kind == TypeKind::Optional || element->is_error()) return element;
  return intern(TypeKind::Optional, element, nullptr, "");
}
TypeRef TypeTable::record(const std::string& name) { return intern(TypeKind::Record, nullptr, nullptr, name); }
TypeRef TypeTable::intent(const std::string& effect) { return intern(TypeKind::Intent, nullptr, nullptr, effect); }

bool assignable(TypeRef from, TypeRef to) {
  if (!from || !to) return true;
  if (from == to) return true;
  if (from->kind == TypeKind::Error || to->kind == TypeKind::Error) return true;
  if (from->kind == TypeKind::Unknown || to->kind == TypeKind::Unknown) return true;
  if (to->kind == TypeKind::Optional) {
    if (from->kind == TypeKind::None) return true;
    if (from->kind == TypeKind::Optional) return assignable(from->element, to->element);
    return assignable(from, to->element);
  }
  if (from->kind != to->kind) return false;
  switch (from->kind) {
    case TypeKind::List: return assignable(from->element, to->element);
    case TypeKind::Map: return assignable(from->key, to->key) && assignable(from->element, to->element);
    case TypeKind::Record:
    case TypeKind::Intent: return from->name == to->name;
    default: return true;
  }
}

TypeRef unify(TypeTable& types, TypeRef a, TypeRef b) {
  if (a == b) return a;
  if (a->is_error() || b->is_error()) return types.error();
  if (a->kind == TypeKind::Unknown) return b;
  if (b->kind == TypeKind::Unknown) return a;
  if (a->kind == TypeKind::None) return b->kind == TypeKind::Optional ? b : types.optional(b);
  if (b->kind == TypeKind::None) return a->kind == TypeKind::Optional ? a : types.optional(a);
  if (a->kind == TypeKind::Optional && assignable(b, a)) return a;
  if (b->kind == TypeKind::Optional && assignable(a, b)) return b;
  if (a->kind == TypeKind::List && b->kind == TypeKind::List) {
    TypeRef e = unify(types, a->element, b->element);
    return e ? types.list(e) : nullptr;
  }
  if (a->kind == TypeKind::Map && b->kind == TypeKind::Map) {
    TypeRef k = unify(types, a->key, b->key);
    TypeRef v = unify(types, a->element, b->element);
    return k && v ? types.map(k, v) : nullptr;
  }
  return nullptr;
}

}  // namespace ved
