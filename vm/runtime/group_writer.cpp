#include "vm/runtime/group_writer.h"

namespace ved::vm {

GroupWriter::GroupWriter(Store& store) : store_(store), thread_([this] { loop(); }) {}

GroupWriter::~GroupWriter() {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !job_; });  // the last group handed over is written
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void GroupWriter::start(Store::Batch batch, Written written) {
  {
    std::lock_guard lock(mutex_);
    job_ = std::move(batch);
    written_ = written;
    finished_ = false;
  }
  in_flight_ = true;
  changed_.notify_all();
}

Status GroupWriter::wait(std::optional<Written>& done) {
  done.reset();
  if (!in_flight_) return Status::ok();
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return finished_; });
  in_flight_ = false;
  if (result_.is_ok()) done = written_;
  return result_;
}

bool GroupWriter::busy() {
  if (!in_flight_) return false;
  std::lock_guard lock(mutex_);
  return !finished_;
}

void GroupWriter::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return job_.has_value() || stopping_; });
    if (!job_) return;
    Store::Batch batch = std::move(*job_);
    lock.unlock();
    Status s = store_.commit(batch, /*sync=*/true);
    lock.lock();
    job_.reset();
    result_ = std::move(s);
    finished_ = true;
    changed_.notify_all();
  }
}

}  // namespace ved::vm
