// Runs off-core effects (runtime.md §7: `service` and higher built-ins, external
// adapters) on a few threads, so that a slow HTTP call never stalls the deterministic tick
// loop. What they return is collected in the order it arrived; the tick loop journals it
// as an input of the next tick that starts, which is why arrival order may depend on
// timing without the run depending on it on replay.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
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

  explicit WorkerPool(size_t threads) : size_(threads == 0 ? 1 : threads) {}
  // Stops taking work and waits for the jobs that are running: adapters bound their own
  // time (HTTP and process timeouts, external adapters' request timeout). Queued jobs are
  // dropped; their intents are still open in the store and are dispatched again by the
  // next run.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `request` for `adapter`. Threads start on the first call.
  void submit(std::shared_ptr<EffectAdapter> adapter, EffectRequest request, int64_t tick, uint32_t index);
  // Moves what arrived since the last call to the end of `out`, in arrival order.
  void collect(std::vector<Completion>& out);
  // Waits until something arrived (true) or `timeout` passed (false).
  bool wait(std::chrono::milliseconds timeout);
  // Submitted and not yet collected.
  size_t outstanding() const;

 private:
  struct Job {
    std::shared_ptr<EffectAdapter> adapter;
    EffectRequest request;
    int64_t tick;
    uint32_t index;
  };
  void work();

  const size_t size_;
  mutable std::mutex mutex_;
  std::condition_variable has_job_;
  std::condition_variable has_completion_;
  std::deque<Job> jobs_;
  std::vector<Completion> done_;
  size_t outstanding_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ved::vm
