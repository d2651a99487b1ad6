#include "ir/module.h"

#include <cstring>

namespace ved::ir {

TypeTable::TypeTable() {
  // Fixed ids for the scalars, in the order of the accessors in module.h.
  intern({TypeKind::Unit, 0, 0});
  intern({TypeKind::Bool, 0, 0});
  intern({TypeKind::Int, 0, 0});
  intern({TypeKind::Float, 0, 0});
  intern({TypeKind::String, 0, 0});
}

TypeId TypeTable::intern(TypeDesc t) {
  auto [it, inserted] = index_.emplace(t, static_cast<TypeId>(list_.size()));
  if (inserted) list_.push_back(t);
  return it->second;
}

TypeId TypeTable::optional(TypeId element) {
  if (list_.at(element).kind == TypeKind::Optional) return element;
  return intern({TypeKind::Optional, element, 0});
}

bool TypeTable::is_heap(TypeId id) const {
  switch (list_.at(id).kind) {
    case TypeKind::Unit:
    case TypeKind::Bool:
    case TypeKind::Int:
    case TypeKind::Float: return false;
    case TypeKind::Optional: return is_heap(list_.at(id).x);
    default: return true;
  }
}

uint32_t Module::add_constant(Constant c) {
  // Keyed by bits for floats, so that 0.0 and -0.0 stay distinct constants.
  uint64_t bits = 0;
  std::memcpy(&bits, &c.f, sizeof bits);
  auto key = std::make_tuple(static_cast<int>(c.kind), c.i, bits, c.s);
  auto [it, inserted] = constant_index_.emplace(std::move(key), static_cast<uint32_t>(constants.size()));
  if (inserted) constants.push_back(std::move(c));
  return it->second;
}

}  // namespace ved::ir
