#include "vm/runtime/simulation.h"

#include "vm/effects/simulated_adapter.h"
#include "vm/interpreter.h"
#include "vm/runtime/runtime.h"
#include "vm/runtime_library.h"
#include "vm/value_codec.h"

namespace ved::vm {

namespace {

// ` (file:line:col)` after an expectation, or nothing.
std::string at(const Program& p, const SourcePos& pos) {
  const std::string where = source_position(p, pos);
  return where.empty() ? "" : " (" + where + ")";
}

class Simulation {
 public:
  Simulation(const Program& p, const std::string& bundle, const TestInfo& test, const SimulationOptions& o)
      : p_(p), test_(test), o_(o), interp_(p), runtime_(p, bundle, runtime_options(p, test, o, interp_, stub_errors_)) {
    result_.name = test.name;
    eventually_held_.assign(test.expectations.size(), false);
    always_failed_.assign(test.expectations.size(), false);
  }

  SimulationResult run() {
    for (const std::string& e : stub_errors_) result_.failures.push_back(e);
    runtime_.start_in_memory();
    if (result_.failures.empty() && apply_given() && run_script()) {
      check_final();
    }
    result_.ticks = runtime_.tick();
    result_.passed = result_.failures.empty();
    return result_;
  }

 private:
  // The run's options, with each stub bound to a fixed answer (its value computed now).
  // Called while constructing runtime_: interp_ is constructed already.
  static RuntimeOptions runtime_options(const Program& p, const TestInfo& test, const SimulationOptions& o,
                                        Interpreter& interp, std::vector<std::string>& errors) {
    RuntimeOptions ro;
    ro.seed = o.seed;
    ro.slice_budget = o.fuel;
    for (const TestInfo::Stub& stub : test.stubs) {
      const ExternalInfo& effect = p.effects[stub.effect];
      Value v = zero_value(p, effect.result);
      if (stub.value_function >= 0) {
        InstanceEnv env;
        CallResult r = interp.call(static_cast<uint32_t>(stub.value_function), {}, o.fuel, env);
        if (!r.ok) {
          errors.push_back("the stub of `" + effect.name + "` faulted: " + r.fault.message);
          continue;
        }
        v = r.value;
      }
      EffectOutcome outcome = stub.fails ? EffectOutcome::failure("failed", stub.value_function >= 0 ? v.as_string()
                                                                                                   : "failed (stub)")
                                         : EffectOutcome::success(v);
      ro.adapters.bind_effect(effect.name, make_fixed_adapter(std::move(outcome)));
    }
    return ro;
  }

  bool fail(std::string why) {
    result_.failures.push_back(std::move(why));
    return false;
  }

  bool apply_given() {
    for (const TestInfo::Given& g : test_.given) {
      Value id;
      InstanceEnv none;
      if (g.id_function >= 0) {
        CallResult r = interp_.call(static_cast<uint32_t>(g.id_function), {}, o_.fuel, none);
        if (!r.ok) return fail("given " + p_.domains[g.domain].name + ": the instance id faulted: " + r.fault.message);
        id = r.value;
      }
      Instance& in = runtime_.instance_for_setup(InstanceKey{g.domain, id});
      InstanceEnv env;
      Value state = in.state;
      env.state = &state;
      CallResult r = interp_.call(g.fields_function, {}, o_.fuel, env);
      if (!r.ok) return fail("given " + p_.domains[g.domain].name + " faulted: " + r.fault.message);
      in.state = std::move(state);
    }
    return check_during();
  }

