// The built-ins (call_builtin), one group per built-in, with their fault paths.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "tests/vm/vm_test_support.h"

using namespace ved::vm;
using namespace ved::vm::test;
using B_ = ved::bytecode::Builtin;

namespace {
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

double f_of(const Value& v) {
  REQUIRE(v.tag() == Tag::Float);
  return v.as_float();
}
}  // namespace

// ---- min / max -------------------------------------------------------------------------------

TEST_CASE("builtin min/max of two ints") {
  CHECK(ok(B_::MIN_I64, {I(3), I(-4)}).as_int() == -4);
  CHECK(ok(B_::MAX_I64, {I(3), I(-4)}).as_int() == 3);
  CHECK(ok(B_::MIN_I64, {I(kMin), I(kMax)}).as_int() == kMin);
  CHECK(ok(B_::MAX_I64, {I(kMin), I(kMax)}).as_int() == kMax);
  CHECK(ok(B_::MIN_I64, {I(5), I(5)}).as_int() == 5);
}

TEST_CASE("builtin min/max of two floats, NaN wins, -0.0 below 0.0") {
  CHECK(f_of(ok(B_::MIN_F64, {F(1.5), F(-2.0)})) == -2.0);
  CHECK(f_of(ok(B_::MAX_F64, {F(1.5), F(-2.0)})) == 1.5);
  CHECK(std::isnan(f_of(ok(B_::MIN_F64, {F(kNaN), F(1.0)}))));
  CHECK(std::isnan(f_of(ok(B_::MIN_F64, {F(1.0), F(kNaN)}))));
  CHECK(std::isnan(f_of(ok(B_::MAX_F64, {F(kNaN), F(1.0)}))));
  CHECK(std::isnan(f_of(ok(B_::MAX_F64, {F(1.0), F(kNaN)}))));
  CHECK(std::signbit(f_of(ok(B_::MIN_F64, {F(0.0), F(-0.0)}))));
  CHECK(std::signbit(f_of(ok(B_::MIN_F64, {F(-0.0), F(0.0)}))));
  CHECK_FALSE(std::signbit(f_of(ok(B_::MAX_F64, {F(0.0), F(-0.0)}))));
  CHECK_FALSE(std::signbit(f_of(ok(B_::MAX_F64, {F(-0.0), F(0.0)}))));
  CHECK(f_of(ok(B_::MAX_F64, {F(-INFINITY), F(INFINITY)})) == INFINITY);
}

TEST_CASE("builtin min/max of an int list") {
  CHECK(ok(B_::MIN_LIST_I64, {L({I(3), I(-7), I(5)})}).as_int() == -7);
  CHECK(ok(B_::MAX_LIST_I64, {L({I(3), I(-7), I(5)})}).as_int() == 5);
  CHECK(ok(B_::MIN_LIST_I64, {L({I(42)})}).as_int() == 42);
}

TEST_CASE("builtin min/max of a float list") {
  CHECK(f_of(ok(B_::MIN_LIST_F64, {L({F(0.5), F(-1.5), F(2.0)})})) == -1.5);
  CHECK(f_of(ok(B_::MAX_LIST_F64, {L({F(0.5), F(-1.5), F(2.0)})})) == 2.0);
  CHECK(std::isnan(f_of(ok(B_::MAX_LIST_F64, {L({F(1.0), F(kNaN), F(2.0)})}))));
  CHECK(std::isnan(f_of(ok(B_::MIN_LIST_F64, {L({F(1.0), F(2.0), F(kNaN)})}))));
  CHECK(std::signbit(f_of(ok(B_::MIN_LIST_F64, {L({F(0.0), F(-0.0)})}))));
}

TEST_CASE("builtin min/max of an empty list fault Index") {
  struct Case {
    B_ id;
    const char* message;
  };
  for (Case c : {Case{B_::MIN_LIST_I64, "min of an empty list"}, Case{B_::MAX_LIST_I64, "max of an empty list"},
                 Case{B_::MIN_LIST_F64, "min of an empty list"}, Case{B_::MAX_LIST_F64, "max of an empty list"}}) {
    Call r = call(c.id, {L({})});
    CHECK(r.fault == FaultKind::Index);
    CHECK(r.message == c.message);
  }
}

