// The bytecode verifier: proves, before anything runs, what the interpreter assumes.
//
//  * every table index is in range, every type well formed (no cycles, map keys int or
//    string, no record that contains itself by value);
//  * every block is non-empty, ends with its only terminator, and costs its length;
//  * every instruction's operands have the types its opcode requires, and the function
//    kind allows it (a `fn` cannot touch state; only transitions and test scripts send
//    or yield);
//  * every row of the tests table names functions of the kinds, domains and types the
//    runner will call them with;
//  * every register is written before it is read on every path (so a heap register
//    always holds an object of its type when read);
//  * a state field taken for an in-place update is put back in the same block before
//    anything reads it again.
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include "bytecode/operands.h"
#include "vm/bundle_loader.h"

namespace ved::vm {

namespace {

using bytecode::Builtin;
using bytecode::kNoRegister;

struct VerifyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& where, const std::string& what) { throw VerifyError(where + ": " + what); }

class Verifier {
 public:
  explicit Verifier(Program& p) : p_(p) {}

  void run() {
    types();
    records();
    for (size_t i = 0; i < p_.effects.size(); ++i) external(p_.effects[i], "effects[" + std::to_string(i) + "]");
    for (size_t i = 0; i < p_.observations.size(); ++i)
      external(p_.observations[i], "observations[" + std::to_string(i) + "]");
    domains();
    messages();
    spawns();
    system();
    for (size_t i = 0; i < p_.functions.size(); ++i) function(static_cast<uint32_t>(i));
    for (size_t i = 0; i < p_.tests.size(); ++i) test(static_cast<uint32_t>(i));
    for (size_t i = 0; i < p_.migrations.size(); ++i) migration(static_cast<uint32_t>(i));
  }

  // A migration names a Migration function of its domain taking one record (the stored
  // fields it reads) and returning a record: the domain's state when it migrates to the
  // domain's version (the runner hands that result to the instance as is).
  void migration(uint32_t mi) {
    const MigrationInfo& m = p_.migrations[mi];
    const std::string w = "migrations[" + std::to_string(mi) + "] \"" + m.name + "\"";
    if (m.domain >= p_.domains.size()) fail(w, "domain " + std::to_string(m.domain) + " out of range");
    const DomainInfo& d = p_.domains[m.domain];
    if (m.from_version < 1 || m.from_version >= m.to_version || m.to_version > d.version)
      fail(w, "versions " + std::to_string(m.from_version) + " -> " + std::to_string(m.to_version) +
                  " do not step up towards the domain's version " + std::to_string(d.version));
    if (m.function >= p_.functions.size()) fail(w, "function " + std::to_string(m.function) + " out of range");
    const FunctionInfo& f = p_.functions[m.function];
    if (f.kind != FunctionKind::Migration || f.domain != static_cast<int32_t>(m.domain))
      fail(w, "function \"" + f.name + "\" is not a migration of `" + d.name + "`");
    if (f.param_count != 1 || kind(f.registers[0]) != TypeKind::Record)
      fail(w, "function \"" + f.name + "\" does not take the stored state as one record");
    if (kind(f.result) != TypeKind::Record) fail(w, "function \"" + f.name + "\" does not return a record");
    if (m.to_version == d.version && !same(f.result, d.state_type))
      fail(w, "function \"" + f.name + "\" does not return the state of `" + d.name + "`");
  }

 private:
  // ---- types
  void type_index(uint32_t t, const std::string& where) const {
    if (t >= p_.types.size())
      fail(where, "type " + std::to_string(t) + " out of range (" + std::to_string(p_.types.size()) + " types)");
  }
  TypeKind kind(uint32_t t) const { return p_.types[t].kind; }
  uint32_t elem(uint32_t t) const { return p_.types[t].x; }
  uint32_t value_type(uint32_t t) const { return p_.types[t].y; }
  bool same(uint32_t a, uint32_t b) const { return p_.same_type(a, b); }

  void types() {
    std::map<std::tuple<int, uint32_t, uint32_t>, uint32_t> seen;
    p_.canonical_type.resize(p_.types.size());
    for (uint32_t i = 0; i < p_.types.size(); ++i) {
      const TypeInfo& t = p_.types[i];
      const std::string w = "types[" + std::to_string(i) + "]";
      auto earlier = [&](uint32_t x) {
        if (x >= i) fail(w, "refers to type " + std::to_string(x) + ", which is not before it");
      };
      std::tuple<int, uint32_t, uint32_t> key{static_cast<int>(t.kind), 0, 0};
      switch (t.kind) {
        case TypeKind::List:
          earlier(t.x);
          std::get<1>(key) = p_.canonical_type[t.x];
          break;
        case TypeKind::Optional:
          earlier(t.x);
          if (kind(t.x) == TypeKind::Optional) fail(w, "an optional of an optional");
          std::get<1>(key) = p_.canonical_type[t.x];
          break;
        case TypeKind::Map:
          earlier(t.x);
          earlier(t.y);
          if (kind(t.x) != TypeKind::Int && kind(t.x) != TypeKind::String) fail(w, "map keys must be int or string");
          std::get<1>(key) = p_.canonical_type[t.x];
          std::get<2>(key) = p_.canonical_type[t.y];
          break;
        case TypeKind::Record:
          if (t.x >= p_.records.size()) fail(w, "record " + std::to_string(t.x) + " out of range");
          std::get<1>(key) = t.x;
          break;
        case TypeKind::Intent:
          if (t.x >= p_.effects.size()) fail(w, "effect " + std::to_string(t.x) + " out of range");
          std::get<1>(key) = t.x;
          break;
        default: break;
      }
      p_.canonical_type[i] = seen.emplace(key, i).first->second;
    }
  }

  void records() {
    for (size_t r = 0; r < p_.records.size(); ++r)
      for (size_t f = 0; f < p_.record_field_types[r].size(); ++f)
        type_index(p_.record_field_types[r][f], "records[" + std::to_string(r) + "].fields[" + std::to_string(f) + "]");
    // A record that contains itself by value has no finite zero value.
    for (size_t r = 0; r < p_.records.size(); ++r) {
      std::vector<uint32_t> stack{static_cast<uint32_t>(r)};
      std::set<uint32_t> visited;
      while (!stack.empty()) {
        uint32_t cur = stack.back();
        stack.pop_back();
        for (uint32_t ft : p_.record_field_types[cur]) {
          if (kind(ft) != TypeKind::Record) continue;
          if (p_.types[ft].x == r) fail("records[" + std::to_string(r) + "] \"" + p_.records[r].name + "\"", "contains itself");
          if (visited.insert(p_.types[ft].x).second) stack.push_back(p_.types[ft].x);
        }
      }
    }
  }

