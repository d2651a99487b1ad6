// Ved values in the external-adapter protocol's natural msgpack form (docs/adapters.md,
// "External adapters: the protocol"), both ways.
//
// This is not the storage encoding of vm/value_codec.h. Storage is read back only by the
// VM and tags every value so that it can be decoded without ambiguity; this form is read
// and written by adapters in any language, so it is the one a msgpack library produces
// from that language's plain data:
//
//   unit -> nil        bool -> bool       int -> int          float -> float64
//   string -> str      optional: none -> nil, some(x) -> x's form
//   list<T> -> array   map<K, V> -> map (int or str keys, in key order)
//   record -> map from field name to value (declaration order)
//   intent -> not representable (an encoding error)
//
// Decoding is directed by the expected type (a Program type index) and checks every part
// of the value against it. What comes back is input from another process, possibly a
// broken or hostile one: every malformed, oversized or wrongly typed input is an error
// string, never a crash, an unbounded allocation or a deep recursion.
//
// This header does not include msgpack, so that code which only converts values needs
// neither msgpack nor its configuration macros.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vm/program.h"
#include "vm/value.h"

namespace ved::vm {

// Containers (arrays, maps) nested in one value, at most. Deep enough for any real
// effect result; shallow enough that recursion over it is harmless on a worker thread.
inline constexpr int kProtocolMaxDepth = 64;
// The largest protocol message, in bytes. Decoding allocates a bounded multiple of the
// input size (see check_protocol_bytes), so this bounds what a hostile peer can cost.
inline constexpr size_t kProtocolMaxBytes = size_t{16} << 20;

// Appends the protocol form of `v`, a value of Program type `type`, to `out` as exactly
// one msgpack object. Floats are always float64 (never shortened to an int). False with
// `error` (naming where in the value) if the value is not of that type, holds an intent,
// or nests containers more than kProtocolMaxDepth deep.
bool encode_protocol_value(const Program& program, const Value& v, uint32_t type, std::string& out,
                           std::string& error);

// Decodes `bytes`, which must be exactly one msgpack object, as a value of Program type
// `type`. Lenient only where msgpack libraries differ: a float may arrive as float32 or
// as an integer (libraries for languages without a separate float type write 2.0 as 2),
// and a record field of optional type may be absent (none). Everything else must match:
// wrong kinds, out-of-range ints, invalid UTF-8, duplicate or unknown keys, missing
// fields, ext/bin objects, stray bytes after the object are all errors.
bool decode_protocol_value(const Program& program, std::string_view bytes, uint32_t type, Value& out,
                           std::string& error);

// Checks that `bytes` starts with one well-formed msgpack object and returns its length
// in `length`, without building anything. Rejects objects that nest containers more than
// `max_depth` deep (a scalar is depth 0, [1] is 1, [[1]] is 2), that declare more items
// than there are bytes left to hold them (the "huge length" attack: a 5-byte array header
// claiming 4 billion items), that are truncated, or that use the reserved byte 0xc1.
// After this succeeds, msgpack-c's unpack of the same bytes allocates at most a small
// multiple of their size (it allocates each container's declared size up front).
bool check_protocol_bytes(std::string_view bytes, int max_depth, size_t& length, std::string& error);

// Splits `bytes`, exactly one msgpack map with string keys (a request or a reply
// envelope), into its entries: each key and the raw bytes of its value (one msgpack
// object each, a view into `bytes`), in wire order. False with `error` for anything else
// (not a map, a non-string or duplicate key, malformed or trailing bytes). The values are
// checked with check_protocol_bytes(..., kProtocolMaxDepth, ...).
bool split_protocol_map(std::string_view bytes, std::vector<std::pair<std::string, std::string_view>>& entries,
                        std::string& error);

}  // namespace ved::vm
