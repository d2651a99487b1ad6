// A data dir's storage that can die and lose power (tests only): LevelDB's files and the
// VED-DATA-DIR marker are written through it to a real directory, and it remembers, per
// file, how much of it was synced. Then:
//
//  * die(): the process is gone. Nothing written from then on reaches the files (the
//    runtime may go on calling; its calls succeed and do nothing), as after kill -9.
//  * die_at_log_sync(n): dies at the n-th sync of a log file (counted from 0: LevelDB's
//    write-ahead logs and the tick-record log's segments, every `*.log`), instead of
//    syncing it: the log's unsynced tail is then one group of ticks, whole.
//  * power_cut(): what a power cut leaves: every LevelDB file cut back to its synced length
//    (a file never synced, emptied); with `torn`, one file is cut at a chosen length
//    instead (a write torn at that byte). The marker keeps every update written before the
//    death, synced or not: for it, an update that survives is the worst case (one that
//    ran ahead of the database would be believed), as a lost one is for LevelDB's files.
//  * revive(): a new process on what is left: everything on disk counts as synced.
//
// Like LevelDB's own fault-injection tests, it models what fsync promises: synced bytes
// survive, others may not.
#pragma once

#include <leveldb/env.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vm/runtime/storage_env.h"

namespace ved::storage_test {

class FaultEnv final : public leveldb::EnvWrapper, public vm::StorageEnv {
 public:
  FaultEnv();

  // ---- vm::StorageEnv
  leveldb::Env* database() override { return this; }
  std::unique_ptr<vm::MarkerFile> open_marker(const std::string& path, std::string& error) override;
  // Synced in the env's model; not fsynced (power cuts are the env's to make).
  bool create_file(const std::string& path, std::string_view bytes, std::string& error) override;
  // A no-op: the model keeps every file's name (it loses bytes, not directory entries).
  bool sync_dir(const std::string&, std::string&) override { return true; }

  // ---- leveldb::Env: writes are tracked (and dropped once dead)
  leveldb::Status NewWritableFile(const std::string& name, leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& name, leveldb::WritableFile** result) override;
  leveldb::Status RemoveFile(const std::string& name) override;
  leveldb::Status RenameFile(const std::string& from, const std::string& to) override;
  leveldb::Status CreateDir(const std::string& name) override;

  // ---- faults
  void die();
  void die_at_log_sync(int64_t n);
  // From the n-th sync of a LevelDB log file on (counted from 0), a sync fails with an
  // I/O error and syncs nothing: a disk that stops taking writes, the process alive.
  void fail_log_syncs_from(int64_t n);
  // The n-th write of the VED-DATA-DIR marker (counted from 0) does not happen: the
  // process dies instead (between a synced batch and the marker saying so).
  void die_at_marker_write(int64_t n);
  int64_t marker_writes() const;  // so far
  // For FaultMarker: false when the write must not happen (dead, or dying now).
  bool marker_write();
  bool dead() const;
  // The log file the last log sync (or the dying one) was for, and its length then, and
  // how much of it was synced before: the dying write is [synced, length).
  struct LogWrite {
    std::string file;
    uint64_t synced = 0;
    uint64_t length = 0;
  };
  std::optional<LogWrite> dying_write() const;
  int64_t log_syncs() const;  // so far
  std::vector<LogWrite> log_sync_history() const;  // every log sync so far, in order
  struct Torn {
    std::string file;
    uint64_t length = 0;
  };
  void power_cut(const std::optional<Torn>& torn = std::nullopt);
  void revive();

  // For the files' wrappers.
  struct FileState {
    uint64_t length = 0;
    uint64_t synced = 0;
  };
  bool appended(const std::string& name, size_t bytes);  // false: dead, drop it
  bool synced(const std::string& name, const std::function<void()>& flush);  // false: dead
  bool sync_fails(const std::string& name);  // fail_log_syncs_from says this sync fails

 private:
  mutable std::mutex mu_;
  int64_t fail_syncs_from_ = -1;
  bool dead_ = false;
  int64_t die_at_log_sync_ = -1;
  int64_t die_at_marker_write_ = -1;
  int64_t marker_writes_ = 0;
  int64_t log_syncs_ = 0;
  std::optional<LogWrite> dying_;
  std::vector<LogWrite> sync_history_;
  std::map<std::string, FileState> files_;
};

}  // namespace ved::storage_test