  void external(const ExternalInfo& e, const std::string& where) {
    for (size_t i = 0; i < e.params.size(); ++i) type_index(e.params[i].type, where + ".params[" + std::to_string(i) + "]");
    type_index(e.result, where + ".result");
  }

  // ---- declarations
  void domains() {
    for (size_t di = 0; di < p_.domains.size(); ++di) {
      DomainInfo& d = p_.domains[di];
      const std::string w = "domains[" + std::to_string(di) + "] \"" + d.name + "\"";
      if (d.state_record >= p_.records.size()) fail(w, "state record out of range");
      auto fn = [&](uint32_t f, FunctionKind k, const std::string& what) -> const FunctionInfo& {
        if (f >= p_.functions.size()) fail(w, what + ": function " + std::to_string(f) + " out of range");
        const FunctionInfo& info = p_.functions[f];
        if (info.kind != k || info.domain != static_cast<int32_t>(di))
          fail(w, what + ": function \"" + info.name + "\" is not of the right kind or domain");
        return info;
      };
      const FunctionInfo& init = fn(d.initializer, FunctionKind::Initializer, "initializer");
      type_index(init.result, w + ".initializer");
      if (kind(init.result) != TypeKind::Record || p_.types[init.result].x != d.state_record)
        fail(w, "the initializer does not return the state record");
      d.state_type = init.result;
      for (const auto& g : d.goals) {
        const FunctionInfo& f = fn(g.predicate, FunctionKind::Predicate, "goal " + g.name);
        if (f.result >= p_.types.size() || kind(f.result) != TypeKind::Bool) fail(w, "goal " + g.name + " is not a bool");
        for (uint32_t s : g.strategy)
          if (s >= d.transitions.size()) fail(w, "goal " + g.name + ": strategy transition " + std::to_string(s) + " out of range");
        if (g.priority > 255) fail(w, "goal " + g.name + ": priority above 255");
      }
      for (const auto& inv : d.invariants) {
        const FunctionInfo& f = fn(inv.function, FunctionKind::Invariant, "invariant " + inv.name);
        if (f.result >= p_.types.size() || kind(f.result) != TypeKind::Bool)
          fail(w, "invariant " + inv.name + " is not a bool");
      }
      for (const auto& t : d.transitions) {
        const FunctionInfo& f = fn(t.function, FunctionKind::Transition, "transition " + t.name);
        if (t.params.size() != f.param_count || f.param_count > f.registers.size())
          fail(w, "transition " + t.name + ": parameter count differs from its function's");
        for (size_t i = 0; i < t.params.size(); ++i) {
          type_index(t.params[i].type, w + ".transition " + t.name);
          type_index(f.registers[i], w + ".transition " + t.name);
          if (!same(t.params[i].type, f.registers[i])) fail(w, "transition " + t.name + ": parameter types differ");
        }
        if (t.on_effect < -1 || t.on_effect >= static_cast<int32_t>(p_.effects.size()))
          fail(w, "transition " + t.name + ": effect out of range");
      }
    }
  }

  void messages() {
    for (size_t i = 0; i < p_.messages.size(); ++i) {
      const MessageInfo& m = p_.messages[i];
      const std::string w = "messages[" + std::to_string(i) + "]";
      for (uint32_t a : m.args) type_index(a, w);
      if (m.domain == -1) {
        if (m.transition != -1) fail(w, "a reply names no transition index");
        continue;
      }
      if (m.domain < 0 || static_cast<size_t>(m.domain) >= p_.domains.size()) fail(w, "domain out of range");
      const DomainInfo& d = p_.domains[m.domain];
      if (m.transition < 0 || static_cast<size_t>(m.transition) >= d.transitions.size())
        fail(w, "transition out of range");
      const TransitionInfo& t = d.transitions[m.transition];
      if (t.name != m.name) fail(w, "names `" + m.name + "` but transition is `" + t.name + "`");
      if (m.args.size() != t.params.size()) fail(w, "argument count differs from `" + t.name + "`'s parameters");
      for (size_t k = 0; k < m.args.size(); ++k)
        if (!same(m.args[k], t.params[k].type)) fail(w, "argument types differ from `" + t.name + "`'s parameters");
    }
  }

  void spawns() {
    for (size_t i = 0; i < p_.spawns.size(); ++i) {
      const SpawnInfo& s = p_.spawns[i];
      const std::string w = "spawns[" + std::to_string(i) + "]";
      if (s.domain >= p_.domains.size()) fail(w, "domain out of range");
      size_t fields = p_.record_field_types[p_.domains[s.domain].state_record].size();
      std::set<uint32_t> seen;
      for (uint32_t f : s.fields) {
        if (f >= fields) fail(w, "field " + std::to_string(f) + " out of range");
        if (!seen.insert(f).second) fail(w, "field " + std::to_string(f) + " given twice");
      }
    }
  }

  bool constant_fits(uint32_t c, uint32_t type) const {
    if (kind(type) == TypeKind::Optional) type = elem(type);
    switch (p_.constants[c].tag()) {
      case Tag::Int: return kind(type) == TypeKind::Int;
      case Tag::Float: return kind(type) == TypeKind::Float;
      case Tag::String: return kind(type) == TypeKind::String;
      case Tag::Bool: return kind(type) == TypeKind::Bool;
      default: return false;
    }
  }

