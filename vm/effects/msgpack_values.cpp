#include "vm/effects/msgpack_values.h"

#include <msgpack.hpp>

#include <cstring>
#include <stdexcept>

#include "bytecode/msgpack_float.h"

namespace ved::vm {

namespace {

struct ProtocolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// How a type is written in Ved source, for error messages an adapter author can act on.
std::string type_name(const Program& p, uint32_t type, int depth = 0) {
  if (type >= p.types.size() || depth > 8) return "?";
  const TypeInfo& t = p.types[type];
  switch (t.kind) {
    case TypeKind::Unit: return "unit";
    case TypeKind::Bool: return "bool";
    case TypeKind::Int: return "int";
    case TypeKind::Float: return "float";
    case TypeKind::String: return "string";
    case TypeKind::List: return "list<" + type_name(p, t.x, depth + 1) + ">";
    case TypeKind::Map: return "map<" + type_name(p, t.x, depth + 1) + ", " + type_name(p, t.y, depth + 1) + ">";
    case TypeKind::Optional: return type_name(p, t.x, depth + 1) + "?";
    case TypeKind::Record: return t.x < p.records.size() ? p.records[t.x].name : "record";
    case TypeKind::Intent: return "intent";
  }
  return "?";
}

const char* msgpack_kind(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "a bool";
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER: return "an int";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return "a float";
    case msgpack::type::STR: return "a str";
    case msgpack::type::BIN: return "a bin";
    case msgpack::type::ARRAY: return "an array";
    case msgpack::type::MAP: return "a map";
    case msgpack::type::EXT: return "an ext";
  }
  return "an unknown object";
}

const char* tag_name(Tag t) {
  switch (t) {
    case Tag::Unit: return "unit";
    case Tag::None: return "none";
    case Tag::Bool: return "bool";
    case Tag::Int: return "int";
    case Tag::Float: return "float";
    case Tag::String: return "string";
    case Tag::List: return "list";
    case Tag::Map: return "map";
    case Tag::Record: return "record";
    case Tag::Intent: return "intent";
  }
  return "?";
}

// Where in the value an error is, as `value.items[2].name`: the part of a message that
// lets an adapter author find the bug. Components are pushed on the way down and popped
// on the way back up; an error reports the path as it stands when thrown.
class Path {
 public:
  size_t mark() const { return text_.size(); }
  void reset(size_t mark) { text_.resize(mark); }
  void field(std::string_view name) { text_ += "."; text_ += name; }
  void index(size_t i) { text_ += "[" + std::to_string(i) + "]"; }
  void key(const Value& k) {
    if (k.tag() == Tag::Int) {
      text_ += "[" + std::to_string(k.as_int()) + "]";
    } else if (k.tag() == Tag::String) {
      text_ += "[" + quote_string(k.as_string()) + "]";
    } else {
      text_ += "[?]";
    }
  }
  [[noreturn]] void fail(const std::string& what) const { throw ProtocolError("at " + text_ + ": " + what); }

 private:
  std::string text_ = "value";
};

class Encoder {
 public:
  Encoder(const Program& p, msgpack::sbuffer& buffer) : p_(p), buffer_(buffer), pk_(buffer) {}

