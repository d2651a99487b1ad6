// Values in the external-adapter protocol's msgpack form (vm/effects/msgpack_values.h):
// round trips for every type kind, the exact wire form adapters see, the leniencies
// (float as int or float32, absent optional fields), and rejection of wrongly typed,
// malformed and hostile input.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "effects_support.h"
#include "external_support.h"
#include "vm/effects/msgpack_values.h"

namespace ved::effects_test {
namespace {

using vm::Value;

const char* kTypes = R"(
type Point { x: int, y: float, label: string? }
type Box { items: list<Point>, tags: map<string, int>, ids: map<int, string>, maybe: Point?, flag: bool }
effect T.All(b: bool, i: int, f: float, s: string, l: list<int>, ms: map<string, int>, mi: map<int, string>, o: int?, p: Point, box: Box, deep: list<list<int>>, os: string?) -> Box : local
effect T.Ping() : local
domain D {
    state { n: int }
    transition Step() { n = n + 1 }
}
)";

struct Fixture {
  std::unique_ptr<vm::Program> p = compile_program(kTypes);
  const vm::ExternalInfo& all = p->effects[effect_index(*p, "T.All")];
  uint32_t type(const std::string& param) const {
    for (const auto& f : all.params)
      if (f.name == param) return f.type;
    throw std::runtime_error("no param " + param);
  }
  uint32_t unit() const { return p->effects[effect_index(*p, "T.Ping")].result; }
  uint32_t record(const std::string& name) const {
    for (uint32_t r = 0; r < p->records.size(); ++r)
      if (p->records[r].name == name) return r;
    throw std::runtime_error("no record " + name);
  }
  Value point(int64_t x, double y, std::optional<std::string> label) const {
    return Value::record(record("Point"),
                         {Value::integer(x), Value::floating(y), label ? Value::string(*label) : Value::none()});
  }

  std::string encode(const Value& v, uint32_t t) const {
    std::string out, error;
    REQUIRE_MESSAGE(vm::encode_protocol_value(*p, v, t, out, error), error);
    return out;
  }
  // Decodes, or returns the error prefixed with "error: ".
  std::string decode_error(std::string_view bytes, uint32_t t) const {
    Value v;
    std::string error;
    if (vm::decode_protocol_value(*p, bytes, t, v, error)) return "ok";
    return "error: " + error;
  }
  Value decode(std::string_view bytes, uint32_t t) const {
    Value v;
    std::string error;
    REQUIRE_MESSAGE(vm::decode_protocol_value(*p, bytes, t, v, error), error);
    return v;
  }
  void round_trip(const Value& v, uint32_t t) const {
    const std::string bytes = encode(v, t);
    const Value back = decode(bytes, t);
    CHECK_MESSAGE(vm::values_equal(v, back), vm::format_value(v, p->records, p->effect_names) << " came back as "
                                                                                                 << vm::format_value(back, p->records, p->effect_names));
    CHECK(encode(back, t) == bytes);  // deterministic: the same value, the same bytes
  }
};

std::string packed(const std::function<void(Packer&)>& f) {
  msgpack::sbuffer b;
  Packer pk(b);
  f(pk);
  return std::string(b.data(), b.size());
}

msgpack::object_handle unpack(const std::string& bytes) { return msgpack::unpack(bytes.data(), bytes.size()); }

TEST_CASE("every type kind survives the protocol form both ways") {
  Fixture f;
  f.round_trip(Value(), f.unit());
  f.round_trip(Value::boolean(true), f.type("b"));
  f.round_trip(Value::boolean(false), f.type("b"));
  for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{127}, int64_t{-33}, int64_t{1} << 40,
                    std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()})
    f.round_trip(Value::integer(i), f.type("i"));
  for (double d : {0.5, 2.0, -3.25, 1e300, -1e-300, std::numeric_limits<double>::infinity()})
    f.round_trip(Value::floating(d), f.type("f"));
  f.round_trip(Value::string(""), f.type("s"));
  f.round_trip(Value::string("h\xC3\xA9llo \xF0\x9F\x9A\x80"), f.type("s"));
  f.round_trip(Value::list({}), f.type("l"));
  f.round_trip(Value::list({Value::integer(1), Value::integer(-2), Value::integer(3)}), f.type("l"));
  vm::MapEntries ms;
  ms.emplace(Value::string("b"), Value::integer(2));
  ms.emplace(Value::string("a"), Value::integer(1));
  f.round_trip(Value::map(ms), f.type("ms"));
  f.round_trip(Value::map({}), f.type("ms"));
  vm::MapEntries mi;
  mi.emplace(Value::integer(-5), Value::string("x"));
  mi.emplace(Value::integer(3), Value::string("y"));
  f.round_trip(Value::map(mi), f.type("mi"));
  f.round_trip(Value::none(), f.type("o"));
  f.round_trip(Value::integer(7), f.type("o"));
  f.round_trip(Value::none(), f.type("os"));
  f.round_trip(Value::string("x"), f.type("os"));
  f.round_trip(f.point(1, 2.5, std::nullopt), f.type("p"));
  f.round_trip(f.point(-1, 0.0, "origin"), f.type("p"));
  f.round_trip(Value::list({Value::list({}), Value::list({Value::integer(1)})}), f.type("deep"));
  const Value box = Value::record(f.record("Box"), {Value::list({f.point(1, 1.0, "a"), f.point(2, 2.0, std::nullopt)}),
                                                    Value::map(ms), Value::map(mi), f.point(3, 3.0, "m"),
                                                    Value::boolean(true)});
  f.round_trip(box, f.type("box"));
  f.round_trip(box, f.all.result);

  // -0.0 and NaN: values_equal cannot tell, so look at them.
  Value z = f.decode(f.encode(Value::floating(-0.0), f.type("f")), f.type("f"));
  CHECK(std::signbit(z.as_float()));
  Value n = f.decode(f.encode(Value::floating(std::nan("")), f.type("f")), f.type("f"));
  CHECK(std::isnan(n.as_float()));
}

