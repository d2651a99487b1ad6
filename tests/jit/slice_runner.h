// Runs every slice of a test program's `D.Go(n)` from its domain's initial state and says
// what each did (status, fuel, fault, continuation) and the final state, as text: what the
// JIT tests compare between engines. `engine_for(s)` picks the interpreter of slice s
// (mixing engines across slices); `after(s)` runs after slice s (a compile made ready).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "exec_support.h"
#include "vm/interpreter.h"
#include "vm/test_driver.h"

namespace ved::jit_test {

template <class EngineFor, class After>
std::string run_slices(const vm::Program& p, int64_t n, int64_t fuel, size_t most_slices, EngineFor engine_for,
                       After after) {
  vm::TestDriver driver(p);
  vm::Value state = driver.initial_state("D").value;
  vm::Outputs outputs;
  vm::InstanceEnv env;
  env.state = &state;
  env.outputs = &outputs;
  const uint32_t fn = p.domains[0].transitions[0].function;
  std::string out;
  std::vector<vm::Value> registers{vm::Value::integer(n)};
  uint32_t slice = 0;
  for (size_t s = 0; s < most_slices; ++s) {
    vm::Interpreter& interp = engine_for(s);
    auto r = interp.run_slice(fn, slice, std::move(registers), fuel, env);
    out += std::to_string(static_cast<int>(r.status)) + " fuel " + std::to_string(r.fuel_used);
    if (r.status == vm::SliceResult::Status::Faulted)
      out += " fault " + std::string(bytecode::fault_kind_name(r.fault.kind)) + " " + exec::line_col(r.fault) +
             " pc " + std::to_string(r.fault.pc) + ": " + r.fault.message;
    for (const vm::Value& v : r.continuation.registers) out += " | " + exec::show(p, v);
    out += "\n";
    after(s);
    if (r.status != vm::SliceResult::Status::Yielded) break;
    slice = r.continuation.next_slice;
    registers = std::move(r.continuation.registers);
  }
  return out + exec::show(p, state) + "\n";
}

}  // namespace ved::jit_test
