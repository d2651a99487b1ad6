#include "vm/runtime/store.h"

#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/write_batch.h>

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ved::vm {

Store::~Store() {
  db_.reset();  // closed before its private copy goes
  if (!snapshot_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(snapshot_dir_, ec);
  }
}

void Store::CloseDb::operator()(leveldb::DB* db) const { delete db; }

namespace {

namespace fs = std::filesystem;

// Empty, or holding only the temporary file of a marker whose creation was interrupted
// (DataDirMarker::create writes it anew).
bool is_empty_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().filename().string() != std::string(kDataDirMarker) + ".tmp") return false;
  return !ec;
}

// What a failed open of the database means, in words that do not suggest destroying a
// healthy run: only damage is called damage. LevelDB says what the system said only in
// its text (an IOError's message is strerror's), so that text is read here, once.
Status open_failure(const std::string& dir, const leveldb::Status& s) {
  const std::string text = s.ToString();
  auto has = [&](const char* needle) { return text.find(needle) != std::string::npos; };
  using Code = Status::Code;
  if (s.IsCorruption())
    return Status::damaged("the data dir `" + dir + "` is damaged: " + text +
                           " (refused before anything ran; --fresh discards it and starts over)");
  if (has("No space left"))
    return Status::error(Code::NoSpace, "no space left on the device of the data dir `" + dir + "` (" + text +
                                            "); free some space and run again: nothing committed was lost");
  if (has("Read-only file system"))
    return Status::error(Code::ReadOnly, "the data dir `" + dir + "` is on a read-only file system (" + text +
                                             "); a run must write to it (`vedvm inspect` and `vedvm replay` only read)");
  if (has("Permission denied"))
    return Status::error(Code::NoPermission, "no permission to use the data dir `" + dir + "` (" + text + ")");
  if (has("lock") || has("LOCK"))
    return Status::error(Code::InUse, "the data dir `" + dir +
                                          "` is in use: another process (a running vedvm?) holds its lock (" + text +
                                          "); stop it first, or read the dir with `vedvm inspect`, which needs no lock");
  return Status::io_error("cannot open the data dir `" + dir + "`: " + text);
}

// The same for a failure of the system outside LevelDB (creating the marker).
Status system_failure(const std::string& dir, const std::string& what) {
  if (what.find("No space left") != std::string::npos)
    return Status::error(Status::Code::NoSpace, "no space left on the device of the data dir `" + dir + "`: " + what);
  if (what.find("Read-only file system") != std::string::npos)
    return Status::error(Status::Code::ReadOnly, "the data dir `" + dir + "` is on a read-only file system: " + what);
  return Status::io_error("the data dir `" + dir + "`: " + what);
}

// A marker that cannot be read, in the data dir's words: damage is called damage; another
// format and a failing system are not.
Status marker_failure(const std::string& dir, const Status& s) {
  if (s.is_damaged()) return Status::damaged("the data dir `" + dir + "` is damaged: " + s.message());
  return s.with_context("the data dir `" + dir + "`");
}

// A directory that is not provably ours: said so, naming what was found.
Status not_a_data_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(fs::path(dir) / "CURRENT", ec))
    return Status::error(Status::Code::NotADataDir,
                         "`" + dir + "` holds a LevelDB database but no " + kDataDirMarker +
                             " file: it is not a Ved data dir of this format (another application's database, or one "
                             "written by an older Ved); refusing to touch it, --fresh included. Use another --data-dir");
  return Status::error(Status::Code::NotADataDir,
                       "`" + dir + "` is not empty and is not a Ved data dir (no " + kDataDirMarker +
                           " file); refusing to use it, --fresh included: it only ever deletes Ved data dirs. Use "
                           "another --data-dir");
}