  void system() {
    for (size_t i = 0; i < p_.system.size(); ++i) {
      const StartInfo& s = p_.system[i];
      const std::string w = "system.starts[" + std::to_string(i) + "]";
      if (s.domain >= p_.domains.size()) fail(w, "domain out of range");
      if (s.id_constant != -1) {
        if (s.id_constant < 0 || static_cast<size_t>(s.id_constant) >= p_.constants.size()) fail(w, "id out of range");
        Tag t = p_.constants[s.id_constant].tag();
        if (t != Tag::Int && t != Tag::String) fail(w, "an instance id is an int or a string");
      }
      const auto& fields = p_.record_field_types[p_.domains[s.domain].state_record];
      for (const auto& [f, c] : s.fields) {
        if (f >= fields.size()) fail(w, "field out of range");
        if (c >= p_.constants.size()) fail(w, "constant out of range");
        if (!constant_fits(c, fields[f])) fail(w, "the value of field " + std::to_string(f) + " has the wrong type");
      }
    }
  }

  // ---- the tests table (after the functions: it relies on their kinds and types)
  void test(uint32_t ti) {
    const TestInfo& t = p_.tests[ti];
    const std::string w = "tests[" + std::to_string(ti) + "] \"" + t.name + "\"";
    auto position = [&](const SourcePos& pos, const std::string& what) {
      if (pos.line != 0 && pos.file >= p_.sources.size()) fail(w, what + "source position names an unknown file");
    };
    auto fn = [&](int64_t f, FunctionKind k, const std::string& what) -> const FunctionInfo& {
      if (f < 0 || static_cast<uint64_t>(f) >= p_.functions.size())
        fail(w, what + ": function " + std::to_string(f) + " out of range");
      const FunctionInfo& info = p_.functions[f];
      if (info.kind != k)
        fail(w, what + ": function \"" + info.name + "\" is " + function_kind_noun(info.kind) + ", not " +
                    function_kind_noun(k));
      return info;
    };
    position(t.position, "");
    for (size_t gi = 0; gi < t.given.size(); ++gi) {
      const TestInfo::Given& g = t.given[gi];
      const std::string gw = "given[" + std::to_string(gi) + "]";
      if (g.domain >= p_.domains.size()) fail(w, gw + ": domain " + std::to_string(g.domain) + " out of range");
      if (g.id_function != -1) {
        TypeKind k = kind(fn(g.id_function, FunctionKind::TestValue, gw + ".id").result);
        if (k != TypeKind::Int && k != TypeKind::String) fail(w, gw + ": an instance id is an int or a string");
      }
      const FunctionInfo& fields = fn(g.fields_function, FunctionKind::TestGiven, gw + ".fields");
      if (fields.domain != static_cast<int32_t>(g.domain))
        fail(w, gw + ": function \"" + fields.name + "\" sets the state of another domain");
      if (kind(fields.result) != TypeKind::Unit) fail(w, gw + ": function \"" + fields.name + "\" returns a value");
    }
    for (size_t si = 0; si < t.stubs.size(); ++si) {
      const TestInfo::Stub& s = t.stubs[si];
      const std::string sw = "stubs[" + std::to_string(si) + "]";
      if (s.effect >= p_.effects.size()) fail(w, sw + ": effect " + std::to_string(s.effect) + " out of range");
      if (s.value_function == -1) continue;
      const FunctionInfo& v = fn(s.value_function, FunctionKind::TestValue, sw + ".value");
      if (s.fails && kind(v.result) != TypeKind::String) fail(w, sw + ": the failure message is not a string");
      if (!s.fails && !same(v.result, p_.effects[s.effect].result))
        fail(w, sw + ": the value's type differs from `" + p_.effects[s.effect].name + "`'s result");
    }
    if (t.script != -1) fn(t.script, FunctionKind::TestScript, "script");
    for (size_t ei = 0; ei < t.expectations.size(); ++ei) {
      const TestInfo::Expectation& e = t.expectations[ei];
      const std::string ew = "expectations[" + std::to_string(ei) + "]";
      position(e.position, ew + ": ");
      const FunctionInfo& f = fn(e.function, FunctionKind::TestExpect, ew);
      if (kind(f.result) != TypeKind::Bool) fail(w, ew + ": function \"" + f.name + "\" is not a bool");
      if (f.param_count != e.domains.size())
        fail(w, ew + ": function \"" + f.name + "\" takes " + std::to_string(f.param_count) + " states, given " +
                    std::to_string(e.domains.size()) + " domains");
      for (size_t k = 0; k < e.domains.size(); ++k) {
        if (e.domains[k] >= p_.domains.size())
          fail(w, ew + ": domain " + std::to_string(e.domains[k]) + " out of range");
        const DomainInfo& d = p_.domains[e.domains[k]];
        if (!same(f.registers[k], d.state_type))
          fail(w, ew + ": parameter " + std::to_string(k) + " of \"" + f.name + "\" is not the state of `" + d.name + "`");
      }
    }
  }

  // ---- functions
  void function(uint32_t fi) {
    FunctionInfo& f = p_.functions[fi];
    const std::string w = "functions[" + std::to_string(fi) + "] \"" + f.name + "\"";
    if (!has_domain(f.kind)) {
      if (f.domain != -1) fail(w, std::string(function_kind_noun(f.kind)) + " belongs to no domain");
    } else if (f.domain < 0 || static_cast<size_t>(f.domain) >= p_.domains.size()) {
      fail(w, "domain out of range");
    }
    if (runs_without_arguments(f.kind) && f.param_count != 0)
      fail(w, std::string(function_kind_noun(f.kind)) + " takes no parameters");
    type_index(f.result, w + ".result");
    for (size_t r = 0; r < f.registers.size(); ++r) type_index(f.registers[r], w + ".registers[" + std::to_string(r) + "]");
    if (f.param_count > f.registers.size()) fail(w, "more parameters than registers");
    if (f.blocks.empty()) fail(w, "no blocks");
    if (f.slice_entries.empty()) fail(w, "no entry block");
    if (!is_sliced(f.kind) && (f.slice_entries.size() != 1 || f.slice_entries[0] != 0))
      fail(w, "only transitions and test scripts have more than one entry");
    if (f.slice_names.size() != f.slice_entries.size()) fail(w, "slice names and entries differ in number");
    for (uint32_t e : f.slice_entries)
      if (e >= f.blocks.size()) fail(w, "entry block " + std::to_string(e) + " out of range");
    if (f.positions.size() != f.code.size()) fail(w, "source positions and instructions differ in number");
    for (const SourcePos& pos : f.positions)
      if (pos.line != 0 && pos.file >= p_.sources.size()) fail(w, "source position names an unknown file");
    for (size_t b = 0; b < f.blocks.size(); ++b) {
      const uint32_t start = f.blocks[b].start;
      const uint32_t end = b + 1 < f.blocks.size() ? f.blocks[b + 1].start : static_cast<uint32_t>(f.code.size());
      const std::string bw = w + ": block " + std::to_string(b);
      if (end <= start) fail(bw, "is empty");
      if (f.blocks[b].cost != end - start)
        fail(bw, "costs " + std::to_string(f.blocks[b].cost) + " fuel but has " + std::to_string(end - start) +
                     " instructions (a block costs its length)");
      for (uint32_t pc = start; pc < end; ++pc) {
        const bool last = pc + 1 == end;
        const auto& info = bytecode::op_info(f.code[pc].op);
        const std::string iw = bw + ", instruction " + std::to_string(pc - start) + " (" + info.name + ")";
        if (info.terminator != last)
          fail(iw, last ? "a block must end with a jump, branch, return or end" : "a terminator in the middle of a block");
        instruction(f, f.code[pc], iw);
      }
    }
    f.heap_registers.clear();
    for (uint32_t r = 0; r < f.registers.size(); ++r)
      if (is_heap_type(f.registers[r])) f.heap_registers.push_back(r);
    take_discipline(f, w);
    definite_assignment(f, w);
  }