  // Recursive, with the depth bounded by kProtocolMaxDepth: values nested deeper than
  // that are refused, so the recursion is too.
  void encode(const Value& v, uint32_t type, int depth) {
    if (type >= p_.types.size()) path_.fail("unknown type index " + std::to_string(type));
    const TypeInfo& t = p_.types[type];
    auto expect = [&](Tag tag) {
      if (v.tag() != tag)
        path_.fail(std::string("got ") + tag_name(v.tag()) + " where " + type_name(p_, type) + " was expected");
    };
    auto enter = [&] {
      if (depth + 1 > kProtocolMaxDepth)
        path_.fail("nested more than " + std::to_string(kProtocolMaxDepth) + " containers deep");
    };
    switch (t.kind) {
      case TypeKind::Unit:
        expect(Tag::Unit);
        pk_.pack_nil();
        return;
      case TypeKind::Bool:
        expect(Tag::Bool);
        pk_.pack(v.as_bool());
        return;
      case TypeKind::Int:
        expect(Tag::Int);
        pk_.pack(v.as_int());
        return;
      case TypeKind::Float: {
        expect(Tag::Float);
        // Not pk_.pack(double): msgpack-c writes whole-number doubles as ints.
        const auto bytes = bytecode::msgpack_float64(v.as_float());
        buffer_.write(bytes.data(), bytes.size());
        return;
      }
      case TypeKind::String:
        expect(Tag::String);
        pk_.pack(v.as_string());
        return;
      case TypeKind::Optional:
        if (v.is_none()) {
          pk_.pack_nil();
          return;
        }
        encode(v, t.x, depth);  // some(x) is x itself, in the VM and on the wire
        return;
      case TypeKind::List: {
        expect(Tag::List);
        enter();
        const auto& items = v.as_list();
        if (items.size() > UINT32_MAX) path_.fail("a list too long for msgpack");
        pk_.pack_array(static_cast<uint32_t>(items.size()));
        for (size_t i = 0; i < items.size(); ++i) {
          const size_t m = path_.mark();
          path_.index(i);
          encode(items[i], t.x, depth + 1);
          path_.reset(m);
        }
        return;
      }
      case TypeKind::Map: {
        expect(Tag::Map);
        enter();
        const auto& entries = v.as_map();
        if (entries.size() > UINT32_MAX) path_.fail("a map too large for msgpack");
        pk_.pack_map(static_cast<uint32_t>(entries.size()));
        for (const auto& [k, value] : entries) {  // key order: the same map, the same bytes
          const size_t m = path_.mark();
          path_.key(k);
          encode(k, t.x, depth + 1);
          encode(value, t.y, depth + 1);
          path_.reset(m);
        }
        return;
      }
      case TypeKind::Record: {
        expect(Tag::Record);
        enter();
        const RecordObj& r = v.as_record();
        if (r.type != t.x || t.x >= p_.records.size())
          path_.fail("a record of another type where " + type_name(p_, type) + " was expected");
        const auto& names = p_.records[t.x].fields;
        const auto& types = p_.record_field_types[t.x];
        if (r.fields.size() != names.size() || names.size() != types.size())
          path_.fail("a record with the wrong number of fields");
        pk_.pack_map(static_cast<uint32_t>(names.size()));
        for (size_t i = 0; i < names.size(); ++i) {
          const size_t m = path_.mark();
          path_.field(names[i]);
          pk_.pack(names[i]);
          encode(r.fields[i], types[i], depth + 1);
          path_.reset(m);
        }
        return;
      }
      case TypeKind::Intent:
        path_.fail("an intent has no form in the adapter protocol");
    }
    path_.fail("a type the protocol does not know");
  }

 private:
  const Program& p_;
  msgpack::sbuffer& buffer_;
  msgpack::packer<msgpack::sbuffer> pk_;
  Path path_;
};

class Decoder {
 public:
  explicit Decoder(const Program& p) : p_(p) {}