// A private copy of the database files to open without touching the original: tables are
// immutable once written, so they are hard-linked (copied where links cannot be made);
// the log, MANIFEST and CURRENT, which a running VM appends to or replaces, are copied.
// A copy taken while a compaction replaces tables may miss one; the caller retries.
bool snapshot(const std::string& dir, const std::string& into, std::string& error) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const bool table = name.ends_with(".ldb") || name.ends_with(".sst");
    // The tick-record log is read in place (it is only ever appended to), not copied.
    const bool wanted = table || name == "CURRENT" || name.rfind("MANIFEST-", 0) == 0 ||
                        (name.ends_with(".log") && !RecordLog::is_segment(name));
    if (!wanted) continue;
    const fs::path to = fs::path(into) / name;
    std::error_code link_ec, copy_ec;
    if (table) fs::create_hard_link(entry.path(), to, link_ec);
    if (!table || link_ec) fs::copy_file(entry.path(), to, fs::copy_options::overwrite_existing, copy_ec);
    if (copy_ec && fs::exists(entry.path(), ec)) {
      error = "cannot read `" + entry.path().string() + "`: " + copy_ec.message();
      return false;
    }
  }
  if (ec) {
    error = "cannot list the data dir `" + dir + "`: " + ec.message();
    return false;
  }
  return true;
}

// The system had no memory for LevelDB (a table it could not map, a buffer): the
// machine's limit, not damage, and said as such (the run stops; nothing committed is lost).
bool is_out_of_memory(const std::string& text) { return text.find("Cannot allocate memory") != std::string::npos; }
Status out_of_memory(const std::string& text) { return Status::io_error("the machine ran out of memory (" + text + ")"); }

// A read fails only when a file is damaged (a checksum, a table cut short) or the disk
// fails under it: either way, what the database holds cannot be trusted.
Status read_failure(const leveldb::Status& s) {
  const std::string text = s.ToString();
  if (is_out_of_memory(text)) return out_of_memory(text);
  return Status::damaged("the data dir is damaged (or its disk failed): " + text);
}

// LevelDB starts its one compaction thread the first time it needs it, which can be
// long after the open, when the run has used most of its memory: under a memory limit
// the thread's stack is then refused, std::thread throws out of LevelDB's write, and the
// database is left waiting for a compaction that never started (its close hangs). So the
// thread is started at the open, with a job that does nothing.
void start_compaction_thread(leveldb::Env* env) {
  env->Schedule([](void*) {}, nullptr);
}

leveldb::Options database_options(bool create, leveldb::Env* env = leveldb::Env::Default()) {
  leveldb::Options options;
  options.env = env;
  options.create_if_missing = create;
  options.paranoid_checks = true;  // a damaged file is an error, not silently skipped
  return options;
}

}  // namespace

