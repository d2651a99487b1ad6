// Decoding of the bundle document (docs/bundle.md) into a Program. Shapes only: every
// field must be present with its msgpack type; indices and types are the verifier's job.
#include "vm/bundle_loader.h"

#include <xxhash.h>

#include <algorithm>
#include <msgpack.hpp>
#include <stdexcept>

namespace ved::vm {

namespace {

struct LoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Obj = msgpack::object;

// Checked access to the msgpack tree; `where` names the place for error messages.
class Reader {
 public:
  static const Obj* array(const Obj& o, const std::string& where, size_t n = SIZE_MAX) {
    if (o.type != msgpack::type::ARRAY) throw LoadError(where + ": expected an array");
    if (n != SIZE_MAX && o.via.array.size != n)
      throw LoadError(where + ": expected " + std::to_string(n) + " items, found " + std::to_string(o.via.array.size));
    return o.via.array.ptr;
  }
  static uint32_t size(const Obj& o) { return o.via.array.size; }
  static uint64_t u64(const Obj& o, const std::string& where) {
    if (o.type != msgpack::type::POSITIVE_INTEGER) throw LoadError(where + ": expected a non-negative integer");
    return o.via.u64;
  }
  static uint32_t u32(const Obj& o, const std::string& where) {
    uint64_t v = u64(o, where);
    if (v > UINT32_MAX) throw LoadError(where + ": " + std::to_string(v) + " is too large");
    return static_cast<uint32_t>(v);
  }
  static int64_t i64(const Obj& o, const std::string& where) {
    if (o.type == msgpack::type::POSITIVE_INTEGER) {
      if (o.via.u64 > static_cast<uint64_t>(INT64_MAX)) throw LoadError(where + ": integer out of range");
      return static_cast<int64_t>(o.via.u64);
    }
    if (o.type == msgpack::type::NEGATIVE_INTEGER) return o.via.i64;
    throw LoadError(where + ": expected an integer");
  }
  static int32_t i32(const Obj& o, const std::string& where) {
    int64_t v = i64(o, where);
    if (v < INT32_MIN || v > INT32_MAX) throw LoadError(where + ": " + std::to_string(v) + " is out of range");
    return static_cast<int32_t>(v);
  }
  static bool boolean(const Obj& o, const std::string& where) {
    if (o.type != msgpack::type::BOOLEAN) throw LoadError(where + ": expected true or false");
    return o.via.boolean;
  }
  static double f64(const Obj& o, const std::string& where) {
    if (o.type != msgpack::type::FLOAT64 && o.type != msgpack::type::FLOAT32)
      throw LoadError(where + ": expected a float");
    return o.via.f64;
  }
  static std::string str(const Obj& o, const std::string& where) {
    if (o.type != msgpack::type::STR) throw LoadError(where + ": expected a string");
    return std::string(o.via.str.ptr, o.via.str.size);
  }
  // A map with string keys, looked up by name.
  // A key that may be absent (a table added after its format version: docs/bundle.md).
  static const Obj* optional_field(const Obj& map, const char* key) {
    for (uint32_t i = 0; map.type == msgpack::type::MAP && i < map.via.map.size; ++i) {
      const auto& kv = map.via.map.ptr[i];
      if (kv.key.type == msgpack::type::STR && std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key)
        return &kv.val;
    }
    return nullptr;
  }
  static const Obj& field(const Obj& map, const char* key, const std::string& where) {
    if (map.type != msgpack::type::MAP) throw LoadError(where + ": expected a map");
    for (uint32_t i = 0; i < map.via.map.size; ++i) {
      const auto& kv = map.via.map.ptr[i];
      if (kv.key.type == msgpack::type::STR && std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key)
        return kv.val;
    }
    throw LoadError(where + ": missing `" + key + "`");
  }
};

std::string at(const std::string& where, size_t i) { return where + "[" + std::to_string(i) + "]"; }

std::vector<uint32_t> u32_list(const Obj& o, const std::string& where) {
  const Obj* items = Reader::array(o, where);
  std::vector<uint32_t> out;
  out.reserve(Reader::size(o));
  for (uint32_t i = 0; i < Reader::size(o); ++i) out.push_back(Reader::u32(items[i], at(where, i)));
  return out;
}

std::vector<FieldInfo> field_list(const Obj& o, const std::string& where) {
  const Obj* items = Reader::array(o, where);
  std::vector<FieldInfo> out;
  for (uint32_t i = 0; i < Reader::size(o); ++i) {
    std::string w = at(where, i);
    const Obj* f = Reader::array(items[i], w, 2);
    out.push_back(FieldInfo{Reader::str(f[0], w + ".name"), Reader::u32(f[1], w + ".type")});
  }
  return out;
}

template <class F>
void each(const Obj& o, const std::string& where, F&& fn) {
  const Obj* items = Reader::array(o, where);
  uint32_t n = Reader::size(o);
  if (n > bytecode::kMaxTableSize) throw LoadError(where + ": too many entries (" + std::to_string(n) + ")");
  for (uint32_t i = 0; i < n; ++i) fn(items[i], at(where, i), i);
}

void decode_function(const Obj& o, const std::string& where, FunctionInfo& f) {
  const Obj* x = Reader::array(o, where, 10);
  f.name = Reader::str(x[0], where + ".name");
  std::string w = where + " \"" + f.name + "\"";
  uint32_t kind = Reader::u32(x[1], w + ".kind");
  if (kind >= bytecode::kFunctionKindCount) throw LoadError(w + ": unknown function kind " + std::to_string(kind));
  f.kind = static_cast<FunctionKind>(kind);
  f.domain = Reader::i32(x[2], w + ".domain");
  f.param_count = Reader::u32(x[3], w + ".param_count");
  f.result = Reader::u32(x[4], w + ".result");
  f.registers = u32_list(x[5], w + ".registers");
  if (f.registers.size() > bytecode::kMaxRegisters)
    throw LoadError(w + ": " + std::to_string(f.registers.size()) + " registers (at most " +
                    std::to_string(bytecode::kMaxRegisters) + ")");
  f.slice_entries = u32_list(x[6], w + ".slices");
  each(x[7], w + ".slice_names", [&](const Obj& n, const std::string& nw, uint32_t) {
    f.slice_names.push_back(Reader::str(n, nw));
  });
  each(x[8], w + ".blocks", [&](const Obj& b, const std::string& bw, uint32_t) {
    if (f.blocks.size() >= bytecode::kMaxBlocks) throw LoadError(w + ": too many blocks");
    const Obj* blk = Reader::array(b, bw, 2);
    BlockInfo info;
    info.cost = Reader::u32(blk[0], bw + ".cost");
    info.start = static_cast<uint32_t>(f.code.size());
    each(blk[1], bw + ".code", [&](const Obj& ins, const std::string& iw, uint32_t) {
      const Obj* v = Reader::array(ins, iw, 5);
      uint32_t op = Reader::u32(v[0], iw + ".op");
      if (op >= bytecode::kOpCount) throw LoadError(iw + ": unknown opcode " + std::to_string(op));
      Instr i;
      i.op = static_cast<Op>(op);
      uint32_t a = Reader::u32(v[1], iw + ".a"), bb = Reader::u32(v[2], iw + ".b"), c = Reader::u32(v[3], iw + ".c");
      if (a > 0xFFFF || bb > 0xFFFF || c > 0xFFFF) throw LoadError(iw + ": operand wider than 16 bits");
      i.a = static_cast<uint16_t>(a);
      i.b = static_cast<uint16_t>(bb);
      i.c = static_cast<uint16_t>(c);
      i.d = Reader::u32(v[4], iw + ".d");
      f.code.push_back(i);
    });
    f.blocks.push_back(info);
  });
  each(x[9], w + ".positions", [&](const Obj& p, const std::string& pw, uint32_t) {
    const Obj* v = Reader::array(p, pw, 3);
    f.positions.push_back(SourcePos{Reader::u32(v[0], pw), Reader::u32(v[1], pw), Reader::u32(v[2], pw)});
  });
}

void decode_domain(const Obj& o, const std::string& where, DomainInfo& d) {
  const Obj* x = Reader::array(o, where, 11);
  d.name = Reader::str(x[0], where + ".name");
  std::string w = where + " \"" + d.name + "\"";
  d.state_record = Reader::u32(x[1], w + ".state");
  d.initializer = Reader::u32(x[2], w + ".initializer");
  d.scope = Reader::str(x[3], w + ".scope");
  uint32_t depth = Reader::u32(x[4], w + ".scope_depth");
  uint32_t privilege = Reader::u32(x[5], w + ".privilege");
  if (depth > 5) throw LoadError(w + ": scope depth " + std::to_string(depth) + " (0 to 5)");
  if (privilege > 4) throw LoadError(w + ": privilege " + std::to_string(privilege) + " (0 to 4)");
  d.scope_depth = static_cast<uint8_t>(depth);
  d.privilege = static_cast<uint8_t>(privilege);
  d.version = Reader::i64(x[6], w + ".version");
  d.activated_by_default = Reader::boolean(x[7], w + ".activated");
  each(x[8], w + ".goals", [&](const Obj& g, const std::string& gw, uint32_t) {
    const Obj* v = Reader::array(g, gw, 8);
    GoalInfo goal;
    goal.name = Reader::str(v[0], gw + ".name");
    goal.priority = Reader::u32(v[1], gw + ".priority");
    goal.predicate = Reader::u32(v[2], gw + ".predicate");
    goal.strategy = u32_list(v[3], gw + ".strategy");
    goal.inferred_strategy = Reader::boolean(v[4], gw + ".inferred");
    uint32_t tk = Reader::u32(v[5], gw + ".terminate_kind");
    if (tk > 2) throw LoadError(gw + ": terminate kind " + std::to_string(tk) + " (0 to 2)");
    goal.terminate_kind = static_cast<uint8_t>(tk);
    goal.terminate_count = Reader::i64(v[6], gw + ".terminate_count");
    goal.backoff_max = Reader::i64(v[7], gw + ".backoff_max");
    d.goals.push_back(std::move(goal));
  });
  each(x[9], w + ".invariants", [&](const Obj& i, const std::string& iw, uint32_t) {
    const Obj* v = Reader::array(i, iw, 2);
    d.invariants.push_back(InvariantInfo{Reader::str(v[0], iw + ".name"), Reader::u32(v[1], iw + ".function")});
  });
  each(x[10], w + ".transitions", [&](const Obj& t, const std::string& tw, uint32_t) {
    const Obj* v = Reader::array(t, tw, 9);
    TransitionInfo tr;
    tr.name = Reader::str(v[0], tw + ".name");
    tr.params = field_list(v[1], tw + ".params");
    tr.function = Reader::u32(v[2], tw + ".function");
    tr.is_start = Reader::boolean(v[3], tw + ".start");
    tr.on_effect = Reader::i32(v[4], tw + ".on_effect");
    tr.on_ok = Reader::boolean(v[5], tw + ".on_ok");
    tr.budget = Reader::i64(v[6], tw + ".budget");
    tr.escalation = Reader::str(v[7], tw + ".escalation");
    tr.scope = Reader::str(v[8], tw + ".scope");
    d.transitions.push_back(std::move(tr));
  });
}

SourcePos decode_position(const Obj& o, const std::string& where) {
  const Obj* v = Reader::array(o, where, 3);
  return SourcePos{Reader::u32(v[0], where + ".file"), Reader::u32(v[1], where + ".line"),
                   Reader::u32(v[2], where + ".column")};
}

void decode_test(const Obj& o, const std::string& where, TestInfo& t) {
  // Bundles of the first format wrote a test as its name alone.
  if (o.type == msgpack::type::STR)
    throw LoadError(where + ": a test without its compiled body (written by an older vedc): recompile the program");
  const Obj* x = Reader::array(o, where, 6);
  t.name = Reader::str(x[0], where + ".name");
  const std::string w = where + " \"" + t.name + "\"";
  t.position = decode_position(x[1], w + ".position");
  each(x[2], w + ".given", [&](const Obj& g, const std::string& gw, uint32_t) {
    const Obj* v = Reader::array(g, gw, 3);
    t.given.push_back(TestInfo::Given{Reader::u32(v[0], gw + ".domain"), Reader::i32(v[1], gw + ".id_function"),
                                      Reader::u32(v[2], gw + ".fields_function")});
  });
  each(x[3], w + ".stubs", [&](const Obj& s, const std::string& sw, uint32_t) {
    const Obj* v = Reader::array(s, sw, 3);
    t.stubs.push_back(TestInfo::Stub{Reader::u32(v[0], sw + ".effect"), Reader::boolean(v[1], sw + ".fails"),
                                     Reader::i32(v[2], sw + ".value_function")});
  });
  t.script = Reader::i32(x[4], w + ".script");
  each(x[5], w + ".expectations", [&](const Obj& e, const std::string& ew, uint32_t) {
    const Obj* v = Reader::array(e, ew, 5);
    TestInfo::Expectation ex;
    uint32_t kind = Reader::u32(v[0], ew + ".kind");
    if (kind > 2) throw LoadError(ew + ": expectation kind " + std::to_string(kind) + " (0 to 2)");
    ex.kind = static_cast<uint8_t>(kind);
    ex.function = Reader::u32(v[1], ew + ".function");
    ex.domains = u32_list(v[2], ew + ".domains");
    ex.text = Reader::str(v[3], ew + ".text");
    ex.position = decode_position(v[4], ew + ".position");
    t.expectations.push_back(std::move(ex));
  });
}

void decode_body(const Obj& body, Program& p) {
  const std::string w = "bundle";
  p.name = Reader::str(Reader::field(body, "program", w), "program");
  each(Reader::field(body, "sources", w), "sources",
       [&](const Obj& s, const std::string& sw, uint32_t) { p.sources.push_back(Reader::str(s, sw)); });
  each(Reader::field(body, "types", w), "types", [&](const Obj& t, const std::string& tw, uint32_t) {
    const Obj* v = Reader::array(t, tw, 3);
    uint32_t kind = Reader::u32(v[0], tw + ".kind");
    if (kind >= bytecode::kTypeKindCount) throw LoadError(tw + ": unknown type kind " + std::to_string(kind));
    p.types.push_back(TypeInfo{static_cast<TypeKind>(kind), Reader::u32(v[1], tw + ".x"), Reader::u32(v[2], tw + ".y")});
  });
  each(Reader::field(body, "constants", w), "constants", [&](const Obj& c, const std::string& cw, uint32_t) {
    const Obj* v = Reader::array(c, cw, 2);
    switch (Reader::u32(v[0], cw + ".kind")) {
      case 0: p.constants.push_back(Value::integer(Reader::i64(v[1], cw))); break;
      case 1: p.constants.push_back(Value::floating(Reader::f64(v[1], cw))); break;
      case 2: {
        std::string s = Reader::str(v[1], cw);
        if (!is_valid_utf8(s)) throw LoadError(cw + ": string constant is not valid UTF-8");
        p.constants.push_back(Value::string(std::move(s)));
        break;
      }
      case 3: p.constants.push_back(Value::boolean(Reader::boolean(v[1], cw))); break;
      default: throw LoadError(cw + ": unknown constant kind");
    }
  });
  each(Reader::field(body, "records", w), "records", [&](const Obj& r, const std::string& rw, uint32_t) {
    const Obj* v = Reader::array(r, rw, 2);
    RecordLayout layout;
    layout.name = Reader::str(v[0], rw + ".name");
    std::vector<uint32_t> types;
    for (auto& f : field_list(v[1], rw + ".fields")) {
      layout.fields.push_back(f.name);
      types.push_back(f.type);
    }
    p.records.push_back(std::move(layout));
    p.record_field_types.push_back(std::move(types));
  });
  auto externals = [&](const char* key, std::vector<ExternalInfo>& out, bool effects) {
    each(Reader::field(body, key, w), key, [&](const Obj& e, const std::string& ew, uint32_t) {
      const Obj* v = Reader::array(e, ew, effects ? 5 : 3);
      ExternalInfo info;
      info.name = Reader::str(v[0], ew + ".name");
      info.params = field_list(v[1], ew + ".params");
      info.result = Reader::u32(v[2], ew + ".result");
      if (effects) {
        uint32_t priv = Reader::u32(v[3], ew + ".privilege");
        if (priv > 4) throw LoadError(ew + ": privilege " + std::to_string(priv) + " (0 to 4)");
        info.privilege = static_cast<uint8_t>(priv);
        info.declared = Reader::boolean(v[4], ew + ".declared");
      }
      out.push_back(std::move(info));
    });
  };
  externals("effects", p.effects, true);
  for (const auto& e : p.effects) p.effect_names.push_back(e.name);
  externals("observations", p.observations, false);
  each(Reader::field(body, "messages", w), "messages", [&](const Obj& m, const std::string& mw, uint32_t) {
    const Obj* v = Reader::array(m, mw, 5);
    MessageInfo info;
    info.domain = Reader::i32(v[0], mw + ".domain");
    info.transition = Reader::i32(v[1], mw + ".transition");
    info.name = Reader::str(v[2], mw + ".name");
    info.high_lane = Reader::boolean(v[3], mw + ".high");
    info.args = u32_list(v[4], mw + ".args");
    p.messages.push_back(std::move(info));
  });
  each(Reader::field(body, "spawns", w), "spawns", [&](const Obj& s, const std::string& sw, uint32_t) {
    const Obj* v = Reader::array(s, sw, 2);
    p.spawns.push_back(SpawnInfo{Reader::u32(v[0], sw + ".domain"), u32_list(v[1], sw + ".fields")});
  });
  each(Reader::field(body, "functions", w), "functions", [&](const Obj& f, const std::string& fw, uint32_t) {
    p.functions.emplace_back();
    decode_function(f, fw, p.functions.back());
  });
  each(Reader::field(body, "domains", w), "domains", [&](const Obj& d, const std::string& dw, uint32_t) {
    p.domains.emplace_back();
    decode_domain(d, dw, p.domains.back());
  });
  const Obj* sys = Reader::array(Reader::field(body, "system", w), "system", 2);
  p.has_system = Reader::boolean(sys[0], "system.present");
  each(sys[1], "system.starts", [&](const Obj& s, const std::string& sw, uint32_t) {
    const Obj* v = Reader::array(s, sw, 3);
    StartInfo st;
    st.domain = Reader::u32(v[0], sw + ".domain");
    st.id_constant = Reader::i32(v[1], sw + ".id");
    each(v[2], sw + ".fields", [&](const Obj& f, const std::string& fw, uint32_t) {
      const Obj* pair = Reader::array(f, fw, 2);
      st.fields.emplace_back(Reader::u32(pair[0], fw + ".field"), Reader::u32(pair[1], fw + ".constant"));
    });
    p.system.push_back(std::move(st));
  });
  each(Reader::field(body, "migrations", w), "migrations", [&](const Obj& m, const std::string& mw, uint32_t) {
    const Obj* v = Reader::array(m, mw, 5);
    p.migrations.push_back(MigrationInfo{Reader::str(v[0], mw + ".name"), Reader::u32(v[1], mw + ".domain"),
                                         Reader::i64(v[2], mw + ".from"), Reader::i64(v[3], mw + ".to"),
                                         Reader::u32(v[4], mw + ".function")});
  });
  each(Reader::field(body, "tests", w), "tests", [&](const Obj& t, const std::string& tw, uint32_t) {
    p.tests.emplace_back();
    decode_test(t, tw, p.tests.back());
  });
  if (const Obj* deploys = Reader::optional_field(body, "deploys"))
    each(*deploys, "deploys", [&](const Obj& d, const std::string& dw, uint32_t) {
      const Obj* v = Reader::array(d, dw, 3);
      DeployInfo info{Reader::u32(v[0], dw + ".domain"), Reader::str(v[1], dw + ".environment"),
                      Reader::boolean(v[2], dw + ".service")};
      if (info.domain >= p.domains.size())
        throw LoadError(dw + ".domain: " + std::to_string(info.domain) + " is not a domain (the program has " +
                        std::to_string(p.domains.size()) + ")");
      if (info.environment.empty()) throw LoadError(dw + ".environment: empty");
      p.deploys.push_back(std::move(info));
    });
}

// msgpack limits for hostile input: no container may claim more than the bundle could
// hold, and nothing nests deeper than the format does.
msgpack::unpack_limit limits(size_t bytes) {
  size_t n = std::min<size_t>(bytes, bytecode::kMaxTableSize);
  return msgpack::unpack_limit(n, n, bytes, bytes, 0, 16);
}

msgpack::object_handle parse(std::string_view bytes, const char* what) {
  std::size_t offset = 0;
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limits(bytes.size()));
  } catch (const msgpack::insufficient_bytes&) {
    throw LoadError(std::string(what) + " is truncated (the msgpack data ends early)");
  } catch (const msgpack::depth_size_overflow&) {
    throw LoadError(std::string(what) + " is not valid msgpack (nested deeper than a bundle is)");
  } catch (const msgpack::ext_size_overflow& e) {
    throw LoadError(std::string(what) + " is not valid msgpack (" + e.what() + ")");
  } catch (const msgpack::size_overflow&) {
    // An array, map, string or binary whose length is more than the limits allow: more
    // than there are bytes left, which is what a cut-off bundle looks like.
    std::string limit = std::to_string(bytes.size()) + " bytes";
    if (bytes.size() > bytecode::kMaxTableSize) limit += " or " + std::to_string(bytecode::kMaxTableSize) + " entries";
    throw LoadError(std::string(what) + " is truncated (a length in it claims more than its " + limit + ")");
  } catch (const std::exception& e) {
    throw LoadError(std::string(what) + " is not valid msgpack (" + e.what() + ")");
  }
  if (offset != bytes.size())
    throw LoadError(std::string(what) + " has " + std::to_string(bytes.size() - offset) + " stray bytes after its end");
  return handle;
}

