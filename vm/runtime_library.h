// The runtime library: what instructions and built-ins do to values, shared by the
// interpreter and (later) the JIT so that both compute the same bits and fault at the
// same places. Nothing here touches an instance, the clock or I/O.
//
// Functions that can fault return a FaultKind (FaultKind::None on success) and put a
// message for people in `message`; they never throw.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bytecode/format.h"
#include "vm/value.h"

namespace ved::vm {

using bytecode::Builtin;
using bytecode::FaultKind;

// Names of a record type, for str() and format().
struct RecordLayout {
  std::string name;
  std::vector<std::string> fields;
};

// ---- text ----------------------------------------------------------------------
// `str(x)` (and each `{}` of `format`): ints in decimal; floats in the shortest form
// that reads back to the same double (std::to_chars), with ".0" added when that form
// has no '.', 'e', "inf" or "nan" (so `str(2.0)` is "2.0"); `true`/`false`; strings as
// they are at the top level and quoted with escapes inside collections; `none`;
// `[1, 2]`; `{"a": 1, "b": 2}` in key order; `Name(field: value, ...)` for records;
// `()` for unit; `<intent E>` for intents (E the effect's name, from effect_names).
std::string format_value(const Value& v, std::span<const RecordLayout> records,
                         std::span<const std::string> effect_names);
// The same, appended to `out`, stopping as soon as `out` would pass `limit` bytes: false
// then (with `out` cut somewhere past the limit, never far), so that a value too large
// to print is found without building its whole text.
bool format_value_within(const Value& v, std::span<const RecordLayout> records,
                         std::span<const std::string> effect_names, size_t limit, std::string& out);
// The length of the longest prefix of `text` of at most `n` bytes that ends on a code
// point boundary (for cutting text that people read).
size_t utf8_prefix_length(std::string_view text, size_t n);
// A value for people (journal lines, summaries): whole when its text has at most
// `limit` bytes, otherwise its first `limit` bytes (cut on a code point boundary), "...",
// and its hash, so that a 32 MiB field prints a line, not 32 MiB.
std::string format_value_shown(const Value& v, std::span<const RecordLayout> records,
                               std::span<const std::string> effect_names, size_t limit = 1024);
// An int as `str`, `format`, the journal and instance names print it, appended to `out`.
void append_int(int64_t i, std::string& out);
// The same, appended to `out` (a journal line built in place).
void append_value_shown(const Value& v, std::span<const RecordLayout> records,
                        std::span<const std::string> effect_names, size_t limit, std::string& out);
// The longest string a built-in may build: beyond it the call faults (Budget), checked
// before the string is allocated. The interpreter enforces the same bound on `+`.
constexpr size_t kMaxStringBytes = size_t{1} << 28;  // 256 MiB

// `text` as a Ved string literal that reads it back: "a\"b", with \n \t \r \\ \" and
// \u{hex} for other control characters (what str() prints for strings inside collections).
std::string quote_string(std::string_view text);
// The same escapes without the quotes (and with `"` left as it is): text that must stay
// on one line and cannot drive a terminal (journal records, log lines, messages).
std::string escape_text(std::string_view text);
// Only the control characters escaped: for text already made of literals (`"a\tb"` stays
// as it is) that must still stay on one line, such as journal records.
std::string escape_controls(std::string_view text);
// The same, appended to `out` (a journal line built in place).
void append_controls_escaped(std::string_view text, std::string& out);

// ---- hashing ---------------------------------------------------------------------
// The canonical encoding of a value: a tag byte, then the payload (ints and floats as
// 8 little-endian bytes, strings as an 8-byte length and the bytes, collections as an
// 8-byte count and their elements; maps as key, value pairs in key order; records as
// their type's field count and fields; intents as effect index, args, key). Equal values
// (values_equal) of one type have equal encodings, except that 0.0 and -0.0 differ.
void encode_canonical(const Value& v, std::string& out);
// `hash(x)`: XXH64 (seed 0) of the canonical encoding, as a signed int. XXH64 is a
// fixed, published function, so hashes are stable across machines and releases.
int64_t hash_value(const Value& v);

// ---- strings ---------------------------------------------------------------------
// The code point at `index` (0-based) of `text` as a string; Index fault when out of
// range (negative indices are out of range).
FaultKind string_code_point(const std::string& text, int64_t index, Value& out, std::string& message);

// ---- built-ins -------------------------------------------------------------------
struct BuiltinContext {
  std::span<const RecordLayout> records;
  std::span<const std::string> effect_names;
};

// Runs built-in `id` on args[0 .. argc). The verifier has checked the argument types
// (Verifier::builtin in vm/verifier.cpp), so this does not check them again.
FaultKind call_builtin(Builtin id, const Value* args, uint16_t argc, Value& result, std::string& message,
                       const BuiltinContext& context);

}  // namespace ved::vm