std::unique_ptr<Store> Store::open(const std::string& dir, StoreMode mode, Status& status, StorageEnv& env) {
  using Code = Status::Code;
  std::error_code ec;
  std::string error;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    status = Status::error(Code::NotADataDir, "data dir `" + dir + "` is a file, not a directory");
    return nullptr;
  }
  const bool exists = fs::is_directory(dir, ec);
  if (mode == StoreMode::Inspect || mode == StoreMode::Existing) {
    if (!exists) {
      status = Status::not_found("no data dir `" + dir + "`");
      return nullptr;
    }
    if (!DataDirMarker::present(dir)) {
      status = is_empty_dir(dir) ? Status::not_found("`" + dir + "` holds no Ved program: it is not a data dir")
                                 : not_a_data_dir(dir);
      return nullptr;
    }
  } else if (exists && !DataDirMarker::present(dir) && !is_empty_dir(dir)) {
    status = not_a_data_dir(dir);
    return nullptr;
  }

  if (mode == StoreMode::Inspect) {
    // The marker first: what it says was durable before the copy is taken, so the copy
    // holds at least that much.
    CommittedMark committed;
    if (const Status s = DataDirMarker::read(dir, committed); !s.is_ok()) {
      status = marker_failure(dir, s);
      return nullptr;
    }
    if (!fs::exists(fs::path(dir) / "CURRENT", ec)) {
      status = committed.tick < 0
                   ? Status::not_found("`" + dir + "` holds no Ved program: no run has begun in it")
                   : Status::damaged("the data dir `" + dir + "` is damaged: its database has no CURRENT file");
      return nullptr;
    }
    leveldb::Status s;
    for (int attempt = 0; attempt < 5; ++attempt) {
      const std::string tmp_root = fs::temp_directory_path(ec).string();
      std::string pattern = (tmp_root.empty() ? std::string("/tmp") : tmp_root) + "/vedvm-read-XXXXXX";
      std::vector<char> buf(pattern.begin(), pattern.end());
      buf.push_back('\0');
      if (!::mkdtemp(buf.data())) {
        status = Status::io_error("cannot make a temporary directory to read `" + dir + "` from: " + std::strerror(errno));
        return nullptr;
      }
      const std::string copy = buf.data();
      leveldb::DB* db = nullptr;
      if (!snapshot(dir, copy, error)) {
        status = Status::io_error(error);
        fs::remove_all(copy, ec);
        return nullptr;
      }
      s = leveldb::DB::Open(database_options(false), copy, &db);
      if (s.ok()) {
        std::unique_ptr<Store> store(new Store(db, committed, dir, StorageEnv::system()));
        store->snapshot_dir_ = copy;
        return store;
      }
      fs::remove_all(copy, ec);
      // A table replaced by a compaction while the copy was taken: take it again.
      if (!s.IsCorruption() || s.ToString().find("missing files") == std::string::npos) break;
    }
    status = open_failure(dir, s);
    return nullptr;
  }

  if (mode == StoreMode::Fresh && exists && DataDirMarker::present(dir)) {
    // Provably a data dir: its database goes (LevelDB's own files only; DestroyDB takes
    // the lock, so a running VM's dir is refused), then its marker.
    leveldb::Status s = leveldb::DestroyDB(dir, database_options(false, env.database()));
    if (!s.ok()) {
      status = open_failure(dir, s);
      return nullptr;
    }
    if (const Status removed = RecordLog::remove_all(dir, env.database()); !removed.is_ok()) {
      status = removed;
      return nullptr;
    }
    fs::remove(fs::path(dir) / kDataDirMarker, ec);
  }
  if (!DataDirMarker::present(dir)) {
    fs::create_directories(dir, ec);
    if (ec) {
      status = system_failure(dir, "cannot create it: " + ec.message());
      return nullptr;
    }
    if (!DataDirMarker::create(dir, env, error)) {
      status = system_failure(dir, error);
      return nullptr;
    }
  }
  CommittedMark committed;
  if (const Status s = DataDirMarker::read(dir, committed); !s.is_ok()) {
    status = marker_failure(dir, s);
    return nullptr;
  }
  // A database may be created only where no run has begun: a begun run's database that
  // is gone is damage, never a reason to start again.
  const bool has_database = fs::exists(fs::path(dir) / "CURRENT", ec);
  if (!has_database && committed.tick >= 0) {
    status = Status::damaged("the data dir `" + dir + "` is damaged: its database has no CURRENT file, but " +
                             kDataDirMarker + " says the run had committed tick " + std::to_string(committed.tick) +
                             " (refused before anything ran; --fresh discards it and starts over)");
    return nullptr;
  }
  if (!has_database && mode == StoreMode::Existing) {
    status = Status::not_found("`" + dir + "` holds no Ved program: no run has begun in it");
    return nullptr;
  }
  start_compaction_thread(env.database());
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(database_options(!has_database, env.database()), dir, &db);
  if (!s.ok()) {
    status = open_failure(dir, s);
    return nullptr;
  }
  std::unique_ptr<Store> store(new Store(db, committed, dir, env));
  store->log_ = std::make_unique<RecordLog>(dir, env);
  if (const Status s = store->marker_.open(dir, env); !s.is_ok()) {
    status = s.is_damaged() || s.code() == Code::OtherFormat ? marker_failure(dir, s) : system_failure(dir, s.message());
    return nullptr;
  }
  return store;
}

