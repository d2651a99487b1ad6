// System.WriteFile, System.AppendFile, System.DeleteFile: files under the VM's
// file-system root (fs_root.h). They complete between ticks, on the runtime's thread.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <exception>
#include <filesystem>
#include <string>

#include "vm/effects/adapter_text.h"
#include "vm/effects/builtin_adapters.h"

namespace ved::vm {

namespace {

EffectOutcome io_failure(const std::string& what, const std::string& path, int error) {
  return EffectOutcome::failure("io", "cannot " + what + " `" + escape_line(path) + "`: " + errno_text(error));
}

bool write_all(int fd, const std::string& bytes, int& error) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// After a rename or unlink, so that the new directory entry survives a crash: the runtime
// journals the ok outcome, and a file that vanished after it would contradict the journal.
// Best effort: the operation itself has already happened, and some file systems refuse
// fsync on directories.
void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

class FileEffects final : public EffectAdapter {
 public:
  explicit FileEffects(std::shared_ptr<const FsRoot> root) : root_(std::move(root)) {}

  bool between_ticks() const override { return true; }

  EffectOutcome execute(const EffectRequest& request) override {
    try {
      const auto& a = request.args;
      auto is_string = [&](size_t i) { return i < a.size() && a[i].tag() == Tag::String; };
      if (request.effect_name == "System.WriteFile" && a.size() == 2 && is_string(0) && is_string(1))
        return write_file(a[0].as_string(), a[1].as_string());
      if (request.effect_name == "System.AppendFile" && a.size() == 2 && is_string(0) && is_string(1))
        return append_file(a[0].as_string(), a[1].as_string());
      if (request.effect_name == "System.DeleteFile" && a.size() == 1 && is_string(0))
        return delete_file(a[0].as_string());
      return EffectOutcome::failure("adapter", "the file adapter cannot serve `" + request.effect_name +
                                                   "` with these arguments");
    } catch (const std::exception& e) {  // execute never throws (adapter.h)
      return EffectOutcome::failure("adapter", std::string("the file adapter broke: ") + e.what());
    }
  }

 private:
  // Missing parent directories are created: the walk has checked that the whole path,
  // including the parts still to be created, stays inside the root, and a program that
  // writes `out/report.txt` should not need a mkdir effect first.
  bool make_parents(const std::filesystem::path& real, const std::string& shown, EffectOutcome& failure) {
    std::error_code ec;
    std::filesystem::create_directories(real.parent_path(), ec);
    if (!ec) return true;
    failure = EffectOutcome::failure("io", "cannot create the directories of `" + escape_line(shown) + "`: " + ec.message());
    return false;
  }

  // Atomic: the content goes to a fresh file in the same directory, which then replaces
  // the target with rename(2), so a reader (or a crash) sees the old content or the new,
  // never a part. The temporary name is unique to this process and call.
  EffectOutcome write_file(const std::string& path, const std::string& content) {
    ResolvedPath p;
    PathRefusal refusal;
    if (!root_->resolve(path, p, refusal)) return EffectOutcome::failure(refusal.code, refusal.message);
    // The root itself is a directory; and its parent, where the temporary file would go,
    // is outside.
    if (p.real == root_->root()) return io_failure("write", path, EISDIR);
    EffectOutcome failure;
    if (!make_parents(p.real, path, failure)) return failure;

    const std::filesystem::path dir = p.real.parent_path();
    // Cut so that the temporary name stays under NAME_MAX (255) even for a long target name.
    const std::string base = p.real.filename().native().substr(0, 160);
    std::filesystem::path temp;
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 100; ++tries) {
      temp = dir / ("." + base + ".ved-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + ".tmp");
      // O_EXCL: never reuse (or follow a symlink at) a name someone else made; mode 0666
      // so that the umask decides, as for any newly created file.
      fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd < 0 && errno != EEXIST) return io_failure("write", path, errno);
    }
    if (fd < 0) return io_failure("write", path, EEXIST);

    // Replacing a file keeps its permissions, as writing it in place would.
    struct stat old;
    if (::stat(p.real.c_str(), &old) == 0 && S_ISREG(old.st_mode)) ::fchmod(fd, old.st_mode & 07777);

    int error = 0;
    bool ok = write_all(fd, content, error);
    if (ok && ::fsync(fd) != 0) ok = false, error = errno;
    if (::close(fd) != 0 && ok) ok = false, error = errno;
    if (ok && ::rename(temp.c_str(), p.real.c_str()) != 0) ok = false, error = errno;
    if (!ok) {
      ::unlink(temp.c_str());
      return io_failure("write", path, error);
    }
    sync_directory(dir);
    return EffectOutcome::success(Value::unit());
  }

  // Not atomic: a failure part-way can leave part of `content` appended (appending in
  // place is what makes concurrent appenders and readers of logs work).
  EffectOutcome append_file(const std::string& path, const std::string& content) {
    ResolvedPath p;
    PathRefusal refusal;
    if (!root_->resolve(path, p, refusal)) return EffectOutcome::failure(refusal.code, refusal.message);
    if (p.real == root_->root()) return io_failure("append to", path, EISDIR);
    EffectOutcome failure;
    if (!make_parents(p.real, path, failure)) return failure;
    // O_NOFOLLOW: the walk resolved every symlink, so one here appeared since; refuse it.
    // O_NONBLOCK: opening a FIFO must not hang the runtime's thread; only regular files
    // are appended to.
    const int fd = ::open(p.real.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0666);
    if (fd < 0) return io_failure("append to", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return EffectOutcome::failure("io", "cannot append to `" + escape_line(path) + "`: it is not a regular file");
    }
    int error = 0;
    bool ok = write_all(fd, content, error);
    if (ok && ::fsync(fd) != 0) ok = false, error = errno;
    if (::close(fd) != 0 && ok) ok = false, error = errno;
    if (!ok) return io_failure("append to", path, error);
    return EffectOutcome::success(Value::unit());
  }

  // Deleting what is not there succeeds: the goal ("the file is gone") holds, and an
  // intent re-dispatched after a crash that lost its outcome must not fail because its
  // first dispatch already deleted the file. Directories are not deleted (`io`).
  EffectOutcome delete_file(const std::string& path) {
    ResolvedPath p;
    PathRefusal refusal;
    if (!root_->resolve(path, p, refusal)) return EffectOutcome::failure(refusal.code, refusal.message);
    if (::unlink(p.entry.c_str()) != 0) {
      const int error = errno;
      if (error == ENOENT || error == ENOTDIR) return EffectOutcome::success(Value::unit());
      return io_failure("delete", path, error);
    }
    sync_directory(p.entry.parent_path());
    return EffectOutcome::success(Value::unit());
  }

  std::shared_ptr<const FsRoot> root_;
  std::atomic<uint64_t> counter_{0};
};

}  // namespace

std::shared_ptr<EffectAdapter> make_file_effects(std::shared_ptr<const FsRoot> root) {
  return std::make_shared<FileEffects>(std::move(root));
}

}  // namespace ved::vm
