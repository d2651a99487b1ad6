// What a data dir is written through (LevelDB's Env idea): the database's files through a
// leveldb::Env, and the updates of the VED-DATA-DIR marker's slots through a MarkerFile.
// The default is the operating system. Tests inject one that fails, tears a write at a
// chosen byte or loses what was never synced, and run the runtime in process against it
// (tests/storage/), which is how "a crash loses only what nobody saw, and recovery
// recomputes it identically" is checked at every byte instead of at a few kill -9s.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace leveldb {
class Env;
}

namespace ved::vm {

// The marker file opened for updates: a slot is overwritten in place (data_dir_marker.h).
class MarkerFile {
 public:
  virtual ~MarkerFile() = default;
  // Writes `bytes` at `offset`; with `sync`, durably before returning. False with `error`
  // (the system's reason).
  virtual bool write_at(uint64_t offset, std::string_view bytes, bool sync, std::string& error) = 0;
};

class StorageEnv {
 public:
  virtual ~StorageEnv() = default;
  // What LevelDB reads and writes its files through.
  virtual leveldb::Env* database() = 0;
  // Opens the marker at `path` for updates; nullptr with `error` (the system's reason).
  virtual std::unique_ptr<MarkerFile> open_marker(const std::string& path, std::string& error) = 0;
  // Writes a new file at `path` holding `bytes`, atomically and durably: whole or not at
  // all, even across a power cut (the marker's creation). False with `error`.
  virtual bool create_file(const std::string& path, std::string_view bytes, std::string& error) = 0;
  // Makes the directory `dir`'s entries durable (a file created in it survives a power
  // cut only once they are). False with `error`.
  virtual bool sync_dir(const std::string& dir, std::string& error) = 0;
  // The operating system's files.
  static StorageEnv& system();
};

}  // namespace ved::vm
