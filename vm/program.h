// A loaded, verified program: what the bundle says, in the form the interpreter runs.
//
// Built only by load_bundle (bundle_loader.h), which verifies every index, type and
// block before returning, so code that holds a Program may index its tables without
// checking.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bytecode/format.h"
#include "bytecode/opcodes.h"
#include "vm/runtime_library.h"
#include "vm/value.h"

namespace ved::vm {

using bytecode::FunctionKind;
using bytecode::Instr;
using bytecode::Op;
using bytecode::TypeKind;

struct TypeInfo {
  TypeKind kind = TypeKind::Unit;
  uint32_t x = 0, y = 0;
};

struct FieldInfo {
  std::string name;
  uint32_t type = 0;
};

struct ExternalInfo {  // an effect or an observation
  std::string name;
  std::vector<FieldInfo> params;
  uint32_t result = 0;
  uint8_t privilege = 0;
  bool declared = true;
};

struct MessageInfo {
  int32_t domain = -1;      // -1: a reply, to whoever sent the message being processed
  int32_t transition = -1;
  std::string name;
  bool high_lane = false;
  std::vector<uint32_t> args;
};

struct SpawnInfo {
  uint32_t domain = 0;
  std::vector<uint32_t> fields;
};

struct BlockInfo {
  uint32_t start = 0;  // index of its first instruction in FunctionInfo::code
  uint32_t cost = 0;   // fuel charged on entry
};

struct SourcePos {
  uint32_t file = 0;
  uint32_t line = 0;  // 0: unknown
  uint32_t column = 0;
};

struct FunctionInfo {
  std::string name;
  FunctionKind kind = FunctionKind::Fn;
  int32_t domain = -1;
  uint32_t param_count = 0;
  uint32_t result = 0;
  std::vector<uint32_t> registers;       // type of each register
  std::vector<uint32_t> heap_registers;  // those whose type is reference counted
  std::vector<uint32_t> slice_entries;   // entry block of each slice
  std::vector<std::string> slice_names;
  std::vector<BlockInfo> blocks;
  std::vector<Instr> code;               // all blocks, in order
  std::vector<SourcePos> positions;      // one per instruction
};

struct GoalInfo {
  std::string name;
  uint32_t priority = 100;
  uint32_t predicate = 0;
  std::vector<uint32_t> strategy;
  bool inferred_strategy = false;
  uint8_t terminate_kind = 1;  // 0 never, 1 attempts, 2 ticks
  int64_t terminate_count = 1000;
  int64_t backoff_max = 0;     // 0: no backoff
};

struct InvariantInfo {
  std::string name;
  uint32_t function = 0;
};

struct TransitionInfo {
  std::string name;
  std::vector<FieldInfo> params;
  uint32_t function = 0;
  bool is_start = false;
  int32_t on_effect = -1;
  bool on_ok = true;
  int64_t budget = 0;
  std::string escalation;
  std::string scope;
};

struct DomainInfo {
  std::string name;
  uint32_t state_record = 0;
  uint32_t state_type = 0;  // the type of the state record (set by the verifier)
  uint32_t initializer = 0;
  std::string scope;
  uint8_t scope_depth = 0;
  uint8_t privilege = 1;
  int64_t version = 1;
  bool activated_by_default = false;
  std::vector<GoalInfo> goals;
  std::vector<InvariantInfo> invariants;
  std::vector<TransitionInfo> transitions;
};

struct StartInfo {
  uint32_t domain = 0;
  int32_t id_constant = -1;
  std::vector<std::pair<uint32_t, uint32_t>> fields;  // (field, constant)
};

// `deploy [service] D to E` (language.md §11): where the cluster places D's instances.
struct DeployInfo {
  uint32_t domain = 0;
  std::string environment;
  bool service = false;
};

struct MigrationInfo {
  std::string name;
  uint32_t domain = 0;
  int64_t from_version = 0;
  int64_t to_version = 0;
  // FunctionKind::Migration. Its parameter is a record of the fields it reads from the
  // stored state (by name); its result the domain's state record when to_version is the
  // domain's version, else a record of the fields the migration gives that version.
  uint32_t function = 0;
};

// A simulation test (language.md §12), as the runner (`vedvm test`) runs it: set up the
// givens on fresh instances, install the stubs, run the script a step at a time (each
// ADVANCE says how many ticks to run before the next), and check the expectations.
// Every function index names a function of the kind written beside it (the verifier
// checks kinds, domains and types).
struct TestInfo {
  std::string name;
  SourcePos position;  // of the `test` keyword
  struct Given {
    uint32_t domain = 0;
    int32_t id_function = -1;      // -1: the domain's default instance; else a TestValue returning the int or string id
    uint32_t fields_function = 0;  // TestGiven: runs with env.state = the instance's state record (defaults
                                   // already set) and STATE_SETs the given fields
  };
  std::vector<Given> given;
  struct Stub {
    uint32_t effect = 0;           // Program::effects index
    bool fails = false;
    int32_t value_function = -1;   // TestValue: the ok value (the effect's result type) or, when `fails`, the
                                   // failure message (a string); -1: a unit result, or the default message
  };
  std::vector<Stub> stubs;
  int32_t script = -1;             // TestScript: the `simulate` statements; -1 if there are none
  struct Expectation {
    uint8_t kind = 0;              // 0 always, 1 eventually, 2 final (holds at the end)
    uint32_t function = 0;         // TestExpect: returns bool
    std::vector<uint32_t> domains; // its parameters, in order: the state record of each of these domains'
                                   // default instance
    std::string text;              // the condition's source text, for failure messages
    SourcePos position;
  };
  std::vector<Expectation> expectations;
};

struct Program {
  uint32_t format = 0;
  std::string compiler;
  uint64_t hash = 0;
  std::string name;
  std::vector<std::string> sources;
  std::vector<TypeInfo> types;
  std::vector<uint32_t> canonical_type;  // equal types share a canonical index
  std::vector<Value> constants;
  std::vector<RecordLayout> records;
  std::vector<std::vector<uint32_t>> record_field_types;
  std::vector<ExternalInfo> effects;
  std::vector<std::string> effect_names;
  std::vector<ExternalInfo> observations;
  std::vector<MessageInfo> messages;
  std::vector<SpawnInfo> spawns;
  std::vector<FunctionInfo> functions;
  std::vector<DomainInfo> domains;
  bool has_system = false;
  std::vector<StartInfo> system;
  std::vector<DeployInfo> deploys;
  std::vector<MigrationInfo> migrations;
  std::vector<TestInfo> tests;