  bool is_heap_type(uint32_t t) const {
    switch (kind(t)) {
      case TypeKind::Unit:
      case TypeKind::Bool:
      case TypeKind::Int:
      case TypeKind::Float: return false;
      case TypeKind::Optional: return is_heap_type(elem(t));
      default: return true;
    }
  }

  void instruction(const FunctionInfo& f, const Instr& i, const std::string& w) {
    const uint32_t nregs = static_cast<uint32_t>(f.registers.size());
    auto reg = [&](uint32_t r, const char* what) -> uint32_t {
      if (r >= nregs) fail(w, std::string(what) + ": register " + std::to_string(r) + " out of range (" + std::to_string(nregs) + " registers)");
      return f.registers[r];
    };
    auto range = [&](uint32_t first, uint64_t count) {
      if (first + count > nregs) fail(w, "argument registers out of range");
    };
    auto block = [&](uint32_t b) {
      if (b >= f.blocks.size()) fail(w, "block " + std::to_string(b) + " out of range");
    };
    auto want = [&](bool ok, const char* what) {
      if (!ok) fail(w, what);
    };
    auto is = [&](uint32_t r, TypeKind k, const char* what) { want(kind(reg(r, what)) == k, what); };
    auto same_regs = [&](uint32_t a, uint32_t b) { want(same(reg(a, "operand"), reg(b, "operand")), "operand types differ"); };
    auto allowed = [&](bool ok) {
      if (!ok) fail(w, std::string("not allowed in ") + function_kind_noun(f.kind));
    };
    const bool transition = f.kind == FunctionKind::Transition;
    const bool script = f.kind == FunctionKind::TestScript;
    const bool given = f.kind == FunctionKind::TestGiven;
    const bool stateful =
        transition || given || f.kind == FunctionKind::Predicate || f.kind == FunctionKind::Invariant;
    auto state_field = [&](uint32_t field) -> uint32_t {
      const auto& fields = p_.record_field_types[p_.domains[f.domain].state_record];
      if (field >= fields.size()) fail(w, "state field " + std::to_string(field) + " out of range");
      return fields[field];
    };

    switch (i.op) {
      case Op::MOVE: same_regs(i.a, i.b); break;
      case Op::LOAD_CONST:
        if (i.d >= p_.constants.size()) fail(w, "constant " + std::to_string(i.d) + " out of range");
        want(constant_fits(i.d, reg(i.a, "destination")) && kind(reg(i.a, "destination")) != TypeKind::Optional &&
                 p_.constants[i.d].tag() != Tag::Bool,
             "the constant's type differs from the destination's");
        break;
      case Op::LOAD_INT: is(i.a, TypeKind::Int, "destination must be an int"); break;
      case Op::LOAD_BOOL: is(i.a, TypeKind::Bool, "destination must be a bool"); break;
      case Op::LOAD_NONE: is(i.a, TypeKind::Optional, "destination must be an optional"); break;
      case Op::LOAD_UNIT: is(i.a, TypeKind::Unit, "destination must be unit"); break;
      case Op::DROP: reg(i.a, "operand"); break;
      case Op::WRAP:
        is(i.a, TypeKind::Optional, "destination must be an optional");
        want(same(elem(reg(i.a, "destination")), reg(i.b, "operand")), "wraps a value of another type");
        break;
      case Op::UNWRAP:
        is(i.b, TypeKind::Optional, "operand must be an optional");
        want(same(elem(reg(i.b, "operand")), reg(i.a, "destination")), "unwraps into another type");
        break;
      case Op::ADD_I64: case Op::SUB_I64: case Op::MUL_I64: case Op::DIV_I64: case Op::REM_I64:
        is(i.a, TypeKind::Int, "ints expected");
        is(i.b, TypeKind::Int, "ints expected");
        is(i.c, TypeKind::Int, "ints expected");
        break;
      case Op::NEG_I64:
        is(i.a, TypeKind::Int, "ints expected");
        is(i.b, TypeKind::Int, "ints expected");
        break;
      case Op::ADD_F64: case Op::SUB_F64: case Op::MUL_F64: case Op::DIV_F64: case Op::REM_F64:
        is(i.a, TypeKind::Float, "floats expected");
        is(i.b, TypeKind::Float, "floats expected");
        is(i.c, TypeKind::Float, "floats expected");
        break;
      case Op::NEG_F64:
        is(i.a, TypeKind::Float, "floats expected");
        is(i.b, TypeKind::Float, "floats expected");
        break;
      case Op::I2F:
        is(i.a, TypeKind::Float, "destination must be a float");
        is(i.b, TypeKind::Int, "operand must be an int");
        break;
      case Op::EQ_I64: case Op::LT_I64: case Op::LE_I64:
        is(i.a, TypeKind::Bool, "destination must be a bool");
        is(i.b, TypeKind::Int, "ints expected");
        is(i.c, TypeKind::Int, "ints expected");
        break;
      case Op::EQ_F64: case Op::LT_F64: case Op::LE_F64:
        is(i.a, TypeKind::Bool, "destination must be a bool");
        is(i.b, TypeKind::Float, "floats expected");
        is(i.c, TypeKind::Float, "floats expected");
        break;
      case Op::EQ_STR: case Op::LT_STR: case Op::LE_STR:
        is(i.a, TypeKind::Bool, "destination must be a bool");
        is(i.b, TypeKind::String, "strings expected");
        is(i.c, TypeKind::String, "strings expected");
        break;
      case Op::EQ_ANY:
        is(i.a, TypeKind::Bool, "destination must be a bool");
        same_regs(i.b, i.c);
        break;
      case Op::NOT:
        is(i.a, TypeKind::Bool, "bools expected");
        is(i.b, TypeKind::Bool, "bools expected");
        break;
      case Op::IS_NONE:
        is(i.a, TypeKind::Bool, "destination must be a bool");
        is(i.b, TypeKind::Optional, "operand must be an optional");
        break;
      case Op::CONCAT:
        is(i.a, TypeKind::String, "strings expected");
        is(i.b, TypeKind::String, "strings expected");
        is(i.c, TypeKind::String, "strings expected");
        break;
      case Op::LIST_NEW: {
        type_index(i.d, w);
        want(kind(i.d) == TypeKind::List, "LIST_NEW needs a list type");
        want(same(reg(i.a, "destination"), i.d), "destination type differs from the list type");
        range(i.b, i.c);
        for (uint32_t k = 0; k < i.c; ++k) want(same(f.registers[i.b + k], elem(i.d)), "element type differs");
        break;
      }
      case Op::LIST_GET:
        is(i.b, TypeKind::List, "operand must be a list");
        is(i.c, TypeKind::Int, "index must be an int");
        want(same(reg(i.a, "destination"), elem(f.registers[i.b])), "destination differs from the element type");
        break;
      case Op::LIST_SET:
        is(i.a, TypeKind::List, "operand must be a list");
        is(i.b, TypeKind::Int, "index must be an int");
        want(same(reg(i.c, "value"), elem(f.registers[i.a])), "value differs from the element type");
        break;
      case Op::LIST_APPEND:
        is(i.a, TypeKind::List, "destination must be a list");
        same_regs(i.a, i.b);
        want(same(reg(i.c, "value"), elem(f.registers[i.a])), "value differs from the element type");
        break;
      case Op::LEN: {
        is(i.a, TypeKind::Int, "destination must be an int");
        TypeKind k = kind(reg(i.b, "operand"));
        want(k == TypeKind::String || k == TypeKind::List || k == TypeKind::Map, "LEN needs a string, list or map");
        break;
      }
      case Op::STR_GET:
        is(i.a, TypeKind::String, "destination must be a string");
        is(i.b, TypeKind::String, "operand must be a string");
        is(i.c, TypeKind::Int, "index must be an int");
        break;
      case Op::MAP_NEW: {
        type_index(i.d, w);
        want(kind(i.d) == TypeKind::Map, "MAP_NEW needs a map type");
        want(same(reg(i.a, "destination"), i.d), "destination type differs from the map type");
        range(i.b, 2ull * i.c);
        for (uint32_t k = 0; k < i.c; ++k) {
          want(same(f.registers[i.b + 2 * k], elem(i.d)), "key type differs");
          want(same(f.registers[i.b + 2 * k + 1], value_type(i.d)), "value type differs");
        }
        break;
      }
      case Op::MAP_GET:
        is(i.b, TypeKind::Map, "operand must be a map");
        want(same(reg(i.c, "key"), elem(f.registers[i.b])), "key type differs");
        want(same(reg(i.a, "destination"), value_type(f.registers[i.b])), "destination differs from the value type");
        break;
      case Op::MAP_SET:
        is(i.a, TypeKind::Map, "operand must be a map");
        want(same(reg(i.b, "key"), elem(f.registers[i.a])), "key type differs");
        want(same(reg(i.c, "value"), value_type(f.registers[i.a])), "value type differs");
        break;
      case Op::MAP_HAS:
        is(i.a, TypeKind::Bool, "destination must be a bool");
        is(i.b, TypeKind::Map, "operand must be a map");
        want(same(reg(i.c, "key"), elem(f.registers[i.b])), "key type differs");
        break;
      case Op::RECORD_NEW: {
        if (i.d >= p_.records.size()) fail(w, "record " + std::to_string(i.d) + " out of range");
        uint32_t t = reg(i.a, "destination");
        want(kind(t) == TypeKind::Record && p_.types[t].x == i.d, "destination is not that record");
        const auto& fields = p_.record_field_types[i.d];
        want(i.c == fields.size(), "field count differs from the record's");
        range(i.b, i.c);
        for (uint32_t k = 0; k < i.c; ++k) want(same(f.registers[i.b + k], fields[k]), "field type differs");
        break;
      }
      case Op::FIELD_GET:
      case Op::FIELD_SET: {
        uint32_t rec_reg = i.op == Op::FIELD_GET ? i.b : i.a;
        uint32_t val_reg = i.op == Op::FIELD_GET ? i.a : i.b;
        uint32_t t = reg(rec_reg, "record");
        want(kind(t) == TypeKind::Record, "operand must be a record");
        const auto& fields = p_.record_field_types[p_.types[t].x];
        if (i.d >= fields.size()) fail(w, "field " + std::to_string(i.d) + " out of range");
        want(same(reg(val_reg, "value"), fields[i.d]), "field type differs");
        break;
      }
      case Op::INTENT_NEW: {
        if (i.d >= p_.effects.size()) fail(w, "effect " + std::to_string(i.d) + " out of range");
        uint32_t t = reg(i.a, "destination");
        want(kind(t) == TypeKind::Intent && p_.types[t].x == i.d, "destination is not that effect's intent");
        const auto& params = p_.effects[i.d].params;
        want(i.c == params.size() || i.c == params.size() + 1, "argument count differs from the effect's");
        range(i.b, i.c);
        for (uint32_t k = 0; k < params.size(); ++k) want(same(f.registers[i.b + k], params[k].type), "argument type differs");
        if (i.c == params.size() + 1) want(kind(f.registers[i.b + params.size()]) == TypeKind::String, "the idempotency key is a string");
        break;
      }
      case Op::CALL_BUILTIN: builtin(f, i, w); break;
      case Op::STATE_GET:
        allowed(stateful);
        want(same(reg(i.a, "destination"), state_field(i.d)), "destination differs from the field's type");
        break;
      case Op::STATE_SET:
      case Op::STATE_TAKE:
        // A given writes fields of a state it does not otherwise hold: no in-place take.
        allowed(transition || (given && i.op == Op::STATE_SET));
        want(same(reg(i.a, "operand"), state_field(i.d)), "operand differs from the field's type");
        break;
      case Op::TICK: is(i.a, TypeKind::Int, "destination must be an int"); break;
      case Op::RAND:
        allowed(transition || script);
        is(i.a, TypeKind::Int, "ints expected");
        is(i.b, TypeKind::Int, "ints expected");
        break;
      case Op::OBSERVE: {
        allowed(transition || f.kind == FunctionKind::Predicate);
        if (i.d >= p_.observations.size()) fail(w, "observation " + std::to_string(i.d) + " out of range");
        const ExternalInfo& o = p_.observations[i.d];
        want(same(reg(i.a, "destination"), o.result), "destination differs from the observation's result");
        want(i.c == o.params.size(), "argument count differs");
        range(i.b, i.c);
        for (uint32_t k = 0; k < i.c; ++k) want(same(f.registers[i.b + k], o.params[k].type), "argument type differs");
        break;
      }
      case Op::SEND:
      case Op::SCHEDULE: {
        allowed(transition || (script && i.op == Op::SEND));
        if (i.d >= p_.messages.size()) fail(w, "message " + std::to_string(i.d) + " out of range");
        const MessageInfo& m = p_.messages[i.d];
        // A script's messages come from outside the program: there is no sender to reply to.
        if (script) want(m.domain != -1, "a test script cannot reply");
        if (i.op == Op::SCHEDULE) {
          is(i.a, TypeKind::Int, "the delay must be an int");
          want(m.domain == f.domain, "a schedule targets its own domain");
        } else if (i.a != kNoRegister) {
          want(m.domain != -1, "a reply has no instance id");
          TypeKind k = kind(reg(i.a, "instance id"));
          want(k == TypeKind::Int || k == TypeKind::String, "an instance id is an int or a string");
        }
        want(i.c == m.args.size(), "argument count differs from the message's");
        range(i.b, i.c);
        for (uint32_t k = 0; k < i.c; ++k) want(same(f.registers[i.b + k], m.args[k]), "argument type differs");
        break;
      }
      case Op::EMIT:
        allowed(transition);
        is(i.a, TypeKind::Intent, "EMIT needs an intent");
        break;
      case Op::SPAWN: {
        allowed(transition);
        if (i.d >= p_.spawns.size()) fail(w, "spawn " + std::to_string(i.d) + " out of range");
        const SpawnInfo& s = p_.spawns[i.d];
        if (i.a != kNoRegister) {
          TypeKind k = kind(reg(i.a, "instance id"));
          want(k == TypeKind::Int || k == TypeKind::String, "an instance id is an int or a string");
        }
        want(i.c == s.fields.size(), "value count differs from the spawn's fields");
        range(i.b, i.c);
        const auto& fields = p_.record_field_types[p_.domains[s.domain].state_record];
        for (uint32_t k = 0; k < i.c; ++k) want(same(f.registers[i.b + k], fields[s.fields[k]]), "field type differs");
        break;
      }
      case Op::CALL: {
        if (i.d >= p_.functions.size()) fail(w, "function " + std::to_string(i.d) + " out of range");
        const FunctionInfo& callee = p_.functions[i.d];
        want(callee.kind == FunctionKind::Fn, "only a fn can be called");
        want(i.c == callee.param_count && callee.param_count <= callee.registers.size(), "argument count differs");
        range(i.b, i.c);
        for (uint32_t k = 0; k < i.c; ++k) {
          type_index(callee.registers[k], w);
          want(same(f.registers[i.b + k], callee.registers[k]), "argument type differs");
        }
        type_index(callee.result, w);
        want(same(reg(i.a, "destination"), callee.result), "destination differs from the result type");
        break;
      }
      case Op::JMP: block(i.d); break;
      case Op::JMP_IF:
        is(i.a, TypeKind::Bool, "condition must be a bool");
        block(i.b);
        block(i.c);
        break;
      case Op::BR_NONE:
        is(i.a, TypeKind::Optional, "operand must be an optional");
        block(i.b);
        block(i.c);
        break;
      case Op::BR_LT_I64: case Op::BR_LE_I64: case Op::BR_EQ_I64: case Op::FOR_STEP:
        is(i.a, TypeKind::Int, "ints expected");
        is(i.b, TypeKind::Int, "ints expected");
        block(i.c);
        block(i.d);
        break;
      case Op::RET:
        allowed(!is_sliced(f.kind));
        want(same(reg(i.a, "operand"), f.result), "returns a value of another type");
        break;
      case Op::YIELD:
        allowed(is_sliced(f.kind));
        want(i.d >= 1 && i.d < f.slice_entries.size(), "yields to a slice that does not exist");
        break;
      case Op::ADVANCE:
        allowed(script);
        is(i.a, TypeKind::Int, "the tick count must be an int");
        want(i.d >= 1 && i.d < f.slice_entries.size(), "advances to a slice that does not exist");
        break;
      case Op::END: allowed(is_sliced(f.kind)); break;
      case Op::FAIL:
      case Op::ASSERT_FAIL: is(i.a, TypeKind::String, "the message must be a string"); break;
      case Op::kCount: fail(w, "unknown opcode");
    }
  }

