// Values: reference counts, copy-on-write, map key order, structural equality.
#include <doctest/doctest.h>

#include <map>
#include <random>

#include <cmath>
#include <limits>

#include "tests/vm/vm_test_support.h"

using namespace ved::vm;
using namespace ved::vm::test;

namespace {
uint32_t refs(const Value& v) { return v.heap()->refs; }
}  // namespace

TEST_CASE("value: scalars carry their payload and are always unique") {
  CHECK(sizeof(Value) == 16);
  CHECK(Value().tag() == Tag::Unit);
  CHECK(Value::none().is_none());
  CHECK(Value::boolean(true).as_bool());
  CHECK(Value::integer(-7).as_int() == -7);
  CHECK(Value::floating(2.5).as_float() == 2.5);
  CHECK_FALSE(Value::integer(1).is_heap());
  CHECK(Value::integer(1).unique());
}

TEST_CASE("value: set_int and friends overwrite a scalar register") {
  Value v = Value::boolean(false);
  v.set_int(42);
  CHECK(v.tag() == Tag::Int);
  CHECK(v.as_int() == 42);
  v.set_float(-1.5);
  CHECK(v.tag() == Tag::Float);
  CHECK(v.as_float() == -1.5);
  v.set_bool(true);
  CHECK(v.tag() == Tag::Bool);
  CHECK(v.as_bool());
}

TEST_CASE("value: every heap factory makes an object with one reference and its tag") {
  CHECK(refs(S("x")) == 1);
  CHECK(S("x").tag() == Tag::String);
  CHECK(L({}).tag() == Tag::List);
  CHECK(M({}).tag() == Tag::Map);
  Value r = Value::record(2, {I(1)});
  CHECK(r.tag() == Tag::Record);
  CHECK(r.heap()->tag == Tag::Record);
  CHECK(r.as_record().type == 2);
  Value in = Value::intent(1, {S("a")}, Value::none());
  CHECK(in.tag() == Tag::Intent);
  CHECK(in.as_intent().effect == 1);
  CHECK(in.as_intent().args.size() == 1);
  CHECK(in.as_intent().idempotency_key.is_none());
}

TEST_CASE("value: copies share the object and count references") {
  Value a = S("shared");
  {
    Value b = a;
    CHECK(b.heap() == a.heap());
    CHECK(refs(a) == 2);
    CHECK_FALSE(a.unique());
    Value c;
    c = b;
    CHECK(refs(a) == 3);
  }
  CHECK(refs(a) == 1);
  CHECK(a.unique());
}

TEST_CASE("value: moves transfer the reference and leave unit behind") {
  Value a = S("moved");
  HeapObject* h = a.heap();
  Value b = std::move(a);
  CHECK(b.heap() == h);
  CHECK(refs(b) == 1);
  CHECK(a.tag() == Tag::Unit);  // NOLINT(bugprone-use-after-move): documented state
  Value c = S("other");
  c = std::move(b);
  CHECK(c.heap() == h);
  CHECK(refs(c) == 1);
}

TEST_CASE("value: self-assignment keeps the object alive") {
  Value a = L({S("x")});
  Value& alias = a;
  a = alias;
  CHECK(refs(a) == 1);
  CHECK(a.as_list()[0].as_string() == "x");
  a = std::move(alias);
  CHECK(a.tag() == Tag::List);
  CHECK(refs(a) == 1);
}

TEST_CASE("value: assigning over the last reference releases the old object's children") {
  Value child = S("child");
  Value holder = L({child, child});
  CHECK(refs(child) == 3);
  holder = I(0);
  CHECK(refs(child) == 1);
  holder = Value::record(0, {child});
  CHECK(refs(child) == 2);
  holder = Value::intent(0, {child}, child);
  CHECK(refs(child) == 3);
  holder = Value::none();
  CHECK(refs(child) == 1);
}

TEST_CASE("value: a map holds references to its keys and values") {
  Value k = S("key");
  Value v = L({I(1)});
  {
    Value m = M({{k, v}});
    CHECK(refs(k) == 3);  // ours, the ordered tree's, and the lookup index's (ordered_map.h)
    CHECK(refs(v) == 2);
  }
  CHECK(refs(k) == 1);
  CHECK(refs(v) == 1);
}

TEST_CASE("value: mutable_string on a unique string updates in place") {
  Value s = S("abc");
  HeapObject* h = s.heap();
  s.mutable_string() += "d";
  CHECK(s.heap() == h);
  CHECK(s.as_string() == "abcd");
}

