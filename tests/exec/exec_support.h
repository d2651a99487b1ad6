// Compiling Ved source text in-process and running it under the bytecode interpreter,
// for the execution tests (tests/exec/*_test.cpp).
//
// compile() runs the whole pipeline `vedc` runs: parse, parse the prelude, check, lower,
// write the bundle, then load (decode + verify) the bundle into a vm::Program. A program
// that does not compile comes back with its diagnostics instead of a Program.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <type_traits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vm/interpreter.h"
#include "vm/program.h"
#include "vm/test_driver.h"
#include "vm/value.h"

namespace ved::exec {

using vm::FaultKind;
using vm::Value;

struct Compiled {
  // Every diagnostic as "CODE at LINE:COL", in the order reported (warnings included).
  std::vector<std::string> diagnostics;
  // The codes of the errors only, in the order reported.
  std::vector<std::string> error_codes;
  std::string bundle;      // the bundle's bytes, when compilation succeeded
  std::string load_error;  // when the VM rejected the bundle
  std::unique_ptr<vm::Program> program;  // when compiled and loaded

  bool ok() const { return program != nullptr; }
  // All diagnostics, errors and load error joined, for failure messages.
  std::string describe() const;
};

// Compiles `source` as a file called `name`.
Compiled compile(const std::string& source, const std::string& name = "test.ved");

// What running something gave: either a value (formatted with vm::format_value) or a
// fault (kind, "LINE:COL" of its position, message).
struct Outcome {
  bool ok = false;
  std::string value;  // format_value of the result when ok
  FaultKind fault = FaultKind::None;
  std::string where;  // "LINE:COL" from Fault::position, "" when it has none
  std::string location;  // vm::describe_fault_location
  std::string message;
  int64_t fuel_used = 0;
  uint32_t fault_pc = 0;
  uint32_t fault_function = 0;

  bool operator==(const Outcome&) const = default;
};
std::string to_string(const Outcome& o);

// Formats a value with the program's record layouts and effect names.
std::string show(const vm::Program& program, const Value& v);
// "LINE:COL" of a fault's position ("" when it has none).
std::string line_col(const vm::Fault& fault);

Outcome outcome_of(const vm::Program& program, const vm::CallResult& r);

// Calls fn `fn` of a compiled program (under the process's default engine).
Outcome call(const vm::Program& program, const std::string& fn, const std::vector<Value>& args,
             int64_t fuel = 1'000'000);

// The engines every row is run under and compared (docs/jit.md): the interpreter, the
// JIT with everything compiled, and the tiered JIT set to compile after the first run,
// run twice (interpreted, then compiled: the two engines mixed in one interpreter).
// Returns "" when all agree with the interpreter exactly (value or fault kind, message,
// position, pc, fuel), else what differs.
std::string engines_differ(const vm::Program& program, const std::string& fn, const std::vector<Value>& args,
                           int64_t fuel);

// Shorthands for values.
inline Value I(int64_t i) { return Value::integer(i); }
inline Value F(double f) { return Value::floating(f); }
inline Value B(bool b) { return Value::boolean(b); }
inline Value S(std::string s) { return Value::string(std::move(s)); }
inline Value N() { return Value::none(); }
inline Value L(std::initializer_list<Value> items) { return Value::list(std::vector<Value>(items)); }
inline Value M(std::initializer_list<std::pair<Value, Value>> entries) {
  std::remove_cvref_t<decltype(std::declval<const Value&>().as_map())> m;  // the VM's map type
  for (const auto& [k, v] : entries) m.insert_or_assign(k, v);
  return Value::map(std::move(m));
}

// A copy of record `state` (a domain's state record) with field `field` set to `v`.
Value with_field(const vm::Program& program, uint32_t domain, const Value& state, const std::string& field,
                 const Value& v);
// Field `field` of a domain's state record.
Value field_of(const vm::Program& program, uint32_t domain, const Value& state, const std::string& field);

// ---- tables -------------------------------------------------------------------

// One row of a table of fn calls. `expect` is the result as vm::format_value prints it
// (strings print bare at the top level), or "fault KIND at LINE:COL" with KIND as
// bytecode::fault_kind_name spells it ("overflow", "division by zero", "missing key"),
// or "fault KIND" when the position is not checked.
struct FnCase {
  std::string source;
  std::string fn;
  std::vector<Value> args;
  std::string expect;
  std::string message = {};  // for a fault: text its message must contain
  int64_t fuel = 1'000'000;
};

// "VALUE" or "fault KIND at LINE:COL", the form FnCase::expect uses.
std::string summary(const Outcome& o);

// Checks every row: the source compiles and loads, the call gives `expect`, a second
// compilation gives the same bundle bytes and a second run the same outcome (value or
// fault, position, message and fuel). Returns the number of rows checked.
size_t run_fn_cases(const std::vector<FnCase>& cases);

// One row of a table of programs that must not compile: `expect` is one of the errors,
// as "CODE at LINE:COL".
struct CompileErrorCase {
  std::string source;
  std::string expect;
};
size_t run_compile_error_cases(const std::vector<CompileErrorCase>& cases);

// The shared corpus (../shared/corpus): a test that reads it carries the decorator
// `* doctest::test_suite("corpus")`, so that it is left out where the corpus does not
// exist (unit/main.cpp).
inline std::filesystem::path corpus_dir() { return VED_CORPUS_DIR; }

}  // namespace ved::exec
