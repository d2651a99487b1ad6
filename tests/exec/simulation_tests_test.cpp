// Simulation tests (language.md §12) compiled into the bundle's tests table: the table as
// the loaded Program holds it, and each kind of test function run under the interpreter
// as the runner (`vedvm test`) will run it: values and givens called, expectations
// evaluated against states, scripts run a step (slice) at a time, each ADVANCE giving the
// ticks to run before the next.
#include <doctest/doctest.h>

#include "exec_support.h"
#include "vm/random.h"

using namespace ved::exec;
using ved::vm::FunctionKind;
using ved::vm::SliceResult;

namespace {

// Line numbers matter: positions below refer to them.
const char* const kProgram = R"(effect Infra.Provision(size: int) -> string : local
effect Infra.Release(id: string) : local
domain Pool {
    state { desired: int = 3  current: int = 0  status: string = "ok"  tags: list<string> }
    transition Grow(n: int) { current = current + n }
    transition Degrade(why: string) { status = "degraded: " + why }
}
domain Worker {
    state { load: int  name: string = "w" }
    transition Work(k: int) { load = load + k }
}
fn double(x: int) -> int { return x * 2 }
test "pool grows" {
    given { domain Pool { desired = 10, current = double(1), tags = ["a", "b"] } }
    simulate {
        effect Infra.Provision { fail "timeout" }
        effect Infra.Release { return }
        send Pool.Grow(3)
        advance_ticks(5)
        let n = 4
        send Pool.Grow(n)
        send Worker[7].Work(k: n * 2)
        advance_ticks(n + 1)
        send Pool.Degrade("late")
    }
    expect {
        always Pool.current <= Pool.desired
        eventually Worker.load > 0 && Pool.current > 0
        Pool.status == "degraded: late"
    }
}
test "ids and values" {
    given {
        domain Worker["w1"] { load = 5 }
        domain Worker[40 + 2] { }
        Pool { }
    }
    simulate {
        effect Infra.Provision { return "vm-" + str(1) }
        effect Infra.Provision { return }
    }
    expect { Worker.name == "w" }
}
test "steps in a loop" {
    simulate {
        for i in 0..3 {
            send Pool.Grow(i)
            advance_ticks(i * 10)
        }
        send Worker.Work(tick() + rand(1))
        advance_ticks(1 - 2)
    }
}
)";

struct Fixture {
  Compiled compiled;
  const ved::vm::Program& p() const { return *compiled.program; }
};

Fixture load() {
  Fixture f{compile(kProgram)};
  REQUIRE_MESSAGE(f.compiled.ok(), f.compiled.describe());
  return f;
}

uint32_t domain(const ved::vm::Program& p, const std::string& name) {
  for (size_t i = 0; i < p.domains.size(); ++i)
    if (p.domains[i].name == name) return static_cast<uint32_t>(i);
  FAIL("no domain " << name);
  return 0;
}

std::string effect_name(const ved::vm::Program& p, uint32_t effect) { return p.effects[effect].name; }
FunctionKind kind_of(const ved::vm::Program& p, int64_t fn) { return p.functions.at(static_cast<size_t>(fn)).kind; }

Value initial_state(const ved::vm::Program& p, const std::string& domain) {
  ved::vm::TestDriver driver(p);
  auto r = driver.initial_state(domain);
  REQUIRE(r.ok);
  return r.value;
}

// Calls a TestValue, TestGiven or TestExpect function as the runner does.
ved::vm::CallResult call_fn(const ved::vm::Program& p, int64_t fn, const std::vector<Value>& args, Value* state = nullptr) {
  ved::vm::Interpreter interpreter(p);
  ved::vm::InstanceEnv env;
  env.state = state;
  return interpreter.call(static_cast<uint32_t>(fn), args, 1'000'000, env);
}

// "Pool.Grow(3)", "Worker[7].Work(8)": a message a script sent, as the runner would deliver it.
std::string describe(const ved::vm::Program& p, const ved::vm::SentMessage& m) {
  const auto& info = p.messages[m.message];
  std::string out = p.domains[info.domain].name;
  if (m.instance_id.tag() != ved::vm::Tag::Unit) out += "[" + show(p, m.instance_id) + "]";
  // The arguments as a list prints them with strings quoted: "[4, \"x\"]".
  const std::string args = show(p, Value::list(m.args));
  return out + "." + info.name + "(" + args.substr(1, args.size() - 2) + ")";
}