TEST_CASE("the wire form is what an adapter in any language expects") {
  Fixture f;
  CHECK(f.encode(Value(), f.unit()) == "\xc0");                     // unit: nil
  CHECK(f.encode(Value::none(), f.type("o")) == "\xc0");            // none: nil
  CHECK(f.encode(Value::integer(7), f.type("o")) == "\x07");        // some(7): 7
  CHECK(f.encode(Value::boolean(true), f.type("b")) == "\xc3");
  CHECK(f.encode(Value::string("ab"), f.type("s")) == "\xa2"
                                                       "ab");
  // A whole float stays a float64 (msgpack-c's own pack(double) would write an int).
  const std::string two = f.encode(Value::floating(2.0), f.type("f"));
  REQUIRE(two.size() == 9);
  CHECK(static_cast<unsigned char>(two[0]) == 0xcb);

  // A record is a map by field name, in declaration order.
  auto h = unpack(f.encode(f.point(4, 0.5, "p"), f.type("p")));
  const auto& o = h.get();
  REQUIRE(o.type == msgpack::type::MAP);
  REQUIRE(o.via.map.size == 3);
  CHECK(o.via.map.ptr[0].key.as<std::string>() == "x");
  CHECK(o.via.map.ptr[0].val.as<int64_t>() == 4);
  CHECK(o.via.map.ptr[1].key.as<std::string>() == "y");
  CHECK(o.via.map.ptr[1].val.type == msgpack::type::FLOAT64);
  CHECK(o.via.map.ptr[2].key.as<std::string>() == "label");
  CHECK(o.via.map.ptr[2].val.as<std::string>() == "p");

  // A map is a msgpack map, keys in key order; a list an array.
  vm::MapEntries mi;
  mi.emplace(Value::integer(9), Value::string("z"));
  mi.emplace(Value::integer(-1), Value::string("a"));
  auto hm = unpack(f.encode(Value::map(mi), f.type("mi")));
  REQUIRE(hm.get().type == msgpack::type::MAP);
  CHECK(hm.get().via.map.ptr[0].key.as<int64_t>() == -1);
  CHECK(hm.get().via.map.ptr[1].key.as<int64_t>() == 9);
  auto hl = unpack(f.encode(Value::list({Value::integer(1)}), f.type("l")));
  CHECK(hl.get().type == msgpack::type::ARRAY);
}

