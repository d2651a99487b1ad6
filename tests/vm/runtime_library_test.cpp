// The runtime library's text, hashing and arithmetic: format_value, encode_canonical,
// hash_value, checked and float division, string_code_point. Built-ins are in
// builtins_test.cpp.
#include <doctest/doctest.h>
#include <xxhash.h>

#include <cmath>
#include <limits>

#include "tests/vm/vm_test_support.h"

using namespace ved::vm;
using namespace ved::vm::test;

namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s += static_cast<char>(x);
  return s;
}
std::string u64(uint64_t x) {
  std::string s;
  for (int i = 0; i < 8; ++i) s += static_cast<char>((x >> (8 * i)) & 0xFF);
  return s;
}
std::string encode(const Value& v) {
  std::string out;
  encode_canonical(v, out);
  return out;
}
Value nested_list(int depth) {
  Value v = L({});
  for (int i = 0; i < depth; ++i) v = Value::list({std::move(v)});
  return v;
}

}  // namespace

// ---- format_value ------------------------------------------------------------------------

TEST_CASE("format_value: unit, none, booleans") {
  CHECK(str(Value()) == "()");
  CHECK(str(Value::none()) == "none");
  CHECK(str(B(true)) == "true");
  CHECK(str(B(false)) == "false");
}

TEST_CASE("format_value: ints in decimal") {
  CHECK(str(I(0)) == "0");
  CHECK(str(I(-42)) == "-42");
  CHECK(str(I(kMax)) == "9223372036854775807");
  CHECK(str(I(kMin)) == "-9223372036854775808");
}

TEST_CASE("format_value: floats are shortest round-trip with .0 for whole numbers") {
  CHECK(str(F(2.0)) == "2.0");
  CHECK(str(F(0.1)) == "0.1");
  CHECK(str(F(1.5)) == "1.5");
  CHECK(str(F(100.0)) == "100.0");
  CHECK(str(F(0.0)) == "0.0");
  CHECK(str(F(-0.0)) == "-0.0");
  CHECK(str(F(123456789.0)) == "123456789.0");
  CHECK(str(F(0.1 + 0.2)) == "0.30000000000000004");
}

TEST_CASE("format_value: floats in exponent form get no .0") {
  CHECK(str(F(1e300)) == "1e+300");
  CHECK(str(F(1e16)) == "1e+16");
  CHECK(str(F(1.5e-7)) == "1.5e-07");
  CHECK(str(F(5e-324)) == "5e-324");
  CHECK(str(F(-2.5e100)) == "-2.5e+100");
}

TEST_CASE("format_value: infinities and NaN") {
  CHECK(str(F(INFINITY)) == "inf");
  CHECK(str(F(-INFINITY)) == "-inf");
  CHECK(str(F(std::numeric_limits<double>::quiet_NaN())) == "nan");
  // Whatever sign a NaN carries (processors differ), it prints the same.
  CHECK(str(F(-std::numeric_limits<double>::quiet_NaN())) == "nan");
}

TEST_CASE("format_value: a top-level string is printed as it is") {
  CHECK(str(S("plain")) == "plain");
  CHECK(str(S("with \"quotes\"\n")) == "with \"quotes\"\n");
  CHECK(str(S("")) == "");
}

TEST_CASE("format_value: strings inside collections are quoted with escapes") {
  CHECK(str(L({S("a"), S("b\"c")})) == R"(["a", "b\"c"])");
  CHECK(str(L({S("back\\slash")})) == R"(["back\\slash"])");
  CHECK(str(L({S("n\nt\tr\r")})) == R"(["n\nt\tr\r"])");
  CHECK(str(L({S(std::string("\x01\x1b\x7f\0", 4))})) == R"(["\u{1}\u{1b}\u{7f}\u{0}"])");
  CHECK(str(L({S("héllo 日本")})) == "[\"héllo 日本\"]");
  CHECK(str(L({S("")})) == R"([""])");
}

TEST_CASE("format_value: lists, nested and empty") {
  CHECK(str(L({})) == "[]");
  CHECK(str(L({I(1), I(2)})) == "[1, 2]");
  CHECK(str(L({L({I(1), F(2.0)}), L({}), L({L({B(true)})})})) == "[[1, 2.0], [], [[true]]]");
  CHECK(str(L({Value::none(), Value()})) == "[none, ()]");
}

TEST_CASE("format_value: maps in key order with quoted string keys") {
  CHECK(str(M({})) == "{}");
  CHECK(str(M({{S("b"), I(2)}, {S("a"), I(1)}})) == R"({"a": 1, "b": 2})");
  CHECK(str(M({{I(2), Value::none()}, {I(-1), S("x")}})) == R"({-1: "x", 2: none})");
  CHECK(str(M({{S("k"), L({S("v"), M({{I(0), S("")}})})}})) == R"({"k": ["v", {0: ""}]})");
}