// One step of a script: the slice's status letter (Y yielded, F finished, X faulted),
// the ticks it asks for, and what it sent.
struct Step {
  char status = '?';
  int64_t advance = 0;
  std::vector<std::string> sends;
  SliceResult result;
};

// Runs a test script step by step, as the runner will (without running ticks between).
std::vector<Step> run_script(const ved::vm::Program& p, int32_t script, int64_t tick = 0, size_t max_steps = 16) {
  ved::vm::Interpreter interpreter(p);
  ved::vm::Random random(1);
  std::vector<Step> steps;
  std::vector<Value> registers;  // slice 0: a script takes no arguments
  uint32_t slice = 0;
  while (steps.size() < max_steps) {
    ved::vm::Outputs outputs;
    ved::vm::InstanceEnv env;  // no state: a script touches none
    env.tick = tick;
    env.random = &random;
    env.outputs = &outputs;
    SliceResult r = interpreter.run_slice(static_cast<uint32_t>(script), slice, std::move(registers), 1'000'000, env);
    Step step;
    step.status = r.status == SliceResult::Status::Finished ? 'F' : r.status == SliceResult::Status::Yielded ? 'Y' : 'X';
    step.advance = r.advance_ticks;
    for (const auto& m : outputs.sends) step.sends.push_back(describe(p, m));
    CHECK(outputs.intents.empty());
    CHECK(outputs.spawns.empty());
    CHECK(outputs.schedules.empty());
    slice = r.continuation.next_slice;
    registers = r.continuation.registers;
    step.result = std::move(r);
    steps.push_back(std::move(step));
    if (steps.back().status != 'Y') break;
  }
  return steps;
}

}  // namespace

TEST_CASE("tests: the tests table names functions of the right kinds, domains and effects") {
  Fixture fx = load();
  const auto& p = fx.p();
  REQUIRE(p.tests.size() == 3);
  const uint32_t pool = domain(p, "Pool"), worker = domain(p, "Worker");

  const auto& grows = p.tests[0];
  CHECK(grows.name == "pool grows");
  CHECK(p.sources.at(grows.position.file) == "test.ved");
  CHECK(grows.position.line == 13);
  CHECK(grows.position.column == 1);
  REQUIRE(grows.given.size() == 1);
  CHECK(grows.given[0].domain == pool);
  CHECK(grows.given[0].id_function == -1);  // the default instance
  CHECK(kind_of(p, grows.given[0].fields_function) == FunctionKind::TestGiven);
  CHECK(p.functions[grows.given[0].fields_function].domain == static_cast<int32_t>(pool));
  REQUIRE(grows.stubs.size() == 2);
  CHECK(effect_name(p, grows.stubs[0].effect) == "Infra.Provision");
  CHECK(grows.stubs[0].fails);
  CHECK(kind_of(p, grows.stubs[0].value_function) == FunctionKind::TestValue);
  CHECK(effect_name(p, grows.stubs[1].effect) == "Infra.Release");
  CHECK_FALSE(grows.stubs[1].fails);
  CHECK(grows.stubs[1].value_function == -1);  // a unit result
  REQUIRE(grows.script >= 0);
  CHECK(kind_of(p, grows.script) == FunctionKind::TestScript);
  CHECK(p.functions[grows.script].slice_entries.size() == 3);  // two advance_ticks: three steps
  REQUIRE(grows.expectations.size() == 3);
  CHECK(grows.expectations[0].kind == 0);  // always
  CHECK(grows.expectations[1].kind == 1);  // eventually
  CHECK(grows.expectations[2].kind == 2);  // holds at the end
  CHECK(grows.expectations[0].domains == std::vector<uint32_t>{pool});
  CHECK(grows.expectations[1].domains == std::vector<uint32_t>{worker, pool});  // in order of first read
  CHECK(grows.expectations[2].domains == std::vector<uint32_t>{pool});
  CHECK(grows.expectations[0].text == "Pool.current <= Pool.desired");
  CHECK(grows.expectations[1].text == "Worker.load > 0 && Pool.current > 0");
  CHECK(grows.expectations[2].text == "Pool.status == \"degraded: late\"");
  CHECK(grows.expectations[0].position.line == 27);
  CHECK(grows.expectations[0].position.column == 9);  // the `always`
  CHECK(grows.expectations[2].position.line == 29);
  for (const auto& e : grows.expectations) {
    CHECK(kind_of(p, e.function) == FunctionKind::TestExpect);
    CHECK(p.functions[e.function].param_count == e.domains.size());
    CHECK(p.functions[e.function].domain == -1);
  }

  const auto& ids = p.tests[1];
  CHECK(ids.name == "ids and values");
  REQUIRE(ids.given.size() == 3);
  CHECK(ids.given[0].domain == worker);
  CHECK(ids.given[1].domain == worker);
  CHECK(ids.given[2].domain == pool);
  CHECK(kind_of(p, ids.given[0].id_function) == FunctionKind::TestValue);
  CHECK(kind_of(p, ids.given[1].id_function) == FunctionKind::TestValue);
  CHECK(ids.given[2].id_function == -1);
  REQUIRE(ids.stubs.size() == 2);
  CHECK_FALSE(ids.stubs[0].fails);
  CHECK_FALSE(ids.stubs[1].fails);
  CHECK(ids.script == -1);  // only stubs in `simulate`
  REQUIRE(ids.expectations.size() == 1);
  CHECK(ids.expectations[0].position.line == 42);
  CHECK(ids.expectations[0].position.column == 14);  // a final expectation starts at its condition

  const auto& loop = p.tests[2];
  CHECK(loop.given.empty());
  CHECK(loop.stubs.empty());
  CHECK(loop.expectations.empty());
  CHECK(kind_of(p, loop.script) == FunctionKind::TestScript);
}

