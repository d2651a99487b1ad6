// The .vedb bundle format: constants shared by the writer (ir/bundle_writer.cpp) and the
// loader (vm/bundle_loader.cpp). docs/bundle.md describes the document; this header holds
// the numbers both sides must agree on.
#pragma once

#include <cstdint>
#include <string_view>

namespace ved::bytecode {

inline constexpr std::string_view kMagic = "VEDB";
// Bumped whenever a bundle written by one version could be misread by another.
// 2: migrations carry their compiled function (FunctionKind::Migration).
inline constexpr uint32_t kFormatVersion = 2;

// Hard limits. The loader rejects bundles beyond them; the compiler reports a diagnostic
// instead of writing one. 16-bit operands bound registers and blocks.
inline constexpr uint32_t kMaxRegisters = 0xFFFE;  // 0xFFFF is kNoRegister
inline constexpr uint32_t kMaxBlocks = 0xFFFF;
inline constexpr uint32_t kMaxTableSize = 1u << 24;  // functions, types, constants, ...
inline constexpr uint32_t kMaxBundleBytes = 256u << 20;

// Entries of the type table: [kind, x, y]. x and y are type indices for List (x =
// element), Map (x = key, y = value) and Optional (x = element), a record index for
// Record and an effect index for Intent; 0 otherwise. A type refers only to types
// before it, so the table has no cycles.
enum class TypeKind : uint8_t {
  Unit = 0,
  Bool = 1,
  Int = 2,
  Float = 3,
  String = 4,
  List = 5,
  Map = 6,
  Optional = 7,
  Record = 8,
  Intent = 9,
};
inline constexpr uint8_t kTypeKindCount = 10;

// What a function is for; it decides which instructions it may use.
enum class FunctionKind : uint8_t {
  Fn = 0,          // a pure `fn`: no state, no outputs
  Transition = 1,  // a transition: one entry block per slice
  Predicate = 2,   // a goal predicate: reads state and observations, returns bool
  Invariant = 3,   // reads state only, returns bool
  Initializer = 4, // a domain's field defaults: returns the state record
  // Simulation tests (language.md §12; the `tests` table of docs/bundle.md). None of
  // them emits; only the runner (`vedvm test`) calls them.
  TestValue = 5,   // a value the runner needs: a given's instance id, a stub's result or message
  TestGiven = 6,   // a `given` item: STATE_SETs fields of the instance's state (defaults already set)
  TestScript = 7,  // `simulate`'s statements: slices ended by ADVANCE (or YIELD); sends, no state
  TestExpect = 8,  // an expectation: parameters are domains' state records, returns bool
  // A `migration` (language.md §10): pure code of its domain; its one parameter is the
  // stored state as the migration reads it (a record of the fields it reads, filled by
  // name), its result the state of the version it migrates to.
  Migration = 9,
};
inline constexpr uint8_t kFunctionKindCount = 10;

// Fault kinds (runtime.md §3). The numbers appear in journals: never reuse one.
enum class FaultKind : uint8_t {
  None = 0,
  Budget = 1,          // fuel exhausted, or calls nested too deep
  Overflow = 2,        // integer overflow, or a float too large for int()
  DivisionByZero = 3,
  Index = 4,           // list or string index out of range
  MissingKey = 5,
  NoneValue = 6,       // `none` unwrapped
  Fail = 7,            // `fail "..."`
  Assert = 8,          // `assert c, "..."`
  Invariant = 9,       // an invariant false after a slice (raised by the runtime)
  Conversion = 10,     // int("x"), float("x"), a negative rand() bound, advance_ticks(n < 0)
  Observation = 11,    // an observation could not be sampled
};
inline constexpr uint8_t kFaultKindCount = 12;

inline std::string_view fault_kind_name(FaultKind k) {
  switch (k) {
    case FaultKind::None: return "none";
    case FaultKind::Budget: return "budget";
    case FaultKind::Overflow: return "overflow";
    case FaultKind::DivisionByZero: return "division by zero";
    case FaultKind::Index: return "index";
    case FaultKind::MissingKey: return "missing key";
    case FaultKind::NoneValue: return "none";
    case FaultKind::Fail: return "fail";
    case FaultKind::Assert: return "assert";
    case FaultKind::Invariant: return "invariant";
    case FaultKind::Conversion: return "conversion";
    case FaultKind::Observation: return "observation";
  }
  return "unknown";
}

// The pure built-ins of language.md §9, specialised by argument type so that the
// verifier can check them and the interpreter need not dispatch on tags. The type rule
// of each is checked by the VM's verifier (Verifier::builtin in vm/verifier.cpp) and
// mirrored by the compiler's choice of variant (FunctionBuilder::builtin in ir/lower_calls.cpp).
#define VED_BUILTINS(X)  \
  X(MIN_I64, "min")      \
  X(MAX_I64, "max")      \
  X(MIN_F64, "min")      \
  X(MAX_F64, "max")      \
  X(MIN_LIST_I64, "min") \
  X(MAX_LIST_I64, "max") \
  X(MIN_LIST_F64, "min") \
  X(MAX_LIST_F64, "max") \
  X(ABS_I64, "abs")      \
  X(ABS_F64, "abs")      \
  X(CONTAINS_STR, "contains") \
  X(CONTAINS_LIST, "contains") \
  X(CONTAINS_MAP, "contains") \
  X(KEYS, "keys")        \
  X(VALUES, "values")    \
  X(REMOVE_LIST, "remove") \
  X(REMOVE_MAP, "remove") \
  X(SLICE_STR, "slice")  \
  X(SLICE_LIST, "slice") \
  X(SPLIT, "split")      \
  X(JOIN, "join")        \
  X(UPPER, "upper")      \
  X(LOWER, "lower")      \
  X(STARTS_WITH, "starts_with") \
  X(ENDS_WITH, "ends_with") \
  X(FORMAT, "format")    \
  X(HASH, "hash")        \
  X(INT_F64, "int")      \
  X(INT_STR, "int")      \
  X(INT_BOOL, "int")     \
  X(FLOAT_STR, "float")  \
  X(FLOAT_BOOL, "float") \
  X(STR, "str")

enum class Builtin : uint16_t {
#define VED_BUILTIN_ENUM(id, name) id,
  VED_BUILTINS(VED_BUILTIN_ENUM)
#undef VED_BUILTIN_ENUM
      kCount
};
inline constexpr uint16_t kBuiltinCount = static_cast<uint16_t>(Builtin::kCount);

inline constexpr const char* kBuiltinIds[] = {
#define VED_BUILTIN_ID(id, name) #id,
    VED_BUILTINS(VED_BUILTIN_ID)
#undef VED_BUILTIN_ID
};
inline constexpr const char* kBuiltinNames[] = {
#define VED_BUILTIN_NAME(id, name) name,
    VED_BUILTINS(VED_BUILTIN_NAME)
#undef VED_BUILTIN_NAME
};

}  // namespace ved::bytecode
