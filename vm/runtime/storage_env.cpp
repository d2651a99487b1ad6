#include "vm/runtime/storage_env.h"

#include <fcntl.h>
#include <leveldb/env.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ved::vm {

namespace {

class PosixMarkerFile final : public MarkerFile {
 public:
  explicit PosixMarkerFile(int fd) : fd_(fd) {}
  ~PosixMarkerFile() override { ::close(fd_); }

  bool write_at(uint64_t offset, std::string_view bytes, bool sync, std::string& error) override {
    const char* data = bytes.data();
    size_t left = bytes.size();
    auto at = static_cast<off_t>(offset);
    while (left > 0) {
      const ssize_t w = ::pwrite(fd_, data, left, at);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return fail(error);
      data += w;
      left -= static_cast<size_t>(w);
      at += w;
    }
    if (sync && ::fdatasync(fd_) != 0) return fail(error);
    return true;
  }

 private:
  static bool fail(std::string& error) {
    error = std::strerror(errno);
    return false;
  }
  int fd_;
};

class SystemStorageEnv final : public StorageEnv {
 public:
  leveldb::Env* database() override { return leveldb::Env::Default(); }
  std::unique_ptr<MarkerFile> open_marker(const std::string& path, std::string& error) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      error = std::strerror(errno);
      return nullptr;
    }
    return std::make_unique<PosixMarkerFile>(fd);
  }

  // A temporary file, fsynced, renamed over `path`, and the directory fsynced: the rename
  // is durable only once the directory is.
  bool create_file(const std::string& path, std::string_view bytes, std::string& error) override {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      error = std::strerror(errno);
      return false;
    }
    PosixMarkerFile file(fd);  // closes it
    if (!file.write_at(0, bytes, /*sync=*/true, error)) {
      ::unlink(tmp.c_str());
      return false;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      error = std::strerror(errno);
      ::unlink(tmp.c_str());
      return false;
    }
    const std::string dir = std::filesystem::path(path).parent_path().string();
    std::string ignored;  // the file is there; whether the rename outlives a power cut is the directory's
    sync_dir(dir.empty() ? "." : dir, ignored);
    return true;
  }

  bool sync_dir(const std::string& dir, std::string& error) override {
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || ::fsync(dfd) != 0) {
      error = std::strerror(errno);
      if (dfd >= 0) ::close(dfd);
      return false;
    }
    ::close(dfd);
    return true;
  }
};

}  // namespace

StorageEnv& StorageEnv::system() {
  static SystemStorageEnv env;
  return env;
}

}  // namespace ved::vm