TEST_CASE("tests: values: instance ids, stub results and failure messages") {
  Fixture fx = load();
  const auto& p = fx.p();
  auto value = [&](int64_t fn) {
    auto r = call_fn(p, fn, {});
    CHECK_MESSAGE(r.ok, r.fault.message);
    return show(p, r.value);
  };
  CHECK(value(p.tests[0].stubs[0].value_function) == "timeout");  // fail "timeout"
  CHECK(value(p.tests[1].given[0].id_function) == "w1");
  CHECK(value(p.tests[1].given[1].id_function) == "42");          // computed: 40 + 2
  CHECK(value(p.tests[1].stubs[0].value_function) == "vm-1");     // return "vm-" + str(1)
  CHECK(value(p.tests[1].stubs[1].value_function) == "");         // return: the zero value of `string`
  // The result types are what the runner needs: a string message, the effect's result.
  CHECK(p.types[p.functions[p.tests[0].stubs[0].value_function].result].kind == ved::bytecode::TypeKind::String);
  CHECK(p.types[p.functions[p.tests[1].given[1].id_function].result].kind == ved::bytecode::TypeKind::Int);
}

TEST_CASE("tests: a given sets its fields on the instance's initial state, and nothing else") {
  Fixture fx = load();
  const auto& p = fx.p();
  Value state = initial_state(p, "Pool");
  CHECK(show(p, state) == "Pool.State(desired: 3, current: 0, status: \"ok\", tags: [])");
  auto r = call_fn(p, p.tests[0].given[0].fields_function, {}, &state);
  REQUIRE_MESSAGE(r.ok, r.fault.message);
  CHECK(show(p, r.value) == "()");
  CHECK(show(p, state) == "Pool.State(desired: 10, current: 2, status: \"ok\", tags: [\"a\", \"b\"])");

  Value worker = initial_state(p, "Worker");
  REQUIRE(call_fn(p, p.tests[1].given[0].fields_function, {}, &worker).ok);
  CHECK(show(p, worker) == "Worker.State(load: 5, name: \"w\")");
  Value untouched = initial_state(p, "Worker");
  REQUIRE(call_fn(p, p.tests[1].given[1].fields_function, {}, &untouched).ok);  // `{ }`
  CHECK(show(p, untouched) == "Worker.State(load: 0, name: \"w\")");

  // Without a state, or with another domain's, the call is refused, not run.
  CHECK_FALSE(call_fn(p, p.tests[0].given[0].fields_function, {}).ok);
  Value wrong = initial_state(p, "Worker");
  auto refused = call_fn(p, p.tests[0].given[0].fields_function, {}, &wrong);
  CHECK_FALSE(refused.ok);
  CHECK(refused.fault.message.find("another was given") != std::string::npos);
}