  // The script's steps; each `advance_ticks(n)` runs n ticks. False when the test has
  // failed already or cannot go on.
  bool run_script() {
    bool advanced = false;
    bool sent_since = false;  // messages sent after the last advance_ticks
    if (test_.script >= 0) {
      const uint32_t script = static_cast<uint32_t>(test_.script);
      uint32_t slice = 0;
      std::vector<Value> registers;
      while (true) {
        Outputs out;
        InstanceEnv env;
        env.tick = runtime_.tick();
        env.outputs = &out;
        env.random = &random_;
        SliceResult r = interp_.run_slice(script, slice, std::move(registers), o_.fuel, env);
        if (r.status == SliceResult::Status::Faulted)
          return fail("simulate faulted" + at(p_, r.fault.position) + ": " + r.fault.message);
        for (SentMessage& m : out.sends) {
          const MessageInfo& info = p_.messages[m.message];
          runtime_.submit(InstanceKey{static_cast<uint32_t>(info.domain), m.instance_id},
                          static_cast<uint32_t>(info.transition), std::move(m.args));
          sent_since = true;
        }
        if (r.status == SliceResult::Status::Finished) break;
        // Idle stretches are jumped over as a run does, so `advance_ticks(1000000000)`
        // costs what its busy ticks cost.
        for (int64_t left = r.advance_ticks; left > 0;) {
          if (!tick()) return false;
          --left;
          left -= runtime_.skip_idle(left);
        }
        if (r.advance_ticks > 0) advanced = true, sent_since = false;
        slice = r.continuation.next_slice;
        registers = std::move(r.continuation.registers);
      }
    }
    if (!advanced || sent_since) {
      for (int64_t k = 0; k < o_.settle_ticks && !runtime_.all_quiescent(); ++k)
        if (!tick()) return false;
    }
    return true;
  }

  bool tick() {
    std::string error;
    if (!runtime_.step(error)) return fail("the runtime failed: " + error);
    return check_during();
  }

  // Evaluates expectation `e` against the states of the default instances it reads.
  bool holds(size_t e, std::string& why) {
    const TestInfo::Expectation& x = test_.expectations[e];
    std::vector<Value> states;
    for (uint32_t d : x.domains) {
      const Instance* in = runtime_.find_instance(InstanceKey{d, Value()});
      if (!in) {
        why = "there is no instance " + p_.domains[d].name;
        return false;
      }
      states.push_back(in->state);
    }
    InstanceEnv env;
    CallResult r = interp_.call(x.function, states, o_.fuel, env);
    if (!r.ok) {
      why = "it faulted: " + r.fault.message;
      return false;
    }
    return r.value.as_bool();
  }

  bool check_during() {
    for (size_t e = 0; e < test_.expectations.size(); ++e) {
      const TestInfo::Expectation& x = test_.expectations[e];
      std::string why;
      if (x.kind == 0 && !always_failed_[e] && !holds(e, why)) {
        always_failed_[e] = true;
        fail("always " + x.text + at(p_, x.position) + " failed at tick " + std::to_string(runtime_.tick()) +
             (why.empty() ? "" : ": " + why));
      } else if (x.kind == 1 && !eventually_held_[e] && holds(e, why)) {
        eventually_held_[e] = true;
      }
    }
    return true;
  }

  void check_final() {
    const std::string end = "at the end (tick " + std::to_string(runtime_.tick()) + ")";
    for (size_t e = 0; e < test_.expectations.size(); ++e) {
      const TestInfo::Expectation& x = test_.expectations[e];
      std::string why;
      if (x.kind == 1 && !eventually_held_[e]) fail("eventually " + x.text + at(p_, x.position) + " never held, " + end);
      if (x.kind == 2 && !holds(e, why))
        fail(x.text + at(p_, x.position) + " does not hold " + end + (why.empty() ? "" : ": " + why));
    }
  }

  const Program& p_;
  const TestInfo& test_;
  const SimulationOptions& o_;
  std::vector<std::string> stub_errors_;
  Interpreter interp_;
  Runtime runtime_;
  SimulationResult result_;
  std::vector<bool> eventually_held_;
  std::vector<bool> always_failed_;
  // The script's own generator (`rand` in `simulate`), seeded like an instance's.
  Random random_{static_cast<uint64_t>(hash_value(Value::list({Value::integer(static_cast<int64_t>(o_.seed)),
                                                                Value::string("test " + test_.name)})))};
};

}  // namespace

SimulationResult run_simulation_test(const Program& program, const std::string& bundle, size_t test,
                                     const SimulationOptions& options) {
  return Simulation(program, bundle, program.tests[test], options).run();
}

}  // namespace ved::vm