  static const char* function_kind_noun(FunctionKind k) {
    switch (k) {
      case FunctionKind::Fn: return "a fn";
      case FunctionKind::Transition: return "a transition";
      case FunctionKind::Predicate: return "a goal predicate";
      case FunctionKind::Invariant: return "an invariant";
      case FunctionKind::Initializer: return "a state initializer";
      case FunctionKind::TestValue: return "a test value";
      case FunctionKind::TestGiven: return "a test's given";
      case FunctionKind::TestScript: return "a test script";
      case FunctionKind::TestExpect: return "a test expectation";
      case FunctionKind::Migration: return "a migration";
    }
    return "this function";
  }
  // Functions that read or write one domain's instance (its `domain` is in range).
  static bool has_domain(FunctionKind k) {
    return k == FunctionKind::Transition || k == FunctionKind::Predicate || k == FunctionKind::Invariant ||
           k == FunctionKind::Initializer || k == FunctionKind::TestGiven || k == FunctionKind::Migration;
  }
  // Functions with one entry block per slice, ended by YIELD (or ADVANCE) and END.
  static bool is_sliced(FunctionKind k) { return k == FunctionKind::Transition || k == FunctionKind::TestScript; }
  // Functions the test runner calls with nothing (an expectation takes states).
  static bool runs_without_arguments(FunctionKind k) {
    return k == FunctionKind::TestValue || k == FunctionKind::TestGiven || k == FunctionKind::TestScript;
  }

