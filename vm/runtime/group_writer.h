// Writing a group of ticks while the next group is computed.
//
// Under --sync=tick a group is fsynced, which takes milliseconds; waiting for it in the
// tick loop made a messaging run spend most of its time idle. Unsynced, the write still
// copies the group into the kernel and may commit a checkpoint to the database: work a
// second core can do. The writer takes one write at a time on a thread of its own: the
// tick loop hands it a group and goes on
// computing the next one, and waits only when it hands over the next group (one write in
// flight, so groups reach the disk in order) or when something must be durable before it
// is seen outside (RunStore waits then: before an intent is released, at the end of a
// run). What the tick loop computes never depends on when a write finishes: only how
// many ticks the next group holds does, as it already depends on the clock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "vm/runtime/run_head.h"
#include "vm/runtime/store.h"
#include "vm/runtime/tick_replicator.h"

namespace ved::vm {

// One write of a group: its records' frames committed to the cluster's journal, when the
// run is a cluster node's (tick_replicator.h), then appended to the tick-record log, the log
// fsynced, then the checkpoint, if the group carries one, committed to the database (the
// log holding what a checkpoint holds is durable before the checkpoint is written, so a
// checkpoint never runs ahead of the journal).
struct GroupWrite {
  uint64_t first_frame = 0;
  uint64_t frame_count = 0;  // how many frames `frames` holds
  std::string frames;
  size_t last_frame_at = 0;  // where the last frame starts in `frames`
  bool sync = false;  // fsync the log (always, with a checkpoint)
  std::optional<Store::Batch> checkpoint;
  // The checkpoint's `meta/head`, written with it once the log says where its last frame
  // went (none: the head stays as the last checkpoint wrote it).
  std::optional<RunHead> head;
  bool sync_checkpoint = false;  // and the database after the checkpoint
  // A cluster owner's journal: the frames are committed there before they are written here.
  TickReplicator* replicator = nullptr;
  Status perform(Store& store);
};

class GroupWriter {
 public:
  explicit GroupWriter(Store& store);
  ~GroupWriter();  // waits for the write in flight
  GroupWriter(const GroupWriter&) = delete;
  GroupWriter& operator=(const GroupWriter&) = delete;

  // What a finished write made durable, for VED-DATA-DIR.
  struct Written {
    int64_t tick = 0;
    uint64_t digest = 0;
    bool durable = false;  // the write is synced (else VED-DATA-DIR is not moved for it)
  };
  // Starts `write`, which holds the ticks up to `written.tick`. The write in flight, if
  // any, must have been waited for.
  void start(GroupWrite write, Written written);
  // Waits for the write in flight. `done` is what it made durable (none: nothing was in
  // flight); the status is its failure, if it failed.
  Status wait(std::optional<Written>& done);
  bool in_flight() const { return in_flight_; }
  // Whether the write in flight is still being written (waiting for it would block).
  bool busy();

 private:
  void loop();

  Store& store_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<GroupWrite> job_;  // handed over, not taken by the thread yet
  bool in_flight_ = false;           // handed over and not waited for (tick loop's view)
  bool finished_ = false;            // the thread finished the write handed over
  Status result_;
  Written written_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything above is ready
};

}  // namespace ved::vm