TEST_CASE("tests: an expectation reads the states it is given, one per domain it names") {
  Fixture fx = load();
  const auto& p = fx.p();
  const uint32_t pool = domain(p, "Pool"), worker = domain(p, "Worker");
  const auto& e = p.tests[0].expectations;
  const Value pool0 = initial_state(p, "Pool"), worker0 = initial_state(p, "Worker");
  auto eval = [&](uint32_t fn, const std::vector<Value>& states) {
    auto r = call_fn(p, fn, states);
    REQUIRE_MESSAGE(r.ok, r.fault.message);
    return r.value.as_bool();
  };
  // always Pool.current <= Pool.desired
  CHECK(eval(e[0].function, {pool0}));
  CHECK_FALSE(eval(e[0].function, {with_field(p, pool, pool0, "current", I(4))}));
  // eventually Worker.load > 0 && Pool.current > 0: parameters (Worker, Pool).
  CHECK_FALSE(eval(e[1].function, {worker0, pool0}));
  CHECK_FALSE(eval(e[1].function, {with_field(p, worker, worker0, "load", I(1)), pool0}));
  CHECK_FALSE(eval(e[1].function, {worker0, with_field(p, pool, pool0, "current", I(1))}));
  CHECK(eval(e[1].function, {with_field(p, worker, worker0, "load", I(1)), with_field(p, pool, pool0, "current", I(1))}));
  // Pool.status == "degraded: late"
  CHECK_FALSE(eval(e[2].function, {pool0}));
  CHECK(eval(e[2].function, {with_field(p, pool, pool0, "status", S("degraded: late"))}));
  // The states in the wrong order, or too few: refused.
  CHECK_FALSE(call_fn(p, e[1].function, {pool0, worker0}).ok);
  CHECK_FALSE(call_fn(p, e[1].function, {worker0}).ok);
}

TEST_CASE("tests: a script runs a step at a time, each advance_ticks ends a step and says how long to wait") {
  Fixture fx = load();
  const auto& p = fx.p();
  auto steps = run_script(p, p.tests[0].script);
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].status == 'Y');
  CHECK(steps[0].advance == 5);
  CHECK(steps[0].sends == std::vector<std::string>{"Pool.Grow(3)"});
  CHECK(steps[0].result.continuation.next_slice == 1);
  // The local `n` lives on across the step.
  CHECK(steps[1].status == 'Y');
  CHECK(steps[1].advance == 5);  // n + 1
  CHECK(steps[1].sends == std::vector<std::string>{"Pool.Grow(4)", "Worker[7].Work(8)"});
  CHECK(steps[1].result.continuation.next_slice == 2);
  CHECK(steps[2].status == 'F');
  CHECK(steps[2].advance == 0);
  CHECK(steps[2].sends == std::vector<std::string>{"Pool.Degrade(\"late\")"});
  // The same run again: the same steps, fuel included.
  auto again = run_script(p, p.tests[0].script);
  REQUIRE(again.size() == steps.size());
  for (size_t k = 0; k < steps.size(); ++k) {
    CHECK(again[k].sends == steps[k].sends);
    CHECK(again[k].advance == steps[k].advance);
    CHECK(again[k].result.fuel_used == steps[k].result.fuel_used);
  }
}