// ---- abs -------------------------------------------------------------------------------------

TEST_CASE("builtin abs of ints, INT64_MIN overflows") {
  CHECK(ok(B_::ABS_I64, {I(-5)}).as_int() == 5);
  CHECK(ok(B_::ABS_I64, {I(5)}).as_int() == 5);
  CHECK(ok(B_::ABS_I64, {I(0)}).as_int() == 0);
  CHECK(ok(B_::ABS_I64, {I(kMin + 1)}).as_int() == kMax);
  Call r = call(B_::ABS_I64, {I(kMin)});
  CHECK(r.fault == FaultKind::Overflow);
  CHECK(r.message.find("-9223372036854775808") != std::string::npos);
}

TEST_CASE("builtin abs of floats") {
  CHECK(f_of(ok(B_::ABS_F64, {F(-2.5)})) == 2.5);
  CHECK(f_of(ok(B_::ABS_F64, {F(-INFINITY)})) == INFINITY);
  double z = f_of(ok(B_::ABS_F64, {F(-0.0)}));
  CHECK(z == 0.0);
  CHECK_FALSE(std::signbit(z));
  CHECK(std::isnan(f_of(ok(B_::ABS_F64, {F(kNaN)}))));
}

// ---- contains --------------------------------------------------------------------------------

TEST_CASE("builtin contains on strings: substrings, empty needle") {
  CHECK(ok(B_::CONTAINS_STR, {S("hello world"), S("o w")}).as_bool());
  CHECK_FALSE(ok(B_::CONTAINS_STR, {S("hello"), S("Hello")}).as_bool());
  CHECK(ok(B_::CONTAINS_STR, {S("hello"), S("")}).as_bool());
  CHECK(ok(B_::CONTAINS_STR, {S(""), S("")}).as_bool());
  CHECK_FALSE(ok(B_::CONTAINS_STR, {S(""), S("a")}).as_bool());
  CHECK(ok(B_::CONTAINS_STR, {S("héllo"), S("él")}).as_bool());
  CHECK_FALSE(ok(B_::CONTAINS_STR, {S("ab"), S("abc")}).as_bool());
}

TEST_CASE("builtin contains on lists compares structurally") {
  CHECK(ok(B_::CONTAINS_LIST, {L({I(1), I(2)}), I(2)}).as_bool());
  CHECK_FALSE(ok(B_::CONTAINS_LIST, {L({I(1), I(2)}), I(3)}).as_bool());
  CHECK_FALSE(ok(B_::CONTAINS_LIST, {L({}), I(3)}).as_bool());
  CHECK(ok(B_::CONTAINS_LIST, {L({L({S("a")}), L({S("b")})}), L({S("b")})}).as_bool());
  CHECK(ok(B_::CONTAINS_LIST, {L({F(-0.0)}), F(0.0)}).as_bool());
  CHECK_FALSE(ok(B_::CONTAINS_LIST, {L({F(kNaN)}), F(kNaN)}).as_bool());
}

TEST_CASE("builtin contains on maps tests keys, not values") {
  Value m = M({{S("a"), I(1)}, {S("b"), I(2)}});
  CHECK(ok(B_::CONTAINS_MAP, {m, S("a")}).as_bool());
  CHECK_FALSE(ok(B_::CONTAINS_MAP, {m, S("c")}).as_bool());
  CHECK_FALSE(ok(B_::CONTAINS_MAP, {M({{I(1), I(2)}}), I(2)}).as_bool());
  CHECK(ok(B_::CONTAINS_MAP, {M({{I(-1), I(2)}}), I(-1)}).as_bool());
}

// ---- keys / values ----------------------------------------------------------------------------

TEST_CASE("builtin keys and values in key order") {
  Value m = M({{I(10), S("ten")}, {I(-3), S("minus three")}, {I(0), S("zero")}});
  CHECK(ints_of(ok(B_::KEYS, {m})) == std::vector<int64_t>{-3, 0, 10});
  CHECK(strings_of(ok(B_::VALUES, {m})) == std::vector<std::string>{"minus three", "zero", "ten"});
  CHECK(ok(B_::KEYS, {M({})}).tag() == Tag::List);
  CHECK(ok(B_::KEYS, {M({})}).as_list().empty());
  CHECK(ok(B_::VALUES, {M({})}).as_list().empty());
}

