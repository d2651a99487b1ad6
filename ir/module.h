// The IR: a whole program as typed registers and basic blocks, ready to be written as a
// bundle.
//
// Instructions are the bundle's own (bytecode/opcodes.h), so lowering decides the final
// instruction selection and the passes (passes.h) rewrite in place; what the IR adds is
// what only the compiler needs: a source span per instruction, register names, and
// operands that are not yet narrowed to 16 bits (the writer checks the limits).
//
// Every table is a vector in a deterministic order (declaration order, or first use), so
// the same source always gives the same module and the same bundle bytes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "bytecode/format.h"
#include "bytecode/opcodes.h"
#include "frontend/source_manager.h"

namespace ved::ir {

using bytecode::FunctionKind;
using bytecode::Op;
using bytecode::TypeKind;

using TypeId = uint32_t;

struct TypeDesc {
  TypeKind kind = TypeKind::Unit;
  uint32_t x = 0;  // List/Optional: element type; Map: key type; Record: record; Intent: effect
  uint32_t y = 0;  // Map: value type
  auto operator<=>(const TypeDesc&) const = default;
};

// Types interned in first-use order: equal types have equal ids.
class TypeTable {
 public:
  TypeTable();
  TypeId intern(TypeDesc t);
  const TypeDesc& operator[](TypeId id) const { return list_.at(id); }
  const std::vector<TypeDesc>& all() const { return list_; }

  TypeId unit() const { return 0; }
  TypeId boolean() const { return 1; }
  TypeId integer() const { return 2; }
  TypeId floating() const { return 3; }
  TypeId string() const { return 4; }
  TypeId list(TypeId element) { return intern({TypeKind::List, element, 0}); }
  TypeId map(TypeId key, TypeId value) { return intern({TypeKind::Map, key, value}); }
  TypeId optional(TypeId element);  // optional(T?) is T?
  TypeId record(uint32_t record) { return intern({TypeKind::Record, record, 0}); }
  TypeId intent(uint32_t effect) { return intern({TypeKind::Intent, effect, 0}); }

  // Heap types need reference counting; scalars do not.
  bool is_heap(TypeId id) const;