namespace {

// A failed write: the system's reason, as a kind (no space and a read-only file system
// are told apart from a failing disk).
Status write_failure(const leveldb::Status& s) {
  const std::string text = s.ToString();
  if (text.find("No space left") != std::string::npos) return Status::error(Status::Code::NoSpace, text);
  if (text.find("Read-only file system") != std::string::npos) return Status::error(Status::Code::ReadOnly, text);
  if (is_out_of_memory(text)) return out_of_memory(text);
  return s.IsCorruption() ? Status::damaged(text) : Status::io_error(text);
}

}  // namespace

Status Store::sync() {
  leveldb::WriteBatch empty;
  leveldb::WriteOptions wo;
  wo.sync = true;
  leveldb::Status s = db_->Write(wo, &empty);
  return s.ok() ? Status::ok() : write_failure(s);
}

Status Store::scan_log(uint64_t from, const std::function<bool(uint64_t, int64_t, std::string_view)>& visit,
                       LogEnd& end, const LogPosition* at) const {
  return RecordLog::scan(dir_, env_.database(), from, visit, end, at);
}

Status Store::mark_committed(const CommittedMark& mark, bool sync) {
  std::string error;
  if (!marker_.record(mark, sync, error)) return Status::io_error(error);
  committed_ = mark;
  return Status::ok();
}

Status Store::get(std::string_view key, std::string& value) const {
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  leveldb::Status s = db_->Get(ro, leveldb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return Status::not_found(std::string(key));
  return s.ok() ? Status::ok() : read_failure(s);
}

Status Store::scan(std::string_view prefix, const std::function<bool(std::string_view, std::string_view)>& visit) const {
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(leveldb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return it->status().ok() ? Status::ok() : read_failure(it->status());
}

Store::Batch::Batch() : batch_(std::make_unique<leveldb::WriteBatch>()) {}
Store::Batch::~Batch() = default;
Store::Batch::Batch(Batch&&) noexcept = default;
Store::Batch& Store::Batch::operator=(Batch&&) noexcept = default;
void Store::Batch::put(std::string_view key, std::string_view value) {
  batch_->Put(leveldb::Slice(key.data(), key.size()), leveldb::Slice(value.data(), value.size()));
  ++writes_;
}
void Store::Batch::remove(std::string_view key) {
  batch_->Delete(leveldb::Slice(key.data(), key.size()));
  ++writes_;
}
void Store::Batch::append(const Batch& other) {
  batch_->Append(*other.batch_);
  writes_ += other.writes_;
}
void Store::Batch::clear() {
  batch_->Clear();
  writes_ = 0;
}
size_t Store::Batch::bytes() const { return batch_->ApproximateSize(); }

Status Store::commit(const Batch& batch, bool sync) {
  leveldb::WriteOptions wo;
  wo.sync = sync;
  leveldb::Status s = db_->Write(wo, batch.batch_.get());
  return s.ok() ? Status::ok() : write_failure(s);
}

std::string hex_u64(uint64_t v) {
  std::string out;
  append_hex_u64(v, out);
  return out;
}

void append_hex_u64(uint64_t v, std::string& out) {
  char text[16];
  write_hex_u64(v, text);
  out.append(text, 16);
}

void write_hex_u64(uint64_t v, char* at) {
  static const char* digits = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, v >>= 4) at[i] = digits[v & 15];
}

bool parse_hex_u64(std::string_view text, uint64_t& out) {
  if (text.size() != 16) return false;
  out = 0;
  for (char c : text) {
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return false;
    out = out * 16 + static_cast<uint64_t>(digit);
  }
  return true;
}

std::string hex_bytes(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

bool parse_hex_bytes(std::string_view text, std::string& out) {
  if (text.size() % 2) return false;
  auto digit = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  out.clear();
  out.reserve(text.size() / 2);
  for (size_t k = 0; k < text.size(); k += 2) {
    const int hi = digit(text[k]), lo = digit(text[k + 1]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
  }
  return true;
}

}  // namespace ved::vm
