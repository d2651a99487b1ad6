// The encoding: msgpack, shaped by the value's tag.
//
//   unit -> [0]      none -> nil      bool -> bool     int -> int     float -> float64
//   string -> str    list -> [items]  map -> [k1, v1, k2, v2, ...] in key order (as an
//   array wrapped in a 1-entry map {"m": [...]}, to tell it from a list)
//   record -> {"r": [type, fields...]}   intent -> {"i": [effect, key, args...]}
//
// Decoding is directed by the expected type, which settles every ambiguity, and checks
// every part of the value against it.
#include "vm/value_codec.h"

#include "bytecode/msgpack_float.h"
#include "vm/string_sink.h"

#include <msgpack.hpp>

namespace ved::vm {

namespace {

using Packer = msgpack::packer<StringSink>;

void float64(StringSink& buffer, double f) {
  const auto bytes = bytecode::msgpack_float64(f);
  buffer.write(bytes.data(), bytes.size());
}

// Iterative, so that deeply nested values cannot overflow the stack. Refuses a value
// nested deeper than the decoder reads back (kMaxStoredDepth), so that nothing is written
// that could not be loaded again.
void pack(Packer& p, StringSink& buffer, const Value& root) {
  // Reused: a value is encoded for every instance a tick changes (a big one's room is
  // given back below).
  thread_local std::vector<std::pair<const Value*, int>> work;
  work.clear();
  if (work.capacity() > 4096) std::vector<std::pair<const Value*, int>>().swap(work);
  work.emplace_back(&root, 0);
  while (!work.empty()) {
    const auto [v, depth] = work.back();
    work.pop_back();
    if (depth > kMaxStoredDepth) throw ValueTooDeep();
    switch (v->tag()) {
      case Tag::Unit:
        p.pack_array(1);
        p.pack(0);
        break;
      case Tag::None: p.pack_nil(); break;
      case Tag::Bool: p.pack(v->as_bool()); break;
      case Tag::Int: p.pack(v->as_int()); break;
      case Tag::Float: float64(buffer, v->as_float()); break;
      case Tag::String: p.pack(v->as_string()); break;
      case Tag::List: {
        const auto& items = v->as_list();
        p.pack_array(static_cast<uint32_t>(items.size()));
        for (auto it = items.rbegin(); it != items.rend(); ++it) work.emplace_back(&*it, depth + 1);
        break;
      }
      case Tag::Map: {
        const auto& entries = v->as_map();
        p.pack_map(1);
        p.pack(std::string("m"));
        p.pack_array(static_cast<uint32_t>(2 * entries.size()));
        for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
          work.emplace_back(&it->second, depth + 1);
          work.emplace_back(&it->first, depth + 1);
        }
        break;
      }
      case Tag::Record: {
        const RecordObj& r = v->as_record();
        p.pack_map(1);
        p.pack(std::string("r"));
        p.pack_array(static_cast<uint32_t>(1 + r.fields.size()));
        p.pack(r.type);
        for (auto it = r.fields.rbegin(); it != r.fields.rend(); ++it) work.emplace_back(&*it, depth + 1);
        break;
      }
      case Tag::Intent: {
        const IntentObj& in = v->as_intent();
        p.pack_map(1);
        p.pack(std::string("i"));
        p.pack_array(static_cast<uint32_t>(2 + in.args.size()));
        p.pack(in.effect);
        for (auto it = in.args.rbegin(); it != in.args.rend(); ++it) work.emplace_back(&*it, depth + 1);
        work.emplace_back(&in.idempotency_key, depth + 1);
        break;
      }
    }
  }
}

struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The array inside a one-entry map {key: [...]}: how maps, records and intents are told
// apart from lists. `what` names it for errors.
const msgpack::object& tagged(const msgpack::object& o, const char* key, const char* what) {
  const bool ok = o.type == msgpack::type::MAP && o.via.map.size == 1 &&
                  o.via.map.ptr[0].key.type == msgpack::type::STR &&
                  std::string_view(o.via.map.ptr[0].key.via.str.ptr, o.via.map.ptr[0].key.via.str.size) == key &&
                  o.via.map.ptr[0].val.type == msgpack::type::ARRAY;
  if (!ok) throw DecodeError(std::string("expected ") + what);
  return o.via.map.ptr[0].val;
}

class Decoder {
 public:
  explicit Decoder(const Program& p) : p_(p) {}

