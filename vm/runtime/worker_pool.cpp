#include "vm/runtime/worker_pool.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>

namespace ved::vm {

namespace {
// How long the pool's destruction waits for running jobs before abandoning them.
constexpr std::chrono::milliseconds kGrace{1000};
// How long it then waits for the jobs it abandoned to return once their adapters were
// told to stop them (EffectAdapter::cancel_in_flight): a killed child is then reaped
// and the threads joined instead of cut off at exit.
constexpr std::chrono::milliseconds kCancelGrace{500};
}  // namespace

struct WorkerPool::State {
  struct Job {
    std::shared_ptr<EffectAdapter> adapter;
    EffectRequest request;
    int64_t tick;
    uint32_t index;
    Persist persist;
  };
  std::mutex mutex;
  std::condition_variable has_job;
  std::condition_variable has_completion;  // also: a job finished
  std::deque<Job> jobs;
  std::vector<Completion> done;
  size_t outstanding = 0;  // submitted, not collected
  size_t running = 0;
  // The adapter of each running job (one entry per job), for cancel_in_flight.
  std::vector<std::shared_ptr<EffectAdapter>> running_adapters;
  bool stopping = false;
  bool abandoned = false;  // the pool is gone: store and report nothing more

  void work() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(mutex);
        has_job.wait(lock, [&] { return stopping || !jobs.empty(); });
        if (stopping) return;
        job = std::move(jobs.front());
        jobs.pop_front();
        ++running;
        running_adapters.push_back(job.adapter);
      }
      // Adapters promise not to throw; an allocation failure can still escape one, and it
      // must not take the process down from a worker thread.
      EffectOutcome outcome;
      try {
        outcome = job.adapter->execute(job.request);
      } catch (const std::exception& e) {
        outcome = EffectOutcome::failure("adapter", std::string("the adapter failed: ") + e.what(), true);
      }
      {
        // Under the lock, so that nothing is stored once the pool (and what `persist`
        // writes to) is gone.
        std::lock_guard lock(mutex);
        --running;
        running_adapters.erase(std::find(running_adapters.begin(), running_adapters.end(), job.adapter));
        if (!abandoned) {
          // Under the lock, with `abandoned`, so that `persist` (which writes to the
          // caller's store) is never called once the pool is destroyed.
          try {
            job.persist(outcome);
          } catch (const std::exception&) {
            // Not stored: after a crash the intent is dispatched again, as if it had been
            // running at that instant.
          }
          // The runtime's thread gets a clone: the job, destroyed on this thread, still
          // refers to `outcome`'s value (reference counts are not atomic).
          EffectOutcome handed = outcome;
          handed.value = clone_value(outcome.value);
          done.push_back(Completion{job.tick, job.index, std::move(handed)});
        }
      }
      has_completion.notify_all();
    }
  }
};

WorkerPool::WorkerPool(size_t threads) : size_(threads == 0 ? 1 : threads), state_(std::make_shared<State>()) {}

WorkerPool::~WorkerPool() {
  std::vector<std::shared_ptr<EffectAdapter>> to_cancel;
  {
    std::unique_lock lock(state_->mutex);
    state_->stopping = true;
    state_->jobs.clear();
    state_->has_job.notify_all();
    state_->has_completion.wait_for(lock, kGrace, [&] { return state_->running == 0; });
    state_->abandoned = true;
    for (const auto& a : state_->running_adapters)
      if (std::find(to_cancel.begin(), to_cancel.end(), a) == to_cancel.end()) to_cancel.push_back(a);
  }
  // Abandoned jobs must not go on working outside the VM: the next run dispatches their
  // intents again (a child process left running would run twice). Outside the lock, as
  // the adapters take their own locks and the jobs finish under ours.
  for (const auto& a : to_cancel) {
    try {
      a->cancel_in_flight();
    } catch (...) {
      // cancel_in_flight must not throw; if it does, the job is abandoned as it is.
    }
  }
  bool idle = false;
  {
    std::unique_lock lock(state_->mutex);
    if (!to_cancel.empty())
      state_->has_completion.wait_for(lock, kCancelGrace, [&] { return state_->running == 0; });
    idle = state_->running == 0;
  }
  to_cancel.clear();
  for (auto& t : threads_) {
    // A thread still inside an adapter keeps the state alive and ends when the adapter
    // returns; one that is idle has already returned (or is about to: `stopping`).
    if (idle) t.join();
    else t.detach();
  }
}

void WorkerPool::submit(std::shared_ptr<EffectAdapter> adapter, EffectRequest request, int64_t tick, uint32_t index,
                        Persist persist) {
  // The job must share no heap object with the caller's values: it is used and destroyed
  // on a worker thread.
  for (Value& a : request.args) a = clone_value(a);
  {
    std::lock_guard lock(state_->mutex);
    if (threads_.empty())
      for (size_t k = 0; k < size_; ++k) threads_.emplace_back([state = state_] { state->work(); });
    state_->jobs.push_back(State::Job{std::move(adapter), std::move(request), tick, index, std::move(persist)});
    ++state_->outstanding;
  }
  state_->has_job.notify_one();
}

void WorkerPool::collect(std::vector<Completion>& out) {
  std::lock_guard lock(state_->mutex);
  for (auto& c : state_->done) out.push_back(std::move(c));
  state_->outstanding -= state_->done.size();
  state_->done.clear();
}

bool WorkerPool::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return state_->has_completion.wait_for(lock, timeout, [&] { return !state_->done.empty(); });
}

size_t WorkerPool::outstanding() const {
  std::lock_guard lock(state_->mutex);
  return state_->outstanding;
}

}  // namespace ved::vm