TEST_CASE("value: mutable_string on a shared string copies first") {
  Value a = S("abc");
  Value b = a;
  HeapObject* h = a.heap();
  b.mutable_string() += "d";
  CHECK(b.heap() != h);
  CHECK(a.heap() == h);
  CHECK(a.as_string() == "abc");
  CHECK(b.as_string() == "abcd");
  CHECK(refs(a) == 1);
  CHECK(refs(b) == 1);
}

TEST_CASE("value: mutable_list copies a shared list and shares its elements") {
  Value elem = S("e");
  Value a = L({elem, I(2)});
  HeapObject* h = a.heap();
  SUBCASE("unique: in place") {
    a.mutable_list().push_back(I(3));
    CHECK(a.heap() == h);
    CHECK(a.as_list().size() == 3);
  }
  SUBCASE("shared: copy") {
    Value b = a;
    b.mutable_list()[1] = I(20);
    CHECK(b.heap() != h);
    CHECK(a.heap() == h);
    CHECK(a.as_list()[1].as_int() == 2);
    CHECK(b.as_list()[1].as_int() == 20);
    // The element object itself is shared by both lists, not copied.
    CHECK(a.as_list()[0].heap() == b.as_list()[0].heap());
    CHECK(refs(elem) == 3);
  }
}

TEST_CASE("value: mutable_map copies a shared map") {
  Value a = M({{I(1), S("one")}});
  HeapObject* h = a.heap();
  a.mutable_map()[I(2)] = S("two");
  CHECK(a.heap() == h);
  Value b = a;
  b.mutable_map().erase(I(1));
  CHECK(b.heap() != h);
  CHECK(a.heap() == h);
  CHECK(a.as_map().size() == 2);
  CHECK(b.as_map().size() == 1);
  CHECK(b.as_map().begin()->first.as_int() == 2);
}

TEST_CASE("value: mutable_record_fields copies a shared record and keeps its type") {
  Value a = Value::record(7, {I(1), I(2)});
  HeapObject* h = a.heap();
  a.mutable_record_fields()[0] = I(10);
  CHECK(a.heap() == h);
  Value b = a;
  b.mutable_record_fields()[1] = I(20);
  CHECK(b.heap() != h);
  CHECK(b.as_record().type == 7);
  CHECK(a.as_record().fields[1].as_int() == 2);
  CHECK(b.as_record().fields[0].as_int() == 10);
  CHECK(b.as_record().fields[1].as_int() == 20);
}

TEST_CASE("value: updating a nested list through a copy leaves the original untouched") {
  Value inner = L({I(1)});
  Value outer = L({inner});
  inner = Value();  // only `outer` holds the inner list now
  Value copy = outer;
  Value& copied_inner = copy.mutable_list()[0];  // copies outer: inner now shared by two
  CHECK_FALSE(copied_inner.unique());
  copied_inner.mutable_list()[0] = I(99);
  CHECK(outer.as_list()[0].as_list()[0].as_int() == 1);
  CHECK(copy.as_list()[0].as_list()[0].as_int() == 99);
  CHECK(outer.as_list()[0].unique());
}

TEST_CASE("value: freeing a very deeply nested list does not overflow the stack") {
  Value v = L({});
  for (int i = 0; i < 1'000'000; ++i) v = Value::list({std::move(v)});
  Value copy = v;
  v = Value();
  CHECK(copy.unique());
  copy = Value();  // frees a million objects without recursion
  CHECK(copy.tag() == Tag::Unit);
}

TEST_CASE("value: freeing deeply nested maps, records and intents does not overflow the stack") {
  Value v = Value::none();
  for (int i = 0; i < 300'000; ++i) {
    switch (i % 3) {
      case 0: v = M({{I(i), std::move(v)}}); break;
      case 1: v = Value::record(0, {std::move(v)}); break;
      default: v = Value::intent(0, {std::move(v)}, Value::none()); break;
    }
  }
  v = Value();
  CHECK(v.tag() == Tag::Unit);
}

TEST_CASE("value: freeing a container leaves the containers it shares alive") {
  Value shared = L({S("kept")});
  Value shared_map = M({{I(1), L({I(2)})}});
  {
    Value outer = L({L({shared, L({})}), shared, Value::record(0, {shared_map}), Value::intent(0, {shared}, shared)});
    CHECK(refs(shared) == 5);
    CHECK(refs(shared_map) == 2);
  }
  CHECK(refs(shared) == 1);
  CHECK(refs(shared_map) == 1);
  CHECK(shared.as_list()[0].as_string() == "kept");
  CHECK(shared_map.as_map().begin()->second.as_list()[0].as_int() == 2);
}

