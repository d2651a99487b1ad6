// Bad bundles are rejected with a message that names the problem, and never crash the
// loader or the verifier: truncated, garbled, bit-flipped, wrong-version and hostile
// bundles (hostile: decoded, changed in one place, re-encoded with a correct hash, so
// that only the verifier stands between them and the interpreter).
//
// Valid bundles come from the real vedc at test time (bundle_test_support.h); nothing
// generated is checked in.
#include <random>

#include "bundle_test_support.h"
#include "vm/disassembler.h"

using namespace ved::vm;
using namespace ved::vm::test;
using ved::bytecode::Op;
using ved::bytecode::TypeKind;

namespace {

// Asserts that `bytes` is rejected with a message containing every one of `needles`.
void rejected(const std::string& bytes, std::initializer_list<std::string> needles, bool check_hash = true) {
  Loaded r = load(bytes, check_hash);
  REQUIRE_MESSAGE(!r.ok, "accepted a bad bundle");
  for (const auto& n : needles) CHECK_MESSAGE(contains(r.error, n), "message: " << r.error << "\nexpected: " << n);
}

// A hostile body: `change` edits the decoded body, the result is wrapped with a correct
// hash. Written `hostile(change).names({...})`, so that the change has run (and set
// whatever the expected message is built from) before the expected message is built.
struct Hostile {
  std::string bytes;
  void names(std::initializer_list<std::string> needles) const { rejected(bytes, needles); }
};
template <class F>
Hostile hostile(F&& change) {
  return Hostile{mutate(rich_bundle(), change)};
}

std::string uint32_be(uint8_t tag, uint32_t n) {
  std::string s(1, static_cast<char>(tag));
  for (int k = 3; k >= 0; --k) s.push_back(static_cast<char>(n >> (8 * k)));
  return s;
}

}  // namespace

// ---- the helpers themselves --------------------------------------------------------------

TEST_CASE("bad bundles: the test programs compile, load, and survive a decode/encode round trip") {
  for (const std::string* bundle : {&small_bundle(), &rich_bundle()}) {
    Loaded r = load(*bundle);
    REQUIRE_MESSAGE(r.ok, r.error);
    const std::string body = body_of(*bundle);
    CHECK(Node::decode(body).encode() == body);  // so every mutation below changes one thing only
    Loaded again = load(wrap(body));
    CHECK_MESSAGE(again.ok, again.error);
  }
}

// ---- (a) truncated --------------------------------------------------------------------------

TEST_CASE("bad bundles: empty and truncated at every length") {
  rejected("", {"the bundle is empty"});
  const std::string& b = small_bundle();
  rejected(b.substr(0, 1), {"truncated"});
  rejected(b.substr(0, b.size() / 2), {"truncated"});
  rejected(b.substr(0, b.size() - 1), {"truncated"});
  size_t checked = 0;
  for (size_t n = 1; n < b.size(); ++n) {
    Loaded r = load(std::string_view(b).substr(0, n));
    CHECK_MESSAGE(!r.ok, "a " << n << "-byte prefix was accepted");
    CHECK_MESSAGE(contains(r.error, "truncated"), n << " bytes: " << r.error);
    ++checked;
  }
  CHECK(checked == b.size() - 1);
  const std::string& rich = rich_bundle();
  for (size_t n : {size_t{1}, size_t{2}, size_t{12}, rich.size() / 3, rich.size() / 2, rich.size() - 1})
    rejected(rich.substr(0, n), {"truncated"});
}

TEST_CASE("bad bundles: a truncated body under a correct hash is `the bundle body is truncated`") {
  const std::string body = body_of(rich_bundle());
  for (size_t n : {size_t{1}, size_t{7}, body.size() / 2, body.size() - 1})
    rejected(wrap(body.substr(0, n)), {"the bundle body is truncated"});
  rejected(wrap(""), {"the bundle body is"});
}

TEST_CASE("bad bundles: bytes after the end are named") {
  rejected(small_bundle() + "x", {"1 stray bytes after its end"});
  rejected(wrap(body_of(small_bundle()) + std::string(3, '\0')), {"the bundle body has 3 stray bytes"});
}

// ---- (b) garbled ------------------------------------------------------------------------------

TEST_CASE("bad bundles: random bytes are not a Ved bundle") {
  std::mt19937_64 rng(20240611);
  size_t count = 0;
  for (size_t len : {1, 2, 3, 5, 8, 16, 64, 100, 512, 4096}) {
    for (int k = 0; k < 20; ++k) {
      std::string bytes(len, '\0');
      for (char& c : bytes) c = static_cast<char>(rng());
      // A start that reads as a bundle's (a map header, then the key "magic") is no longer
      // random: that is a damaged bundle, and the loader says what is wrong with it.
      const auto first = static_cast<uint8_t>(bytes[0]);
      if ((first & 0xF0) == 0x80 || first == 0xDE || first == 0xDF) bytes[0] = 'x';
      Loaded r = load(bytes);
      CHECK(!r.ok);
      CHECK_MESSAGE(contains(r.error, "not a Ved bundle"), len << " random bytes: " << r.error);
      ++count;
    }
  }
  CHECK(count == 200);
}

TEST_CASE("bad bundles: text files are not Ved bundles") {
  for (std::string text : {"hello world\n", "fn add(a: int, b: int) -> int { return a + b }\n",
                           "{\"magic\": \"VEDB\", \"format\": 1}\n", "VEDB", "\xef\xbb\xbf# a BOM\n", "\n", " "}) {
    Loaded r = load(text);
    CHECK(!r.ok);
    CHECK_MESSAGE(contains(r.error, "not a Ved bundle"), text << ": " << r.error);
  }
}

TEST_CASE("bad bundles: a msgpack document that is not a map, or a map without the magic") {
  auto encode = [](const Node& n) { return n.encode(); };
  rejected(encode(Node::array({Node::uint(1), Node::uint(2), Node::uint(3)})), {"not a Ved bundle"});
  rejected(encode(Node::uint(42)), {"not a Ved bundle"});
  rejected(encode(Node::str("VEDB")), {"not a Ved bundle"});
  rejected(encode(Node{}), {"not a Ved bundle"});  // nil
  Node env = Node::decode(small_bundle());
  Node without = env;
  without.remove_key("magic");
  rejected(without.encode(), {"not a Ved bundle"});
  Node wrong = env;
  wrong["magic"].s = "VEDX";
  rejected(wrong.encode(), {"not a Ved bundle"});
  Node as_bin = env;
  as_bin["magic"].kind = Node::Kind::Bin;
  rejected(as_bin.encode(), {"not a Ved bundle"});
  Node as_int = env;
  as_int["magic"] = Node::uint(1);
  rejected(as_int.encode(), {"not a Ved bundle"});
  Node empty;
  empty.kind = Node::Kind::Map;
  rejected(empty.encode(), {"not a Ved bundle"});
}

