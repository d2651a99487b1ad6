// Runs off-core effects (runtime.md §7: `service` and higher built-ins, external
// adapters) on a few threads, so that a slow HTTP call never stalls the deterministic tick
// loop. What they return is stored at once (by the caller's `persist`) and collected in
// the order it arrived; the tick loop journals it as an input of the next tick that
// starts, which is why arrival order may depend on timing without replay depending on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "vm/effects/adapter.h"

namespace ved::vm {

class WorkerPool {
 public:
  struct Completion {
    int64_t tick = 0;  // the intent's (Intent::tick, Intent::index)
    uint32_t index = 0;
    EffectOutcome outcome;
  };
  // Stores an outcome as soon as it is back, on the worker's thread. It must hold no
  // value shared with another thread (see clone_value in vm/value.h).
  using Persist = std::function<void(const EffectOutcome&)>;

  explicit WorkerPool(size_t threads);
  // Stops taking work and gives running jobs a moment to finish (their outcomes are then
  // stored). Jobs still running after that are abandoned: their outcomes are neither
  // stored nor collected, so their intents stay open and the next run dispatches them
  // again. So that the abandoned work does not go on beside that second dispatch, each
  // adapter with a running job is told to stop it (EffectAdapter::cancel_in_flight:
  // Process.Run kills its children) and the jobs get a short while more to return; the
  // threads of those that still have not are detached. Queued jobs are dropped the same
  // way. An exit never waits for an adapter's own timeout. An abandoned job still holds
  // its adapter, which may read the Program: whoever owns the Program must keep it until
  // the process ends once a pool has been destroyed with jobs running (vedvm does).
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `request` for `adapter` (its values are cloned here, on the caller's thread).
  // Threads start on the first call.
  void submit(std::shared_ptr<EffectAdapter> adapter, EffectRequest request, int64_t tick, uint32_t index,
              Persist persist);
  // Moves what arrived since the last call to the end of `out`, in arrival order.
  void collect(std::vector<Completion>& out);
  // Waits until something arrived (true) or `timeout` passed (false).
  bool wait(std::chrono::milliseconds timeout);
  // Submitted and not yet collected.
  size_t outstanding() const;

 private:
  struct State;  // shared with the threads, which may outlive the pool
  const size_t size_;
  std::shared_ptr<State> state_;
  std::vector<std::thread> threads_;
};

}  // namespace ved::vm
