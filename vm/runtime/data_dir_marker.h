// VED-DATA-DIR: the file that proves a directory is a Ved data dir, and keeps what a
// damaged database must not be able to take back silently (runtime.md §5–§6).
//
// LevelDB recovers from a write-ahead log or MANIFEST cut short by dropping the tail, as
// it must after a crash in the middle of a write; it cannot tell that from damage done to
// a file that was complete. So the facts that would be lost with such a tail live here,
// outside the database: that the directory is a Ved data dir (and of which format), the
// program of the run it holds, and the last tick known to be durable in the database with
// a digest of its live records. Opening a data dir compares the database with them.
//
// Layout (little-endian), written so that no update can leave it unreadable:
//   bytes 0..63     a header, "Ved data dir\nformat N\n" padded with zero bytes; written
//                   once, when the directory is made a data dir (temp file, fsync, rename);
//   bytes 64..127   slot 0, and bytes 128..191 slot 1: sequence u64, tick i64, program hash
//                   u64, digest u64, reserved u64, then XXH64 of those 40 bytes.
// Updates overwrite the older slot, so a torn update leaves the newer one intact; a slot
// is only ever written after what it states is durable, so either slot is a lower bound
// of the truth and may be trusted without being fsynced itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "vm/runtime/status.h"
#include "vm/runtime/storage_env.h"

namespace ved::vm {

// The name of the file inside a data dir. LevelDB never names a file like it, so
// leveldb::DestroyDB leaves it alone.
inline constexpr const char* kDataDirMarker = "VED-DATA-DIR";

// What the marker says of the run. `tick` is -1 until a run has begun.
struct CommittedMark {
  int64_t tick = -1;
  uint64_t program_hash = 0;
  uint64_t digest = 0;  // RunStore's digest of the live records at that tick
};

class DataDirMarker {
 public:
  ~DataDirMarker();
  DataDirMarker() = default;
  DataDirMarker(const DataDirMarker&) = delete;
  DataDirMarker& operator=(const DataDirMarker&) = delete;

  // Whether `dir` has a marker file (of any content).
  static bool present(const std::string& dir);
  // Makes `dir` (an existing directory) a data dir: writes a marker saying no run has
  // begun, atomically and durably, through `env`. False with `error` (the system's reason).
  static bool create(const std::string& dir, StorageEnv& env, std::string& error);
  // Reads the marker of `dir`: Damaged when the header is not ours or neither slot is
  // whole, OtherFormat when it is of another format, IoError when it cannot be read.
  static Status read(const std::string& dir, CommittedMark& out);

  // Opens the marker of `dir` for updates (a run holding the data dir's lock), through `env`.
  Status open(const std::string& dir, StorageEnv& env);
  const CommittedMark& last() const { return last_; }
  // Records `mark` in the older slot; with `sync`, durably before returning.
  bool record(const CommittedMark& mark, bool sync, std::string& error);

 private:
  std::unique_ptr<MarkerFile> file_;
  uint64_t sequence_ = 0;
  CommittedMark last_;
};

// The data-dir format this VM writes: the marker's header and `meta/format` both say it.
const char* run_format();

}  // namespace ved::vm