TEST_CASE("bad bundles: a header with a missing or mistyped field names it") {
  Node env = Node::decode(small_bundle());
  for (const char* key : {"format", "compiler", "hash", "body"}) {
    Node e = env;
    e.remove_key(key);
    rejected(e.encode(), {std::string("header: missing `") + key + "`"});
  }
  Node body_str = env;
  body_str["body"].kind = Node::Kind::Str;
  rejected(body_str.encode(), {"header.body: expected binary data"});
  Node hash_str = env;
  hash_str["hash"] = Node::str("0");
  rejected(hash_str.encode(), {"header.hash: expected a non-negative integer"});
}

TEST_CASE("bad bundles: a body that is not the document names what is missing") {
  rejected(wrap(Node::array().encode()), {"bundle: expected a map"});
  rejected(mutate(small_bundle(), [](Node& b) { b.remove_key("functions"); }), {"bundle: missing `functions`"});
  rejected(mutate(small_bundle(), [](Node& b) { b["functions"] = Node::uint(3); }), {"functions: expected an array"});
  rejected(mutate(small_bundle(), [](Node& b) { function(b, "add")[kBlocks] = Node::str("x"); }),
           {"\"add\".blocks: expected an array"});
  rejected(mutate(small_bundle(), [](Node& b) { function(b, "add").items.pop_back(); }),
           {"functions[0]: expected 10 items, found 9"});
}

// ---- (c) bit flips ------------------------------------------------------------------------------

TEST_CASE("bad bundles: every single-bit flip in the body is caught by the hash") {
  const std::string& b = small_bundle();
  const std::string body = body_of(b);
  const size_t offset = b.size() - body.size();  // the body is the envelope's last field
  REQUIRE(b.compare(offset, std::string::npos, body) == 0);
  size_t flips = 0;
  for (size_t byte = offset; byte < b.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = b;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      Loaded r = load(damaged);
      CHECK_MESSAGE(!r.ok, "flip of byte " << byte << " bit " << bit << " accepted");
      CHECK_MESSAGE(contains(r.error, "does not match its hash"), "byte " << byte << " bit " << bit << ": " << r.error);
      ++flips;
    }
  }
  CHECK(flips == 8 * body.size());
  MESSAGE("flipped " << flips << " body bits of a " << b.size() << "-byte bundle");
}

TEST_CASE("bad bundles: every single-bit flip in the header is rejected, except in the compiler's name") {
  const std::string& b = small_bundle();
  const size_t body_size = body_of(b).size();
  const size_t header_end = b.size() - body_size;
  const std::string compiler = Node::decode(b)["compiler"].s;
  const size_t compiler_at = b.find(compiler);
  REQUIRE(compiler_at != std::string::npos);
  size_t flips = 0, accepted = 0;
  for (size_t byte = 0; byte < header_end; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = b;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      Loaded r = load(damaged);
      ++flips;
      if (r.ok) {
        ++accepted;
        // The compiler's name is informational; nothing else in the header may change.
        CHECK_MESSAGE((byte >= compiler_at && byte < compiler_at + compiler.size()),
                      "flip of header byte " << byte << " bit " << bit << " accepted");
      } else {
        CHECK(!r.error.empty());
      }
    }
  }
  CHECK(accepted <= 8 * compiler.size());
  MESSAGE("flipped " << flips << " header bits; " << accepted << " (in the compiler's name) loaded");
}

TEST_CASE("bad bundles: with the hash check off, bit flips reach the decoder and verifier and never crash") {
  // What the fuzz target does at random, here for every bit of the small bundle and every
  // third bit of the rich one: the load either fails with a message or verifies, and a
  // verified program disassembles.
  size_t flips = 0, loaded = 0;
  for (const std::string* bundle : {&small_bundle(), &rich_bundle()}) {
    const std::string body = body_of(*bundle);
    const size_t stride = bundle == &small_bundle() ? 1 : 3;
    for (size_t bit = 0; bit < 8 * body.size(); bit += stride) {
      std::string damaged = body;
      damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
      std::string bytes = wrap(damaged);
      Program p;
      std::string error;
      ++flips;
      if (load_bundle(bytes, p, error, LoadOptions{.check_hash = false})) {
        ++loaded;
        CHECK(!disassemble(p, nullptr).empty());
      } else {
        CHECK(!error.empty());
      }
    }
  }
  MESSAGE(flips << " flipped bodies loaded without the hash check; " << loaded << " still verified");
}

// ---- (d) format version -----------------------------------------------------------------------------

TEST_CASE("bad bundles: another format version names both versions and says to recompile") {
  const std::string body = body_of(small_bundle());
  // 1 is the format before migrations were compiled (docs/bundle.md#format-versions).
  for (uint64_t version : {uint64_t{1}, uint64_t{3}, uint64_t{0}, uint64_t{99}, uint64_t{UINT32_MAX}}) {
    rejected(wrap(body, version, "vedc 9.9.9"),
             {"bundle format version " + std::to_string(version), "written by vedc 9.9.9",
              "this VM reads version " + std::to_string(ved::bytecode::kFormatVersion), "recompile"});
  }
  rejected(wrap(body, uint64_t{1} << 40), {"header.format", "too large"});
  // The version is checked before the hash: a future format may hash differently.
  Node env = Node::decode(wrap(body, 3));
  env["hash"] = Node::uint(0);
  rejected(env.encode(), {"bundle format version 3"});
}

// ---- (e) hostile bundles with a correct hash ----------------------------------------------------------

TEST_CASE("hostile bundle: register out of range") {
  Where w;
  hostile([&](Node& b) {
    Node& f = function(b, "add");
    w = find(f, Op::ADD_I64);
    instr(f, w)[kB] = Node::uint(40);
  }).names({site("add", w, Op::ADD_I64), "register 40 out of range (3 registers)"});
  hostile([&](Node& b) {
    Node& f = function(b, "add");
    w = find(f, Op::RET);
    instr(f, w)[kA] = Node::uint(0xFFFF);
  }).names({site("add", w, Op::RET), "register 65535 out of range"});
  // An argument range that runs past the last register.
  hostile([&](Node& b) {
    Node& f = function(b, "twice");
    w = find(f, Op::CALL);
    instr(f, w)[kB] = Node::uint(f[kRegisters].size() - 1);
  }).names({site("twice", w, Op::CALL), "argument registers out of range"});
  // An operand that does not fit 16 bits at all.
  hostile([&](Node& b) { instr(function(b, "add"), find(function(b, "add"), Op::ADD_I64))[kC] = Node::uint(70000); }).names({"\"add\".blocks[0].code[0]: operand wider than 16 bits"});
}

