// Bringing a data dir's journal up to a replicated one (cluster.md §1 "Execution"): a
// cluster node that takes a program over, or a client that inspects a cluster's run,
// holds the program's tick-record frames as the cluster committed them. Appended to the
// data dir's own log after the frames it holds already, they are what the run recovers
// from when it is opened (RunStore::load applies the frames after its checkpoint), so a
// run continues on any node exactly where the cluster's journal stops.
//
// The data dir must hold the run's beginning (tick 0: `Runtime::attach` on an empty dir
// writes it, identically on every node, from the bundle and the seed).
#pragma once

#include <cstdint>
#include <string_view>

#include "vm/runtime/status.h"

namespace ved::vm {

class Store;

// The number of the first frame the data dir's journal does not hold.
Status journal_frame_count(const Store& store, uint64_t& count);

// Appends to the data dir's journal, of `frames` (whole frames numbered from `first` on),
// those after the ones it holds, and makes them durable; `count` is then how many it
// holds. Frames that leave a gap after the journal's last one are refused, as is anything
// that is not whole frames. Frames numbered `until` or later are left out (a run brought
// up to an upgrade stops there: what follows is the new build's).
Status append_replicated_frames(Store& store, uint64_t first, std::string_view frames, uint64_t& count,
                                uint64_t until = UINT64_MAX);

}  // namespace ved::vm