  void builtin(const FunctionInfo& f, const Instr& i, const std::string& w) {
    if (i.d >= bytecode::kBuiltinCount) fail(w, "built-in " + std::to_string(i.d) + " out of range");
    const uint32_t nregs = static_cast<uint32_t>(f.registers.size());
    if (i.a >= nregs || static_cast<uint64_t>(i.b) + i.c > nregs) fail(w, "registers out of range");
    auto arg = [&](uint32_t k) { return f.registers[i.b + k]; };
    const uint32_t dst = f.registers[i.a];
    auto count = [&](uint32_t n) {
      if (i.c != n) fail(w, std::string(bytecode::kBuiltinNames[i.d]) + " takes " + std::to_string(n) + " arguments");
    };
    auto k = [&](uint32_t t) { return kind(t); };
    auto need = [&](bool ok) {
      if (!ok) fail(w, std::string("argument or result types do not fit ") + bytecode::kBuiltinIds[i.d]);
    };
    using K = TypeKind;
    switch (static_cast<Builtin>(i.d)) {
      case Builtin::MIN_I64: case Builtin::MAX_I64:
        count(2); need(k(arg(0)) == K::Int && k(arg(1)) == K::Int && k(dst) == K::Int); break;
      case Builtin::MIN_F64: case Builtin::MAX_F64:
        count(2); need(k(arg(0)) == K::Float && k(arg(1)) == K::Float && k(dst) == K::Float); break;
      case Builtin::MIN_LIST_I64: case Builtin::MAX_LIST_I64:
        count(1); need(k(arg(0)) == K::List && k(elem(arg(0))) == K::Int && k(dst) == K::Int); break;
      case Builtin::MIN_LIST_F64: case Builtin::MAX_LIST_F64:
        count(1); need(k(arg(0)) == K::List && k(elem(arg(0))) == K::Float && k(dst) == K::Float); break;
      case Builtin::ABS_I64: count(1); need(k(arg(0)) == K::Int && k(dst) == K::Int); break;
      case Builtin::ABS_F64: count(1); need(k(arg(0)) == K::Float && k(dst) == K::Float); break;
      case Builtin::CONTAINS_STR:
        count(2); need(k(arg(0)) == K::String && k(arg(1)) == K::String && k(dst) == K::Bool); break;
      case Builtin::CONTAINS_LIST:
        count(2); need(k(arg(0)) == K::List && same(arg(1), elem(arg(0))) && k(dst) == K::Bool); break;
      case Builtin::CONTAINS_MAP:
        count(2); need(k(arg(0)) == K::Map && same(arg(1), elem(arg(0))) && k(dst) == K::Bool); break;
      case Builtin::KEYS:
        count(1); need(k(arg(0)) == K::Map && k(dst) == K::List && same(elem(dst), elem(arg(0)))); break;
      case Builtin::VALUES:
        count(1); need(k(arg(0)) == K::Map && k(dst) == K::List && same(elem(dst), value_type(arg(0)))); break;
      case Builtin::REMOVE_LIST:
        count(2); need(k(arg(0)) == K::List && k(arg(1)) == K::Int && same(dst, arg(0))); break;
      case Builtin::REMOVE_MAP:
        count(2); need(k(arg(0)) == K::Map && same(arg(1), elem(arg(0))) && same(dst, arg(0))); break;
      case Builtin::SLICE_STR:
        count(3); need(k(arg(0)) == K::String && k(arg(1)) == K::Int && k(arg(2)) == K::Int && k(dst) == K::String); break;
      case Builtin::SLICE_LIST:
        count(3); need(k(arg(0)) == K::List && k(arg(1)) == K::Int && k(arg(2)) == K::Int && same(dst, arg(0))); break;
      case Builtin::SPLIT:
        count(2);
        need(k(arg(0)) == K::String && k(arg(1)) == K::String && k(dst) == K::List && k(elem(dst)) == K::String);
        break;
      case Builtin::JOIN:
        count(2);
        need(k(arg(0)) == K::List && k(elem(arg(0))) == K::String && k(arg(1)) == K::String && k(dst) == K::String);
        break;
      case Builtin::UPPER: case Builtin::LOWER: count(1); need(k(arg(0)) == K::String && k(dst) == K::String); break;
      case Builtin::STARTS_WITH: case Builtin::ENDS_WITH:
        count(2); need(k(arg(0)) == K::String && k(arg(1)) == K::String && k(dst) == K::Bool); break;
      case Builtin::FORMAT: need(i.c >= 1 && k(arg(0)) == K::String && k(dst) == K::String); break;
      case Builtin::HASH: count(1); need(k(dst) == K::Int); break;
      case Builtin::INT_F64: count(1); need(k(arg(0)) == K::Float && k(dst) == K::Int); break;
      case Builtin::INT_STR: count(1); need(k(arg(0)) == K::String && k(dst) == K::Int); break;
      case Builtin::INT_BOOL: count(1); need(k(arg(0)) == K::Bool && k(dst) == K::Int); break;
      case Builtin::FLOAT_STR: count(1); need(k(arg(0)) == K::String && k(dst) == K::Float); break;
      case Builtin::FLOAT_BOOL: count(1); need(k(arg(0)) == K::Bool && k(dst) == K::Float); break;
      case Builtin::STR: count(1); need(k(dst) == K::String); break;
      case Builtin::kCount: fail(w, "unknown built-in");
    }
  }