TEST_CASE("hostile bundle: jump target out of range") {
  Where w;
  hostile([&](Node& b) {
    Node& f = function(b, "count");
    w = find(f, Op::BR_LT_I64);
    instr(f, w)[kC] = Node::uint(7);
  }).names({site("count", w, Op::BR_LT_I64), "block 7 out of range"});
  hostile([&](Node& b) {
    Node& f = function(b, "count");
    w = find(f, Op::FOR_STEP);
    instr(f, w)[kD] = Node::uint(0xFFFFFFFF);
  }).names({site("count", w, Op::FOR_STEP), "block 4294967295 out of range"});
  hostile([&](Node& b) {
    Node& f = function(b, "count");
    w = find(f, Op::FOR_STEP);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::JMP));
    instr(f, w)[kD] = Node::uint(3);
  }).names({site("count", w, Op::JMP), "block 3 out of range"});
  // A slice entry or a YIELD to a slice that does not exist.
  hostile([&](Node& b) { function(b, "Counter.Step")[kSlices][1] = Node::uint(9); }).names({"\"Counter.Step\": entry block 9 out of range"});
  hostile([&](Node& b) {
    Node& f = function(b, "Counter.Step");
    w = find(f, Op::YIELD);
    instr(f, w)[kD] = Node::uint(2);
  }).names({site("Counter.Step", w, Op::YIELD), "yields to a slice that does not exist"});
}

TEST_CASE("hostile bundle: a block whose cost is not its length") {
  for (uint64_t cost : {uint64_t{0}, uint64_t{1}, uint64_t{3}, uint64_t{UINT32_MAX}}) {
    hostile([&](Node& b) { function(b, "count")[kBlocks][1][0] = Node::uint(cost); }).names({"\"count\": block 1: costs " + std::to_string(cost) + " fuel but has 2 instructions"});
  }
}

TEST_CASE("hostile bundle: an empty block, and a function without blocks") {
  hostile([&](Node& b) {
    Node& f = function(b, "count");
    remove_instr(f, find(f, Op::RET));  // block 2 held only the return
  }).names({"\"count\": block 2: is empty"});
  hostile([&](Node& b) {
    Node& f = function(b, "add");
    f[kBlocks].items.clear();
    f[kPositions].items.clear();
  }).names({"\"add\": no blocks"});
}

TEST_CASE("hostile bundle: a terminator in the middle of a block") {
  Where w;
  hostile([&](Node& b) {
    Node& f = function(b, "add");
    w = find(f, Op::ADD_I64);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::RET));
  }).names({site("add", w, Op::RET), "a terminator in the middle of a block"});
  hostile([&](Node& b) {
    Node& f = function(b, "Counter.Step");
    w = find(f, Op::STATE_SET);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::END));
  }).names({site("Counter.Step", w, Op::END), "a terminator in the middle of a block"});
}

TEST_CASE("hostile bundle: no terminator at the end of a block") {
  Where w;
  hostile([&](Node& b) {
    Node& f = function(b, "add");
    w = find(f, Op::RET);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::DROP));
  }).names({site("add", w, Op::DROP), "a block must end with a jump, branch, return or end"});
  hostile([&](Node& b) {
    Node& f = function(b, "count");
    remove_instr(f, find(f, Op::FOR_STEP));  // block 1 now ends in ADD_I64
  }).names({"\"count\": block 1, instruction 0 (ADD_I64): a block must end with"});
}

TEST_CASE("hostile bundle: operand type mismatches") {
  Where w;
  hostile([&](Node& b) {  // ADD_I64 on the string parameter
    Node& f = function(b, "mix");
    w = find(f, Op::ADD_I64);
    instr(f, w)[kB] = Node::uint(1);
  }).names({site("mix", w, Op::ADD_I64), "ints expected"});
  hostile([&](Node& b) {  // CONCAT of an int
    Node& f = function(b, "mix");
    w = find(f, Op::ADD_I64);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::CONCAT));
  }).names({site("mix", w, Op::CONCAT), "strings expected"});
  hostile([&](Node& b) {  // MUL_F64 as an int multiplication
    Node& f = function(b, "ratio");
    w = find(f, Op::MUL_F64);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::MUL_I64));
  }).names({site("ratio", w, Op::MUL_I64), "ints expected"});
  hostile([&](Node& b) {  // a string constant into an int register
    Node& f = function(b, "greet");
    w = find(f, Op::LOAD_CONST);
    f[kRegisters][instr(f, w)[kA].u] = Node::uint(type_of_kind(b, TypeKind::Int));
  }).names({site("greet", w, Op::LOAD_CONST), "the constant's type differs from the destination's"});
  hostile([&](Node& b) {  // returning an int from a fn declared to return a string
    Node& f = function(b, "greet");
    w = find(f, Op::RET);
    f[kResult] = Node::uint(type_of_kind(b, TypeKind::Int));
  }).names({site("greet", w, Op::RET), "returns a value of another type"});
  hostile([&](Node& b) {  // LIST_GET on an int
    Node& f = function(b, "total");
    w = find(f, Op::LIST_GET);
    instr(f, w)[kB] = instr(f, w)[kC];
  }).names({site("total", w, Op::LIST_GET), "operand must be a list"});
  hostile([&](Node& b) {  // FIELD_GET of a field the record does not have
    Node& f = function(b, "total");
    w = find(f, Op::FIELD_GET);
    instr(f, w)[kD] = Node::uint(2);
  }).names({site("total", w, Op::FIELD_GET), "field 2 out of range"});
  hostile([&](Node& b) {  // LEN of an int
    Node& f = function(b, "mix");
    w = find(f, Op::LEN);
    instr(f, w)[kB] = Node::uint(0);
  }).names({site("mix", w, Op::LEN), "LEN needs a string, list or map"});
}

TEST_CASE("hostile bundle: a register read before it is written") {
  hostile([&](Node& b) {
    Node& f = function(b, "add");
    Node& add = instr(f, find(f, Op::ADD_I64));
    add[kC] = add[kA];  // r2 = r0 + r2: r2 is not a parameter and not yet written
  }).names({"\"add\": block 0, instruction 0: register 2 is read before it is written"});
  hostile([&](Node& b) {  // a DROP kills a register that is returned afterwards
    Node& f = function(b, "count");
    Node& ret = instr(f, find(f, Op::RET));
    Node drop = ret;
    drop[kOp] = Node::uint(static_cast<uint64_t>(Op::DROP));
    Where w = find(f, Op::RET);
    code(f, w.block).items.insert(code(f, w.block).items.begin(), drop);
    f[kBlocks][w.block][0].u += 1;
    Node pos = f[kPositions][w.flat];
    f[kPositions].items.insert(f[kPositions].items.begin() + static_cast<std::ptrdiff_t>(w.flat), pos);
  }).names({"\"count\": block 2, instruction 1: register 1 is read before it is written"});
  hostile([&](Node& b) {  // written on one path only: the loop body writes r5, the exit path reads it
    Node& f = function(b, "total");
    Where w = find(f, Op::RET);
    Node& ret = instr(f, w);
    ret[kA] = Node::uint(6);
    f[kResult] = f[kRegisters][6];
  }).names({"\"total\": block 2, instruction 1: register 6 is read before it is written"});
}

