// Decoding of literal tokens into values. Pure functions, so they are easy to test.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ved {

// `42`, `30_000`, `0x1F`. Returns nullopt when the value does not fit in int64.
std::optional<int64_t> decode_int_literal(std::string_view text);

// `1.5`, `2e10`, `1_000.25`. Returns nullopt when the value is not finite.
std::optional<double> decode_float_literal(std::string_view text);

struct StringDecodeError {
  size_t offset = 0;  // byte offset of the bad escape within the token text
  size_t length = 0;  // bytes of the bad escape
  std::string message;
};

// The text of a STRING token including its quotes. Escapes: \n \t \r \0 \" \\ \u{X..}.
// On failure returns nullopt and fills `error`.
std::optional<std::string> decode_string_literal(std::string_view token, StringDecodeError& error);

// Appends the UTF-8 encoding of a Unicode scalar value.
void append_utf8(std::string& out, uint32_t code_point);

}  // namespace ved