  // A field taken out of the state (STATE_TAKE) is put back (STATE_SET) in the same
  // block, and nothing reads or takes it in between.
  void take_discipline(const FunctionInfo& f, const std::string& w) {
    for (size_t b = 0; b < f.blocks.size(); ++b) {
      const uint32_t start = f.blocks[b].start;
      const uint32_t end = b + 1 < f.blocks.size() ? f.blocks[b + 1].start : static_cast<uint32_t>(f.code.size());
      std::set<uint32_t> taken;
      for (uint32_t pc = start; pc < end; ++pc) {
        const Instr& i = f.code[pc];
        const std::string iw = w + ": block " + std::to_string(b) + ", instruction " + std::to_string(pc - start);
        if (i.op == Op::STATE_TAKE && !taken.insert(i.d).second) fail(iw, "state field taken twice");
        if (i.op == Op::STATE_GET && taken.count(i.d)) fail(iw, "state field read while taken");
        if (i.op == Op::STATE_SET) taken.erase(i.d);
      }
      if (!taken.empty()) fail(w + ": block " + std::to_string(b), "a taken state field is not put back");
    }
  }

  // ---- definite assignment
  struct Access {
    std::vector<uint32_t> reads;
    uint32_t range_first = 0, range_count = 0;
    int64_t write = -1;   // register written (or -1)
    bool kills = false;   // DROP: the register no longer holds a value
  };