// Whether `bytes` begin as ir/bundle_writer.cpp begins every bundle (a map header, then
// the entry magic: "VEDB"), or are a prefix of such a beginning. When the bytes do not
// parse, this tells a damaged bundle (say what is wrong with it) from a file that is no
// bundle at all (a text file, random bytes).
bool starts_like_a_bundle(std::string_view bytes) {
  static constexpr std::string_view kSignature = "\xa5magic\xa4VEDB";
  const auto first = static_cast<uint8_t>(bytes.empty() ? 0 : bytes[0]);
  const size_t header = (first & 0xF0) == 0x80 ? 1 : first == 0xDE ? 3 : first == 0xDF ? 5 : 0;
  if (header == 0) return false;
  if (bytes.size() <= header) return true;
  const std::string_view rest = bytes.substr(header);
  const size_t n = std::min(rest.size(), kSignature.size());
  return rest.substr(0, n) == kSignature.substr(0, n);
}

}  // namespace

bool load_bundle(std::string_view bytes, Program& out, std::string& error, const LoadOptions& options) {
  out = Program{};
  try {
    if (bytes.size() > bytecode::kMaxBundleBytes) throw LoadError("the bundle is larger than 256 MiB");
    if (bytes.empty()) throw LoadError("the bundle is empty");
    msgpack::object_handle envelope;
    try {
      envelope = parse(bytes, "the bundle");
    } catch (const LoadError&) {
      // Bytes that are not even msgpack: a damaged bundle, or something else entirely.
      if (!starts_like_a_bundle(bytes)) throw LoadError("not a Ved bundle (no VEDB header)");
      throw;
    }
    const Obj& env = envelope.get();
    if (env.type != msgpack::type::MAP) throw LoadError("not a Ved bundle (no VEDB header)");
    const Obj* magic = nullptr;
    for (uint32_t i = 0; i < env.via.map.size; ++i) {
      const auto& kv = env.via.map.ptr[i];
      if (kv.key.type == msgpack::type::STR && std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == "magic")
        magic = &kv.val;
    }
    if (!magic || magic->type != msgpack::type::STR ||
        std::string_view(magic->via.str.ptr, magic->via.str.size) != bytecode::kMagic)
      throw LoadError("not a Ved bundle (no VEDB header)");
    out.format = Reader::u32(Reader::field(env, "format", "header"), "header.format");
    out.compiler = Reader::str(Reader::field(env, "compiler", "header"), "header.compiler");
    if (out.format != bytecode::kFormatVersion)
      throw LoadError("bundle format version " + std::to_string(out.format) + " (written by " + out.compiler +
                      "); this VM reads version " + std::to_string(bytecode::kFormatVersion) +
                      ": recompile the program with this release's vedc");
    out.hash = Reader::u64(Reader::field(env, "hash", "header"), "header.hash");
    const Obj& body_bin = Reader::field(env, "body", "header");
    if (body_bin.type != msgpack::type::BIN) throw LoadError("header.body: expected binary data");
    std::string_view body(body_bin.via.bin.ptr, body_bin.via.bin.size);
    if (options.check_hash && XXH64(body.data(), body.size(), 0) != out.hash)
      throw LoadError("the bundle is corrupted: its content does not match its hash (damaged in storage or transit?)");
    msgpack::object_handle body_doc = parse(body, "the bundle body");
    decode_body(body_doc.get(), out);
  } catch (const LoadError& e) {
    error = e.what();
    return false;
  } catch (const std::bad_alloc&) {
    error = "the bundle claims more memory than is available";
    return false;
  }
  return verify_program(out, error);
}

}  // namespace ved::vm