  bool same_type(uint32_t a, uint32_t b) const { return canonical_type[a] == canonical_type[b]; }
  const FunctionInfo* find_function(const std::string& name) const {
    for (const auto& f : functions)
      if (f.name == name) return &f;
    return nullptr;
  }
  BuiltinContext builtin_context() const { return BuiltinContext{records, effect_names}; }
};

// `file:line:col`, or "" when the bundle has no position for it.
inline std::string source_position(const Program& p, const SourcePos& pos) {
  if (pos.line == 0 || pos.file >= p.sources.size()) return "";
  return p.sources[pos.file] + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
}

// A type as source code writes it: `list<string>`, `int?`, `map<string, int>`, a record's
// name (for the disassembler, and for comparing effect signatures).
inline std::string type_text(const Program& p, uint32_t t) {
  const TypeInfo& ti = p.types[t];
  switch (ti.kind) {
    case TypeKind::Unit: return "unit";
    case TypeKind::Bool: return "bool";
    case TypeKind::Int: return "int";
    case TypeKind::Float: return "float";
    case TypeKind::String: return "string";
    case TypeKind::List: return "list<" + type_text(p, ti.x) + ">";
    case TypeKind::Map: return "map<" + type_text(p, ti.x) + ", " + type_text(p, ti.y) + ">";
    case TypeKind::Optional: return type_text(p, ti.x) + "?";
    case TypeKind::Record: return p.records[ti.x].name;
    case TypeKind::Intent: return "intent<" + p.effects[ti.x].name + ">";
  }
  return "?";
}

}  // namespace ved::vm