  // Recursive: check_protocol_bytes has bounded the nesting before anything is unpacked.
  Value decode(const msgpack::object& o, uint32_t type, int depth) {
    if (type >= p_.types.size()) path_.fail("unknown type index " + std::to_string(type));
    if (depth > kProtocolMaxDepth) path_.fail("nested too deeply");
    const TypeInfo& t = p_.types[type];
    auto wrong = [&]() -> Value {
      path_.fail("expected " + type_name(p_, type) + ", got " + msgpack_kind(o));
    };
    switch (t.kind) {
      case TypeKind::Unit:
        if (o.type != msgpack::type::NIL) return wrong();
        return Value();
      case TypeKind::Bool:
        if (o.type != msgpack::type::BOOLEAN) return wrong();
        return Value::boolean(o.via.boolean);
      case TypeKind::Int:
        if (o.type == msgpack::type::POSITIVE_INTEGER) {
          if (o.via.u64 > static_cast<uint64_t>(INT64_MAX)) path_.fail("an int larger than int's range");
          return Value::integer(static_cast<int64_t>(o.via.u64));
        }
        if (o.type == msgpack::type::NEGATIVE_INTEGER) return Value::integer(o.via.i64);
        return wrong();
      case TypeKind::Float:
        // msgpack-c widens float32 into via.f64 exactly.
        if (o.type == msgpack::type::FLOAT64 || o.type == msgpack::type::FLOAT32) return Value::floating(o.via.f64);
        if (o.type == msgpack::type::POSITIVE_INTEGER) return Value::floating(static_cast<double>(o.via.u64));
        if (o.type == msgpack::type::NEGATIVE_INTEGER) return Value::floating(static_cast<double>(o.via.i64));
        return wrong();
      case TypeKind::String: {
        if (o.type != msgpack::type::STR) return wrong();
        std::string s(o.via.str.ptr, o.via.str.size);
        if (!is_valid_utf8(s)) path_.fail("a string that is not valid UTF-8");
        return Value::string(std::move(s));
      }
      case TypeKind::Optional:
        if (o.type == msgpack::type::NIL) return Value::none();
        return decode(o, t.x, depth);
      case TypeKind::List: {
        if (o.type != msgpack::type::ARRAY) return wrong();
        std::vector<Value> items;
        items.reserve(o.via.array.size);  // bounded: check_protocol_bytes saw the items
        for (uint32_t i = 0; i < o.via.array.size; ++i) {
          const size_t m = path_.mark();
          path_.index(i);
          items.push_back(decode(o.via.array.ptr[i], t.x, depth + 1));
          path_.reset(m);
        }
        return Value::list(std::move(items));
      }
      case TypeKind::Map: {
        if (o.type != msgpack::type::MAP) return wrong();
        MapEntries entries;
        for (uint32_t i = 0; i < o.via.map.size; ++i) {
          const size_t m = path_.mark();
          path_.index(i);
          Value k = decode(o.via.map.ptr[i].key, t.x, depth + 1);
          path_.reset(m);
          path_.key(k);
          Value v = decode(o.via.map.ptr[i].val, t.y, depth + 1);
          if (!entries.emplace(k, std::move(v))) path_.fail("a key that appears twice");
          path_.reset(m);
        }
        return Value::map(std::move(entries));
      }
      case TypeKind::Record: {
        if (o.type != msgpack::type::MAP) return wrong();
        if (t.x >= p_.records.size()) path_.fail("unknown record type");
        const auto& names = p_.records[t.x].fields;
        const auto& types = p_.record_field_types[t.x];
        std::vector<Value> fields(names.size());
        std::vector<bool> seen(names.size(), false);
        for (uint32_t i = 0; i < o.via.map.size; ++i) {
          const msgpack::object& k = o.via.map.ptr[i].key;
          if (k.type != msgpack::type::STR)
            path_.fail(std::string("a record's keys are field names (str), got ") + msgpack_kind(k));
          const std::string_view name(k.via.str.ptr, k.via.str.size);
          size_t f = 0;
          while (f < names.size() && names[f] != name) ++f;
          if (f == names.size())
            path_.fail(type_name(p_, type) + " has no field " + quote_string(std::string(name)));
          if (seen[f]) path_.fail("the field " + quote_string(std::string(name)) + " appears twice");
          seen[f] = true;
          const size_t m = path_.mark();
          path_.field(names[f]);
          fields[f] = decode(o.via.map.ptr[i].val, types[f], depth + 1);
          path_.reset(m);
        }
        for (size_t f = 0; f < names.size(); ++f) {
          if (seen[f]) continue;
          // An absent optional field is none: many msgpack writers drop null members.
          if (p_.types[types[f]].kind != TypeKind::Optional)
            path_.fail(type_name(p_, type) + " without its field " + quote_string(names[f]));
          fields[f] = Value::none();
        }
        return Value::record(t.x, std::move(fields));
      }
      case TypeKind::Intent:
        path_.fail("an intent has no form in the adapter protocol");
    }
    path_.fail("a type the protocol does not know");
  }