TEST_CASE("what other msgpack writers produce is accepted where it is unambiguous") {
  Fixture f;
  // A float written as an int (JavaScript, or msgpack-c's pack(2.0)), or as float32.
  CHECK(f.decode(packed([](Packer& pk) { pk.pack(2); }), f.type("f")).as_float() == 2.0);
  CHECK(f.decode(packed([](Packer& pk) { pk.pack(-3); }), f.type("f")).as_float() == -3.0);
  CHECK(f.decode(packed([](Packer& pk) { pk.pack_float(1.5f); }), f.type("f")).as_float() == 1.5);
  // Record fields in any order; an absent optional field is none.
  Value p = f.decode(packed([](Packer& pk) {
                       pk.pack_map(2);
                       pk.pack("y");
                       pk.pack_double(0.25);
                       pk.pack("x");
                       pk.pack(9);
                     }),
                     f.type("p"));
  CHECK(vm::values_equal(p, f.point(9, 0.25, std::nullopt)));
  // Nested optional record absent inside Box is none too.
  Value box = f.decode(packed([](Packer& pk) {
                         pk.pack_map(4);
                         pk.pack("flag");
                         pk.pack(true);
                         pk.pack("items");
                         pk.pack_array(0);
                         pk.pack("tags");
                         pk.pack_map(0);
                         pk.pack("ids");
                         pk.pack_map(0);
                       }),
                       f.type("box"));
  CHECK(box.as_record().fields[3].is_none());
}

