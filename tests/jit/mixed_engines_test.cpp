// A transition whose slices run under different engines: each slice's continuation (the
// registers the next slice starts from) and the state must be the same whichever
// engine ran the slice before, so that the tiered JIT may switch at any slice boundary
// and a run may resume under another engine than the one that yielded.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "exec_support.h"
#include "vm/interpreter.h"
#include "vm/test_driver.h"

using namespace ved::exec;
using Mode = ved::vm::EngineOptions::Mode;

namespace {

const char* const kProgram = R"(domain D {
    state { n: int  f: float  log: list<string>  seen: map<string, int> }
    transition Steps(k: int) {
        let acc = k * 3
        let x = 0.5
        let words: list<string> = ["a"]
        let flag = k > 2
        n = n + acc
        yield
        acc = acc + len(words)
        words = append(words, str(acc))
        x = x * 3.0
        f = x
        yield
        if flag { log = append(log, "flag") }
        for i in 0..k { seen[str(i)] = i * acc }
        log = append(log, words[1])
        n = n / (k - 4)
    }
}
)";

struct Slices {
  std::vector<std::string> outcomes;  // per slice: status, fuel, fault, continuation
  std::string state;
};

// Runs every slice of D.Steps(k) from the initial state, slice s under engines[s % size].
Slices run(const ved::vm::Program& p, int64_t k, const std::vector<Mode>& engines) {
  std::vector<std::unique_ptr<ved::vm::Interpreter>> interpreters;
  for (Mode m : engines) {
    ved::vm::EngineOptions e;
    e.mode = m;
    interpreters.push_back(std::make_unique<ved::vm::Interpreter>(p, e));
  }
  ved::vm::TestDriver driver(p);
  Value state = driver.initial_state("D").value;
  const uint32_t fn = p.domains[0].transitions[0].function;
  ved::vm::Outputs outputs;
  ved::vm::InstanceEnv env;
  env.state = &state;
  env.outputs = &outputs;
  Slices out;
  std::vector<Value> registers{I(k)};
  uint32_t slice = 0;
  for (size_t s = 0; s < 10; ++s) {
    auto r = interpreters[s % interpreters.size()]->run_slice(fn, slice, std::move(registers), 1'000'000, env);
    std::string line = std::to_string(static_cast<int>(r.status)) + " fuel " + std::to_string(r.fuel_used);
    if (r.status == ved::vm::SliceResult::Status::Faulted)
      line += " fault " + std::string(ved::bytecode::fault_kind_name(r.fault.kind)) + " " + line_col(r.fault) + " pc " +
              std::to_string(r.fault.pc) + ": " + r.fault.message;
    for (const Value& v : r.continuation.registers) line += " | " + show(p, v);
    out.outcomes.push_back(line);
    if (r.status != ved::vm::SliceResult::Status::Yielded) break;
    slice = r.continuation.next_slice;
    registers = std::move(r.continuation.registers);
  }
  out.state = show(p, state);
  return out;
}

}  // namespace

TEST_CASE("mixed engines: slices of one transition under alternating engines agree with the interpreter") {
  Compiled c = compile(kProgram);
  REQUIRE_MESSAGE(c.ok(), c.describe());
  const auto& p = *c.program;
  for (int64_t k : {1, 3, 4, 6}) {  // k = 4 divides by zero in the last slice
    INFO("k = " << k);
    const Slices reference = run(p, k, {Mode::Interpret});
    CHECK(reference.outcomes.size() == 3);
    for (const auto& engines : std::vector<std::vector<Mode>>{
             {Mode::All}, {Mode::Interpret, Mode::All}, {Mode::All, Mode::Interpret}, {Mode::Tiered}}) {
      const Slices got = run(p, k, engines);
      auto joined = [](const std::vector<std::string>& lines) {
        std::string out;
        for (const auto& l : lines) out += l + "\n";
        return out;
      };
      CHECK(joined(got.outcomes) == joined(reference.outcomes));
      CHECK(got.state == reference.state);
    }
  }
}