TEST_CASE("builtin keys shares the key objects with the map") {
  Value m = M({{S("k"), L({I(1)})}});
  Value ks = ok(B_::KEYS, {m});
  Value vs = ok(B_::VALUES, {m});
  CHECK(ks.as_list()[0].heap() == m.as_map().begin()->first.heap());
  CHECK(vs.as_list()[0].heap() == m.as_map().begin()->second.heap());
}

// ---- remove -----------------------------------------------------------------------------------

TEST_CASE("builtin remove from a list") {
  Value l = L({I(1), I(2), I(3)});
  CHECK(ints_of(ok(B_::REMOVE_LIST, {l, I(0)})) == std::vector<int64_t>{2, 3});
  CHECK(ints_of(ok(B_::REMOVE_LIST, {l, I(1)})) == std::vector<int64_t>{1, 3});
  CHECK(ints_of(ok(B_::REMOVE_LIST, {l, I(2)})) == std::vector<int64_t>{1, 2});
  CHECK(ok(B_::REMOVE_LIST, {L({S("x")}), I(0)}).as_list().empty());
  CHECK(ints_of(l) == std::vector<int64_t>{1, 2, 3});  // the argument is unchanged
}

TEST_CASE("builtin remove from a list out of range faults Index") {
  Call r = call(B_::REMOVE_LIST, {L({I(1), I(2), I(3)}), I(5)});
  CHECK(r.fault == FaultKind::Index);
  CHECK(r.message == "index 5 out of range for a list of length 3");
  r = call(B_::REMOVE_LIST, {L({I(1), I(2), I(3)}), I(3)});
  CHECK(r.fault == FaultKind::Index);
  CHECK(r.message == "index 3 out of range for a list of length 3");
  r = call(B_::REMOVE_LIST, {L({I(1)}), I(-1)});
  CHECK(r.fault == FaultKind::Index);
  CHECK(r.message == "index -1 out of range for a list of length 1");
  r = call(B_::REMOVE_LIST, {L({}), I(0)});
  CHECK(r.fault == FaultKind::Index);
  CHECK(r.message == "index 0 out of range for a list of length 0");
}

TEST_CASE("builtin remove from a map, an absent key is not a fault") {
  Value m = M({{S("a"), I(1)}, {S("b"), I(2)}});
  Value without_a = ok(B_::REMOVE_MAP, {m, S("a")});
  CHECK(without_a.as_map().size() == 1);
  CHECK(without_a.as_map().count(S("b")) == 1);
  CHECK(m.as_map().size() == 2);  // the argument is unchanged
  Value same = ok(B_::REMOVE_MAP, {m, S("zzz")});
  CHECK(values_equal(same, m));
  CHECK(ok(B_::REMOVE_MAP, {M({}), I(1)}).as_map().empty());
}

// ---- slice ------------------------------------------------------------------------------------

TEST_CASE("builtin slice of a string counts code points") {
  CHECK(ok(B_::SLICE_STR, {S("héllo"), I(1), I(3)}).as_string() == "él");
  CHECK(ok(B_::SLICE_STR, {S("héllo"), I(0), I(5)}).as_string() == "héllo");
  CHECK(ok(B_::SLICE_STR, {S("héllo"), I(4), I(5)}).as_string() == "o");
  CHECK(ok(B_::SLICE_STR, {S("日本語"), I(1), I(2)}).as_string() == "本");
  CHECK(ok(B_::SLICE_STR, {S("a\xF0\x9F\x98\x80" "b"), I(1), I(2)}).as_string() == "\xF0\x9F\x98\x80");
}

TEST_CASE("builtin slice of a string clamps and never faults") {
  CHECK(ok(B_::SLICE_STR, {S("héllo"), I(-10), I(2)}).as_string() == "hé");
  CHECK(ok(B_::SLICE_STR, {S("héllo"), I(3), I(100)}).as_string() == "lo");
  CHECK(ok(B_::SLICE_STR, {S("héllo"), I(3), I(1)}).as_string() == "");
  CHECK(ok(B_::SLICE_STR, {S("héllo"), I(2), I(2)}).as_string() == "");
  CHECK(ok(B_::SLICE_STR, {S("héllo"), I(10), I(20)}).as_string() == "");
  CHECK(ok(B_::SLICE_STR, {S("héllo"), I(kMin), I(kMax)}).as_string() == "héllo");
  CHECK(ok(B_::SLICE_STR, {S(""), I(0), I(1)}).as_string() == "");
}