TEST_CASE("hostile bundle: unknown opcodes") {
  for (uint64_t op : {uint64_t{ved::bytecode::kOpCount}, uint64_t{200}, uint64_t{0xFFFF}, uint64_t{UINT32_MAX}})
    hostile([&](Node& b) { instr(function(b, "add"), find(function(b, "add"), Op::ADD_I64))[kOp] = Node::uint(op); }).names({"\"add\".blocks[0].code[0]: unknown opcode " + std::to_string(op)});
  hostile([&](Node& b) { instr(function(b, "add"), find(function(b, "add"), Op::ADD_I64))[kOp] = Node::uint(1ull << 33); }).names({"\"add\".blocks[0].code[0].op", "too large"});
  hostile([&](Node& b) { instr(function(b, "add"), find(function(b, "add"), Op::ADD_I64))[kOp] = Node::str("ADD"); }).names({"\"add\".blocks[0].code[0].op: expected a non-negative integer"});
}

TEST_CASE("hostile bundle: CALL of something that is not a fn, or with the wrong argument count") {
  Where w;
  hostile([&](Node& b) {
    Node& f = function(b, "twice");
    w = find(f, Op::CALL);
    instr(f, w)[kD] = Node::uint(function_index(b, "Counter.goal.Done"));
  }).names({site("twice", w, Op::CALL), "only a fn can be called"});
  hostile([&](Node& b) {
    Node& f = function(b, "twice");
    w = find(f, Op::CALL);
    instr(f, w)[kD] = Node::uint(function_index(b, "Counter.Step"));
  }).names({site("twice", w, Op::CALL), "only a fn can be called"});
  hostile([&](Node& b) {
    Node& f = function(b, "twice");
    w = find(f, Op::CALL);
    instr(f, w)[kC] = Node::uint(1);
  }).names({site("twice", w, Op::CALL), "argument count differs"});
  hostile([&](Node& b) {
    Node& f = function(b, "twice");
    w = find(f, Op::CALL);
    instr(f, w)[kD] = Node::uint(function_index(b, "greet"));  // one string argument, not two ints
    instr(f, w)[kC] = Node::uint(1);
  }).names({site("twice", w, Op::CALL), "argument type differs"});
  hostile([&](Node& b) {
    Node& f = function(b, "twice");
    w = find(f, Op::CALL);
    instr(f, w)[kD] = Node::uint(5000);
  }).names({site("twice", w, Op::CALL), "function 5000 out of range"});
}

TEST_CASE("hostile bundle: constant index out of range") {
  Where w;
  hostile([&](Node& b) {
    Node& f = function(b, "greet");
    w = find(f, Op::LOAD_CONST);
    instr(f, w)[kD] = Node::uint(1000);
  }).names({site("greet", w, Op::LOAD_CONST), "constant 1000 out of range"});
  hostile([&](Node& b) { b["constants"][0][0] = Node::uint(7); }).names({"constants[0]: unknown constant kind"});
  hostile([&](Node& b) { b["constants"][0][1] = Node::str("\xff\xfe"); }).names({"constants[0]: string constant is not valid UTF-8"});
  hostile([&](Node& b) { b["system"][1] = Node::array({Node::array({Node::uint(0), Node::uint(1000), Node::array()})}); }).names({"system.starts[0]: id out of range"});
}

TEST_CASE("hostile bundle: the type table: cycles, forward references, bad kinds") {
  size_t list = 0;
  hostile([&](Node& b) {
    list = type_of_kind(b, TypeKind::List);
    b["types"][list][1] = Node::uint(list);  // list<itself>
  }).names({"types[" + std::to_string(list) + "]: refers to type " + std::to_string(list) + ", which is not before it"});
  hostile([&](Node& b) {
    list = type_of_kind(b, TypeKind::List);
    b["types"][list][1] = Node::uint(b["types"].size() - 1);  // a forward reference
  }).names({"types[" + std::to_string(list) + "]: refers to type", "which is not before it"});
  hostile([&](Node& b) {  // two types that refer to each other
    auto& types = b["types"].items;
    list = type_of_kind(b, TypeKind::List);
    size_t later = type_of_kind(b, TypeKind::Map);
    types[list][1] = Node::uint(later);
    types[later][2] = Node::uint(list);
  }).names({"types[" + std::to_string(list) + "]: refers to type"});
  hostile([&](Node& b) { b["types"][0][0] = Node::uint(ved::bytecode::kTypeKindCount); }).names({"types[0]: unknown type kind 10"});
  hostile([&](Node& b) { b["types"][type_of_kind(b, TypeKind::Record)][1] = Node::uint(99); }).names({": record 99 out of range"});
  hostile([&](Node& b) {  // an optional of an optional
    size_t opt = type_of_kind(b, TypeKind::Optional);
    size_t map = type_of_kind(b, TypeKind::Map);
    REQUIRE(opt < map);
    b["types"][map] = Node::array({Node::uint(static_cast<uint64_t>(TypeKind::Optional)), Node::uint(opt), Node::uint(0)});
  }).names({"an optional of an optional"});
  hostile([&](Node& b) { function(b, "add")[kRegisters][0] = Node::uint(100000); }).names({"\"add\".registers[0]: type 100000 out of range"});
}

TEST_CASE("hostile bundle: a map whose key type is a float") {
  size_t map = 0;
  hostile([&](Node& b) {
    map = type_of_kind(b, TypeKind::Map);
    b["types"][map][1] = Node::uint(type_of_kind(b, TypeKind::Float));
  }).names({"types[" + std::to_string(map) + "]: map keys must be int or string"});
  hostile([&](Node& b) {
    map = type_of_kind(b, TypeKind::Map);
    b["types"][map][1] = Node::uint(type_of_kind(b, TypeKind::List));
  }).names({"types[" + std::to_string(map) + "]: map keys must be int or string"});
}

