// Runs pieces of a program in isolation, for tests and `vedvm call`: a fn, a transition
// slice by slice, a goal predicate or an invariant, against a state the caller gives.
// Mailboxes, ticks and storage (the runtime) are not involved; what a transition sends,
// emits, spawns or schedules is collected, not delivered.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vm/interpreter.h"

namespace ved::vm {

struct TransitionRun {
  std::vector<SliceResult::Status> slices;  // one per slice run
  Value state;       // after the last committed slice
  Outputs outputs;   // of the committed slices, in order
  bool faulted = false;
  Fault fault;       // the slice that faulted was rolled back
  int64_t fuel_used = 0;
};

class TestDriver {
 public:
  explicit TestDriver(const Program& program, const EngineOptions& engine = default_engine());

  const Program& program() const { return program_; }
  const Interpreter& interpreter() const { return interpreter_; }
  std::optional<uint32_t> domain_index(const std::string& name) const;

  // A fn by name.
  CallResult call(const std::string& fn, const std::vector<Value>& args, int64_t fuel);
  // A domain's initial state (its field defaults).
  CallResult initial_state(const std::string& domain);
  // Every slice of a transition in order, starting from `state`. A slice that faults, or
  // after which an invariant is false (FaultKind::Invariant), is rolled back and ends
  // the run. `seed` seeds the instance's random generator.
  TransitionRun run_transition(const std::string& domain, const std::string& transition, const std::vector<Value>& args,
                               const Value& state, int64_t fuel_per_slice, int64_t tick = 1, uint64_t seed = 0);
  // A goal's predicate or an invariant, by name, against `state`.
  CallResult evaluate(const std::string& domain, const std::string& goal_or_invariant, const Value& state,
                      int64_t fuel, int64_t tick = 1);

 private:
  // States come from callers (`vedvm call --set`): checked before any code reads them.
  bool state_conforms(const DomainInfo& domain, const Value& state) const;

  const Program& program_;
  Interpreter interpreter_;
};

}  // namespace ved::vm