 private:
  const Program& p_;
  Path path_;
};

uint64_t read_be(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// The header of the object at `p` (with `left` bytes available): how many header bytes,
// how many payload bytes follow it, and how many child objects (2 per map entry).
struct Header {
  size_t header = 1;
  uint64_t payload = 0;
  uint64_t children = 0;
  bool container = false;
};

bool read_header(const unsigned char* p, size_t left, Header& h, std::string& error) {
  const unsigned char b = p[0];
  // Reads an n-byte big-endian length after the first byte, if it is there.
  auto length = [&](size_t n, uint64_t& out) {
    if (left < 1 + n) {
      error = "truncated msgpack";
      return false;
    }
    out = read_be(p + 1, n);
    h.header = 1 + n;
    return true;
  };
  h = Header{};
  if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) return true;  // fixint, nil, bool
  if (b >= 0x80 && b <= 0x8f) {
    h.container = true;
    h.children = 2u * (b & 0x0f);
    return true;
  }
  if (b >= 0x90 && b <= 0x9f) {
    h.container = true;
    h.children = b & 0x0f;
    return true;
  }
  if (b >= 0xa0 && b <= 0xbf) {
    h.payload = b & 0x1f;
    return true;
  }
  uint64_t n = 0;
  switch (b) {
    case 0xc1: error = "the reserved msgpack byte 0xc1"; return false;
    case 0xc4: case 0xd9: if (!length(1, n)) return false; h.payload = n; return true;  // bin8, str8
    case 0xc5: case 0xda: if (!length(2, n)) return false; h.payload = n; return true;  // bin16, str16
    case 0xc6: case 0xdb: if (!length(4, n)) return false; h.payload = n; return true;  // bin32, str32
    case 0xc7: if (!length(1, n)) return false; h.payload = n + 1; return true;  // ext8: type byte + data
    case 0xc8: if (!length(2, n)) return false; h.payload = n + 1; return true;
    case 0xc9: if (!length(4, n)) return false; h.payload = n + 1; return true;
    case 0xca: h.payload = 4; return true;   // float32
    case 0xcb: h.payload = 8; return true;   // float64
    case 0xcc: case 0xd0: h.payload = 1; return true;
    case 0xcd: case 0xd1: h.payload = 2; return true;
    case 0xce: case 0xd2: h.payload = 4; return true;
    case 0xcf: case 0xd3: h.payload = 8; return true;
    case 0xd4: h.payload = 2; return true;   // fixext1..16: type byte + data
    case 0xd5: h.payload = 3; return true;
    case 0xd6: h.payload = 5; return true;
    case 0xd7: h.payload = 9; return true;
    case 0xd8: h.payload = 17; return true;
    case 0xdc: if (!length(2, n)) return false; h.container = true; h.children = n; return true;
    case 0xdd: if (!length(4, n)) return false; h.container = true; h.children = n; return true;
    case 0xde: if (!length(2, n)) return false; h.container = true; h.children = 2 * n; return true;
    case 0xdf: if (!length(4, n)) return false; h.container = true; h.children = 2 * n; return true;
    default: break;
  }
  error = "unknown msgpack byte";
  return false;
}

// The text of a msgpack str at the start of `bytes` (a map key), or false.
bool read_str(std::string_view bytes, std::string& out, size_t& length) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.empty()) return false;
  const unsigned char b = p[0];
  if (!((b >= 0xa0 && b <= 0xbf) || b == 0xd9 || b == 0xda || b == 0xdb)) return false;
  Header h;
  std::string ignored;
  if (!read_header(p, bytes.size(), h, ignored)) return false;
  if (h.payload > bytes.size() - h.header) return false;
  out.assign(bytes.data() + h.header, static_cast<size_t>(h.payload));
  length = h.header + static_cast<size_t>(h.payload);
  return true;
}

}  // namespace