TEST_CASE("hostile bundle: a record that contains itself") {
  hostile([&](Node& b) {
    size_t worker = record_index(b, "Worker");
    size_t worker_type = type_of_kind(b, TypeKind::Record, static_cast<int64_t>(worker));
    b["records"][worker][1][1][1] = Node::uint(worker_type);  // Worker.size: Worker
  }).names({"\"Worker\": contains itself"});
  hostile([&](Node& b) {  // through another record: Worker holds a Counter.State, which holds a Worker
    size_t worker = record_index(b, "Worker");
    size_t state = record_index(b, "Counter.State");
    b["records"][worker][1][1][1] = Node::uint(type_of_kind(b, TypeKind::Record, static_cast<int64_t>(state)));
  }).names({"contains itself"});
  hostile([&](Node& b) { b["records"][0][1][0][1] = Node::uint(4096); }).names({"records[0].fields[0]: type 4096 out of range"});
}

TEST_CASE("hostile bundle: a message naming the wrong transition") {
  hostile([&](Node& b) { b["messages"][0][2] = Node::str("Ping"); }).names({"messages[0]: names `Ping` but transition is `Pong`"});
  hostile([&](Node& b) { b["messages"][0][1] = Node::uint(40); }).names({"messages[0]: transition out of range"});
  hostile([&](Node& b) { b["messages"][0][0] = Node::uint(3); }).names({"messages[0]: domain out of range"});
  hostile([&](Node& b) { b["messages"][0][4] = Node::array(); }).names({"messages[0]: argument count differs from `Pong`'s parameters"});
  hostile([&](Node& b) { b["messages"][0][4][0] = Node::uint(type_of_kind(b, TypeKind::String)); }).names({"messages[0]: argument types differ from `Pong`'s parameters"});
}

TEST_CASE("hostile bundle: state access where the function kind forbids it") {
  Where w;
  hostile([&](Node& b) {  // STATE_GET in a fn
    Node& f = function(b, "add");
    w = find(f, Op::ADD_I64);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::STATE_GET));
    instr(f, w)[kD] = Node::uint(0);
  }).names({site("add", w, Op::STATE_GET), "not allowed in a fn"});
  hostile([&](Node& b) {  // STATE_SET in a goal predicate
    Node& f = function(b, "Counter.goal.Done");
    w = find(f, Op::STATE_GET);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::STATE_SET));
  }).names({site("Counter.goal.Done", w, Op::STATE_SET), "not allowed in a goal predicate"});
  hostile([&](Node& b) {  // a state field that does not exist
    Node& f = function(b, "Counter.invariant.Small");
    w = find(f, Op::STATE_GET);
    instr(f, w)[kD] = Node::uint(4);
  }).names({site("Counter.invariant.Small", w, Op::STATE_GET), "state field 4 out of range"});
  hostile([&](Node& b) {  // SEND from a fn
    Node& ping = function(b, "Counter.Ping");
    Node send = instr(ping, find(ping, Op::SEND));
    Node& f = function(b, "add");
    w = find(f, Op::ADD_I64);
    instr(f, w) = send;
  }).names({site("add", w, Op::SEND), "not allowed in a fn"});
}

TEST_CASE("hostile bundle: STATE_TAKE without STATE_SET") {
  hostile([&](Node& b) {
    Node& f = function(b, "Counter.Ping");
    instr(f, find(f, Op::STATE_GET))[kOp] = Node::uint(static_cast<uint64_t>(Op::STATE_TAKE));
    Node& set = instr(f, find(f, Op::STATE_SET));  // becomes `MOVE r2, r0`: both ints
    set[kOp] = Node::uint(static_cast<uint64_t>(Op::MOVE));
  }).names({"\"Counter.Ping\": block 0: a taken state field is not put back"});
  hostile([&](Node& b) {  // taken, then read while taken
    Node& f = function(b, "Counter.Step");
    Where get = find(f, Op::STATE_GET, 1);
    Node take = instr(f, get);
    take[kOp] = Node::uint(static_cast<uint64_t>(Op::STATE_TAKE));
    code(f, get.block).items.insert(code(f, get.block).items.begin() + static_cast<std::ptrdiff_t>(get.index), take);
    f[kBlocks][get.block][0].u += 1;
    Node pos = f[kPositions][get.flat];
    f[kPositions].items.insert(f[kPositions].items.begin() + static_cast<std::ptrdiff_t>(get.flat), pos);
  }).names({"\"Counter.Step\": block 1, instruction 1: state field read while taken"});
  hostile([&](Node& b) {  // STATE_TAKE in an invariant
    Node& f = function(b, "Counter.invariant.Small");
    instr(f, find(f, Op::STATE_GET))[kOp] = Node::uint(static_cast<uint64_t>(Op::STATE_TAKE));
  }).names({"(STATE_TAKE): not allowed in an invariant"});
}

TEST_CASE("hostile bundle: YIELD and END outside a transition, RET inside one") {
  Where w;
  hostile([&](Node& b) {
    Node& f = function(b, "add");
    w = find(f, Op::RET);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::YIELD));
    instr(f, w)[kD] = Node::uint(1);
  }).names({site("add", w, Op::YIELD), "not allowed in a fn"});
  hostile([&](Node& b) {
    Node& f = function(b, "Counter.init");
    w = find(f, Op::RET);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::END));
  }).names({site("Counter.init", w, Op::END), "not allowed in a state initializer"});
  hostile([&](Node& b) {
    Node& f = function(b, "Counter.Ping");
    w = find(f, Op::END);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::RET));
  }).names({site("Counter.Ping", w, Op::RET), "not allowed in a transition"});
  hostile([&](Node& b) {  // a fn with two entries
    Node& f = function(b, "add");
    f[kSlices].items.push_back(Node::uint(0));
    f[kSliceNames].items.push_back(Node::str("again"));
  }).names({"\"add\": only transitions and test scripts have more than one entry"});
}

TEST_CASE("hostile bundle: declarations that point at the wrong thing") {
  hostile([&](Node& b) { b["domains"][0][2] = Node::uint(function_index(b, "add")); }).names({"domains[0] \"Counter\": initializer: function \"add\" is not of the right kind or domain"});
  hostile([&](Node& b) { b["domains"][0][8][0][2] = Node::uint(function_index(b, "Counter.invariant.Small")); }).names({"domains[0] \"Counter\": goal Done: function \"Counter.invariant.Small\" is not of the right kind"});
  hostile([&](Node& b) { b["domains"][0][8][0][3][0] = Node::uint(17); }).names({"goal Done: strategy transition 17 out of range"});
  hostile([&](Node& b) { b["domains"][0][10][1][1] = Node::array(); }).names(// Ping loses its parameter
          {"transition Ping: parameter count differs from its function's"});
  hostile([&](Node& b) { function(b, "add")[kDomain] = Node::uint(0); }).names({"\"add\": a fn belongs to no domain"});
  hostile([&](Node& b) { function(b, "add")[kKind] = Node::uint(10); }).names({"\"add\": unknown function kind 10"});
  hostile([&](Node& b) { b["spawns"] = Node::array({Node::array({Node::uint(0), Node::array({Node::uint(1), Node::uint(1)})})}); }).names({"spawns[0]: field 1 given twice"});
  hostile([&](Node& b) { b["migrations"] = Node::array({Node::array({Node::str("m"), Node::uint(5), Node::uint(1), Node::uint(2), Node::uint(0)})}); }).names({"migrations[0] \"m\": domain 5 out of range"});
  hostile([&](Node& b) { function(b, "add")[kPositions][0][0] = Node::uint(77); function(b, "add")[kPositions][0][1] = Node::uint(3); }).names({"\"add\": source position names an unknown file"});
  hostile([&](Node& b) { function(b, "add")[kPositions].items.pop_back(); }).names({"\"add\": source positions and instructions differ in number"});
}