TEST_CASE("values of the wrong type are refused with where and what") {
  Fixture f;
  auto p = [](const std::function<void(Packer&)>& fn) { return packed(fn); };
  CHECK(f.decode_error(p([](Packer& pk) { pk.pack("7"); }), f.type("i")) == "error: at value: expected int, got a str");
  CHECK(f.decode_error(p([](Packer& pk) { pk.pack(7); }), f.type("s")) == "error: at value: expected string, got an int");
  CHECK(f.decode_error(p([](Packer& pk) { pk.pack_double(1.5); }), f.type("i")) ==
        "error: at value: expected int, got a float");
  CHECK(f.decode_error(p([](Packer& pk) { pk.pack_nil(); }), f.type("i")) == "error: at value: expected int, got nil");
  CHECK(f.decode_error(p([](Packer& pk) { pk.pack(1); }), f.type("b")) == "error: at value: expected bool, got an int");
  CHECK(f.decode_error(p([](Packer& pk) { pk.pack(true); }), f.unit()) == "error: at value: expected unit, got a bool");
  CHECK(f.decode_error(p([](Packer& pk) { pk.pack_array(0); }), f.type("ms")) ==
        "error: at value: expected map<string, int>, got an array");
  CHECK(f.decode_error(p([](Packer& pk) { pk.pack_map(0); }), f.type("l")) ==
        "error: at value: expected list<int>, got a map");
  CHECK(f.decode_error(p([](Packer& pk) { pk.pack(uint64_t{1} << 63); }), f.type("i")) ==
        "error: at value: an int larger than int's range");
  CHECK(f.decode_error(p([](Packer& pk) { pk.pack_bin(2); pk.pack_bin_body("ab", 2); }), f.type("s")) ==
        "error: at value: expected string, got a bin");
  CHECK(f.decode_error(p([](Packer& pk) { pk.pack_ext(1, 5); pk.pack_ext_body("x", 1); }), f.type("s")) ==
        "error: at value: expected string, got an ext");
  CHECK(f.decode_error(p([](Packer& pk) { pk.pack_str(2); pk.pack_str_body("\xC3\x28", 2); }), f.type("s")) ==
        "error: at value: a string that is not valid UTF-8");
  // Where in the value: list index, map key, record field.
  CHECK(f.decode_error(p([](Packer& pk) {
                         pk.pack_array(3);
                         pk.pack(1);
                         pk.pack(2);
                         pk.pack("three");
                       }),
                       f.type("l")) == "error: at value[2]: expected int, got a str");
  CHECK(f.decode_error(p([](Packer& pk) {
                         pk.pack_map(1);
                         pk.pack("k");
                         pk.pack("v");
                       }),
                       f.type("ms")) == "error: at value[\"k\"]: expected int, got a str");
  CHECK(f.decode_error(p([](Packer& pk) {
                         pk.pack_map(1);
                         pk.pack(1);
                         pk.pack(1);
                       }),
                       f.type("ms")) == "error: at value[0]: expected string, got an int");
  CHECK(f.decode_error(p([](Packer& pk) {
                         pk.pack_map(2);
                         pk.pack("k");
                         pk.pack(1);
                         pk.pack("k");
                         pk.pack(2);
                       }),
                       f.type("ms")) == "error: at value[\"k\"]: a key that appears twice");
  // Records: wrong field type, unknown, duplicate, missing, non-str key.
  CHECK(f.decode_error(p([](Packer& pk) {
                         pk.pack_map(2);
                         pk.pack("x");
                         pk.pack("one");
                         pk.pack("y");
                         pk.pack_double(1);
                       }),
                       f.type("p")) == "error: at value.x: expected int, got a str");
  CHECK(f.decode_error(p([](Packer& pk) {
                         pk.pack_map(3);
                         pk.pack("x");
                         pk.pack(1);
                         pk.pack("y");
                         pk.pack_double(1);
                         pk.pack("z");
                         pk.pack(1);
                       }),
                       f.type("p")) == "error: at value: Point has no field \"z\"");
  CHECK(f.decode_error(p([](Packer& pk) {
                         pk.pack_map(3);
                         pk.pack("x");
                         pk.pack(1);
                         pk.pack("y");
                         pk.pack_double(1);
                         pk.pack("x");
                         pk.pack(1);
                       }),
                       f.type("p")) == "error: at value: the field \"x\" appears twice");
  CHECK(f.decode_error(p([](Packer& pk) {
                         pk.pack_map(1);
                         pk.pack("x");
                         pk.pack(1);
                       }),
                       f.type("p")) == "error: at value: Point without its field \"y\"");
  CHECK(f.decode_error(p([](Packer& pk) {
                         pk.pack_map(1);
                         pk.pack(1);
                         pk.pack(1);
                       }),
                       f.type("p")) == "error: at value: a record's keys are field names (str), got an int");
  // Deep inside: the path says where.
  CHECK(f.decode_error(p([](Packer& pk) {
                         pk.pack_map(5);
                         pk.pack("flag");
                         pk.pack(true);
                         pk.pack("tags");
                         pk.pack_map(0);
                         pk.pack("ids");
                         pk.pack_map(0);
                         pk.pack("maybe");
                         pk.pack_nil();
                         pk.pack("items");
                         pk.pack_array(1);
                         pk.pack_map(2);
                         pk.pack("x");
                         pk.pack(1);
                         pk.pack("y");
                         pk.pack(true);
                       }),
                       f.type("box")) == "error: at value.items[0].y: expected float, got a bool");
}

