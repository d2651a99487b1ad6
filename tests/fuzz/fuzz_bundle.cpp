// libFuzzer target for the VM's bundle loader: arbitrary bytes are a .vedb bundle.
//
// The hash check is off (LoadOptions{.check_hash = false}), so that mutations of a seed
// bundle reach the msgpack decoder and the verifier instead of stopping at the XXH64.
// Whatever the verifier accepts must then be safe to run, which is the verifier's whole
// promise (vm/verifier.cpp): the program is disassembled, every fn is called with no
// arguments (those that take some are refused by Interpreter::call), every domain's
// initializer runs, and with the state it returns every goal predicate and invariant is
// evaluated and every transition is run slice by slice with no arguments; every test's
// values, givens, script (step by step) and expectations run too. Fuel is small
// (10,000 per call or slice), so loops end quickly. Besides the sanitizers (ASan, UBSan,
// LSan), a few cheap invariants are checked; a violation prints what failed and calls
// __builtin_trap(), which libFuzzer reports as a crash:
//   * load_bundle returns false if and only if it set an error message;
//   * a call that succeeds returns a value; one that fails names a fault kind;
//   * an initializer that succeeds returns a record (the domain's state).
//
// Run it through scripts/fuzz-smoke.sh; see tests/fuzz/README.md.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "vm/bundle_loader.h"
#include "vm/disassembler.h"
#include "vm/interpreter.h"
#include "vm/random.h"
#include "tests/fuzz/fuzz_check.h"

const char* const ved::fuzz::kTargetName = "fuzz_bundle";

namespace {

constexpr int64_t kFuel = 10000;
// A transition yields at most this many times per run (each slice has its own fuel).
constexpr int kMaxSlices = 16;

using namespace ved::vm;

void check_call(const Program& p, uint32_t fn, const CallResult& r) {
  const std::string who = "function " + std::to_string(fn) + " `" + p.functions[fn].name + "`";
  if (r.ok) FUZZ_CHECK(r.fault.kind == FaultKind::None, who + " returned and faulted");
  else FUZZ_CHECK(r.fault.kind != FaultKind::None, who + " failed without a fault kind");
  FUZZ_CHECK(r.fuel_used >= 0, who + " used negative fuel");
}

void run_domain(const Program& p, Interpreter& interpreter, uint32_t d) {
  const DomainInfo& dom = p.domains[d];
  InstanceEnv init_env;
  CallResult init = interpreter.call(dom.initializer, {}, kFuel, init_env);
  check_call(p, dom.initializer, init);
  if (!init.ok) return;
  FUZZ_CHECK(init.value.tag() == Tag::Record, "the initializer of `" + dom.name + "` returned no record");

  for (const GoalInfo& g : dom.goals) {
    Value state = init.value;
    InstanceEnv env;
    env.state = &state;
    check_call(p, g.predicate, interpreter.call(g.predicate, {}, kFuel, env));
  }
  for (const InvariantInfo& inv : dom.invariants) {
    Value state = init.value;
    InstanceEnv env;
    env.state = &state;
    check_call(p, inv.function, interpreter.call(inv.function, {}, kFuel, env));
  }
  for (const TransitionInfo& t : dom.transitions) {
    if (!t.params.empty()) continue;  // no arguments to give
    Value state = init.value;
    Random random(1);
    Outputs outputs;
    InstanceEnv env;
    env.state = &state;
    env.tick = 1;
    env.random = &random;
    env.outputs = &outputs;
    std::vector<Value> registers;
    uint32_t slice = 0;
    for (int n = 0; n < kMaxSlices; ++n) {
      SliceResult r = interpreter.run_slice(t.function, slice, std::move(registers), kFuel, env);
      if (r.status != SliceResult::Status::Yielded) break;
      slice = r.continuation.next_slice;
      registers = std::move(r.continuation.registers);
    }
  }
}

// A test's parts, as the runner calls them: values, each given on its domain's initial
// state, each expectation on those states, and the script step by step (ADVANCE or YIELD).
void run_test(const Program& p, Interpreter& interpreter, const TestInfo& t) {
  auto value = [&](int32_t fn) {
    if (fn < 0) return;
    InstanceEnv env;
    check_call(p, static_cast<uint32_t>(fn), interpreter.call(static_cast<uint32_t>(fn), {}, kFuel, env));
  };
  std::vector<Value> states(p.domains.size());
  for (uint32_t d = 0; d < p.domains.size(); ++d) {
    InstanceEnv env;
    CallResult init = interpreter.call(p.domains[d].initializer, {}, kFuel, env);
    if (init.ok) states[d] = init.value;
  }
  for (const auto& g : t.given) {
    value(g.id_function);
    if (states[g.domain].tag() != Tag::Record) continue;
    InstanceEnv env;
    env.state = &states[g.domain];
    check_call(p, g.fields_function, interpreter.call(g.fields_function, {}, kFuel, env));
  }
  for (const auto& s : t.stubs) value(s.value_function);
  if (t.script >= 0) {
    Random random(1);
    Outputs outputs;
    InstanceEnv env;
    env.tick = 1;
    env.random = &random;
    env.outputs = &outputs;
    std::vector<Value> registers;
    uint32_t slice = 0;
    for (int n = 0; n < kMaxSlices; ++n) {
      SliceResult r = interpreter.run_slice(static_cast<uint32_t>(t.script), slice, std::move(registers), kFuel, env);
      if (r.status != SliceResult::Status::Yielded) break;
      FUZZ_CHECK(r.advance_ticks >= 0, "a script asked for a negative number of ticks");
      slice = r.continuation.next_slice;
      registers = std::move(r.continuation.registers);
    }
  }
  for (const auto& e : t.expectations) {
    std::vector<Value> args;
    for (uint32_t d : e.domains) args.push_back(states[d]);  // unit for a failed initializer: refused
    InstanceEnv env;
    check_call(p, e.function, interpreter.call(e.function, args, kFuel, env));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Program program;
  std::string error;
  const bool ok = load_bundle(bytes, program, error, LoadOptions{.check_hash = false});
  FUZZ_CHECK(ok == error.empty(), ok ? "loaded, with an error: " + error : "rejected without a message");
  if (!ok) return 0;

  std::string listing = disassemble(program, nullptr);
  FUZZ_CHECK(!listing.empty(), "empty disassembly");

  Interpreter interpreter(program);
  for (uint32_t fn = 0; fn < program.functions.size(); ++fn) {
    if (program.functions[fn].kind != FunctionKind::Fn) continue;
    InstanceEnv env;
    check_call(program, fn, interpreter.call(fn, {}, kFuel, env));
  }
  for (uint32_t d = 0; d < program.domains.size(); ++d) run_domain(program, interpreter, d);
  for (const TestInfo& t : program.tests) run_test(program, interpreter, t);
  return 0;
}