TEST_CASE("hostile bundle: huge lengths claimed in a short buffer") {
  // Containers whose headers claim far more than the bytes that follow: the loader must
  // not try to allocate what they claim, and must say the data ends early.
  const std::string tail = "\x01\x02\x03";
  for (const std::string& header : {uint32_be(0xdd, 1u << 31), uint32_be(0xdf, 1u << 31), uint32_be(0xdb, 1u << 31),
                                    uint32_be(0xc6, 0xFFFFFFFF), uint32_be(0xdd, 0xFFFFFFFF)}) {
    rejected(wrap(header + tail), {"the bundle body is", "truncated"});
    // The same inside a valid body, in place of the function table.
    hostile([&](Node& b) { b["functions"] = Node::raw(header); }).names({"the bundle body is"});
  }
  // The envelope's own body field claiming 4 GiB.
  std::string env = small_bundle();
  const std::string body = body_of(env);
  std::string head = env.substr(0, env.size() - body.size());
  // The body's header is bin8 [0xc4, n] or bin16 [0xc5, hi, lo]; replace it with a bin32.
  if (body.size() < 256) {
    REQUIRE(static_cast<uint8_t>(head[head.size() - 2]) == 0xc4);
    head.resize(head.size() - 2);
  } else {
    REQUIRE(static_cast<uint8_t>(head[head.size() - 3]) == 0xc5);
    head.resize(head.size() - 3);
  }
  rejected(head + uint32_be(0xc6, 0xFFFFFFFF) + body, {"the bundle is truncated"});
  // Nesting deeper than the format ever does.
  rejected(wrap(std::string(100, '\x91') + '\x01'), {"the bundle body is not valid msgpack"});
  // Tables at their limits: registers and blocks.
  hostile([&](Node& b) {
    Node& regs = function(b, "add")[kRegisters];
    regs.items.resize(ved::bytecode::kMaxRegisters + 1, regs[0]);
  }).names({"\"add\": 65535 registers (at most 65534)"});
  hostile([&](Node& b) {
    Node& f = function(b, "add");
    Node blk = f[kBlocks][0];
    f[kBlocks].items.resize(ved::bytecode::kMaxBlocks + 1, blk);
  }).names({"\"add\": too many blocks"});
}

// ---- the tests table (simulation tests) -------------------------------------------------------

namespace {

// A program with one of each part of a test: two givens (one with an id), an ok and a
// failing stub, a two-step script and expectations over one and two domains.
const std::string& tests_bundle() {
  return compile("tests", R"(effect Infra.Provision(size: int) -> int : local
fn add(a: int, b: int) -> int { return a + b }
domain Pool {
    state { current: int  status: string = "ok" }
    transition Grow(n: int) { current = current + n }
}
domain Worker { state { load: int } }
test "t" {
    given { domain Pool { current = 2 }  domain Worker[7] { load = 1 } }
    simulate {
        effect Infra.Provision { return 7 }
        effect Infra.Provision { fail "down" }
        send Pool.Grow(1)
        advance_ticks(3)
        send Pool.Grow(2)
    }
    expect {
        always Pool.current >= 0
        eventually Worker.load > 0 && Pool.current > 2
    }
}
)");
}

template <class F>
Hostile hostile_test(F&& change) {
  return Hostile{mutate(tests_bundle(), change)};
}

// A test is [name, position, given, stubs, script, expectations]; a given [domain, id
// function, fields function]; a stub [effect, fails, value function]; an expectation
// [kind, function, domains, text, position].
enum TestField : size_t { kTestName = 0, kTestPosition, kTestGiven, kTestStubs, kTestScript, kTestExpectations };

Node& the_test(Node& body) { return body["tests"][0]; }

Node negative(int64_t v) {
  Node n;
  n.kind = Node::Kind::Int;
  n.i = v;
  return n;
}

Node boolean(bool v) {
  Node n;
  n.kind = Node::Kind::Bool;
  n.b = v;
  return n;
}

const std::string kGiven0 = "test \"t\".given.0", kId1 = "test \"t\".given.1.id", kStub0 = "test \"t\".stub.0",
                  kScript = "test \"t\".simulate", kExpect1 = "test \"t\".expect.1";

}  // namespace

TEST_CASE("bad bundles: the tests program compiles, loads and round-trips") {
  Loaded r = load(tests_bundle());
  REQUIRE_MESSAGE(r.ok, r.error);
  const std::string body = body_of(tests_bundle());
  CHECK(Node::decode(body).encode() == body);
  // A script may end a step with YIELD as well as ADVANCE (the runner then runs no ticks).
  Loaded yield = load(mutate(tests_bundle(), [&](Node& b) {
    Node& f = function(b, kScript);
    instr(f, find(f, Op::ADVANCE))[kOp] = Node::uint(static_cast<uint64_t>(Op::YIELD));
    instr(f, find(f, Op::YIELD))[kA] = Node::uint(0);
  }));
  CHECK_MESSAGE(yield.ok, yield.error);
}

TEST_CASE("hostile bundle: a test's shape") {
  hostile_test([&](Node& b) { b["tests"][0] = Node::str("t"); }).names({"tests[0]: a test without its compiled body", "recompile"});
  hostile_test([&](Node& b) { the_test(b).items.pop_back(); }).names({"tests[0]: expected 6 items, found 5"});
  hostile_test([&](Node& b) { the_test(b)[kTestGiven][0].items.pop_back(); }).names({"tests[0] \"t\".given[0]: expected 3 items"});
  hostile_test([&](Node& b) { the_test(b)[kTestStubs][0][1] = Node::uint(1); }).names({"tests[0] \"t\".stubs[0].fails: expected true or false"});
  hostile_test([&](Node& b) { the_test(b)[kTestExpectations][0][0] = Node::uint(3); }).names({"tests[0] \"t\".expectations[0]: expectation kind 3 (0 to 2)"});
  hostile_test([&](Node& b) { the_test(b)[kTestExpectations][0][3] = Node::uint(3); }).names({"tests[0] \"t\".expectations[0].text: expected a string"});
  hostile_test([&](Node& b) { the_test(b)[kTestPosition][0] = Node::uint(77); }).names({"tests[0] \"t\": source position names an unknown file"});
  hostile_test([&](Node& b) { the_test(b)[kTestExpectations][1][4][0] = Node::uint(77); }).names({"tests[0] \"t\": expectations[1]: source position names an unknown file"});
}

