// Ved's static types (language.md §9).
//
// Types are interned in a TypeTable: two equal types are the same pointer, so equality
// is pointer comparison. The interning map is keyed by (kind, interned children, name);
// it is only ever looked up, never iterated, so nothing observable depends on pointer
// values.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace ved {

enum class TypeKind {
  Error,    // an expression that already failed to check: compatible with everything,
            // so one mistake gives one diagnostic
  Unknown,  // the element type of `[]` / `{}` and untyped migration input
  Unit,
  Int,
  Float,
  Bool,
  String,
  None,     // the type of the literal `none`: assignable to any optional
  List,
  Map,
  Optional,
  Record,
  Intent,   // the value of an effect call: only `emit` uses it
};

struct Type {
  TypeKind kind;
  const Type* element = nullptr;  // List, Optional: the element; Map: the value
  const Type* key = nullptr;      // Map
  std::string name;               // Record: the record's name; Intent: the effect's name

  bool is_error() const { return kind == TypeKind::Error; }
  bool is_numeric() const { return kind == TypeKind::Int || kind == TypeKind::Float; }
};
using TypeRef = const Type*;

std::string type_to_string(TypeRef t);
// "an `int`", "a `string`": for messages.
std::string a_type(TypeRef t);

class TypeTable {
 public:
  TypeTable();

  TypeRef error() const { return error_; }
  TypeRef unknown() const { return unknown_; }
  TypeRef unit() const { return unit_; }
  TypeRef int_() const { return int_t_; }
  TypeRef float_() const { return float_t_; }
  TypeRef bool_() const { return bool_t_; }
  TypeRef string() const { return string_t_; }
  TypeRef none() const { return none_; }

  TypeRef list(TypeRef element);
  TypeRef map(TypeRef key, TypeRef value);
  TypeRef optional(TypeRef element);  // optional(T?) is T?
  TypeRef record(const std::string& name);
  TypeRef intent(const std::string& effect);

 private:
  TypeRef intern(TypeKind kind, TypeRef element, TypeRef key, const std::string& name);

  using Key = std::tuple<int, TypeRef, TypeRef, std::string>;
  std::map<Key, std::unique_ptr<Type>> types_;
  TypeRef error_, unknown_, unit_, int_t_, float_t_, bool_t_, string_t_, none_;
};

// Whether a value of type `from` may be used where `to` is expected: equal types;
// `none` to any optional; T to T?; anything involving Error or Unknown; collections
// element-wise. There is no implicit int -> float here (only in mixed arithmetic).
bool assignable(TypeRef from, TypeRef to);

// The common type of two branches (list elements, map values), or nullptr.
TypeRef unify(TypeTable& types, TypeRef a, TypeRef b);

}  // namespace ved