TEST_CASE("value: KeyLess orders ints numerically, negatives first") {
  Value m = M({{I(3), I(0)},
               {I(-1), I(0)},
               {I(std::numeric_limits<int64_t>::max()), I(0)},
               {I(0), I(0)},
               {I(-5), I(0)},
               {I(std::numeric_limits<int64_t>::min()), I(0)}});
  std::vector<int64_t> keys;
  for (const auto& [k, v] : m.as_map()) keys.push_back(k.as_int());
  CHECK(keys == std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -5, -1, 0, 3,
                                     std::numeric_limits<int64_t>::max()});
}

TEST_CASE("value: KeyLess orders strings bytewise: prefixes first, uppercase before lowercase, UTF-8 last") {
  Value m = M({{S("b"), I(0)},
               {S("é"), I(0)},
               {S("abc"), I(0)},
               {S(""), I(0)},
               {S("ab"), I(0)},
               {S("B"), I(0)},
               {S("z"), I(0)},
               {S("\xF0\x9F\x98\x80"), I(0)},  // U+1F600, 4 bytes
               {S("a"), I(0)}});
  std::vector<std::string> keys;
  for (const auto& [k, v] : m.as_map()) keys.push_back(k.as_string());
  CHECK(keys == std::vector<std::string>{"", "B", "a", "ab", "abc", "b", "z", "é", "\xF0\x9F\x98\x80"});
}

TEST_CASE("value: KeyLess compares strings with embedded NUL bytes by all their bytes") {
  KeyLess less;
  Value a = S(std::string("a\0b", 3));
  Value b = S("a");
  Value c = S(std::string("a\0c", 3));
  CHECK(less(b, a));
  CHECK_FALSE(less(a, b));
  CHECK(less(a, c));
  CHECK_FALSE(less(a, a));
}

TEST_CASE("value: a map finds string keys by content, not by object") {
  Value m = M({{S("k"), I(1)}});
  CHECK(m.as_map().count(S("k")) == 1);
  CHECK(m.as_map().count(S("K")) == 0);
  Value dup = M({{S("k"), I(1)}, {S("k"), I(2)}});
  CHECK(dup.as_map().size() == 1);
}

// The entry a lookup found last is compared before the hash index (ordered_map.h): it
// must never answer for a key that was erased, nor follow a map into a copy or a move.
TEST_CASE("value: a map's last-found entry never outlives its key, and copies and moves look up afresh") {
  MapEntries m;
  m.insert_or_assign(I(1), S("one"));
  m.insert_or_assign(I(2), S("two"));
  REQUIRE(m.find(I(1)) != m.end());  // remembered
  CHECK(m.erase(I(1)) == 1);
  CHECK(m.find(I(1)) == m.end());
  CHECK(m.count(I(1)) == 0);
  CHECK(m.erase(I(1)) == 0);
  m.insert_or_assign(I(1), S("uno"));
  CHECK(m.find(I(1))->second.as_string() == "uno");
  m.insert_or_assign(I(1), S("eins"));  // the remembered entry is updated, not duplicated
  CHECK(m.size() == 2);
  CHECK(m.find(I(1))->second.as_string() == "eins");

  CHECK(m.find(I(2))->second.as_string() == "two");  // remembered, then copied
  MapEntries copy = m;
  copy.insert_or_assign(I(2), S("deux"));
  CHECK(copy.find(I(2))->second.as_string() == "deux");
  CHECK(m.find(I(2))->second.as_string() == "two");

  MapEntries moved = std::move(m);
  CHECK(moved.find(I(2))->second.as_string() == "two");
  CHECK(moved.count(I(1)) == 1);
  m = std::move(moved);  // and back: every key is still found, nothing else is
  CHECK(m.find(I(1))->second.as_string() == "eins");
  CHECK(m.count(I(3)) == 0);
  CHECK(m.size() == 2);
}