TEST_CASE("format_value: records with their layout's names") {
  CHECK(str(Value::record(0, {I(1), I(-2)})) == "Point(x: 1, y: -2)");
  CHECK(str(Value::record(1, {})) == "Empty()");
  CHECK(str(Value::record(2, {S("hi"), L({S("a")})})) == R"(Tagged(label: "hi", items: ["a"]))");
  CHECK(str(L({Value::record(0, {F(0.5), F(1.0)})})) == "[Point(x: 0.5, y: 1.0)]");
}

TEST_CASE("format_value: records whose layout is missing or short still print") {
  CHECK(str(Value::record(9, {I(1), I(2)})) == "record#9(_0: 1, _1: 2)");
  CHECK(str(Value::record(0, {I(1), I(2), I(3)})) == "Point(x: 1, y: 2, _2: 3)");
}

TEST_CASE("format_value: intents by effect name") {
  CHECK(str(Value::intent(0, {S("https://x")}, Value::none())) == "<intent http.get>");
  CHECK(str(Value::intent(1, {}, S("k"))) == "<intent email.send>");
  CHECK(str(Value::intent(7, {}, Value::none())) == "<intent #7>");
  CHECK(str(L({Value::intent(0, {}, Value::none())})) == "[<intent http.get>]");
}

TEST_CASE("format_value: very deep nesting is printed without recursion") {
  std::string text = str(nested_list(200'000));
  CHECK(text.size() == 2 * 200'001);
  CHECK(text.starts_with("[[[["));
  CHECK(text.ends_with("]]]]"));
}

// ---- encode_canonical and hash_value ---------------------------------------------------------

TEST_CASE("encode_canonical: scalars") {
  CHECK(encode(Value()) == bytes({0}));
  CHECK(encode(Value::none()) == bytes({1}));
  CHECK(encode(B(false)) == bytes({2, 0}));
  CHECK(encode(B(true)) == bytes({2, 1}));
  CHECK(encode(I(1)) == bytes({3}) + u64(1));
  CHECK(encode(I(-1)) == bytes({3}) + u64(~uint64_t{0}));
  CHECK(encode(I(0x0102030405060708)) == bytes({3, 8, 7, 6, 5, 4, 3, 2, 1}));
  CHECK(encode(F(1.0)) == bytes({4, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F}));
}

TEST_CASE("encode_canonical: 0.0 and -0.0 differ, every NaN is the one quiet NaN") {
  CHECK(encode(F(0.0)) == bytes({4}) + u64(0));
  CHECK(encode(F(-0.0)) == bytes({4}) + u64(uint64_t{1} << 63));
  std::string canonical_nan = bytes({4}) + u64(0x7FF8000000000000);
  CHECK(encode(F(std::numeric_limits<double>::quiet_NaN())) == canonical_nan);
  CHECK(encode(F(-std::numeric_limits<double>::quiet_NaN())) == canonical_nan);
  CHECK(encode(F(std::nan("123"))) == canonical_nan);
}

TEST_CASE("encode_canonical: strings and lists carry 8-byte lengths") {
  CHECK(encode(S("ab")) == bytes({5}) + u64(2) + "ab");
  CHECK(encode(S("")) == bytes({5}) + u64(0));
  CHECK(encode(S("é")) == bytes({5}) + u64(2) + "é");  // bytes, not code points
  CHECK(encode(L({I(1), B(true)})) == bytes({6}) + u64(2) + bytes({3}) + u64(1) + bytes({2, 1}));
  CHECK(encode(L({})) == bytes({6}) + u64(0));
}

TEST_CASE("encode_canonical: maps as key, value pairs in key order") {
  Value m = M({{S("b"), Value::none()}, {S("a"), I(5)}});
  CHECK(encode(m) == bytes({7}) + u64(2) + bytes({5}) + u64(1) + "a" + bytes({3}) + u64(5) + bytes({5}) + u64(1) +
                         "b" + bytes({1}));
}

TEST_CASE("encode_canonical: records as field count and fields, without the type") {
  CHECK(encode(Value::record(3, {I(-1), S("x")})) ==
        bytes({8}) + u64(2) + bytes({3}) + u64(~uint64_t{0}) + bytes({5}) + u64(1) + "x");
  CHECK(encode(Value::record(0, {})) == bytes({8}) + u64(0));
}

TEST_CASE("encode_canonical: intents as effect index, arguments, then key") {
  CHECK(encode(Value::intent(2, {I(1)}, S("k"))) ==
        bytes({9}) + u64(2) + u64(1) + bytes({3}) + u64(1) + bytes({5}) + u64(1) + "k");
  CHECK(encode(Value::intent(0, {}, Value::none())) == bytes({9}) + u64(0) + u64(0) + bytes({1}));
}

TEST_CASE("encode_canonical: appends to what is already in the buffer") {
  std::string out = "prefix";
  encode_canonical(Value::none(), out);
  CHECK(out == "prefix" + bytes({1}));
}

TEST_CASE("hash_value: XXH64 with seed 0 of the canonical encoding") {
  for (const Value& v : {I(1), S("hello"), L({I(1), S("a")}), M({{I(1), F(2.5)}})}) {
    std::string e = encode(v);
    CHECK(hash_value(v) == static_cast<int64_t>(XXH64(e.data(), e.size(), 0)));
  }
}

// The constants were checked against an independent XXH64 implementation (a short
// Python transcription of the published algorithm) fed the encodings byte by byte.
TEST_CASE("hash_value: pinned values that must never change, as the hash is part of the language") {
  CHECK(hash_value(I(0)) == INT64_C(8246226261626403269));
  CHECK(hash_value(I(1)) == INT64_C(9070148300878247591));
  CHECK(hash_value(S("hello")) == INT64_C(-8194606564235996435));
  CHECK(hash_value(L({I(1), S("a"), B(true)})) == INT64_C(-3654103434762742994));
  CHECK(hash_value(M({{S("k"), F(2.5)}})) == INT64_C(6041124333106263557));
  CHECK(hash_value(Value::none()) == INT64_C(-8484456787529832656));
}

TEST_CASE("hash_value: equal values hash equal") {
  Value a = L({M({{S("x"), L({I(1), F(0.5)})}}), Value::record(1, {S("r")})});
  Value b = L({M({{S("x"), L({I(1), F(0.5)})}}), Value::record(1, {S("r")})});
  CHECK(a.heap() != b.heap());
  CHECK(hash_value(a) == hash_value(b));
  // Maps built in different orders are the same map.
  Value m1 = M({{I(3), I(0)}, {I(1), I(0)}, {I(2), I(0)}});
  Value m2 = M({{I(1), I(0)}, {I(2), I(0)}, {I(3), I(0)}});
  CHECK(hash_value(m1) == hash_value(m2));
}

TEST_CASE("hash_value: different values hash differently") {
  CHECK(hash_value(I(1)) != hash_value(I(2)));
  CHECK(hash_value(I(1)) != hash_value(F(1.0)));
  CHECK(hash_value(I(0)) != hash_value(B(false)));
  CHECK(hash_value(F(0.0)) != hash_value(F(-0.0)));
  CHECK(hash_value(L({I(1), I(2)})) != hash_value(L({I(2), I(1)})));
  CHECK(hash_value(S("ab")) != hash_value(L({S("a"), S("b")})));
  // Lengths make the encoding unambiguous: ["ab", ""] is not ["a", "b"].
  CHECK(hash_value(L({S("ab"), S("")})) != hash_value(L({S("a"), S("b")})));
  CHECK(hash_value(L({L({I(1)}), I(2)})) != hash_value(L({L({I(1), I(2)})})));
  CHECK(hash_value(Value()) != hash_value(Value::none()));
}

TEST_CASE("hash_value: deep nesting is hashed without recursion") {
  CHECK(hash_value(nested_list(200'000)) == hash_value(nested_list(200'000)));
  CHECK(hash_value(nested_list(200'000)) != hash_value(nested_list(200'001)));
}

// ---- string_code_point -------------------------------------------------------------------------

TEST_CASE("string_code_point: returns whole code points") {
  Value out;
  std::string message;
  CHECK(string_code_point("héllo", 0, out, message) == FaultKind::None);
  CHECK(out.as_string() == "h");
  CHECK(string_code_point("héllo", 1, out, message) == FaultKind::None);
  CHECK(out.as_string() == "é");
  CHECK(string_code_point("héllo", 4, out, message) == FaultKind::None);
  CHECK(out.as_string() == "o");
  CHECK(string_code_point("a\xF0\x9F\x98\x80", 1, out, message) == FaultKind::None);
  CHECK(out.as_string() == "\xF0\x9F\x98\x80");
}

TEST_CASE("string_code_point: out of range indices fault Index") {
  Value out;
  std::string message;
  CHECK(string_code_point("héllo", 5, out, message) == FaultKind::Index);
  CHECK(message == "index 5 out of range for a string of length 5");
  CHECK(string_code_point("héllo", -1, out, message) == FaultKind::Index);
  CHECK(message == "index -1 out of range for a string of length 5");
  CHECK(string_code_point("", 0, out, message) == FaultKind::Index);
  CHECK(message == "index 0 out of range for a string of length 0");
  CHECK(string_code_point("ab", kMin, out, message) == FaultKind::Index);
}
