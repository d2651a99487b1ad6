#include "vm/runtime/replicated_frames.h"

#include <algorithm>
#include <string>

#include "vm/runtime/record_log.h"
#include "vm/runtime/run_head.h"
#include "vm/runtime/store.h"

namespace ved::vm {

Status journal_frame_count(const Store& store, uint64_t& count) {
  RunHead head;
  std::string error;
  if (!read_run_head(store, head, error)) return Status::damaged("the data dir holds no run's head: " + error);
  // The checkpoint says how many frames its state holds; frames may follow it.
  LogEnd end;
  const uint64_t from = head.frames > 0 ? head.frames - 1 : 0;
  const LogPosition* at = head.frames > 0 ? &head.last_frame : nullptr;
  if (Status s = store.scan_log(from, [](uint64_t, int64_t, std::string_view) { return true; }, end, at); !s.is_ok())
    return s;
  count = std::max(end.next_frame, head.frames);
  return Status::ok();
}

Status append_replicated_frames(Store& store, uint64_t first, std::string_view frames, uint64_t& count,
                                uint64_t until) {
  if (Status s = journal_frame_count(store, count); !s.is_ok()) return s;
  if (first > count)
    return Status::error(Status::Code::NotFound, "the replicated frames start at frame " + std::to_string(first) +
                                                     ", and the data dir's journal holds " + std::to_string(count));
  // The frames this journal lacks, checked whole before anything is written.
  size_t skip = 0, last_at = 0, end = 0;
  uint64_t next = first;
  std::string error;
  const bool whole = read_log_frames(frames, first, [&](uint64_t number, int64_t, std::string_view payload) {
    if (number >= until) return;
    const size_t start = static_cast<size_t>(payload.data() - frames.data()) - kLogFrameHeaderBytes;
    end = start + kLogFrameHeaderBytes + payload.size();
    if (number < count) skip = end;  // frames come in order
    else last_at = start - skip;
    next = number + 1;
  }, error);
  if (!whole) return Status::damaged("the replicated frames: " + error);
  if (next <= count) return Status::ok();
  const std::string_view missing = frames.substr(skip, end - skip);
  if (Status s = store.log().append(count, missing, last_at); !s.is_ok()) return s;
  if (Status s = store.log().sync(); !s.is_ok()) return s;
  count = next;
  return Status::ok();
}

}  // namespace ved::vm
