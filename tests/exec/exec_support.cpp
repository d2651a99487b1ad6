#include "exec_support.h"

#include <algorithm>
#include <stdexcept>

#include "frontend/checker.h"
#include "frontend/diagnostic.h"
#include "frontend/parser.h"
#include "frontend/source_manager.h"
#include "ir/bundle_writer.h"
#include "ir/compile.h"
#include "vm/bundle_loader.h"
#include "vm/runtime_library.h"

namespace ved::exec {

std::string Compiled::describe() const {
  std::string out;
  for (const auto& d : diagnostics) out += d + "\n";
  if (!load_error.empty()) out += "load: " + load_error + "\n";
  return out;
}

Compiled compile(const std::string& source, const std::string& name) {
  Compiled c;
  SourceManager sources;
  DiagnosticSink sink;
  auto record = [&] {
    for (const auto& d : sink.diagnostics()) {
      LineColumn lc = sources.locate(d.primary.span);
      c.diagnostics.push_back(d.code + " at " + std::to_string(lc.line) + ":" + std::to_string(lc.column));
      if (d.severity == Severity::Error) c.error_codes.push_back(d.code);
    }
  };
  FileId file = sources.add(name, source);
  ir::Compilation compiled = ir::compile_file(sources, file, sink);
  record();
  const auto& module = compiled.module;
  if (!module || sink.has_errors()) return c;
  std::string error;
  c.bundle = ir::write_bundle(*module, sources, "vedc test", error);
  if (c.bundle.empty()) {
    c.load_error = "write_bundle: " + error;
    return c;
  }
  auto loaded = std::make_unique<vm::Program>();
  if (!vm::load_bundle(c.bundle, *loaded, error)) {
    c.load_error = error;
    return c;
  }
  c.program = std::move(loaded);
  return c;
}

std::string to_string(const Outcome& o) {
  if (o.ok) return "ok " + o.value + " (fuel " + std::to_string(o.fuel_used) + ")";
  return "fault[" + std::string(bytecode::fault_kind_name(o.fault)) + "] at " + o.location + ": " + o.message +
         " (fuel " + std::to_string(o.fuel_used) + ", pc " + std::to_string(o.fault_pc) + ")";
}

std::string show(const vm::Program& program, const Value& v) {
  auto context = program.builtin_context();
  return vm::format_value(v, context.records, context.effect_names);
}

std::string line_col(const vm::Fault& fault) {
  if (fault.position.line == 0) return "";
  return std::to_string(fault.position.line) + ":" + std::to_string(fault.position.column);
}

Outcome outcome_of(const vm::Program& program, const vm::CallResult& r) {
  Outcome o;
  o.ok = r.ok;
  o.fuel_used = r.fuel_used;
  if (r.ok) {
    o.value = show(program, r.value);
  } else {
    o.fault = r.fault.kind;
    o.where = line_col(r.fault);
    o.location = vm::describe_fault_location(program, r.fault);
    o.message = r.fault.message;
    o.fault_pc = r.fault.pc;
    o.fault_function = r.fault.function;
  }
  return o;
}

Outcome call(const vm::Program& program, const std::string& fn, const std::vector<Value>& args, int64_t fuel) {
  vm::TestDriver driver(program);
  return outcome_of(program, driver.call(fn, args, fuel));
}

std::string engines_differ(const vm::Program& program, const std::string& fn, const std::vector<Value>& args,
                           int64_t fuel) {
  using Mode = vm::EngineOptions::Mode;
  auto under = [&](Mode mode, int runs) {
    vm::EngineOptions engine;
    engine.mode = mode;
    engine.tier_fuel = 1;
    vm::TestDriver driver(program, engine);
    std::vector<std::string> outcomes;
    for (int k = 0; k < runs; ++k) {
      outcomes.push_back(to_string(outcome_of(program, driver.call(fn, args, fuel))));
      // The tiered JIT compiles in the background: waited for, so that the next run is
      // machine code (tests/jit/background_compile_test.cpp runs without waiting).
      driver.interpreter().wait_for_compiles();
    }
    const vm::EngineStats stats = driver.interpreter().engine_stats();
    if (!stats.error.empty()) outcomes.push_back("JIT error: " + stats.error);
    return outcomes;
  };
  const std::string reference = under(Mode::Interpret, 1)[0];
  std::string differences;
  auto compare = [&](const char* engine, const std::vector<std::string>& got) {
    for (size_t k = 0; k < got.size(); ++k)
      if (got[k] != reference)
        differences += std::string(engine) + " run " + std::to_string(k + 1) + ": " + got[k] + "\n  interp: " + reference + "\n";
  };
  compare("jit=all", under(Mode::All, 1));
  compare("jit (tiered)", under(Mode::Tiered, 2));
  return differences;
}

std::string summary(const Outcome& o) {
  if (o.ok) return o.value;
  return "fault " + std::string(bytecode::fault_kind_name(o.fault)) + " at " + o.where;
}

size_t run_fn_cases(const std::vector<FnCase>& cases) {
  size_t checked = 0;
  for (size_t row = 0; row < cases.size(); ++row) {
    const FnCase& c = cases[row];
    INFO("row " << row << ": " << c.fn << " in\n" << c.source);
    Compiled compiled = compile(c.source);
    CHECK_MESSAGE(compiled.ok(), compiled.describe());
    if (!compiled.ok()) continue;
    Outcome first = call(*compiled.program, c.fn, c.args, c.fuel);
    INFO("outcome: " << to_string(first));
    // "fault KIND" alone: the position is not part of the expectation.
    const bool kind_only = c.expect.rfind("fault ", 0) == 0 && c.expect.find(" at ") == std::string::npos;
    CHECK((kind_only ? summary(first).substr(0, summary(first).find(" at ")) : summary(first)) == c.expect);
    if (!first.ok) {
      CHECK_MESSAGE(first.message.find(c.message) != std::string::npos, "message: " << first.message);
      // describe_fault_location agrees with Fault::position.
      CHECK_FALSE(first.where.empty());
      CHECK(first.location == "test.ved:" + first.where);
    }
    // Every engine gives the same outcome, to the fuel and the faulting instruction.
    const std::string differ = engines_differ(*compiled.program, c.fn, c.args, c.fuel);
    CHECK_MESSAGE(differ.empty(), differ);
    // Determinism: the same source gives the same bytes, the same bytes the same run.
    Compiled again = compile(c.source);
    CHECK(again.bundle == compiled.bundle);
    if (again.ok()) CHECK(to_string(call(*again.program, c.fn, c.args, c.fuel)) == to_string(first));
    ++checked;
  }
  return checked;
}

size_t run_compile_error_cases(const std::vector<CompileErrorCase>& cases) {
  size_t checked = 0;
  for (size_t row = 0; row < cases.size(); ++row) {
    const CompileErrorCase& c = cases[row];
    INFO("row " << row << ":\n" << c.source);
    Compiled compiled = compile(c.source);
    CHECK_FALSE(compiled.ok());
    CHECK(compiled.bundle.empty());
    INFO("diagnostics:\n" << compiled.describe());
    CHECK(std::find(compiled.diagnostics.begin(), compiled.diagnostics.end(), c.expect) != compiled.diagnostics.end());
    ++checked;
  }
  return checked;
}

namespace {

size_t field_index(const vm::Program& program, uint32_t domain, const std::string& field) {
  const auto& layout = program.records[program.domains[domain].state_record];
  auto it = std::find(layout.fields.begin(), layout.fields.end(), field);
  if (it == layout.fields.end()) throw std::runtime_error("no state field `" + field + "`");
  return static_cast<size_t>(it - layout.fields.begin());
}

}  // namespace

Value with_field(const vm::Program& program, uint32_t domain, const Value& state, const std::string& field,
                 const Value& v) {
  Value copy = state;
  copy.mutable_record_fields()[field_index(program, domain, field)] = v;
  return copy;
}

Value field_of(const vm::Program& program, uint32_t domain, const Value& state, const std::string& field) {
  return state.as_record().fields[field_index(program, domain, field)];
}

}  // namespace ved::exec