TEST_CASE("hostile bundle: a given names a domain or function that is out of range or of the wrong kind") {
  hostile_test([&](Node& b) { the_test(b)[kTestGiven][0][0] = Node::uint(9); }).names({"tests[0] \"t\": given[0]: domain 9 out of range"});
  hostile_test([&](Node& b) { the_test(b)[kTestGiven][0][2] = Node::uint(999); }).names({"tests[0] \"t\": given[0].fields: function 999 out of range"});
  hostile_test([&](Node& b) { the_test(b)[kTestGiven][1][1] = negative(-2); }).names({"tests[0] \"t\": given[1].id: function -2 out of range"});
  hostile_test([&](Node& b) { the_test(b)[kTestGiven][0][2] = Node::uint(function_index(b, "add")); }).names({"given[0].fields: function \"add\" is a fn, not a test's given"});
  hostile_test([&](Node& b) { the_test(b)[kTestGiven][1][1] = Node::uint(function_index(b, kGiven0)); }).names({"given[1].id: function \"" + kGiven0 + "\" is a test's given, not a test value"});
  // Pool's given applied to Worker: its STATE_SETs would write Worker's fields.
  hostile_test([&](Node& b) { the_test(b)[kTestGiven][0][0] = Node::uint(1); }).names({"given[0]: function \"" + kGiven0 + "\" sets the state of another domain"});
  // An id that is neither an int nor a string: the failing stub's value is a string, the ok one's an int; a
  // given whose function returns unit is not an id.
  hostile_test([&](Node& b) {
    Node& f = function(b, kId1);
    f[kKind] = Node::uint(static_cast<uint64_t>(ved::bytecode::FunctionKind::TestValue));
    f[kResult] = Node::uint(type_of_kind(b, TypeKind::Bool));
    f[kRegisters][0] = Node::uint(type_of_kind(b, TypeKind::Bool));
    instr(f, find(f, Op::LOAD_INT))[kOp] = Node::uint(static_cast<uint64_t>(Op::LOAD_BOOL));
  }).names({"given[1]: an instance id is an int or a string"});
  // A given function that belongs to no domain.
  hostile_test([&](Node& b) { function(b, kGiven0)[kDomain] = negative(-1); }).names({"\"" + kGiven0 + "\": domain out of range"});
}

TEST_CASE("hostile bundle: a stub's effect and value") {
  hostile_test([&](Node& b) { the_test(b)[kTestStubs][0][0] = Node::uint(50); }).names({"tests[0] \"t\": stubs[0]: effect 50 out of range"});
  hostile_test([&](Node& b) { the_test(b)[kTestStubs][0][2] = Node::uint(function_index(b, kScript)); }).names({"stubs[0].value: function \"" + kScript + "\" is a test script, not a test value"});
  // The ok stub's value (an int) as a failure message; the failing stub's message (a string) as the int result.
  hostile_test([&](Node& b) { the_test(b)[kTestStubs][0][1] = boolean(true); }).names({"stubs[0]: the failure message is not a string"});
  hostile_test([&](Node& b) { the_test(b)[kTestStubs][1][1] = boolean(false); }).names({"stubs[1]: the value's type differs from `Infra.Provision`'s result"});
}

TEST_CASE("hostile bundle: a script or an expectation of the wrong kind or shape") {
  hostile_test([&](Node& b) { the_test(b)[kTestScript] = Node::uint(function_index(b, kExpect1)); }).names({"tests[0] \"t\": script: function \"" + kExpect1 + "\" is a test expectation, not a test script"});
  hostile_test([&](Node& b) { the_test(b)[kTestScript] = negative(-5); }).names({"tests[0] \"t\": script: function -5 out of range"});
  hostile_test([&](Node& b) { the_test(b)[kTestScript] = Node::uint(100000); }).names({"script: function 100000 out of range"});
  hostile_test([&](Node& b) { the_test(b)[kTestExpectations][0][1] = Node::uint(function_index(b, kStub0)); }).names({"expectations[0]: function \"" + kStub0 + "\" is a test value, not a test expectation"});
  hostile_test([&](Node& b) { the_test(b)[kTestExpectations][1][2].items.pop_back(); }).names({"expectations[1]: function \"" + kExpect1 + "\" takes 2 states, given 1 domains"});
  hostile_test([&](Node& b) { std::swap(the_test(b)[kTestExpectations][1][2][0], the_test(b)[kTestExpectations][1][2][1]); }).names({"expectations[1]: parameter 0 of \"" + kExpect1 + "\" is not the state of `Pool`"});
  hostile_test([&](Node& b) { the_test(b)[kTestExpectations][1][2][1] = Node::uint(9); }).names({"expectations[1]: domain 9 out of range"});
}

