#include "vm/runtime/worker_pool.h"

namespace ved::vm {

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  has_job_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::submit(std::shared_ptr<EffectAdapter> adapter, EffectRequest request, int64_t tick, uint32_t index) {
  {
    std::lock_guard lock(mutex_);
    if (threads_.empty())
      for (size_t k = 0; k < size_; ++k) threads_.emplace_back([this] { work(); });
    jobs_.push_back(Job{std::move(adapter), std::move(request), tick, index});
    ++outstanding_;
  }
  has_job_.notify_one();
}

void WorkerPool::work() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      has_job_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    EffectOutcome outcome = job.adapter->execute(job.request);
    {
      std::lock_guard lock(mutex_);
      done_.push_back(Completion{job.tick, job.index, std::move(outcome)});
    }
    has_completion_.notify_all();
  }
}

void WorkerPool::collect(std::vector<Completion>& out) {
  std::lock_guard lock(mutex_);
  for (auto& c : done_) out.push_back(std::move(c));
  outstanding_ -= done_.size();
  done_.clear();
}

bool WorkerPool::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return has_completion_.wait_for(lock, timeout, [&] { return !done_.empty(); });
}

size_t WorkerPool::outstanding() const {
  std::lock_guard lock(mutex_);
  return outstanding_;
}

}  // namespace ved::vm