TEST_CASE("malformed and hostile bytes are errors, never crashes or huge allocations") {
  Fixture f;
  auto err = [&](std::string_view bytes, uint32_t t) { return f.decode_error(bytes, t); };
  CHECK(err("", f.type("i")) == "error: no msgpack object (empty)");
  CHECK(err("\xc1", f.type("i")) == "error: the reserved msgpack byte 0xc1");
  CHECK(err(std::string("\x01\x02", 2), f.type("i")) == "error: stray bytes after the value");
  CHECK(err("\xcd\x01", f.type("i")) == "error: truncated msgpack");                // uint16 missing a byte
  CHECK(err("\xdb\xff\xff\xff\xff", f.type("s")) == "error: truncated msgpack");    // str32 of 4 GiB
  // Huge declared lengths: an array or a map of 4 billion items in 5 bytes, and the same
  // nested (each level claiming more items than the whole message has bytes).
  CHECK(err("\xdd\xff\xff\xff\xff", f.type("l")) == "error: msgpack lengths larger than the message");
  CHECK(err("\xdf\xff\xff\xff\xff", f.type("ms")) == "error: msgpack lengths larger than the message");
  std::string nested;
  for (int i = 0; i < 20; ++i) nested += std::string("\xdd\x00\x10\x00\x00", 5);
  CHECK(err(nested, f.type("deep")) == "error: msgpack lengths larger than the message");
  // Deep nesting: 64 containers are allowed, 65 are not, and a million are refused cheaply.
  auto arrays = [](int depth) { return std::string(static_cast<size_t>(depth), '\x91') + "\x01"; };
  size_t length = 0;
  std::string error;
  CHECK(vm::check_protocol_bytes(arrays(vm::kProtocolMaxDepth), vm::kProtocolMaxDepth, length, error));
  CHECK(length == static_cast<size_t>(vm::kProtocolMaxDepth) + 1);
  CHECK_FALSE(vm::check_protocol_bytes(arrays(vm::kProtocolMaxDepth + 1), vm::kProtocolMaxDepth, length, error));
  CHECK(error == "msgpack nested more than 64 containers deep");
  CHECK(err(arrays(1000000), f.type("deep")) == "error: msgpack nested more than 64 containers deep");
  // ... and the types decide too: [[[1]]] is not a list<list<int>>.
  CHECK(err(arrays(3), f.type("deep")) == "error: at value[0][0]: expected int, got an array");
  // Too large a message.
  std::string big = packed([](Packer& pk) { pk.pack(std::string(vm::kProtocolMaxBytes, 'a')); });
  CHECK(err(big, f.type("s")).find("larger than") != std::string::npos);

  // Random garbage, and random corruptions of a valid value: decoding says ok or error.
  const Value box = Value::record(f.record("Box"), {Value::list({f.point(1, 1.0, "a")}), Value::map({}), Value::map({}),
                                                    Value::none(), Value::boolean(false)});
  const std::string good = f.encode(box, f.type("box"));
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes;
    if (round % 2 == 0) {
      bytes.resize(rng() % 64);
      for (char& c : bytes) c = static_cast<char>(rng());
    } else {
      bytes = good;
      for (int k = 0; k < 3; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
      if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    }
    for (uint32_t t : {f.type("box"), f.type("deep"), f.type("s"), f.type("ms")}) {
      Value v;
      std::string e;
      if (vm::decode_protocol_value(*f.p, bytes, t, v, e))
        ++accepted;
      else
        CHECK(!e.empty());
    }
  }
  CHECK(accepted < 20000 * 4);  // the corruptions are mostly caught
}

