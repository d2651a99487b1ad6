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

#include "vm/effects/adapter.h"
#include "vm/interpreter.h"
#include "vm/runtime/clock.h"
#include "vm/runtime/instance.h"
#include "vm/runtime/intent.h"
#include "vm/runtime/store.h"
#include "vm/runtime/tick_replicator.h"

namespace ved::vm {

struct LoadedRun;  // run_store.h

// The inputs of a recorded run, by the tick that journaled them (runtime.md §6): what
// replay feeds instead of calling adapters.
struct ReplayInputs {
  struct Outcome {
    std::string intent;  // Intent::id()
    EffectOutcome outcome;
  };
  struct Observation {
    std::string instance;  // describe_instance
    uint32_t observation = 0;
    std::vector<Value> args;
    Value value;
    std::string failure;  // the sample failed (and faulted what read it)
  };
  std::map<int64_t, std::vector<Outcome>> outcomes;
  std::map<int64_t, std::vector<Observation>> observations;
};

struct RuntimeOptions {
  int64_t slice_budget = 1'000'000;  // fuel per slice unless a transition says `budget:`
  size_t mailbox_capacity = 10'000;
  uint64_t seed = 0;
  int64_t max_ticks = 0;  // 0: no limit
  bool sync = true;       // fsync every tick's batch
  // Who serves which effect and observation. An effect nobody serves fails with
  // `NoAdapter`; an observation nobody serves faults the code that reads it.
  AdapterSet adapters;
  // Simulated adapters as given (`Infra.Provision` -> `ok:vm-1`): they decide outcomes,
  // so they are stored with the run, and a resumed run keeps them.
  std::map<std::string, std::string> effect_specs;
  bool serve = false;    // keep ticking when quiescent (observations, timers)
  int64_t tick_ms = 100;  // the period of idle ticks when serving
  // Group commit (docs/runtime.md "Storage"): the longest a committed tick waits in memory
  // before its group is written; 0: every tick is written as it commits.
  int64_t group_ms = 5;
  // How much tick-record log or gathered state makes a checkpoint due (0: the defaults,
  // RunStore::kCheckpointLogBytes and kCheckpointStateBytes). Tests make it small, to
  // recover across many checkpoints.
  size_t checkpoint_bytes = 0;
  size_t workers = 4;     // threads for off-core effects
  // Set: re-execute a recorded run, feeding these instead of calling adapters.
  const ReplayInputs* replay = nullptr;
  // A cluster owner's run: every group of ticks is committed through it before the data
  // dir gets it (tick_replicator.h). Null: a run of this machine alone.
  TickReplicator* replicator = nullptr;
  // When groups are written and how long a serving run waits (never an input of a tick);
  // null: the machine's clock. Tests drive a ManualClock.
  Clock* clock = nullptr;
};

// A part of a trace event for `--trace=json` (docs/json.md): a name and either a value
// (a Ved value, or the runtime's own: a name or text as a string, a count as an int, a
// flag as a bool, "absent" as none) or, when `object`, named parts of its own.
struct TraceField {
  std::string name;
  Value value;
  bool object = false;
  std::vector<TraceField> parts;  // when `object`, in order

  TraceField(std::string n, Value v) : name(std::move(n)), value(std::move(v)) {}
  TraceField(std::string n, std::vector<TraceField> p) : name(std::move(n)), object(true), parts(std::move(p)) {}
};
using TraceFields = std::vector<TraceField>;

// One line of the trace (runtime.md §9): `tick=4 Counter slice Increment`.
struct TraceEvent {
  int64_t tick = 0;
  std::string instance;
  std::string kind;    // slice, goal, send, emit, outcome, fault, dead_letter, spawn, ...
  std::string detail;  // the rest of the line
  // The same event in parts (docs/json.md, per kind): filled only when a trace sink is set.
  TraceFields fields;
};
using TraceSink = std::function<void(const TraceEvent&)>;

// A fault in parts (docs/json.md `fault`): `text` is what the journal and the summary say
// (Instance::last_fault), then the parts of `info` when it is given.
TraceField fault_field(const std::string& name, const std::string& text, const FaultInfo* info);

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

  // Starts a run that lives in memory only (simulation tests, replay): instances
  // activated as runtime.md §1 says.
  void start_in_memory();

  // ---- replay across an upgrade (replay.cpp; run_upgrade.h)

  // Hands the run over as it stands after the last tick, in the terms a data dir loads
  // it in; the runtime holds nothing afterwards.
  void release_run(LoadedRun& out);
  // Starts a run in memory from `run`, a run of this program (an upgraded one), as
  // attach resumes a stored run.
  bool start_from(LoadedRun run, std::string& error);

  // Runs ticks until every instance is quiescent (or max_ticks; serving, until `stop`).
  // Returns false on a storage error. `stop` is polled between ticks (SIGINT/SIGTERM
  // finish the tick).
  bool run(RunSummary& summary, std::string& error, const std::function<bool()>& stop = nullptr);

  // ---- driving a run tick by tick (simulation tests, replay)

  // Runs tick `tick() + 1`, or tick `number` when given (time jumps forward to it, as it
  // does to a timer): logical time advances even if nothing happens. The tick's journal
  // records are then in last_journal(). False on a storage error.
  bool step(std::string& error, int64_t number = 0);
  const std::vector<std::string>& last_journal() const;
  // An instance, activated with its defaults (and start message) if it does not exist yet.
  // Meant for a test's `given`, before the first tick.
  Instance& instance_for_setup(const InstanceKey& key);
  // A message from outside the program (a test's `send`), delivered at the next tick.
  void submit(const InstanceKey& target, uint32_t transition, std::vector<Value> args);
  // Whether the last step did nothing, every instance is quiescent and nothing is on its way.
  bool all_quiescent() const;
  // After a step that did nothing, with nothing from outside on its way: moves time on by
  // at most `most` ticks, stopping just before the next timer or backoff due, as `run`
  // jumps over idle time. Returns how many ticks it skipped (0 when there was work).
  int64_t skip_idle(int64_t most);
  const Instance* find_instance(const InstanceKey& key) const;
  void summarize(RunSummary& summary) const;

  int64_t tick() const;
  // The seed and slice budget the run uses: a resumed run's own, stored ones.
  uint64_t seed() const;
  int64_t slice_budget() const;
  int64_t slices() const;  // run by this process
  // Which engine ran this process's slices and what its JIT compiled (the run's
  // summary says so; the journal does not: a run replays under either engine).
  EngineStats engine_stats() const;
  const std::deque<Instance>& instances() const;
  // Intents without a journaled outcome, in emission order (`vedvm inspect`).
  std::vector<const Intent*> open_intents() const;
  // Clears FAULTED on an instance (runtime.md §3, `vedvm resume`), durably.
  bool resume(const std::string& instance, std::string& error);
  // The state of every instance as text, one line each, in instance order.
  std::vector<std::string> describe_instances() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ved::vm
