// Types and values across two programs: an old bundle (whose values a data dir holds)
// and a new one. Indices differ between bundles (record 3 of one is record 5 of the
// other), so types are compared by structure and names, and values are rebuilt with the
// new bundle's indices. Used by the migration runner and the compatibility check.
#pragma once

#include <cstdint>
#include <string>

#include "vm/program.h"
#include "vm/value.h"

namespace ved::vm::upgrade {

// Whether type `ta` of `a` and type `tb` of `b` describe the same values: the same
// kinds, records of the same name with the same fields (names, order, types), intents of
// the same effect with the same parameters. When they differ, `why` (if given) says
// how, e.g. "int -> string" or "record `Server`: field `tags` added".
bool same_shape(const Program& a, uint32_t ta, const Program& b, uint32_t tb, std::string* why = nullptr);

// `v`, a value of type `ta` of `a`, with `b`'s record and effect indices: `same_shape`
// must hold. Shares every object that holds no record or intent.
Value translate(const Program& a, uint32_t ta, const Program& b, uint32_t tb, const Value& v);

// How the fields of two records differ, for messages: "field `email: string` added;
// field `age` int -> string; field `nick` removed" ("" when they do not).
std::string record_difference(const Program& a, uint32_t record_a, const Program& b, uint32_t record_b);

// The type index of record `record` in `p` (the verifier gives every record a type
// when it is used; the first such type), or UINT32_MAX if no type names it.
uint32_t record_type(const Program& p, uint32_t record);

}  // namespace ved::vm::upgrade