TEST_CASE("hostile bundle: test functions doing what their kind may not") {
  Where w;
  hostile_test([&](Node& b) { function(b, kStub0)[kDomain] = Node::uint(0); }).names({"\"" + kStub0 + "\": a test value belongs to no domain"});
  hostile_test([&](Node& b) { function(b, kStub0)[kParams] = Node::uint(1); }).names({"\"" + kStub0 + "\": a test value takes no parameters"});
  hostile_test([&](Node& b) {  // ADVANCE in a fn
    Node& f = function(b, "add");
    w = find(f, Op::RET);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::ADVANCE));
    instr(f, w)[kD] = Node::uint(1);
  }).names({site("add", w, Op::ADVANCE), "not allowed in a fn"});
  hostile_test([&](Node& b) {  // ADVANCE in a transition
    Node& f = function(b, "Pool.Grow");
    w = find(f, Op::END);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::ADVANCE));
  }).names({site("Pool.Grow", w, Op::ADVANCE), "not allowed in a transition"});
  hostile_test([&](Node& b) {  // to a slice that does not exist
    Node& f = function(b, kScript);
    w = find(f, Op::ADVANCE);
    instr(f, w)[kD] = Node::uint(7);
  }).names({site(kScript, w, Op::ADVANCE), "advances to a slice that does not exist"});
  hostile_test([&](Node& b) {  // a tick count that is not an int: a string register of its own
    Node& f = function(b, kScript);
    w = find(f, Op::ADVANCE);
    f[kRegisters].items.push_back(Node::uint(type_of_kind(b, TypeKind::String)));
    instr(f, w)[kA] = Node::uint(f[kRegisters].size() - 1);
  }).names({site(kScript, w, Op::ADVANCE), "the tick count must be an int"});
  hostile_test([&](Node& b) {  // SEND from an expectation
    Node send = instr(function(b, kScript), find(function(b, kScript), Op::SEND));
    Node& f = function(b, kExpect1);
    w = find(f, Op::FIELD_GET);
    instr(f, w) = send;
  }).names({site(kExpect1, w, Op::SEND), "not allowed in a test expectation"});
  hostile_test([&](Node& b) {  // STATE_SET in a script
    Node& f = function(b, kScript);
    w = find(f, Op::SEND);
    instr(f, w) = Node::array({Node::uint(static_cast<uint64_t>(Op::STATE_SET)), Node::uint(0), Node::uint(0), Node::uint(0), Node::uint(0)});
  }).names({site(kScript, w, Op::STATE_SET), "not allowed in a test script"});
  hostile_test([&](Node& b) {  // STATE_TAKE in a given (it may only set)
    Node& f = function(b, kGiven0);
    w = find(f, Op::STATE_SET);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::STATE_TAKE));
  }).names({site(kGiven0, w, Op::STATE_TAKE), "not allowed in a test's given"});
  hostile_test([&](Node& b) {  // STATE_GET in a test value
    Node& f = function(b, kStub0);
    w = find(f, Op::LOAD_INT);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::STATE_GET));
  }).names({site(kStub0, w, Op::STATE_GET), "not allowed in a test value"});
  hostile_test([&](Node& b) {  // a script returns nothing: RET is not its ending
    Node& f = function(b, kScript);
    w = find(f, Op::END);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::RET));
  }).names({site(kScript, w, Op::RET), "not allowed in a test script"});
  hostile_test([&](Node& b) {  // an expectation is not sliced
    Node& f = function(b, kExpect1);
    f[kSlices].items.push_back(Node::uint(0));
    f[kSliceNames].items.push_back(Node::str(""));
  }).names({"\"" + kExpect1 + "\": only transitions and test scripts have more than one entry"});
  hostile_test([&](Node& b) {  // a register read in the second step that no step wrote
    Node& f = function(b, kScript);
    f[kRegisters].items.push_back(Node::uint(type_of_kind(b, TypeKind::Int)));
    instr(f, find(f, Op::SEND, 1))[kB] = Node::uint(f[kRegisters].size() - 1);
  }).names({"\"" + kScript + "\": block 1", "is read before it is written"});
  // The same register written in the first step instead: the continuation carries it.
  Loaded carried = load(mutate(tests_bundle(), [&](Node& b) {
    Node& f = function(b, kScript);
    f[kRegisters].items.push_back(Node::uint(type_of_kind(b, TypeKind::Int)));
    const uint64_t r = f[kRegisters].size() - 1;
    instr(f, find(f, Op::LOAD_INT))[kA] = Node::uint(r);  // the first step's `1`
    instr(f, find(f, Op::SEND))[kB] = Node::uint(r);
    instr(f, find(f, Op::SEND, 1))[kB] = Node::uint(r);
  }));
  CHECK_MESSAGE(carried.ok, carried.error);
}

TEST_CASE("hostile bundle: a migration row naming another function, or versions that do not step up") {
  const std::string& bundle = compile("migrating", R"(@version 2
domain Counter {
    state { n: int }
}
migration grow { from: Counter.State@1  to: Counter.State@2  return Counter.State@2(n = from.n + 1) }
fn helper(x: int) -> int { return x }
)");
  REQUIRE(load(bundle).ok);
  auto with = [&](auto change) { return Hostile{mutate(bundle, change)}; };
  with([&](Node& b) { b["migrations"][0][4] = Node::uint(function_index(b, "helper")); })
      .names({"migrations[0] \"grow\": function \"helper\" is not a migration of `Counter`"});
  with([&](Node& b) { b["migrations"][0][4] = Node::uint(999); }).names({"migrations[0] \"grow\": function 999 out of range"});
  with([&](Node& b) { b["migrations"][0][2] = Node::uint(2); })
      .names({"versions 2 -> 2 do not step up towards the domain's version 2"});
  with([&](Node& b) { b["migrations"][0][3] = Node::uint(3); }).names({"versions 1 -> 3 do not step up"});
  with([&](Node& b) { b["migrations"][0] = Node::array(); }).names({"migrations[0]"});
  Where w;
  with([&](Node& b) {  // STATE_GET in a migration: migrations are pure
    Node& f = function(b, "migration.grow");
    w = find(f, Op::ADD_I64);
    instr(f, w)[kOp] = Node::uint(static_cast<uint64_t>(Op::STATE_GET));
    instr(f, w)[kD] = Node::uint(0);
  }).names({site("migration.grow", w, Op::STATE_GET), "not allowed in a migration"});
}

// `deploy` (language.md §11) reaches the bundle as the optional `deploys` table
// (docs/bundle.md): a program without deploys has none (its bytes are what they always
// were); a domain index out of range or an empty environment is refused.
TEST_CASE("deploys: written when the program has them, read back, and a hostile table is refused") {
  const std::string& deployed = compile("deployed", R"(environment eu { scope { root } }
domain Ledger { state { n: int } }
domain Audit { state { n: int } }
deploy service Ledger to eu
deploy Audit to eu
)");
  Program p;
  std::string error;
  REQUIRE_MESSAGE(load_bundle(deployed, p, error), error);
  REQUIRE(p.deploys.size() == 2);
  CHECK(p.domains[p.deploys[0].domain].name == "Ledger");
  CHECK(p.deploys[0].environment == "eu");
  CHECK(p.deploys[0].service);
  CHECK(p.domains[p.deploys[1].domain].name == "Audit");
  CHECK_FALSE(p.deploys[1].service);
  Program none;
  REQUIRE(load_bundle(rich_bundle(), none, error));
  CHECK(none.deploys.empty());
  CHECK_FALSE(contains(body_of(rich_bundle()), "deploys"));
  rejected(mutate(deployed, [](Node& b) { b["deploys"][1][0] = Node::uint(7); }),
           {"deploys[1].domain: 7 is not a domain (the program has 2)"});
  rejected(mutate(deployed, [](Node& b) { b["deploys"][0][1] = Node::str(""); }), {"deploys[0].environment: empty"});
  rejected(mutate(deployed, [](Node& b) { b["deploys"][0] = Node::array(); }), {"deploys[0]"});
}
