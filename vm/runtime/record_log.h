// The tick-record log (runtime.md "Storage"): every committed tick's record, appended in
// order to files of our own beside the database, one checksummed frame a record.
//
// Why not LevelDB: a tick record is written once and read in order, never looked up or
// replaced. In the database each record was written twice (its write-ahead log, then a
// table) and compacted again later; appended to a file it is written once, and a group of
// ticks costs one write() (and one fsync under --sync=tick). The database keeps only the
// live state, as checkpoints written every few megabytes of log (run_store.h); recovery
// loads the last checkpoint and applies the frames after it.
//
// Layout: segments named `journal-<first frame, 16 hex digits>.log`, a new one per process
// that writes and whenever one reaches kSegmentBytes. A frame is
//
//   frame number (u64) | tick (u64) | payload length (u32) | checksum (u64) | payload
//
// (the payload is an encoded tick record; the checksum is the payload's XXH64 seeded with
// the XXH64 of the 20 header bytes before it, so it covers both)
//
// little-endian. Frames are numbered from 0 across segments, with no gaps: a frame's
// number is its place in the journal, and the checkpoint says how many frames it holds.
//
// Reading stops at the first frame of a segment that is cut short or whose checksum
// fails: a write torn by a crash leaves exactly that at a segment's end, and the writer
// that recovers starts a new segment at the frame it failed to read. So a segment may end
// in garbage only where the next segment picks up; anywhere else it is damage, named.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vm/runtime/status.h"

namespace leveldb {
class Env;
class WritableFile;
}  // namespace leveldb

namespace ved::vm {

class StorageEnv;

inline constexpr size_t kLogFrameHeaderBytes = 8 + 8 + 4 + 8;

// Appends one frame to `out`.
void append_log_frame(std::string& out, uint64_t number, int64_t tick, std::string_view payload);
// The same, built in place: begin_log_frame leaves room for the header and returns where
// the frame starts; the payload is appended to `out` after it; finish_log_frame fills the
// header in (the length and checksum of everything appended since).
size_t begin_log_frame(std::string& out);
void finish_log_frame(std::string& out, size_t at, uint64_t number, int64_t tick);

// Reads `bytes` as whole frames numbered from `first` on, in order and with no gap, and
// calls `visit(number, tick, payload)` for each (a group of frames that travelled through
// a cluster's journal: tick_replicator.h). False with `error` naming the frame and what is
// wrong with it when anything is not a frame: cut short, a checksum, a number out of
// place, bytes left over.
bool read_log_frames(std::string_view bytes, uint64_t first,
                     const std::function<void(uint64_t, int64_t, std::string_view)>& visit, std::string& error);

// Where a frame is: the segment holding it (named by its first frame) and the byte at
// which the frame starts there.
struct LogPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
};

// Where a scan of the log stopped.
struct LogEnd {
  uint64_t next_frame = 0;  // the number of the first frame it did not read
  LogPosition last;         // where the last frame it read (or skipped) is
  // Why it stopped before the end of the last segment ("" when it did not): a frame cut
  // short, a checksum, a frame out of place, naming the segment and the byte.
  std::string damage;
};

class RecordLog {
 public:
  // Appends to segments in `dir`, written through `env`, a new one once the open one
  // holds `segment_bytes`.
  RecordLog(std::string dir, StorageEnv& env, uint64_t segment_bytes = kSegmentBytes);
  ~RecordLog();
  RecordLog(const RecordLog&) = delete;
  RecordLog& operator=(const RecordLog&) = delete;

  static constexpr uint64_t kSegmentBytes = uint64_t{64} << 20;

  // Appends `frames` (append_log_frame's), whose first is numbered `first` and whose
  // last starts at byte `last_at` of them: to the open segment, or to a new one named
  // after `first`.
  Status append(uint64_t first, std::string_view frames, size_t last_at);
  // Where the last frame appended is (none before the first append).
  const std::optional<LogPosition>& last_frame() const { return last_; }
  // Makes everything appended durable.
  Status sync();
  // Makes the segments an earlier process left durable: the last of them may end in
  // frames it wrote and never synced (it was killed), which survive in the page cache
  // and read back whole, yet a power cut may still take. Done once, before anything
  // this process writes comes to depend on them: its first append (a new segment must
  // never follow one whose tail may be lost), or a checkpoint made from frames read back.
  Status sync_earlier_segments();

  // Calls `visit(number, tick, payload)` for every frame numbered `from` or later, in
  // order, until it returns false. Segments that end before `from` are not opened, and
  // frames before it in the segment holding it are skipped by their headers — or not
  // read at all when `at` says where frame `from` is. The frames read must follow one
  // another without a gap; what it could not read is in `end`. Fails only when the files
  // cannot be listed or opened, or a segment's name is not ours.
  static Status scan(const std::string& dir, leveldb::Env* env, uint64_t from,
                     const std::function<bool(uint64_t, int64_t, std::string_view)>& visit, LogEnd& end,
                     const LogPosition* at = nullptr);
  // Removes every segment (a run starting over with --fresh).
  static Status remove_all(const std::string& dir, leveldb::Env* env);
  // Whether `name` (a file name, without its directory) is a segment's.
  static bool is_segment(std::string_view name);

 private:
  std::string dir_;
  StorageEnv& env_;
  std::unique_ptr<leveldb::WritableFile> file_;  // the segment being appended to
  uint64_t segment_bytes_;
  uint64_t segment_first_ = 0;  // the open segment's first frame
  uint64_t file_bytes_ = 0;
  std::optional<LogPosition> last_;
  bool new_segment_ = false;  // created since the last sync: its directory entry is not durable yet
  bool earlier_synced_ = false;  // sync_earlier_segments has run
};

}  // namespace ved::vm
