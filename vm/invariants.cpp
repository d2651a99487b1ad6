#include "vm/invariants.h"

namespace ved::vm {

std::optional<Fault> check_invariants(Interpreter& interpreter, const Program& program, const DomainInfo& domain,
                                      Value& state, int64_t tick, int64_t fuel, const std::string& slice) {
  for (const InvariantInfo& inv : domain.invariants) {
    InstanceEnv env;
    env.state = &state;
    env.tick = tick;
    CallResult holds = interpreter.call(inv.function, {}, fuel, env);
    if (!holds.ok) return holds.fault;
    if (holds.value.as_bool()) continue;
    Fault f;
    f.kind = FaultKind::Invariant;
    f.message = "invariant " + inv.name + " is false after " + slice;
    f.function = inv.function;
    const FunctionInfo& fn = program.functions[inv.function];
    if (!fn.positions.empty()) f.position = fn.positions[0];
    return f;
  }
  return std::nullopt;
}

}  // namespace ved::vm
