// Durable storage for one VM: a data dir holding a LevelDB database and its VED-DATA-DIR
// marker (runtime.md §5). The runtime decides what the keys and values are; the store
// reads them and writes each tick's changes as one atomic WriteBatch.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vm/runtime/data_dir_marker.h"
#include "vm/runtime/record_log.h"
#include "vm/runtime/status.h"
#include "vm/runtime/storage_env.h"

namespace leveldb {
class DB;
class WriteBatch;
}

namespace ved::vm {

// How a data dir is opened.
enum class StoreMode {
  Run,       // a run: created when missing or empty; otherwise it must be a data dir
  Fresh,     // a run that starts over: a data dir (provably one) is emptied first
  Existing,  // a change to an existing data dir (`vedvm resume`): never created
  Inspect,   // reading only (inspect, stats, replay): takes no lock and writes nothing
             // into the data dir, so it works beside a running VM and on read-only media
};

class Store {
 public:
  ~Store();

  // Opens the data dir `dir`. A directory that is not provably a Ved data dir (it has no
  // VED-DATA-DIR file) is refused with nothing in it touched, unless it is empty (Run and
  // Fresh then make it one). Returns nullptr with `status` saying what is wrong: damage
  // (named), a directory that is not a data dir, another process holding it, no space,
  // a read-only file system, no permission. A run's files are read and written through
  // `env` (Inspect reads the system's: it copies the files it opens).
  static std::unique_ptr<Store> open(const std::string& dir, StoreMode mode, Status& status,
                                     StorageEnv& env = StorageEnv::system());

  // NotFound when the key is not there; Damaged when what holds it cannot be read.
  Status get(std::string_view key, std::string& value) const;
  // Calls `visit` for every key starting with `prefix`, in key order; stops early when
  // it returns false.
  Status scan(std::string_view prefix, const std::function<bool(std::string_view, std::string_view)>& visit) const;

  // Writes applied atomically and in the order they were added (a key put by one tick and
  // deleted by the next, in one group, ends deleted).
  class Batch {
   public:
    Batch();
    ~Batch();
    Batch(Batch&&) noexcept;
    Batch& operator=(Batch&&) noexcept;
    void put(std::string_view key, std::string_view value);
    void remove(std::string_view key);
    // Adds `other`'s writes after this one's.
    void append(const Batch& other);
    void clear();
    bool empty() const { return writes_ == 0; }
    size_t writes() const { return writes_; }
    size_t bytes() const;  // approximately

   private:
    friend class Store;
    std::unique_ptr<leveldb::WriteBatch> batch_;
    size_t writes_ = 0;
  };
  // Writes the batch atomically; with `sync`, durably (fsync) before returning.
  Status commit(const Batch& batch, bool sync);
  // Makes everything committed so far durable.
  Status sync();

  // The tick-record log beside the database (record_log.h), for appending (not for
  // Inspect).
  RecordLog& log() { return *log_; }
  bool writable_log() const { return log_ != nullptr; }  // false for Inspect
  // Reads the log from frame `from` on (RecordLog::scan): the data dir's own files, also
  // for Inspect, whose private copy holds only the database.
  Status scan_log(uint64_t from, const std::function<bool(uint64_t, int64_t, std::string_view)>& visit,
                  LogEnd& end, const LogPosition* at = nullptr) const;

  // What VED-DATA-DIR says was committed, as read when the store was opened (Inspect:
  // read before the database, so it never claims more than the database holds).
  const CommittedMark& committed() const { return committed_; }
  // Records in VED-DATA-DIR that `mark` is durable in the database (not for Inspect).
  Status mark_committed(const CommittedMark& mark, bool sync);

 private:
  Store(leveldb::DB* db, CommittedMark committed, std::string dir, StorageEnv& env)
      : db_(db), committed_(committed), dir_(std::move(dir)), env_(env) {}
  struct CloseDb {
    void operator()(leveldb::DB* db) const;
  };
  std::unique_ptr<leveldb::DB, CloseDb> db_;
  CommittedMark committed_;
  std::string dir_;
  StorageEnv& env_;
  std::unique_ptr<RecordLog> log_;  // not for Inspect
  DataDirMarker marker_;       // open for updates (not for Inspect)
  std::string snapshot_dir_;   // Inspect: the private copy the database was opened from
};

// Order-preserving encodings for keys: a big-endian fixed-width hex number sorts as the
// number does.
std::string hex_u64(uint64_t v);
// The same, appended to `out`.
void append_hex_u64(uint64_t v, std::string& out);
// The same 16 digits, written over at[0..16).
void write_hex_u64(uint64_t v, char* at);
// Reads what hex_u64 wrote: exactly 16 lowercase hex digits. False otherwise.
bool parse_hex_u64(std::string_view text, uint64_t& out);
// Bytes as lowercase hex (binary inside text records and keys), and back: false unless
// `text` is an even number of lowercase hex digits.
std::string hex_bytes(std::string_view bytes);
bool parse_hex_bytes(std::string_view text, std::string& out);

}  // namespace ved::vm