TEST_CASE("builtin slice of a list") {
  Value l = L({I(0), I(1), I(2), I(3)});
  CHECK(ints_of(ok(B_::SLICE_LIST, {l, I(1), I(3)})) == std::vector<int64_t>{1, 2});
  CHECK(ints_of(ok(B_::SLICE_LIST, {l, I(-5), I(2)})) == std::vector<int64_t>{0, 1});
  CHECK(ints_of(ok(B_::SLICE_LIST, {l, I(2), I(99)})) == std::vector<int64_t>{2, 3});
  CHECK(ok(B_::SLICE_LIST, {l, I(3), I(1)}).as_list().empty());
  CHECK(ok(B_::SLICE_LIST, {l, I(kMax), I(kMin)}).as_list().empty());
  CHECK(ok(B_::SLICE_LIST, {L({}), I(0), I(0)}).as_list().empty());
  CHECK(ints_of(ok(B_::SLICE_LIST, {l, I(0), I(4)})) == std::vector<int64_t>{0, 1, 2, 3});
}

// ---- split / join -------------------------------------------------------------------------------

TEST_CASE("builtin split keeps empty pieces") {
  using V = std::vector<std::string>;
  CHECK(strings_of(ok(B_::SPLIT, {S("a,b,c"), S(",")})) == V{"a", "b", "c"});
  CHECK(strings_of(ok(B_::SPLIT, {S("a,,b"), S(",")})) == V{"a", "", "b"});
  CHECK(strings_of(ok(B_::SPLIT, {S(""), S(",")})) == V{""});
  CHECK(strings_of(ok(B_::SPLIT, {S(","), S(",")})) == V{"", ""});
  CHECK(strings_of(ok(B_::SPLIT, {S("abc"), S(",")})) == V{"abc"});
  CHECK(strings_of(ok(B_::SPLIT, {S(",a,"), S(",")})) == V{"", "a", ""});
}

TEST_CASE("builtin split on a multi-character and multi-byte separator") {
  using V = std::vector<std::string>;
  CHECK(strings_of(ok(B_::SPLIT, {S("a::b::c"), S("::")})) == V{"a", "b", "c"});
  CHECK(strings_of(ok(B_::SPLIT, {S("aaa"), S("aa")})) == V{"", "a"});  // non-overlapping, left to right
  CHECK(strings_of(ok(B_::SPLIT, {S("xéyéz"), S("é")})) == V{"x", "y", "z"});
  CHECK(strings_of(ok(B_::SPLIT, {S("日→本→語"), S("→")})) == V{"日", "本", "語"});
}

TEST_CASE("builtin split on the empty separator gives code points") {
  using V = std::vector<std::string>;
  CHECK(strings_of(ok(B_::SPLIT, {S("héllo"), S("")})) == V{"h", "é", "l", "l", "o"});
  CHECK(strings_of(ok(B_::SPLIT, {S("a\xF0\x9F\x98\x80"), S("")})) == V{"a", "\xF0\x9F\x98\x80"});
  CHECK(ok(B_::SPLIT, {S(""), S("")}).as_list().empty());
}

TEST_CASE("builtin join") {
  CHECK(ok(B_::JOIN, {L({S("a"), S("b"), S("c")}), S(", ")}).as_string() == "a, b, c");
  CHECK(ok(B_::JOIN, {L({S("a")}), S("-")}).as_string() == "a");
  CHECK(ok(B_::JOIN, {L({}), S("-")}).as_string() == "");
  CHECK(ok(B_::JOIN, {L({S(""), S("")}), S("é")}).as_string() == "é");
  CHECK(ok(B_::JOIN, {L({S("x"), S("y")}), S("")}).as_string() == "xy");
}

TEST_CASE("builtin join inverts split") {
  for (const char* text : {"a,,b", "", ",", "héllo,wörld", "no separator"}) {
    Value parts = ok(B_::SPLIT, {S(text), S(",")});
    CHECK(ok(B_::JOIN, {parts, S(",")}).as_string() == text);
  }
}

