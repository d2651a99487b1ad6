#include <doctest/doctest.h>

#include <cmath>

#include "frontend/literals.h"

using namespace ved;

TEST_CASE("integer literals") {
  CHECK(decode_int_literal("0") == 0);
  CHECK(decode_int_literal("42") == 42);
  CHECK(decode_int_literal("30_000") == 30000);
  CHECK(decode_int_literal("0x1F") == 31);
  CHECK(decode_int_literal("0Xff_ff") == 65535);
  CHECK(decode_int_literal("9223372036854775807") == INT64_MAX);
  CHECK_FALSE(decode_int_literal("9223372036854775808"));
  CHECK_FALSE(decode_int_literal("99999999999999999999"));
  CHECK_FALSE(decode_int_literal("0x8000000000000000"));
  CHECK(decode_int_literal("0x7fffffffffffffff") == INT64_MAX);
}

TEST_CASE("float literals") {
  CHECK(decode_float_literal("1.5") == 1.5);
  CHECK(decode_float_literal("1_000.25") == 1000.25);
  CHECK(decode_float_literal("2e10") == 2e10);
  CHECK(decode_float_literal("1.5E-3") == 1.5e-3);
  CHECK(decode_float_literal("0.1") == 0.1);  // correctly rounded, not accumulated
  CHECK_FALSE(decode_float_literal("1e999"));
}

TEST_CASE("string literals decode their escapes") {
  StringDecodeError err;
  CHECK(decode_string_literal(R"("plain")", err) == "plain");
  CHECK(decode_string_literal(R"("a\nb\tc\rd\"e\\f")", err) == "a\nb\tc\rd\"e\\f");
  CHECK(decode_string_literal(R"("\0")", err) == std::string(1, '\0'));
  CHECK(decode_string_literal(R"("\u{e9}")", err) == "\xC3\xA9");
  CHECK(decode_string_literal(R"("\u{1F600}")", err) == "\xF0\x9F\x98\x80");
  CHECK(decode_string_literal(R"("\u{41}BC")", err) == "ABC");
  CHECK(decode_string_literal("\"caf\xC3\xA9\"", err) == "caf\xC3\xA9");  // UTF-8 passes through
  CHECK(decode_string_literal(R"("")", err) == "");
}

TEST_CASE("bad string escapes are reported with their position") {
  StringDecodeError err;
  CHECK_FALSE(decode_string_literal(R"("ab\qc")", err));
  CHECK(err.offset == 3);
  CHECK(err.length == 2);
  CHECK(err.message.find("\\q") != std::string::npos);

  CHECK_FALSE(decode_string_literal(R"("\u{D800}")", err));  // surrogate
  CHECK_FALSE(decode_string_literal(R"("\u{110000}")", err));  // above U+10FFFF
  CHECK_FALSE(decode_string_literal(R"("\u{}")", err));        // no digits
  CHECK_FALSE(decode_string_literal(R"("\u{1234567}")", err)); // too many digits
  CHECK_FALSE(decode_string_literal(R"("\u41")", err));        // no braces
  CHECK_FALSE(decode_string_literal(R"("\u{12")", err));       // unclosed
}

TEST_CASE("UTF-8 helpers") {
  std::string s;
  append_utf8(s, 0x24);
  append_utf8(s, 0xA2);
  append_utf8(s, 0x20AC);
  append_utf8(s, 0x10348);
  CHECK(s == "\x24\xC2\xA2\xE2\x82\xAC\xF0\x90\x8D\x88");
}
