// Where a run's committed ticks go before its own data dir does: a cluster owner's
// replicated journal (cluster.md §1 "Execution").
//
// A run on one machine writes its tick-record frames (record_log.h) to its data dir.
// A run a cluster node owns first hands every group of frames to the cluster, which
// commits them through Raft and applies them on every node; only once they are committed
// does the group reach the local data dir, so the local dir never holds a tick the
// cluster does not, and nothing of a tick is seen outside (an intent released) before the
// cluster has it. A refusal (the node lost the program: fenced, no quorum) stops the run
// before the group is written anywhere: the run's next owner computes those ticks again,
// identically, from the committed ones. Effects are released only under the cluster's
// dispatch lease (may_dispatch), so that an owner deposed while it was paused does not
// fire what its successor fires again.
#pragma once

#include <cstdint>
#include <string_view>

#include "vm/runtime/status.h"

namespace ved::vm {

class TickReplicator {
 public:
  virtual ~TickReplicator() = default;
  // Commits `frames` (`count` whole frames, the first numbered `first_frame`) to the
  // replicated journal; returns once they are committed, or with why they were not. Called from the
  // thread writing the group (the tick loop's, or the GroupWriter's), one group at a time,
  // in order.
  virtual Status replicate(uint64_t first_frame, uint64_t count, std::string_view frames) = 0;
  // Whether the run may hand effect intents to their adapters now (the dispatch lease,
  // docs/cluster.md): asked after the ticks that emitted them are committed, right before
  // they are released. False with `why`: the run stops, nothing released; the program's
  // owner, whoever it is then, dispatches them again.
  virtual bool may_dispatch(std::string& why) = 0;
};

}  // namespace ved::vm
