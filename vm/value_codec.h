// Values as bytes, for storage and journals: a compact msgpack encoding, and a decoder
// that checks what it reads against the type it must have (stored data is input like
// any other: a damaged data dir is reported, never trusted).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "vm/program.h"
#include "vm/value.h"

namespace ved::vm {

// How deeply a stored value may nest (lists, maps, records, intents inside each other).
// The decoder reads back anything within it (it counts an optional as a level of its own,
// hence the margin); deeper values are refused when encoded, before anything is written.
inline constexpr int kMaxStoredDepth = 4000;
struct ValueTooDeep : std::runtime_error {
  ValueTooDeep()
      : std::runtime_error("a value nested deeper than " + std::to_string(kMaxStoredDepth) +
                           " levels cannot be stored") {}
};

// Appends the encoding of `v` to `out`. Deterministic: equal values, equal bytes (maps in
// key order). Throws ValueTooDeep beyond kMaxStoredDepth.
void encode_value(const Value& v, std::string& out);
std::string encode_value(const Value& v);

// The zero value of a type (language.md §3): 0, 0.0, false, "", empty, none, a record of
// zero values (the verifier rules out records that contain themselves); none for an
// intent, which no stored field holds.
Value zero_value(const Program& program, uint32_t type);

// Decodes one value of type `type` (a Program type index). False with `error` when the
// bytes are not a well-formed value of that type.
bool decode_value(const Program& program, std::string_view bytes, uint32_t type, Value& out, std::string& error);

}  // namespace ved::vm
