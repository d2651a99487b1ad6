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

Status GroupWrite::perform(Store& store) {
  if (replicator && !frames.empty())
    if (Status s = replicator->replicate(first_frame, frame_count, frames); !s.is_ok()) return s;
  if (!frames.empty())
    if (Status s = store.log().append(first_frame, frames, last_frame_at); !s.is_ok()) return s;
  if (sync || checkpoint)
    if (Status s = store.log().sync(); !s.is_ok()) return s;
  if (!checkpoint) return Status::ok();
  if (head) {
    if (store.log().last_frame()) head->last_frame = *store.log().last_frame();
    checkpoint->put("meta/head", encode_run_head(*head));
  }
  return store.commit(*checkpoint, sync_checkpoint);
}

void GroupWriter::start(GroupWrite write, Written written) {
  {
    std::lock_guard lock(mutex_);
    job_ = std::move(write);
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
    GroupWrite write = std::move(*job_);
    lock.unlock();
    Status s = write.perform(store_);
    lock.lock();
    job_.reset();
    result_ = std::move(s);
    finished_ = true;
    changed_.notify_all();
  }
}

}  // namespace ved::vm