bool check_protocol_bytes(std::string_view bytes, int max_depth, size_t& length, std::string& error) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t off = 0;
  // Items still to be read in each open container, innermost last; the root is one item.
  std::vector<uint64_t> open{1};
  // All items declared and not yet read. Every item takes at least one byte, so more of
  // them than bytes left means the declared lengths lie.
  uint64_t pending = 1;
  while (!open.empty()) {
    if (open.back() == 0) {
      open.pop_back();
      continue;
    }
    if (pending > n - off) {
      error = off == 0 && n == 0 ? "no msgpack object (empty)" : "msgpack lengths larger than the message";
      return false;
    }
    --open.back();
    --pending;
    Header h;
    if (!read_header(p + off, n - off, h, error)) return false;
    off += h.header;
    if (h.payload > n - off) {
      error = "truncated msgpack";
      return false;
    }
    off += static_cast<size_t>(h.payload);
    if (h.container) {
      // open holds the root's slot plus one entry per enclosing container.
      if (static_cast<int>(open.size()) > max_depth) {
        error = "msgpack nested more than " + std::to_string(max_depth) + " containers deep";
        return false;
      }
      open.push_back(h.children);
      pending += h.children;
    }
  }
  length = off;
  return true;
}

bool split_protocol_map(std::string_view bytes, std::vector<std::pair<std::string, std::string_view>>& entries,
                        std::string& error) {
  entries.clear();
  if (bytes.size() > kProtocolMaxBytes) {
    error = "a message larger than " + std::to_string(kProtocolMaxBytes) + " bytes";
    return false;
  }
  size_t whole = 0;
  if (!check_protocol_bytes(bytes, kProtocolMaxDepth + 1, whole, error)) return false;
  if (whole != bytes.size()) {
    error = "stray bytes after the msgpack map";
    return false;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  Header h;
  if (!read_header(p, bytes.size(), h, error)) return false;
  const unsigned char b = p[0];
  if (!h.container || !((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf)) {
    error = "not a msgpack map";
    return false;
  }
  size_t off = h.header;
  for (uint64_t i = 0; i < h.children / 2; ++i) {
    std::string key;
    size_t key_length = 0;
    if (!read_str(bytes.substr(off), key, key_length)) {
      error = "a map key that is not a str";
      return false;
    }
    off += key_length;
    size_t value_length = 0;
    if (!check_protocol_bytes(bytes.substr(off), kProtocolMaxDepth, value_length, error)) {
      error = "the value of " + quote_string(key) + ": " + error;
      return false;
    }
    for (const auto& e : entries) {
      if (e.first == key) {
        error = "the key " + quote_string(key) + " appears twice";
        return false;
      }
    }
    entries.emplace_back(std::move(key), bytes.substr(off, value_length));
    off += value_length;
  }
  return true;
}

bool encode_protocol_value(const Program& program, const Value& v, uint32_t type, std::string& out,
                           std::string& error) {
  try {
    msgpack::sbuffer buffer;
    Encoder(program, buffer).encode(v, type, 0);
    out.append(buffer.data(), buffer.size());
    return true;
  } catch (const std::exception& e) {  // ProtocolError, or msgpack's own (bad_alloc)
    error = e.what();
    return false;
  }
}

bool decode_protocol_value(const Program& program, std::string_view bytes, uint32_t type, Value& out,
                           std::string& error) {
  if (bytes.size() > kProtocolMaxBytes) {
    error = "a value larger than " + std::to_string(kProtocolMaxBytes) + " bytes";
    return false;
  }
  size_t length = 0;
  if (!check_protocol_bytes(bytes, kProtocolMaxDepth, length, error)) return false;
  if (length != bytes.size()) {
    error = "stray bytes after the value";
    return false;
  }
  try {
    const size_t n = bytes.size();
    std::size_t offset = 0;
    // Belt and braces: check_protocol_bytes already bounds all of these.
    msgpack::object_handle h = msgpack::unpack(bytes.data(), n, offset, nullptr, nullptr,
                                               msgpack::unpack_limit(n, n, n, n, n, kProtocolMaxDepth + 1));
    out = Decoder(program).decode(h.get(), type, 0);
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

}  // namespace ved::vm
