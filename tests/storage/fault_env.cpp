#include "fault_env.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

namespace ved::storage_test {

namespace {

namespace fs = std::filesystem;

bool is_log(const std::string& name) { return name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0; }

// A LevelDB file written through the env: appends reach the real file while the process
// lives, and the env counts them.
class TrackedFile final : public leveldb::WritableFile {
 public:
  TrackedFile(FaultEnv& env, std::string name, leveldb::WritableFile* real) : env_(env), name_(std::move(name)), real_(real) {}
  ~TrackedFile() override { delete real_; }

  leveldb::Status Append(const leveldb::Slice& data) override {
    if (!real_ || !env_.appended(name_, data.size())) return leveldb::Status::OK();
    return real_->Append(data);
  }
  leveldb::Status Close() override {
    if (!real_ || env_.dead()) return leveldb::Status::OK();
    return real_->Close();
  }
  leveldb::Status Flush() override {
    if (!real_ || env_.dead()) return leveldb::Status::OK();
    return real_->Flush();
  }
  leveldb::Status Sync() override {
    if (!real_) return leveldb::Status::OK();
    // The bytes go to the system, and the env notes them synced. The file itself is not
    // fsynced: power cuts are the env's to make, and real fsyncs would only slow the tests.
    if (env_.sync_fails(name_)) return leveldb::Status::IOError(name_, "injected: the disk refused the sync");
    leveldb::Status flushed;
    env_.synced(name_, [&] { flushed = real_->Flush(); });
    return flushed;
  }

 private:
  FaultEnv& env_;
  std::string name_;
  leveldb::WritableFile* real_;  // null: created after the process died (never on disk)
};

class FaultMarker final : public vm::MarkerFile {
 public:
  FaultMarker(FaultEnv& env, std::unique_ptr<vm::MarkerFile> real) : env_(env), real_(std::move(real)) {}
  bool write_at(uint64_t offset, std::string_view bytes, bool sync, std::string& error) override {
    if (!env_.marker_write()) return true;
    return real_->write_at(offset, bytes, /*sync=*/false, error);  // not fsynced: as TrackedFile::Sync
  }

 private:
  FaultEnv& env_;
  std::unique_ptr<vm::MarkerFile> real_;
};

}  // namespace

FaultEnv::FaultEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}

std::unique_ptr<vm::MarkerFile> FaultEnv::open_marker(const std::string& path, std::string& error) {
  auto real = vm::StorageEnv::system().open_marker(path, error);
  if (!real) return nullptr;
  return std::make_unique<FaultMarker>(*this, std::move(real));
}

bool FaultEnv::create_file(const std::string& path, std::string_view bytes, std::string& error) {
  if (dead()) return true;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      error = "cannot write " + tmp;
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) error = ec.message();
  return !ec;
}

leveldb::Status FaultEnv::NewWritableFile(const std::string& name, leveldb::WritableFile** result) {
  if (dead()) {
    *result = new TrackedFile(*this, name, nullptr);
    return leveldb::Status::OK();
  }
  leveldb::WritableFile* real = nullptr;
  leveldb::Status s = target()->NewWritableFile(name, &real);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_[name] = FileState{};
  }
  *result = new TrackedFile(*this, name, real);
  return s;
}

leveldb::Status FaultEnv::NewAppendableFile(const std::string& name, leveldb::WritableFile** result) {
  if (dead()) {
    *result = new TrackedFile(*this, name, nullptr);
    return leveldb::Status::OK();
  }
  leveldb::WritableFile* real = nullptr;
  leveldb::Status s = target()->NewAppendableFile(name, &real);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!files_.count(name)) {
      std::error_code ec;
      const uint64_t size = fs::exists(name, ec) ? fs::file_size(name, ec) : 0;
      files_[name] = FileState{size, size};
    }
  }
  *result = new TrackedFile(*this, name, real);
  return s;
}

leveldb::Status FaultEnv::RemoveFile(const std::string& name) {
  if (dead()) return leveldb::Status::OK();
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(name);
  }
  return target()->RemoveFile(name);
}

leveldb::Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  if (dead()) return leveldb::Status::OK();
  leveldb::Status s = target()->RenameFile(from, to);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(from);
    if (it != files_.end()) {
      files_[to] = it->second;
      files_.erase(from);
    } else {
      files_.erase(to);
    }
  }
  return s;
}

leveldb::Status FaultEnv::CreateDir(const std::string& name) {
  if (dead()) return leveldb::Status::OK();
  return target()->CreateDir(name);
}

void FaultEnv::die() {
  std::lock_guard<std::mutex> lock(mu_);
  dead_ = true;
}

void FaultEnv::die_at_log_sync(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  die_at_log_sync_ = n;
}

bool FaultEnv::dead() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dead_;
}

std::optional<FaultEnv::LogWrite> FaultEnv::dying_write() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dying_;
}

std::vector<FaultEnv::LogWrite> FaultEnv::log_sync_history() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sync_history_;
}

int64_t FaultEnv::log_syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_syncs_;
}

bool FaultEnv::appended(const std::string& name, size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (dead_) return false;
  files_[name].length += bytes;
  return true;
}

void FaultEnv::fail_log_syncs_from(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_syncs_from_ = n;
}

bool FaultEnv::sync_fails(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (dead_ || fail_syncs_from_ < 0 || !is_log(name) || log_syncs_ < fail_syncs_from_) return false;
  ++log_syncs_;
  return true;
}

void FaultEnv::die_at_marker_write(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  die_at_marker_write_ = n;
}

int64_t FaultEnv::marker_writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return marker_writes_;
}

bool FaultEnv::marker_write() {
  std::lock_guard<std::mutex> lock(mu_);
  if (dead_) return false;
  if (marker_writes_++ == die_at_marker_write_) dead_ = true;
  return !dead_;
}

bool FaultEnv::synced(const std::string& name, const std::function<void()>& flush) {
  std::lock_guard<std::mutex> lock(mu_);
  if (dead_) return false;
  FileState& f = files_[name];
  if (is_log(name)) {
    if (log_syncs_++ == die_at_log_sync_) {
      // Everything appended is handed to the system (so a torn cut can keep any prefix
      // of it), and then the process dies before the sync.
      flush();
      dying_ = LogWrite{name, f.synced, f.length};
      sync_history_.push_back(*dying_);
      dead_ = true;
      return false;
    }
  }
  flush();
  if (is_log(name)) sync_history_.push_back(LogWrite{name, f.synced, f.length});
  f.synced = f.length;
  return true;
}

void FaultEnv::power_cut(const std::optional<Torn>& torn) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, state] : files_) {
    uint64_t keep = state.synced;
    if (torn && torn->file == name) keep = torn->length;
    std::error_code ec;
    if (fs::exists(name, ec) && fs::file_size(name, ec) > keep) fs::resize_file(name, keep, ec);
  }
}

void FaultEnv::revive() {
  std::lock_guard<std::mutex> lock(mu_);
  dead_ = false;
  die_at_log_sync_ = -1;
  fail_syncs_from_ = -1;
  dying_.reset();
  for (auto& [name, state] : files_) {
    std::error_code ec;
    state.length = state.synced = fs::exists(name, ec) ? fs::file_size(name, ec) : 0;
  }
}

}  // namespace ved::storage_test