TEST_CASE("values that have no protocol form, or not their type, are not sent") {
  Fixture f;
  std::string out, error;
  CHECK_FALSE(vm::encode_protocol_value(*f.p, Value::integer(1), f.type("s"), out, error));
  CHECK(error == "at value: got int where string was expected");
  CHECK_FALSE(vm::encode_protocol_value(*f.p, Value::list({Value::string("x")}), f.type("l"), out, error));
  CHECK(error == "at value[0]: got string where int was expected");
  CHECK_FALSE(vm::encode_protocol_value(*f.p, Value::none(), f.type("i"), out, error));
  CHECK(error == "at value: got none where int was expected");
  CHECK(out.empty());  // nothing is appended on failure

  // Nesting: a program with list<list<...<int>...>> 70 deep. 64 lists encode (and decode
  // back); 65 are refused by the encoder, so the VM never sends what it would refuse.
  vm::Program nested = *f.p;
  uint32_t t = f.type("i");
  std::vector<uint32_t> list_of_depth{t};
  for (int i = 0; i < 70; ++i) {
    nested.types.push_back(vm::TypeInfo{vm::TypeKind::List, t, 0});
    nested.canonical_type.push_back(static_cast<uint32_t>(nested.types.size() - 1));
    t = static_cast<uint32_t>(nested.types.size() - 1);
    list_of_depth.push_back(t);
  }
  auto lists = [](int depth) {
    Value v = Value::integer(1);
    for (int i = 0; i < depth; ++i) v = Value::list({v});
    return v;
  };
  const int max = vm::kProtocolMaxDepth;
  REQUIRE(vm::encode_protocol_value(nested, lists(max), list_of_depth[max], out, error));
  Value back;
  REQUIRE(vm::decode_protocol_value(nested, out, list_of_depth[max], back, error));
  CHECK(vm::values_equal(back, lists(max)));
  out.clear();
  CHECK_FALSE(vm::encode_protocol_value(nested, lists(max + 1), list_of_depth[max + 1], out, error));
  CHECK(error.find("nested more than 64 containers deep") != std::string::npos);
  CHECK_FALSE(vm::decode_protocol_value(nested, std::string(static_cast<size_t>(max + 1), '\x91') + "\x01",
                                        list_of_depth[max + 1], back, error));
  CHECK(error == "msgpack nested more than 64 containers deep");

  // An intent: find or make an intent type.
  vm::Program copy = *f.p;
  copy.types.push_back(vm::TypeInfo{vm::TypeKind::Intent, 0, 0});
  copy.canonical_type.push_back(static_cast<uint32_t>(copy.types.size() - 1));
  const uint32_t intent_type = static_cast<uint32_t>(copy.types.size() - 1);
  CHECK_FALSE(vm::encode_protocol_value(copy, Value::intent(0, {}, Value::none()), intent_type, out, error));
  CHECK(error == "at value: an intent has no form in the adapter protocol");
  Value v;
  CHECK_FALSE(vm::decode_protocol_value(copy, "\xc0", intent_type, v, error));
  CHECK(error == "at value: an intent has no form in the adapter protocol");
}

TEST_CASE("an envelope splits into its entries' raw bytes") {
  std::vector<std::pair<std::string, std::string_view>> entries;
  std::string error;
  const std::string body = map_body(3, [](Packer& pk) {
    pk.pack("id");
    pk.pack(7);
    pk.pack("value");
    pk.pack_array(2);
    pk.pack(1);
    pk.pack("x");
    pk.pack("ok");
    pk.pack(true);
  });
  REQUIRE(vm::split_protocol_map(body, entries, error));
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].first == "id");
  CHECK(entries[0].second == "\x07");
  CHECK(entries[1].first == "value");
  CHECK(entries[1].second == "\x92\x01\xa1x");
  CHECK(entries[2].first == "ok");
  CHECK(entries[2].second == "\xc3");
  CHECK_FALSE(vm::split_protocol_map("\x92\x01\x02", entries, error));
  CHECK(error == "not a msgpack map");
  CHECK_FALSE(vm::split_protocol_map("\x81\x01\x02", entries, error));
  CHECK(error == "a map key that is not a str");
  CHECK_FALSE(vm::split_protocol_map("\x82\xa1k\x01\xa1k\x02", entries, error));
  CHECK(error == "the key \"k\" appears twice");
  CHECK_FALSE(vm::split_protocol_map("\x81\xa1k\x01\x01", entries, error));
  CHECK(error == "stray bytes after the msgpack map");
  CHECK_FALSE(vm::split_protocol_map("\x81\xa1k", entries, error));
  CHECK_FALSE(vm::split_protocol_map("garbage", entries, error));
}

}  // namespace
}  // namespace ved::effects_test
