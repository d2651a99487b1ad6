#include "vm/test_driver.h"

#include "vm/invariants.h"

namespace ved::vm {

TestDriver::TestDriver(const Program& program, const EngineOptions& engine)
    : program_(program), interpreter_(program, engine) {}

bool TestDriver::state_conforms(const DomainInfo& domain, const Value& state) const {
  return value_conforms(program_, state, domain.state_type);
}

std::optional<uint32_t> TestDriver::domain_index(const std::string& name) const {
  for (size_t i = 0; i < program_.domains.size(); ++i)
    if (program_.domains[i].name == name) return static_cast<uint32_t>(i);
  return std::nullopt;
}

namespace {

CallResult refused(std::string message) {
  CallResult r;
  r.fault.kind = FaultKind::Conversion;
  r.fault.message = std::move(message);
  return r;
}

}  // namespace

CallResult TestDriver::call(const std::string& fn, const std::vector<Value>& args, int64_t fuel) {
  for (size_t i = 0; i < program_.functions.size(); ++i) {
    const FunctionInfo& f = program_.functions[i];
    if (f.name == fn && f.kind == FunctionKind::Fn) {
      InstanceEnv env;
      return interpreter_.call(static_cast<uint32_t>(i), args, fuel, env);
    }
  }
  return refused("no fn `" + fn + "` in the program");
}

CallResult TestDriver::initial_state(const std::string& domain) {
  auto d = domain_index(domain);
  if (!d) return refused("no domain `" + domain + "` in the program");
  InstanceEnv env;
  return interpreter_.call(program_.domains[*d].initializer, {}, INT64_MAX, env);
}

TransitionRun TestDriver::run_transition(const std::string& domain, const std::string& transition,
                                         const std::vector<Value>& args, const Value& state, int64_t fuel_per_slice,
                                         int64_t tick, uint64_t seed) {
  TransitionRun run;
  run.state = state;
  auto fail = [&](std::string message) {
    run.faulted = true;
    run.fault.kind = FaultKind::Conversion;
    run.fault.message = std::move(message);
    return run;
  };
  auto d = domain_index(domain);
  if (!d) return fail("no domain `" + domain + "` in the program");
  const DomainInfo& dom = program_.domains[*d];
  const TransitionInfo* t = nullptr;
  for (const auto& candidate : dom.transitions)
    if (candidate.name == transition) t = &candidate;
  if (!t) return fail("domain `" + domain + "` has no transition `" + transition + "`");
  if (!state_conforms(dom, state)) return fail("the state given is not a `" + dom.name + ".State`");

  Random random(seed);
  std::vector<Value> registers = args;
  uint32_t slice = 0;
  while (true) {
    // A slice works on a copy-on-write version of the state; rolling back is keeping
    // the old one.
    Value working = run.state;
    Random random_before = random;
    Outputs outputs;
    InstanceEnv env;
    env.state = &working;
    env.tick = tick;
    env.random = &random;
    env.outputs = &outputs;
    SliceResult r = interpreter_.run_slice(t->function, slice, std::move(registers), fuel_per_slice, env);
    run.fuel_used += r.fuel_used;
    run.slices.push_back(r.status);
    if (r.status != SliceResult::Status::Faulted) {
      const std::string& slice_name = program_.functions[t->function].slice_names[slice];
      const std::string label = "slice " + std::to_string(slice) + (slice_name.empty() ? "" : " (" + slice_name + ")");
      if (auto broken = check_invariants(interpreter_, program_, dom, working, tick, fuel_per_slice, label)) {
        r.status = SliceResult::Status::Faulted;
        r.fault = std::move(*broken);
      }
    }
    if (r.status == SliceResult::Status::Faulted) {
      random = random_before;
      run.slices.back() = SliceResult::Status::Faulted;
      run.faulted = true;
      run.fault = r.fault;
      return run;
    }
    run.state = std::move(working);
    for (auto& m : outputs.sends) run.outputs.sends.push_back(std::move(m));
    for (auto& i : outputs.intents) run.outputs.intents.push_back(std::move(i));
    for (auto& s : outputs.spawns) run.outputs.spawns.push_back(std::move(s));
    for (auto& s : outputs.schedules) run.outputs.schedules.push_back(std::move(s));
    if (r.status == SliceResult::Status::Finished) return run;
    slice = r.continuation.next_slice;
    registers = std::move(r.continuation.registers);
  }
}

CallResult TestDriver::evaluate(const std::string& domain, const std::string& name, const Value& state, int64_t fuel,
                                int64_t tick) {
  auto d = domain_index(domain);
  if (!d) return refused("no domain `" + domain + "` in the program");
  const DomainInfo& dom = program_.domains[*d];
  std::optional<uint32_t> fn;
  for (const auto& g : dom.goals)
    if (g.name == name) fn = g.predicate;
  for (const auto& i : dom.invariants)
    if (i.name == name) fn = i.function;
  if (!fn) return refused("domain `" + domain + "` has no goal or invariant `" + name + "`");
  if (!state_conforms(dom, state)) return refused("the state given is not a `" + dom.name + ".State`");
  Value working = state;
  InstanceEnv env;
  env.state = &working;
  env.tick = tick;
  return interpreter_.call(*fn, {}, fuel, env);
}

}  // namespace ved::vm