  static Access access(const Instr& i) {
    const bytecode::OperandRoles roles = bytecode::operand_roles(i.op);
    Access a;
    if (roles.reads_a || roles.updates_a) {
      if (!(roles.a_may_be_absent && i.a == kNoRegister)) a.reads.push_back(i.a);
    }
    if (roles.reads_b) a.reads.push_back(i.b);
    if (roles.reads_c) a.reads.push_back(i.c);
    if (roles.reads_range) {
      a.range_first = i.b;
      a.range_count = roles.range_of_pairs ? 2u * i.c : i.c;
    }
    if (roles.writes_a || roles.updates_a || roles.kills_a) a.write = i.a;
    a.kills = roles.kills_a;
    return a;
  }

  void definite_assignment(const FunctionInfo& f, const std::string& w) {
    const size_t nregs = f.registers.size(), nblocks = f.blocks.size();
    const size_t words = (nregs + 63) / 64;
    if (words * nblocks > (size_t{1} << 22))
      fail(w, "too large to verify (" + std::to_string(nregs) + " registers x " + std::to_string(nblocks) + " blocks)");
    using Bits = std::vector<uint64_t>;
    auto set = [](Bits& b, size_t r) { b[r / 64] |= uint64_t{1} << (r % 64); };
    auto clear = [](Bits& b, size_t r) { b[r / 64] &= ~(uint64_t{1} << (r % 64)); };
    auto has = [](const Bits& b, size_t r) { return (b[r / 64] >> (r % 64)) & 1; };
    auto block_end = [&](size_t b) {
      return b + 1 < nblocks ? f.blocks[b + 1].start : static_cast<uint32_t>(f.code.size());
    };
    Bits params(words, 0);
    for (uint32_t r = 0; r < f.param_count; ++r) set(params, r);
    // in[b]: registers written on every path into b. Unvisited blocks start at "all".
    std::vector<Bits> in(nblocks, Bits(words, ~uint64_t{0}));
    std::vector<bool> visited(nblocks, false);
    std::vector<uint32_t> work;
    // Slice 0 starts with its parameters. A later slice starts from the continuation its
    // YIELD saved, so it has what every YIELD to it had; with no YIELD to it, it can only
    // be resumed with the parameters.
    std::vector<bool> yielded_to(f.slice_entries.size(), false);
    for (const Instr& i : f.code)
      if (i.op == Op::YIELD || i.op == Op::ADVANCE) yielded_to[i.d] = true;
    for (size_t s = 0; s < f.slice_entries.size(); ++s) {
      if (s > 0 && yielded_to[s]) continue;
      in[f.slice_entries[s]] = params;
      work.push_back(f.slice_entries[s]);
    }
    auto transfer = [&](size_t b, Bits cur, bool check) -> Bits {
      for (uint32_t pc = f.blocks[b].start; pc < block_end(b); ++pc) {
        Access a = access(f.code[pc]);
        if (check) {
          auto unread = [&](uint32_t r) {
            fail(w + ": block " + std::to_string(b) + ", instruction " + std::to_string(pc - f.blocks[b].start),
                 "register " + std::to_string(r) + " is read before it is written");
          };
          for (uint32_t r : a.reads)
            if (!has(cur, r)) unread(r);
          for (uint32_t k = 0; k < a.range_count; ++k)
            if (!has(cur, a.range_first + k)) unread(a.range_first + k);
        }
        if (a.write >= 0) {
          if (a.kills) clear(cur, static_cast<size_t>(a.write));
          else set(cur, static_cast<size_t>(a.write));
        }
      }
      return cur;
    };
    auto meet_into = [&](uint32_t target, const Bits& out) {
      bool changed = !visited[target];
      Bits& dst = in[target];
      for (size_t k = 0; k < words; ++k) {
        uint64_t v = dst[k] & out[k];
        if (v != dst[k]) changed = true;
        dst[k] = v;
      }
      if (changed) work.push_back(target);
    };
    while (!work.empty()) {
      uint32_t b = work.back();
      work.pop_back();
      visited[b] = true;
      Bits out = transfer(b, in[b], false);
      const Instr& t = f.code[block_end(b) - 1];
      // A slice's registers carry over to the next slice: for definite assignment, YIELD
      // and ADVANCE flow into the slice they name, as well as a branch to its targets.
      for (uint32_t s : bytecode::successors_of(t)) meet_into(s, out);
      if (t.op == Op::YIELD || t.op == Op::ADVANCE) meet_into(f.slice_entries[t.d], out);
    }
    for (size_t b = 0; b < nblocks; ++b)
      if (visited[b]) transfer(b, in[b], true);
  }

  Program& p_;
};

}  // namespace

bool verify_program(Program& program, std::string& error) {
  try {
    Verifier(program).run();
  } catch (const VerifyError& e) {
    error = std::string("invalid bundle: ") + e.what();
    return false;
  }
  return true;
}

}  // namespace ved::vm