// ---- upper / lower / starts_with / ends_with ---------------------------------------------------

TEST_CASE("builtin upper and lower change ASCII letters only") {
  CHECK(ok(B_::UPPER, {S("Hello, World 42!")}).as_string() == "HELLO, WORLD 42!");
  CHECK(ok(B_::LOWER, {S("Hello, World 42!")}).as_string() == "hello, world 42!");
  CHECK(ok(B_::UPPER, {S("héllo")}).as_string() == "HéLLO");
  CHECK(ok(B_::LOWER, {S("ÉCOLE")}).as_string() == "École");
  CHECK(ok(B_::UPPER, {S("")}).as_string() == "");
  CHECK(ok(B_::UPPER, {S("@[`{")}).as_string() == "@[`{");  // neighbours of the letter ranges
  CHECK(ok(B_::LOWER, {S("@[`{")}).as_string() == "@[`{");
}

TEST_CASE("builtin starts_with and ends_with are bytewise") {
  CHECK(ok(B_::STARTS_WITH, {S("héllo"), S("hé")}).as_bool());
  CHECK_FALSE(ok(B_::STARTS_WITH, {S("héllo"), S("he")}).as_bool());
  CHECK(ok(B_::STARTS_WITH, {S("abc"), S("")}).as_bool());
  CHECK_FALSE(ok(B_::STARTS_WITH, {S("ab"), S("abc")}).as_bool());
  CHECK(ok(B_::ENDS_WITH, {S("héllo"), S("llo")}).as_bool());
  CHECK_FALSE(ok(B_::ENDS_WITH, {S("héllo"), S("LLO")}).as_bool());
  CHECK(ok(B_::ENDS_WITH, {S(""), S("")}).as_bool());
  CHECK_FALSE(ok(B_::ENDS_WITH, {S("c"), S("bc")}).as_bool());
}

// ---- format -----------------------------------------------------------------------------------

TEST_CASE("builtin format replaces each {} with str of the next argument") {
  CHECK(ok(B_::FORMAT, {S("{} + {} = {}"), I(1), F(2.0), S("three")}).as_string() == "1 + 2.0 = three");
  CHECK(ok(B_::FORMAT, {S("no placeholders")}).as_string() == "no placeholders");
  CHECK(ok(B_::FORMAT, {S("{}"), L({S("q"), Value::none()})}).as_string() == R"(["q", none])");
  CHECK(ok(B_::FORMAT, {S("{}{}"), S("a"), S("b")}).as_string() == "ab");
  CHECK(ok(B_::FORMAT, {S("p={}"), Value::record(0, {I(1), I(2)})}).as_string() == "p=Point(x: 1, y: 2)");
  CHECK(ok(B_::FORMAT, {S("")}).as_string() == "");
}

TEST_CASE("builtin format has no escapes and does not rescan substituted text") {
  CHECK(ok(B_::FORMAT, {S("{{}}"), I(7)}).as_string() == "{7}");
  CHECK(ok(B_::FORMAT, {S("{ } {x}"), }).as_string() == "{ } {x}");
  CHECK(ok(B_::FORMAT, {S("{}!"), S("{}")}).as_string() == "{}!");
  CHECK(ok(B_::FORMAT, {S("{}}"), I(1)}).as_string() == "1}");
}

TEST_CASE("builtin format with the wrong number of arguments faults Conversion") {
  Call r = call(B_::FORMAT, {S("{} and {}"), I(1)});
  CHECK(r.fault == FaultKind::Conversion);
  CHECK(r.message == "format string has 2 `{}` but 1 arguments");
  r = call(B_::FORMAT, {S("none here"), I(1), I(2)});
  CHECK(r.fault == FaultKind::Conversion);
  CHECK(r.message == "format string has 0 `{}` but 2 arguments");
  r = call(B_::FORMAT, {S("{}")});
  CHECK(r.fault == FaultKind::Conversion);
  CHECK(r.message == "format string has 1 `{}` but 0 arguments");
}

// ---- hash / str ---------------------------------------------------------------------------------

