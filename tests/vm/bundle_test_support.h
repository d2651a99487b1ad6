// Helpers for the tests of bad bundles (tests/vm/bundle_rejection_test.cpp and
// tests/e2e/vedvm_bad_bundle_test.cpp): compile a program with the real `vedc`, take
// the bundle apart, change one thing, and put it back together with a correct hash.
//
// No bundle is ever checked in: every valid bundle is compiled at test time from the
// source text in the test, and every bad one is derived from it in memory.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <msgpack.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytecode/format.h"
#include "bytecode/opcodes.h"
#include "vm/bundle_loader.h"

namespace ved::vm::test {

// ---- files and processes ---------------------------------------------------------------

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_bytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE_MESSAGE(out.good(), "cannot write " << path.string());
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'') out += "'\\''";
    else out.push_back(ch);
  }
  return out + "'";
}

// A directory of its own for this test process, removed at exit.
inline const std::filesystem::path& scratch_dir() {
  struct Dir {
    std::filesystem::path path;
    Dir() {
      path = std::filesystem::temp_directory_path() / ("ved-bundle-test-" + std::to_string(getpid()));
      std::filesystem::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static Dir dir;
  return dir.path;
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a shell command line, capturing stdout and stderr.
inline CommandResult run_command(const std::string& command_line) {
  static std::atomic<int> counter{0};
  const std::string stem = "cmd-" + std::to_string(counter++);
  const auto out_path = scratch_dir() / (stem + ".out");
  const auto err_path = scratch_dir() / (stem + ".err");
  const std::string full = command_line + " >" + shell_quote(out_path.string()) + " 2>" +
                           shell_quote(err_path.string()) + " </dev/null";
  const int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  r.out = read_bytes(out_path);
  r.err = read_bytes(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return r;
}

// Compiles `source` with the real vedc (VED_VEDC) and returns the bundle's bytes.
// Bundles are cached by name: each program is compiled once per test process.
inline const std::string& compile(const std::string& name, const std::string& source) {
  static std::map<std::string, std::string> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  const auto src = scratch_dir() / (name + ".ved");
  const auto out = scratch_dir() / (name + ".vedb");
  write_bytes(src, source);
  CommandResult r = run_command(shell_quote(VED_VEDC) + " --color=never -o " + shell_quote(out.string()) + " " +
                                shell_quote(src.string()));
  REQUIRE_MESSAGE(r.exit_code == 0, "vedc failed on " << name << ":\n" << r.err);
  std::string bytes = read_bytes(out);
  REQUIRE(!bytes.empty());
  return cache.emplace(name, std::move(bytes)).first->second;
}

// ---- loading -----------------------------------------------------------------------------

struct Loaded {
  bool ok = false;
  std::string error;
};

inline Loaded load(std::string_view bytes, bool check_hash = true) {
  Program p;
  Loaded r;
  r.ok = load_bundle(bytes, p, r.error, LoadOptions{.check_hash = check_hash});
  return r;
}

// ---- a mutable msgpack tree ----------------------------------------------------------------

// A msgpack document as a tree that can be edited and packed again. Packing is
// canonical in the way ir/bundle_writer.cpp packs (smallest integer encodings, floats as
// float64), so decoding and re-encoding a bundle's body gives the same bytes.
struct Node {
  enum class Kind { Nil, Bool, UInt, Int, Float, Str, Bin, Array, Map, Raw } kind = Kind::Nil;
  bool b = false;
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  std::string s;                                // Str, Bin, and Raw (bytes packed as they are)
  std::vector<Node> items;                      // Array
  std::vector<std::pair<Node, Node>> entries;   // Map

  static Node uint(uint64_t v) {
    Node n;
    n.kind = Kind::UInt;
    n.u = v;
    return n;
  }
  static Node str(std::string v) {
    Node n;
    n.kind = Kind::Str;
    n.s = std::move(v);
    return n;
  }
  static Node array(std::vector<Node> v = {}) {
    Node n;
    n.kind = Kind::Array;
    n.items = std::move(v);
    return n;
  }
  // Bytes written into the document unchanged (a hostile header, say).
  static Node raw(std::string bytes) {
    Node n;
    n.kind = Kind::Raw;
    n.s = std::move(bytes);
    return n;
  }

  static Node from(const msgpack::object& o) {
    Node n;
    switch (o.type) {
      case msgpack::type::NIL: n.kind = Kind::Nil; break;
      case msgpack::type::BOOLEAN: n.kind = Kind::Bool; n.b = o.via.boolean; break;
      case msgpack::type::POSITIVE_INTEGER: n.kind = Kind::UInt; n.u = o.via.u64; break;
      case msgpack::type::NEGATIVE_INTEGER: n.kind = Kind::Int; n.i = o.via.i64; break;
      case msgpack::type::FLOAT32:
      case msgpack::type::FLOAT64: n.kind = Kind::Float; n.f = o.via.f64; break;
      case msgpack::type::STR: n.kind = Kind::Str; n.s.assign(o.via.str.ptr, o.via.str.size); break;
      case msgpack::type::BIN: n.kind = Kind::Bin; n.s.assign(o.via.bin.ptr, o.via.bin.size); break;
      case msgpack::type::ARRAY:
        n.kind = Kind::Array;
        for (uint32_t k = 0; k < o.via.array.size; ++k) n.items.push_back(from(o.via.array.ptr[k]));
        break;
      case msgpack::type::MAP:
        n.kind = Kind::Map;
        for (uint32_t k = 0; k < o.via.map.size; ++k)
          n.entries.emplace_back(from(o.via.map.ptr[k].key), from(o.via.map.ptr[k].val));
        break;
      default: FAIL("unexpected msgpack type in a bundle"); break;
    }
    return n;
  }

  static Node decode(std::string_view bytes) {
    msgpack::object_handle h = msgpack::unpack(bytes.data(), bytes.size());
    return from(h.get());
  }

  void pack(msgpack::packer<msgpack::sbuffer>& p, msgpack::sbuffer& out) const {
    switch (kind) {
      case Kind::Nil: p.pack_nil(); break;
      case Kind::Bool: b ? p.pack_true() : p.pack_false(); break;
      case Kind::UInt: p.pack(u); break;
      case Kind::Int: p.pack(i); break;
      case Kind::Float: {
        // Always float64 (msgpack-c's pack_double writes integral values as integers).
        uint64_t bits;
        std::memcpy(&bits, &f, 8);
        char buf[9];
        buf[0] = static_cast<char>(0xcb);
        for (int k = 0; k < 8; ++k) buf[1 + k] = static_cast<char>(bits >> (56 - 8 * k));
        out.write(buf, 9);
        break;
      }
      case Kind::Str: p.pack_str(static_cast<uint32_t>(s.size())); p.pack_str_body(s.data(), static_cast<uint32_t>(s.size())); break;
      case Kind::Bin: p.pack_bin(static_cast<uint32_t>(s.size())); p.pack_bin_body(s.data(), static_cast<uint32_t>(s.size())); break;
      case Kind::Array:
        p.pack_array(static_cast<uint32_t>(items.size()));
        for (const Node& n : items) n.pack(p, out);
        break;
      case Kind::Map:
        p.pack_map(static_cast<uint32_t>(entries.size()));
        for (const auto& [k, v] : entries) {
          k.pack(p, out);
          v.pack(p, out);
        }
        break;
      case Kind::Raw: out.write(s.data(), s.size()); break;
    }
  }

  std::string encode() const {
    msgpack::sbuffer out;
    msgpack::packer<msgpack::sbuffer> p(out);
    pack(p, out);
    return std::string(out.data(), out.size());
  }

  Node& operator[](std::string_view key) {
    REQUIRE(kind == Kind::Map);
    for (auto& [k, v] : entries)
      if (k.kind == Kind::Str && k.s == key) return v;
    FAIL("no key `" << std::string(key) << "` in the map");
    return *this;
  }
  Node& operator[](size_t index) {
    REQUIRE(kind == Kind::Array);
    REQUIRE(index < items.size());
    return items[index];
  }
  size_t size() const { return kind == Kind::Map ? entries.size() : items.size(); }
  void remove_key(std::string_view key) {
    for (size_t k = 0; k < entries.size(); ++k)
      if (entries[k].first.kind == Kind::Str && entries[k].first.s == key) {
        entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(k));
        return;
      }
    FAIL("no key `" << std::string(key) << "` to remove");
  }
};

// ---- the envelope ----------------------------------------------------------------------------

// The envelope as ir/bundle_writer.cpp writes it: {magic, format, compiler, hash, body}.
inline std::string wrap(const std::string& body, uint64_t format = bytecode::kFormatVersion,
                        std::string compiler = "vedc test") {
  Node env;
  env.kind = Node::Kind::Map;
  env.entries.emplace_back(Node::str("magic"), Node::str(std::string(bytecode::kMagic)));
  env.entries.emplace_back(Node::str("format"), Node::uint(format));
  env.entries.emplace_back(Node::str("compiler"), Node::str(std::move(compiler)));
  env.entries.emplace_back(Node::str("hash"), Node::uint(XXH64(body.data(), body.size(), 0)));
  Node bin;
  bin.kind = Node::Kind::Bin;
  bin.s = body;
  env.entries.emplace_back(Node::str("body"), std::move(bin));
  return env.encode();
}

inline std::string body_of(const std::string& bundle) { return Node::decode(bundle)["body"].s; }

// Decodes the body, lets `change` edit it, and wraps it again with a correct hash.
template <class F>
std::string mutate(const std::string& bundle, F&& change) {
  Node body = Node::decode(body_of(bundle));
  change(body);
  return wrap(body.encode());
}

// ---- finding things in a body -----------------------------------------------------------------
// A function is [name, kind, domain, param_count, result, registers, slices, slice_names,
// blocks, positions]; a block is [cost, code]; an instruction is [op, a, b, c, d].

enum FnField : size_t { kName = 0, kKind, kDomain, kParams, kResult, kRegisters, kSlices, kSliceNames, kBlocks, kPositions };
enum InstrField : size_t { kOp = 0, kA, kB, kC, kD };

inline Node& function(Node& body, std::string_view name) {
  for (Node& f : body["functions"].items)
    if (f[kName].s == name) return f;
  FAIL("no function `" << std::string(name) << "` in the bundle");
  return body;
}

inline size_t function_index(Node& body, std::string_view name) {
  auto& fs = body["functions"].items;
  for (size_t k = 0; k < fs.size(); ++k)
    if (fs[k][kName].s == name) return k;
  FAIL("no function `" << std::string(name) << "` in the bundle");
  return 0;
}

inline Node& code(Node& fn, size_t block) { return fn[kBlocks][block][1]; }

struct Where {
  size_t block = 0;
  size_t index = 0;  // within the block
  size_t flat = 0;   // within the function (the positions table's index)
};

// The `nth` instruction with opcode `op` in `fn`, in block order.
inline Where find(Node& fn, bytecode::Op op, size_t nth = 0) {
  size_t flat = 0;
  for (size_t b = 0; b < fn[kBlocks].size(); ++b) {
    Node& c = code(fn, b);
    for (size_t k = 0; k < c.size(); ++k, ++flat)
      if (c[k][kOp].u == static_cast<uint64_t>(op) && nth-- == 0) return Where{b, k, flat};
  }
  FAIL("no instruction " << bytecode::op_info(op).name << " in `" << fn[kName].s << "`");
  return {};
}

inline Node& instr(Node& fn, const Where& w) { return code(fn, w.block)[w.index]; }

// Removes one instruction, keeping the block's cost and the position table consistent.
inline void remove_instr(Node& fn, const Where& w) {
  Node& block = fn[kBlocks][w.block];
  block[1].items.erase(block[1].items.begin() + static_cast<std::ptrdiff_t>(w.index));
  block[0].u -= 1;
  fn[kPositions].items.erase(fn[kPositions].items.begin() + static_cast<std::ptrdiff_t>(w.flat));
}

// The first entry of the type table with this kind (and, if given, x).
inline size_t type_of_kind(Node& body, bytecode::TypeKind kind, int64_t x = -1) {
  auto& types = body["types"].items;
  for (size_t k = 0; k < types.size(); ++k)
    if (types[k][0].u == static_cast<uint64_t>(kind) && (x < 0 || types[k][1].u == static_cast<uint64_t>(x))) return k;
  FAIL("no type of kind " << static_cast<int>(kind));
  return 0;
}

inline size_t record_index(Node& body, std::string_view name) {
  auto& rs = body["records"].items;
  for (size_t k = 0; k < rs.size(); ++k)
    if (rs[k][0].s == name) return k;
  FAIL("no record `" << std::string(name) << "`");
  return 0;
}

// `"add": block 0, instruction 1 (ADD_I64)`: how the verifier names an instruction.
inline std::string site(const std::string& fn, const Where& w, bytecode::Op op) {
  return "\"" + fn + "\": block " + std::to_string(w.block) + ", instruction " + std::to_string(w.index) + " (" +
         bytecode::op_info(op).name + ")";
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- the programs ------------------------------------------------------------------------------

// A small bundle (a few hundred bytes): every bit of it is flipped in a loop.
inline const std::string& small_bundle() {
  return compile("small", "fn add(a: int, b: int) -> int { return a + b }\n");
}

// One of most things: fns of several types, a loop, a call, a record, a map, a domain
// with state, an invariant, a goal, a two-slice transition and a message.
inline const std::string& rich_bundle() {
  return compile("rich", R"(type Worker { id: string, size: int }

fn add(a: int, b: int) -> int { return a + b }
fn mix(n: int, s: string) -> int { return n + len(s) }
fn greet(name: string) -> string { return "hello " + name }
fn count(n: int) -> int {
    let s = 0
    for i in 0..n { s += i }
    return s
}
fn twice(n: int) -> int { return add(n, n) }
fn ratio(x: float) -> float { return x * 2.5 }
fn table() -> map<string, float> { return {"a": 1.5} }
fn total(ws: list<Worker>) -> int {
    let sum = 0
    for w in ws { sum += w.size }
    return sum
}

domain Counter {
    state { n: int  names: list<string>  score: float = 0.5  boss: Worker }
    invariant Small { n < 1000 }
    goal Done { predicate: n >= 3  strategy: Step }
    transition Step() {
        slice first { n = n + 1 }
        slice second { names = append(names, "x") }
    }
    transition Ping(k: int) {
        n = n + k
        send Counter.Pong(k: k)
    }
    transition Pong(k: int) { score = score + 1.5 }
}
)");
}

}  // namespace ved::vm::test