TEST_CASE("tests: advance_ticks in a loop resumes the loop, a negative count faults where it is called") {
  Fixture fx = load();
  const auto& p = fx.p();
  auto steps = run_script(p, p.tests[2].script, /*tick=*/77);
  REQUIRE(steps.size() == 4);
  // One ADVANCE in the loop body, run three times: the same next slice each time, with
  // the loop counter carried in the continuation.
  CHECK(steps[0].status == 'Y');
  CHECK(steps[0].advance == 0);
  CHECK(steps[0].sends == std::vector<std::string>{"Pool.Grow(0)"});
  CHECK(steps[1].status == 'Y');
  CHECK(steps[1].advance == 10);
  CHECK(steps[1].sends == std::vector<std::string>{"Pool.Grow(1)"});
  CHECK(steps[2].status == 'Y');
  CHECK(steps[2].advance == 20);
  CHECK(steps[2].sends == std::vector<std::string>{"Pool.Grow(2)"});
  CHECK(steps[0].result.continuation.next_slice == 1);
  CHECK(steps[1].result.continuation.next_slice == 1);
  CHECK(steps[2].result.continuation.next_slice == 1);
  // tick() is the runner's tick, rand(1) is 0; then advance_ticks(-1) faults.
  CHECK(steps[3].status == 'X');
  CHECK(steps[3].sends == std::vector<std::string>{"Worker.Work(77)"});  // discarded by the runner
  const auto& fault = steps[3].result.fault;
  CHECK(fault.kind == FaultKind::Conversion);
  CHECK(line_col(fault) == "51:9");
  CHECK(fault.message.find("advance_ticks(-1)") != std::string::npos);
  CHECK(steps[3].advance == 0);
}

TEST_CASE("tests: scripts are run, not called, they need no state") {
  Fixture fx = load();
  const auto& p = fx.p();
  auto r = call_fn(p, p.tests[0].script, {});
  CHECK_FALSE(r.ok);
  CHECK(r.fault.message.find("test script: run it a slice at a time") != std::string::npos);
  // A transition still needs its instance's state; a script does not.
  ved::vm::Interpreter interpreter(p);
  ved::vm::InstanceEnv env;
  auto grow = p.domains[domain(p, "Pool")].transitions[0].function;
  CHECK(interpreter.run_slice(grow, 0, {I(1)}, 1'000, env).status == SliceResult::Status::Faulted);
  CHECK(interpreter.run_slice(static_cast<uint32_t>(p.tests[1].given[0].id_function), 0, {}, 1'000, env).status ==
        SliceResult::Status::Faulted);  // not sliced at all
}

TEST_CASE("tests: the bundle of a program with tests is deterministic") {
  Compiled a = compile(kProgram), b = compile(kProgram);
  REQUIRE(a.ok());
  CHECK(a.bundle == b.bundle);
  Compiled changed = compile(std::string(kProgram) + "test \"more\" { expect { Pool.current == 0 } }\n");
  REQUIRE_MESSAGE(changed.ok(), changed.describe());
  CHECK(changed.bundle != a.bundle);
  CHECK(changed.program->tests.size() == 4);
}

TEST_CASE("tests: what a part of a test cannot do is a compile error where it is written") {
  const std::string head =
      "domain D { state { n: int  s: string }  transition T(k: int) { n = k } }\n"
      "observe Env.load() -> int\n";
  const std::vector<CompileErrorCase> cases = {
      // State is read in `expect` only.
      {head + "test \"t\" { simulate { send D.T(D.n) } }", "V-ERR-011 at 3:32"},
      {head + "test \"t\" { given { D { n = D.n } } }", "V-ERR-011 at 3:28"},
      // `simulate`'s locals are not visible in `expect`.
      {head + "test \"t\" { simulate { let k = 2 } expect { D.n == k } }", "V-TYP-001 at 3:51"},
      // Time advances, and random numbers are drawn, in `simulate` only.
      {head + "test \"t\" { expect { advance_ticks(1) == advance_ticks(2) } }", "V-ERR-011 at 3:21"},
      {head + "test \"t\" { expect { rand(3) == 1 } }", "V-ERR-011 at 3:21"},
      {head + "test \"t\" { given { D { n = rand(3) } } }", "V-ERR-011 at 3:28"},
      // Observations cannot be scripted: a test cannot read one.
      {head + "test \"t\" { expect { Env.load() > 0 } }", "V-ERR-011 at 3:21"},
  };
  CHECK(run_compile_error_cases(cases) == cases.size());
}