TEST_CASE("builtin hash is hash_value") {
  Value v = L({S("a"), M({{I(1), F(0.5)}})});
  CHECK(ok(B_::HASH, {v}).as_int() == hash_value(v));
  CHECK(ok(B_::HASH, {I(1)}).as_int() == hash_value(I(1)));
}

TEST_CASE("builtin str is format_value") {
  CHECK(ok(B_::STR, {F(2.0)}).as_string() == "2.0");
  CHECK(ok(B_::STR, {S("as is")}).as_string() == "as is");
  CHECK(ok(B_::STR, {M({{S("k"), L({I(1)})}})}).as_string() == R"({"k": [1]})");
  CHECK(ok(B_::STR, {Value::intent(1, {}, Value::none())}).as_string() == "<intent email.send>");
  CHECK(ok(B_::STR, {Value()}).as_string() == "()");
}

// ---- int() ---------------------------------------------------------------------------------------

TEST_CASE("builtin int of a float truncates toward zero") {
  CHECK(ok(B_::INT_F64, {F(2.9)}).as_int() == 2);
  CHECK(ok(B_::INT_F64, {F(-2.9)}).as_int() == -2);
  CHECK(ok(B_::INT_F64, {F(-0.0)}).as_int() == 0);
  CHECK(ok(B_::INT_F64, {F(-9223372036854775808.0)}).as_int() == kMin);
  CHECK(ok(B_::INT_F64, {F(9223372036854774784.0)}).as_int() == 9223372036854774784);  // largest below 2^63
}

TEST_CASE("builtin int of a float outside the int range faults Overflow") {
  for (double f : {9223372036854775808.0, -9223372036854777856.0, 1e300, kInf, -kInf, kNaN}) {
    Call r = call(B_::INT_F64, {F(f)});
    CHECK(r.fault == FaultKind::Overflow);
    CHECK(r.message.starts_with("int("));
  }
  CHECK(call(B_::INT_F64, {F(1e300)}).message == "int(1e+300): out of range for an int");
  CHECK(call(B_::INT_F64, {F(kNaN)}).message == "int(nan): not a number");
}

TEST_CASE("builtin int of a string: signs and digits") {
  CHECK(ok(B_::INT_STR, {S("42")}).as_int() == 42);
  CHECK(ok(B_::INT_STR, {S("+42")}).as_int() == 42);
  CHECK(ok(B_::INT_STR, {S("-42")}).as_int() == -42);
  CHECK(ok(B_::INT_STR, {S("007")}).as_int() == 7);
  CHECK(ok(B_::INT_STR, {S("-0")}).as_int() == 0);
  CHECK(ok(B_::INT_STR, {S("9223372036854775807")}).as_int() == kMax);
  CHECK(ok(B_::INT_STR, {S("-9223372036854775808")}).as_int() == kMin);
  CHECK(ok(B_::INT_STR, {S("-00009223372036854775808")}).as_int() == kMin);
}

TEST_CASE("builtin int of a malformed string faults Conversion, quoting the text") {
  for (const char* text : {"12a", "", "+", "-", " 1", "1 ", "1_000", "1.0", "0x10", "--1", "+-1", "١"}) {
    Call r = call(B_::INT_STR, {S(text)});
    CHECK_MESSAGE(r.fault == FaultKind::Conversion, text);
  }
  CHECK(call(B_::INT_STR, {S("12a")}).message == R"(int("12a"): not a whole number)");
  CHECK(call(B_::INT_STR, {S("say \"hi\"")}).message == R"(int("say \"hi\""): not a whole number)");
  CHECK(call(B_::INT_STR, {S("99999999999999999999x")}).fault == FaultKind::Conversion);
}

TEST_CASE("builtin int of a huge text quotes only its beginning") {
  std::string text(1000, 'x');
  Call r = call(B_::INT_STR, {S(text)});
  CHECK(r.fault == FaultKind::Conversion);
  CHECK(r.message == "int(\"" + std::string(64, 'x') + "\"...): not a whole number");
  // The cut never splits a code point.
  std::string accents = "x";
  for (int i = 0; i < 100; ++i) accents += "é";
  r = call(B_::INT_STR, {S(accents)});
  CHECK(r.message == "int(\"x" + [] {
          std::string s;
          for (int i = 0; i < 31; ++i) s += "é";
          return s;
        }() + "\"...): not a whole number");
}

