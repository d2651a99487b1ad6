// Strict reading of msgpack documents that come from the network or from disk (journal
// entries, wire messages, stored Raft state). Every accessor checks the type it expects
// and throws DecodeError naming the field (`what`) and the problem; callers catch it at
// their boundary and turn it into a refusal with a reason. Nothing here trusts sizes: the
// unpacker is bounded by kStrictLimits and strings by the limits each caller passes.
#pragma once

#include <msgpack.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ved::cluster::strict {

struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Unpacks exactly one document filling all of `bytes` (trailing bytes are an error).
msgpack::object_handle unpack_one(std::string_view bytes, const char* what);

// The array `o` with exactly `n` items (or at least `min_n` when n is 0).
const msgpack::object* array(const msgpack::object& o, size_t n, const char* what);
// An array of any size up to `max_items`; sets `size`.
const msgpack::object* list(const msgpack::object& o, size_t max_items, uint32_t& size, const char* what);
uint64_t u64(const msgpack::object& o, const char* what);
bool boolean(const msgpack::object& o, const char* what);
// A str (UTF-8 is not checked here; names are checked by their users) of at most max bytes.
std::string str(const msgpack::object& o, size_t max_bytes, const char* what);
// A bin of at most max bytes.
std::string bin(const msgpack::object& o, size_t max_bytes, const char* what);

}  // namespace ved::cluster::strict
