// The single-node runtime: the deterministic tick loop of runtime.md §1 over a verified
// program, with instances, mailboxes, goals, slices, faults and timers, durable on a
// Store (one atomic batch per tick), so that a run killed at any instant continues from
// its last committed tick to the same result.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vm/interpreter.h"
#include "vm/runtime/instance.h"
#include "vm/runtime/store.h"

namespace ved::vm {

// A simulated adapter (`--effect NAME=ok[:VALUE]` / `fail[:MESSAGE]`, runtime.md §7): every
// intent of the effect completes with this outcome, as an input of the next tick.
struct EffectBinding {
  bool ok = true;
  Value value;          // ok: the result (unit for effects that return nothing)
  std::string message;  // fail: EffectError.message
};

struct RuntimeOptions {
  int64_t slice_budget = 1'000'000;  // fuel per slice unless a transition says `budget:`
  size_t mailbox_capacity = 10'000;
  uint64_t seed = 0;
  int64_t max_ticks = 0;  // 0: no limit
  bool sync = true;       // fsync every tick's batch
  std::map<std::string, EffectBinding> effects;  // by effect name; others fail with NoAdapter
  std::map<std::string, std::string> effect_specs;  // as given (`ok:vm-1`), stored with the run
};

// Parses `ok`, `ok:VALUE`, `fail`, `fail:MESSAGE` for effect `name` of `program` (VALUE read
// as the effect's result type). False with `error` for an unknown effect or a bad value.
bool parse_effect_binding(const Program& program, const std::string& name, const std::string& spec,
                          EffectBinding& out, std::string& error);

// One line of the trace (runtime.md §9): `tick=4 Counter slice Increment`.
struct TraceEvent {
  int64_t tick = 0;
  std::string instance;
  std::string kind;    // slice, goal, send, emit, outcome, fault, dead_letter, spawn, ...
  std::string detail;  // the rest of the line
};
using TraceSink = std::function<void(const TraceEvent&)>;

struct RunSummary {
  int exit_code = 0;  // 0 every goal satisfied, 2 some goal terminated or unsatisfied, 3 a fault
  int64_t ticks = 0;
  int64_t slices = 0;
  bool max_ticks_reached = false;
  std::vector<std::string> lines;  // for people: instances, unsatisfied goals, faults
};

class Runtime {
 public:
  Runtime(const Program& program, std::string bundle_bytes, RuntimeOptions options, TraceSink trace = nullptr);
  ~Runtime();

  // Opens `store`: a new run (instances activated as runtime.md §1 says) or, if it holds
  // this program's state, the run it holds. Refuses another program's data. `resumed`
  // says which.
  bool attach(Store& store, bool& resumed, std::string& error);

  // Runs ticks until every instance is quiescent (or max_ticks). Returns false on a
  // storage error. `stop` is polled between ticks (SIGINT/SIGTERM finish the tick).
  bool run(RunSummary& summary, std::string& error, const std::function<bool()>& stop = nullptr);

  int64_t tick() const;
  int64_t slices() const;  // run by this process
  const std::deque<Instance>& instances() const;
  // Clears FAULTED on an instance (runtime.md §3, `vedvm resume`), durably.
  bool resume(const std::string& instance, std::string& error);
  // The state of every instance as text, one line each, in instance order.
  std::vector<std::string> describe_instances() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ved::vm