  Value decode(const msgpack::object& o, uint32_t type, int depth) {
    if (depth > 10000) throw DecodeError("nested too deeply");
    const TypeInfo& t = p_.types.at(type);
    switch (t.kind) {
      case TypeKind::Unit:
        if (o.type != msgpack::type::ARRAY || o.via.array.size != 1) throw DecodeError("expected unit");
        return Value();
      case TypeKind::Bool:
        if (o.type != msgpack::type::BOOLEAN) throw DecodeError("expected a bool");
        return Value::boolean(o.via.boolean);
      case TypeKind::Int:
        if (o.type == msgpack::type::POSITIVE_INTEGER) {
          if (o.via.u64 > static_cast<uint64_t>(INT64_MAX)) throw DecodeError("int out of range");
          return Value::integer(static_cast<int64_t>(o.via.u64));
        }
        if (o.type == msgpack::type::NEGATIVE_INTEGER) return Value::integer(o.via.i64);
        throw DecodeError("expected an int");
      case TypeKind::Float:
        if (o.type != msgpack::type::FLOAT64) throw DecodeError("expected a float");
        return Value::floating(o.via.f64);
      case TypeKind::String: {
        if (o.type != msgpack::type::STR) throw DecodeError("expected a string");
        std::string s(o.via.str.ptr, o.via.str.size);
        if (!is_valid_utf8(s)) throw DecodeError("a string is not valid UTF-8");
        return Value::string(std::move(s));
      }
      case TypeKind::Optional:
        if (o.type == msgpack::type::NIL) return Value::none();
        return decode(o, t.x, depth + 1);
      case TypeKind::List: {
        if (o.type != msgpack::type::ARRAY) throw DecodeError("expected a list");
        std::vector<Value> items;
        items.reserve(o.via.array.size);
        for (uint32_t i = 0; i < o.via.array.size; ++i) items.push_back(decode(o.via.array.ptr[i], t.x, depth + 1));
        return Value::list(std::move(items));
      }
      case TypeKind::Map: {
        const msgpack::object& a = tagged(o, "m", "a map");
        if (a.via.array.size % 2 != 0) throw DecodeError("a map has an odd number of items");
        MapEntries entries;
        for (uint32_t i = 0; i < a.via.array.size; i += 2) {
          Value k = decode(a.via.array.ptr[i], t.x, depth + 1);
          Value v = decode(a.via.array.ptr[i + 1], t.y, depth + 1);
          if (!entries.emplace(std::move(k), std::move(v))) throw DecodeError("a map has a key twice");
        }
        return Value::map(std::move(entries));
      }
      case TypeKind::Record: {
        const msgpack::object& a = tagged(o, "r", "a record");
        const auto& fields = p_.record_field_types.at(t.x);
        if (a.via.array.size != 1 + fields.size()) throw DecodeError("a record has the wrong number of fields");
        const msgpack::object& rt = a.via.array.ptr[0];
        if (rt.type != msgpack::type::POSITIVE_INTEGER || rt.via.u64 != t.x) throw DecodeError("a record of another type");
        std::vector<Value> values;
        for (size_t i = 0; i < fields.size(); ++i) values.push_back(decode(a.via.array.ptr[1 + i], fields[i], depth + 1));
        return Value::record(t.x, std::move(values));
      }
      case TypeKind::Intent: {
        const msgpack::object& a = tagged(o, "i", "an intent");
        const ExternalInfo& e = p_.effects.at(t.x);
        if (a.via.array.size != 2 + e.params.size()) throw DecodeError("an intent has the wrong number of arguments");
        const msgpack::object& et = a.via.array.ptr[0];
        if (et.type != msgpack::type::POSITIVE_INTEGER || et.via.u64 != t.x) throw DecodeError("an intent of another effect");
        const msgpack::object& k = a.via.array.ptr[1];
        Value key;
        if (k.type == msgpack::type::NIL) {
          key = Value::none();
        } else if (k.type == msgpack::type::STR && is_valid_utf8(std::string_view(k.via.str.ptr, k.via.str.size))) {
          key = Value::string(std::string(k.via.str.ptr, k.via.str.size));
        } else {
          throw DecodeError("an idempotency key is a string");
        }
        std::vector<Value> args;
        for (size_t i = 0; i < e.params.size(); ++i) args.push_back(decode(a.via.array.ptr[2 + i], e.params[i].type, depth + 1));
        return Value::intent(t.x, std::move(args), std::move(key));
      }
    }
    throw DecodeError("unknown type");
  }

 private:
  const Program& p_;
};

}  // namespace

Value zero_value(const Program& p, uint32_t type) {
  const TypeInfo& t = p.types[type];
  switch (t.kind) {
    case TypeKind::Unit: return Value();
    case TypeKind::Bool: return Value::boolean(false);
    case TypeKind::Int: return Value::integer(0);
    case TypeKind::Float: return Value::floating(0.0);
    case TypeKind::String: return Value::string("");
    case TypeKind::List: return Value::list({});
    case TypeKind::Map: return Value::map({});
    case TypeKind::Optional:
    case TypeKind::Intent: return Value::none();
    case TypeKind::Record: {
      std::vector<Value> fields;
      for (uint32_t f : p.record_field_types[t.x]) fields.push_back(zero_value(p, f));
      return Value::record(t.x, std::move(fields));
    }
  }
  return Value();
}

void encode_value(const Value& v, std::string& out) {
  StringSink buffer{out};
  Packer p(buffer);
  pack(p, buffer, v);
}

std::string encode_value(const Value& v) {
  std::string out;
  encode_value(v, out);
  return out;
}

bool decode_value(const Program& program, std::string_view bytes, uint32_t type, Value& out, std::string& error) {
  if (type >= program.types.size()) {
    error = "unknown type";
    return false;
  }
  try {
    std::size_t offset = 0;
    msgpack::object_handle h = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr,
                                               msgpack::unpack_limit(bytes.size(), bytes.size(), bytes.size(),
                                                                     bytes.size(), 0, 20000));
    if (offset != bytes.size()) throw DecodeError("stray bytes after the value");
    out = Decoder(program).decode(h.get(), type, 0);
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

}  // namespace ved::vm