 private:
  std::vector<TypeDesc> list_;
  std::map<TypeDesc, TypeId> index_;
};

struct Constant {
  enum class Kind : uint8_t { Int = 0, Float = 1, String = 2, Bool = 3 } kind = Kind::Int;
  int64_t i = 0;  // Int, and Bool (0 or 1)
  double f = 0;
  std::string s;
};

struct Instr {
  Op op = Op::END;
  uint32_t a = 0, b = 0, c = 0, d = 0;
  Span span;
};

struct Block {
  std::vector<Instr> code;
};

struct Function {
  std::string name;  // `fib`, `Counter.Increment`, `Counter.goal.Stable`
  FunctionKind kind = FunctionKind::Fn;
  int32_t domain = -1;        // the domain whose state it reads, or -1
  uint32_t param_count = 0;   // parameters are registers 0 .. param_count-1
  TypeId result = 0;
  std::vector<TypeId> registers;
  std::vector<std::string> register_names;  // "" for temporaries
  std::vector<uint32_t> slice_entries;      // the entry block of each slice (others: {0})
  std::vector<std::string> slice_names;     // transitions: `debit`, or "" for unnamed
  std::vector<Block> blocks;
  Span span;
};

struct Field {
  std::string name;
  TypeId type = 0;
};

struct Record {
  std::string name;  // `Worker`, or `Counter.State` for a domain's state
  std::vector<Field> fields;
};

struct ExternalCall {  // an effect or an observation
  std::string name;
  std::vector<Field> params;
  TypeId result = 0;
  uint8_t privilege = 0;  // effects: pure 0 .. root 4
  bool declared = true;   // false: emitted without a declaration (fails with NoAdapter)
};

// The target of SEND / SCHEDULE: a transition of a domain, or (reply) a transition
// name looked up on whoever sent the message being processed.
struct Message {
  int32_t domain = -1;      // -1 for a reply
  int32_t transition = -1;  // -1 for a reply
  std::string name;         // the transition's name
  bool high_lane = false;
  std::vector<TypeId> args;
};

// The shape of a SPAWN: which fields the given values fill, in order.
struct SpawnShape {
  uint32_t domain = 0;
  std::vector<uint32_t> fields;
};

struct Goal {
  std::string name;
  uint32_t priority = 100;
  uint32_t predicate = 0;  // function
  std::vector<uint32_t> strategy;  // transition indices in the domain
  bool inferred_strategy = false;
  uint8_t terminate_kind = 1;      // 0 never, 1 attempts, 2 ticks
  int64_t terminate_count = 1000;
  bool backoff_exponential = false;
  int64_t backoff_max = 0;
  Span span;
};

struct Invariant {
  std::string name;
  uint32_t function = 0;
  Span span;
};

struct Transition {
  std::string name;
  std::vector<Field> params;
  uint32_t function = 0;
  bool is_start = false;
  int32_t on_effect = -1;  // `on E.ok` / `on E.failed`: the effect
  bool on_ok = true;
  int64_t budget = 0;      // 0: the VM's default
  std::string escalation;  // `@escalate(reason: ...)`, or ""
  std::string scope;
  Span span;
};

struct Domain {
  std::string name;
  uint32_t state_record = 0;
  uint32_t initializer = 0;  // function returning the initial state
  std::string scope;         // `Workspace("payments")`, `Root`
  uint8_t scope_depth = 0;   // Root 0 .. Namespace 5
  uint8_t privilege = 1;
  int64_t version = 1;
  bool activated_by_default = false;  // has a goal or a start transition
  std::vector<Goal> goals;
  std::vector<Invariant> invariants;
  std::vector<Transition> transitions;
};

struct StartItem {  // `system X { start domain D[id] { f = v } }`
  uint32_t domain = 0;
  int32_t id_constant = -1;  // -1: the default instance
  std::vector<std::pair<uint32_t, uint32_t>> fields;  // (field, constant)
};

// `deploy [service] D to E` (language.md §11): a placement group for the cluster.
struct Deploy {
  uint32_t domain = 0;
  std::string environment;
  bool service = false;
};

struct Migration {
  std::string name;
  uint32_t domain = 0;
  int64_t from_version = 0;
  int64_t to_version = 0;
  uint32_t function = 0;  // FunctionKind::Migration: (the `from` record) -> the `to` state
};

// A simulation test (language.md §12): the bundle's `tests` table (docs/bundle.md).
// Every function here is one of the test kinds (FunctionKind::TestValue ...).
struct TestGivenItem {
  uint32_t domain = 0;
  int32_t id_function = -1;      // TestValue returning the instance id; -1: the default instance
  uint32_t fields_function = 0;  // TestGiven: STATE_SETs the given fields
};
struct TestStub {
  uint32_t effect = 0;
  bool fails = false;
  int32_t value_function = -1;   // TestValue: the ok value or the failure message; -1: unit / default
};
struct TestExpectation {
  uint8_t kind = 0;              // 0 always, 1 eventually, 2 final
  uint32_t function = 0;         // TestExpect
  std::vector<uint32_t> domains; // its parameters: these domains' default instances' states
  std::string text;              // the condition as written
  Span span;
};
struct Test {
  std::string name;
  Span span;                     // starts at the `test` keyword
  std::vector<TestGivenItem> given;
  std::vector<TestStub> stubs;
  int32_t script = -1;           // TestScript, or -1 when `simulate` has no statements
  std::vector<TestExpectation> expectations;
};

struct Module {
  std::string program_name;
  std::vector<std::string> source_files;
  TypeTable types;
  std::vector<Constant> constants;
  std::vector<Record> records;
  std::vector<ExternalCall> effects;
  std::vector<ExternalCall> observations;
  std::vector<Message> messages;
  std::vector<SpawnShape> spawns;
  std::vector<Function> functions;
  std::vector<Domain> domains;
  std::vector<StartItem> system;
  bool has_system = false;
  std::vector<Deploy> deploys;
  std::vector<Migration> migrations;
  std::vector<Test> tests;

  // Returns the index of an equal constant, adding it if new (first-use order).
  uint32_t add_constant(Constant c);

 private:
  std::map<std::tuple<int, int64_t, uint64_t, std::string>, uint32_t> constant_index_;
};

}  // namespace ved::ir