// Small non-negative int keys live in a vector index, others in the hash index, and a key
// moves from one to the other when the vector grows (ordered_map.h): whatever the mix of
// keys and operations, the map must answer as a plain ordered map does.
TEST_CASE("value: a map answers as an ordered map whatever index holds its keys (random operations)") {
  std::mt19937_64 rng(12345);
  for (int round = 0; round < 40; ++round) {
    MapEntries m;
    std::map<int64_t, int64_t> want;
    // Each round draws keys from one range: dense small ints, sparse ones, negative ones,
    // or huge ones, so that the vector grows, stops growing, and takes keys over.
    const int64_t spans[] = {8, 64, 1000, 100000, 1'000'000'000'000};
    const int64_t span = spans[round % 5];
    const int64_t base = round % 7 == 3 ? -span / 2 : 0;
    for (int op = 0; op < 2000; ++op) {
      const int64_t k = base + static_cast<int64_t>(rng() % static_cast<uint64_t>(span));
      const int64_t v = static_cast<int64_t>(rng() % 1000);
      switch (rng() % 6) {
        case 0: case 1: m.insert_or_assign(I(k), I(v)); want[k] = v; break;
        case 2: CHECK(m.erase(I(k)) == want.erase(k)); break;
        case 3: CHECK(m.emplace(I(k), I(v)) == want.emplace(k, v).second); break;
        case 4: m[I(k)] = I(v); want[k] = v; break;
        default: {
          auto it = m.find(I(k));
          auto w = want.find(k);
          REQUIRE((it == m.end()) == (w == want.end()));
          if (w != want.end()) CHECK(it->second.as_int() == w->second);
        }
      }
      if (op % 500 == 499) {  // a copy answers the same as its original
        MapEntries copy = m;
        for (const auto& [key, value] : want) CHECK(copy.count(I(key)) == 1);
      }
    }
    REQUIRE(m.size() == want.size());
    auto it = m.begin();
    for (const auto& [key, value] : want) {  // in key order, every entry
      CHECK(it->first.as_int() == key);
      CHECK(it->second.as_int() == value);
      ++it;
    }
    for (int64_t k = base; k < base + 70; ++k) CHECK(m.count(I(k)) == want.count(k));
  }
}

TEST_CASE("value: values_equal on scalars compares tag and payload") {
  CHECK(values_equal(Value(), Value()));
  CHECK(values_equal(Value::none(), Value::none()));
  CHECK_FALSE(values_equal(Value(), Value::none()));
  CHECK(values_equal(B(true), B(true)));
  CHECK_FALSE(values_equal(B(true), B(false)));
  CHECK(values_equal(I(5), I(5)));
  CHECK_FALSE(values_equal(I(5), I(6)));
  CHECK_FALSE(values_equal(I(1), F(1.0)));  // different types are never equal
  CHECK_FALSE(values_equal(I(0), B(false)));
}

TEST_CASE("value: values_equal on floats is IEEE equality") {
  CHECK(values_equal(F(0.5), F(0.5)));
  CHECK(values_equal(F(0.0), F(-0.0)));
  double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(values_equal(F(nan), F(nan)));
  Value same = F(nan);
  CHECK_FALSE(values_equal(same, same));
  CHECK(values_equal(F(INFINITY), F(INFINITY)));
  CHECK_FALSE(values_equal(F(INFINITY), F(-INFINITY)));
}

TEST_CASE("value: values_equal on strings compares bytes") {
  CHECK(values_equal(S("héllo"), S("héllo")));
  CHECK_FALSE(values_equal(S("a"), S("ab")));
  CHECK_FALSE(values_equal(S("a"), S("A")));
  CHECK(values_equal(S(""), S("")));
}

TEST_CASE("value: values_equal on nested lists and maps is structural") {
  Value a = L({I(1), L({S("x"), M({{S("k"), L({})}})}), Value::none()});
  Value b = L({I(1), L({S("x"), M({{S("k"), L({})}})}), Value::none()});
  CHECK(a.heap() != b.heap());
  CHECK(values_equal(a, b));
  Value c = L({I(1), L({S("x"), M({{S("k"), L({I(0)})}})}), Value::none()});
  CHECK_FALSE(values_equal(a, c));
  CHECK_FALSE(values_equal(L({I(1)}), L({I(1), I(1)})));
  CHECK_FALSE(values_equal(M({{I(1), I(2)}}), M({{I(2), I(2)}})));  // same value, other key
  CHECK_FALSE(values_equal(M({{I(1), I(2)}}), M({{I(1), I(3)}})));
  CHECK_FALSE(values_equal(M({{I(1), I(2)}}), M({{I(1), I(2)}, {I(3), I(4)}})));
  CHECK(values_equal(M({}), M({})));
  CHECK_FALSE(values_equal(L({}), M({})));
}

