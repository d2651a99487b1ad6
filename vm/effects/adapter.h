// Adapters: what executes an effect intent in the outside world, or samples an
// observation (runtime.md §7, language.md §7-§8). The runtime never performs I/O itself;
// it hands intents to adapters after their tick is durable and journals what comes back.
//
// Two kinds of completion, because determinism from the source alone is worth keeping
// where it is free:
//  * between ticks: built-in `pure`/`local` effects (logs, files), simulated adapters and
//    NoAdapter. The runtime calls them in emission order right after the commit, and the
//    outcome is an input of the next tick.
//  * off the core: `service` and higher built-ins and external adapters. They run on a
//    worker pool; an outcome is an input of the first tick that starts after it arrived
//    (journaled, so replay is still exact). These must be safe to call from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vm/program.h"
#include "vm/value.h"

namespace ved::vm {

// One intent, as an adapter sees it.
struct EffectRequest {
  std::string intent_id;  // unique in the run and stable across restarts: `<tick>-<n>`
  std::string instance;   // the emitting instance, `Pool` or `Worker[3]` (for logs)
  uint32_t effect = 0;    // Program::effects
  std::string effect_name;                 // qualified: `System.WriteFile`
  std::vector<std::string> param_names;    // declaration order
  std::vector<Value> args;                 // same order, values of the declared types
  std::optional<std::string> idempotency_key;
  uint32_t result_type = 0;  // Program type index of the ok value (unit: no value)
  uint64_t ordinal = 0;      // this is the ordinal-th intent of this effect in the run (0-based)
  uint32_t attempt = 1;      // 2 and more: re-dispatched after a crash lost the outcome
};

// What came back. Failure codes the built-ins use: `permission`, `not_found`, `io`,
// `exec_disabled`, `exit_status`, `http`, `timeout`, `NoAdapter`, `adapter` (the adapter
// itself broke: unreachable, bad reply).
struct EffectOutcome {
  bool ok = false;
  Value value;  // ok: a value of the effect's result type (unit when it has none)
  std::string code;
  std::string message;
  bool retryable = false;

  static EffectOutcome success(Value v) {
    EffectOutcome o;
    o.ok = true;
    o.value = std::move(v);
    return o;
  }
  static EffectOutcome failure(std::string code, std::string message, bool retryable = false) {
    EffectOutcome o;
    o.code = std::move(code);
    o.message = std::move(message);
    o.retryable = retryable;
    return o;
  }
};

class EffectAdapter {
 public:
  virtual ~EffectAdapter() = default;
  // True: completes between ticks, in emission order, on the runtime's thread.
  // False: runs on the worker pool (execute must then be thread-safe).
  virtual bool between_ticks() const = 0;
  // True when executing an intent again touches nothing outside and gives the same
  // outcome (simulated adapters): the runtime then need not store the outcome the moment
  // it arrives, since after a crash it can simply ask again.
  virtual bool repeatable() const { return false; }
  // Performs the intent and says what happened. Never throws: every failure is an
  // outcome. The returned ok value must have the request's result type.
  virtual EffectOutcome execute(const EffectRequest& request) = 0;
  // Off-core adapters only. The worker pool calls this when it is destroyed (the VM is
  // stopping: SIGTERM, --max-ticks) with jobs of this adapter still running after its
  // grace period: it is abandoning them, so their outcomes will be neither stored nor
  // delivered, their intents stay open, and the next run dispatches them again with the
  // same id and key. The adapter should stop the work of every execute call in progress
  // promptly, so that it does not go on running outside the VM beside the re-dispatched
  // copy, and make those calls return soon (with any outcome: it is dropped). Called from
  // the pool's destroying thread while the calls run on worker threads; at most once per
  // pool; must not throw.
  //
  // It is final for this adapter: an execute call that starts afterwards (a worker may
  // have taken its job just before the pool gave up and only now reach execute) must
  // start nothing and return at once. An adapter is therefore not reused after it was
  // cancelled; vedvm binds fresh adapters for each run.
  //
  // Default: nothing, the calls finish on their own or are cut off when the process
  // exits (docs/effects.md, "Stopping with work in flight", says what that means for
  // each adapter). ProcessEffect kills the process group of each child it runs.
  virtual void cancel_in_flight() {}
};

// Samples observations. Called on the runtime's thread while a goal or transition runs.
class ObservationAdapter {
 public:
  virtual ~ObservationAdapter() = default;
  // Fills `out` with a value of type `result_type`, or returns false with `error` (the
  // evaluating slice or goal then faults with an `observation` fault).
  virtual bool sample(const std::string& name, std::span<const Value> args, uint32_t result_type, Value& out,
                      std::string& error) = 0;
};

// Which adapter serves which effect or observation, by qualified name. Owns them; one
// adapter may serve several names.
class AdapterSet {
 public:
  void bind_effect(const std::string& name, std::shared_ptr<EffectAdapter> adapter) { effects_[name] = std::move(adapter); }
  void bind_observation(const std::string& name, std::shared_ptr<ObservationAdapter> adapter) {
    observations_[name] = std::move(adapter);
  }
  EffectAdapter* effect(const std::string& name) const { return find_effect(name).get(); }
  std::shared_ptr<EffectAdapter> find_effect(const std::string& name) const {
    auto it = effects_.find(name);
    return it == effects_.end() ? nullptr : it->second;
  }
  ObservationAdapter* observation(const std::string& name) const {
    auto it = observations_.find(name);
    return it == observations_.end() ? nullptr : it->second.get();
  }

 private:
  std::map<std::string, std::shared_ptr<EffectAdapter>> effects_;
  std::map<std::string, std::shared_ptr<ObservationAdapter>> observations_;
};

}  // namespace ved::vm