TEST_CASE("builtin int of an out-of-range string faults Overflow") {
  for (const char* text : {"9223372036854775808", "-9223372036854775809", "99999999999999999999"}) {
    Call r = call(B_::INT_STR, {S(text)});
    CHECK_MESSAGE(r.fault == FaultKind::Overflow, text);
    CHECK(r.message == std::string("int(\"") + text + "\"): out of range for an int");
  }
}

TEST_CASE("builtin int of a bool") {
  CHECK(ok(B_::INT_BOOL, {B(true)}).as_int() == 1);
  CHECK(ok(B_::INT_BOOL, {B(false)}).as_int() == 0);
}

// ---- float() -------------------------------------------------------------------------------------

TEST_CASE("builtin float of a string accepts what from_chars reads whole") {
  CHECK(f_of(ok(B_::FLOAT_STR, {S("1.5")})) == 1.5);
  CHECK(f_of(ok(B_::FLOAT_STR, {S("-2")})) == -2.0);
  CHECK(f_of(ok(B_::FLOAT_STR, {S("1e3")})) == 1000.0);
  CHECK(f_of(ok(B_::FLOAT_STR, {S(".5")})) == 0.5);
  CHECK(f_of(ok(B_::FLOAT_STR, {S("1.")})) == 1.0);
  CHECK(f_of(ok(B_::FLOAT_STR, {S("0.1")})) == 0.1);
  CHECK(f_of(ok(B_::FLOAT_STR, {S("inf")})) == INFINITY);
  CHECK(f_of(ok(B_::FLOAT_STR, {S("-inf")})) == -INFINITY);
  CHECK(std::isnan(f_of(ok(B_::FLOAT_STR, {S("nan")}))));
  CHECK(std::signbit(f_of(ok(B_::FLOAT_STR, {S("-0")}))));
}

TEST_CASE("builtin float reads back what str prints") {
  for (double d : {0.1, 2.0, 1e300, -0.0, 5e-324, 123456.789, -kInf}) {
    Value text = ok(B_::STR, {F(d)});
    double back = f_of(ok(B_::FLOAT_STR, {text}));
    CHECK(back == d);
    CHECK(std::signbit(back) == std::signbit(d));
  }
}

TEST_CASE("builtin float of a malformed or out-of-range string faults Conversion") {
  for (const char* text : {"", "abc", "+1", " 1", "1 ", "1e", "0x10", "1_0", "1,5", "1.5.2"}) {
    Call r = call(B_::FLOAT_STR, {S(text)});
    CHECK_MESSAGE(r.fault == FaultKind::Conversion, text);
    CHECK(r.message.starts_with("float(\""));
  }
  CHECK(call(B_::FLOAT_STR, {S("abc")}).message == R"(float("abc"): not a number)");
  CHECK(call(B_::FLOAT_STR, {S("1e400")}).fault == FaultKind::Conversion);
  CHECK(call(B_::FLOAT_STR, {S("1e400")}).message == R"(float("1e400"): out of range for a float)");
  CHECK(call(B_::FLOAT_STR, {S("1e-400")}).fault == FaultKind::Conversion);
}

TEST_CASE("builtin float of a bool") {
  CHECK(f_of(ok(B_::FLOAT_BOOL, {B(true)})) == 1.0);
  CHECK(f_of(ok(B_::FLOAT_BOOL, {B(false)})) == 0.0);
}

// ---- whole table -------------------------------------------------------------------------------

TEST_CASE("builtin results have the type their signature promises") {
  CHECK(ok(B_::SPLIT, {S("a"), S(",")}).tag() == Tag::List);
  CHECK(ok(B_::SLICE_LIST, {L({}), I(0), I(0)}).tag() == Tag::List);
  CHECK(ok(B_::SLICE_STR, {S(""), I(0), I(0)}).tag() == Tag::String);
  CHECK(ok(B_::REMOVE_MAP, {M({}), S("k")}).tag() == Tag::Map);
  CHECK(ok(B_::CONTAINS_STR, {S(""), S("")}).tag() == Tag::Bool);
  CHECK(ok(B_::HASH, {Value()}).tag() == Tag::Int);
  CHECK(ok(B_::FLOAT_BOOL, {B(true)}).tag() == Tag::Float);
}