TEST_CASE("value: a list holding NaN is not equal to itself, even as the same object") {
  Value a = L({F(std::nan(""))});
  Value b = a;
  CHECK(a.heap() == b.heap());
  CHECK_FALSE(values_equal(a, b));
}

TEST_CASE("value: values_equal on records compares type and fields") {
  CHECK(values_equal(Value::record(0, {I(1), S("a")}), Value::record(0, {I(1), S("a")})));
  CHECK_FALSE(values_equal(Value::record(0, {I(1)}), Value::record(1, {I(1)})));
  CHECK_FALSE(values_equal(Value::record(0, {I(1)}), Value::record(0, {I(2)})));
  CHECK(values_equal(Value::record(1, {}), Value::record(1, {})));
}

TEST_CASE("value: values_equal on intents compares effect, arguments and key") {
  auto intent = [](uint32_t e, int64_t arg, Value key) { return Value::intent(e, {I(arg)}, std::move(key)); };
  CHECK(values_equal(intent(0, 1, S("k")), intent(0, 1, S("k"))));
  CHECK_FALSE(values_equal(intent(0, 1, S("k")), intent(1, 1, S("k"))));
  CHECK_FALSE(values_equal(intent(0, 1, S("k")), intent(0, 2, S("k"))));
  CHECK_FALSE(values_equal(intent(0, 1, S("k")), intent(0, 1, S("j"))));
  CHECK_FALSE(values_equal(intent(0, 1, S("k")), intent(0, 1, Value::none())));
  CHECK(values_equal(intent(0, 1, Value::none()), intent(0, 1, Value::none())));
}

TEST_CASE("value: values_equal handles very deep nesting without recursion") {
  Value a = L({});
  Value b = L({});
  for (int i = 0; i < 200'000; ++i) {
    a = Value::list({std::move(a)});
    b = Value::list({std::move(b)});
  }
  CHECK(values_equal(a, b));
  b = Value::list({std::move(b)});
  CHECK_FALSE(values_equal(a, b));
}

TEST_CASE("value: utf8_length counts code points") {
  CHECK(utf8_length("") == 0);
  CHECK(utf8_length("abc") == 3);
  CHECK(utf8_length("héllo") == 5);
  CHECK(utf8_length("日本語") == 3);
  CHECK(utf8_length("\xF0\x9F\x98\x80!") == 2);
  CHECK(utf8_length(std::string_view("a\0b", 3)) == 3);
}

// Values cross threads only as clones (reference counts are not atomic): a clone must be
// equal and share no heap object at any depth, and must not recurse on the C++ stack.
TEST_CASE("value: clone_value copies every level, shares nothing, and handles deep nesting") {
  MapEntries entries;
  entries.emplace(Value::string("k"), Value::list({Value::string("deep"), Value::integer(3)}));
  entries.emplace(Value::integer(7), Value::none());
  const Value original = Value::record(0, {Value::map(std::move(entries)), Value::string("s"), Value::floating(1.5)});
  const Value copy = clone_value(original);
  CHECK(values_equal(copy, original));
  CHECK(copy.heap() != original.heap());
  CHECK(original.unique());  // cloning took no reference to the original
  const Value& m1 = original.as_record().fields[0];
  const Value& m2 = copy.as_record().fields[0];
  CHECK(m1.heap() != m2.heap());
  // Entries in key order: 7, then "k".
  const auto& e1 = *std::next(m1.as_map().begin());
  const auto& e2 = *std::next(m2.as_map().begin());
  REQUIRE(e1.first.tag() == Tag::String);
  CHECK(e1.first.heap() != e2.first.heap());
  CHECK(e1.second.heap() != e2.second.heap());
  CHECK(e1.second.as_list()[0].heap() != e2.second.as_list()[0].heap());
  CHECK(copy.as_record().fields[1].heap() != original.as_record().fields[1].heap());

  // 200,000 levels: a recursive clone would overflow the stack.
  Value deep = Value::string("bottom");
  for (int k = 0; k < 200000; ++k) deep = Value::list({std::move(deep)});
  const Value deep_copy = clone_value(deep);
  const Value* a = &deep;
  const Value* b = &deep_copy;
  int levels = 0;
  while (a->tag() == Tag::List) {
    REQUIRE(b->tag() == Tag::List);
    CHECK_FALSE(a->heap() == b->heap());
    a = &a->as_list()[0];
    b = &b->as_list()[0];
    ++levels;
  }
  CHECK(levels == 200000);
  CHECK(b->as_string() == "bottom");
  CHECK(a->heap() != b->heap());
}
