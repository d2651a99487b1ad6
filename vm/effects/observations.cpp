// System.file_exists(path) -> bool, System.read_file(path) -> string?, System.env(name) ->
// string?: the standard library's observations, sampled on the runtime's thread.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <exception>
#include <string>

#include "vm/effects/adapter_text.h"
#include "vm/effects/builtin_adapters.h"

namespace ved::vm {

namespace {

class BuiltinObservations final : public ObservationAdapter {
 public:
  BuiltinObservations(std::shared_ptr<const FsRoot> root, size_t max_file_bytes)
      : root_(std::move(root)), max_file_bytes_(max_file_bytes) {}

  bool sample(const std::string& name, std::span<const Value> args, uint32_t result_type, Value& out,
              std::string& error) override {
    try {
      if (args.size() != 1 || args[0].tag() != Tag::String) {
        error = "the built-in observations cannot sample `" + name + "` with these arguments";
        return false;
      }
      const std::string& arg = args[0].as_string();
      if (name == "System.file_exists") return file_exists(arg, out, error);
      if (name == "System.read_file") return read_file(arg, out, error);
      if (name == "System.env") return env(arg, out);
      error = "`" + name + "` is not a built-in observation";
      return false;
    } catch (const std::exception& e) {
      error = std::string("the built-in observations broke: ") + e.what();
      return false;
    }
  }

 private:
  // A path that escapes the root (or is empty, or has a NUL) is an error, which faults the
  // evaluating goal or transition, rather than `false`/`none`: it is a bug in the program,
  // and answering "no such file" would hide it (and a goal would then keep emitting writes
  // that are refused).
  bool resolve(const std::string& path, ResolvedPath& p, std::string& error) {
    PathRefusal refusal;
    if (root_->resolve(path, p, refusal)) return true;
    error = refusal.message;
    return false;
  }

  // True when the path names something that exists, file or directory, following
  // symlinks (a dangling one does not exist). Missing is false; an error that says nothing
  // about existence (permission denied on the way) is an error.
  bool file_exists(const std::string& path, Value& out, std::string& error) {
    ResolvedPath p;
    if (!resolve(path, p, error)) return false;
    struct stat st;
    if (::stat(p.real.c_str(), &st) == 0) {
      out = Value::boolean(true);
      return true;
    }
    if (errno == ENOENT || errno == ENOTDIR) {
      out = Value::boolean(false);
      return true;
    }
    error = "cannot look at `" + escape_line(path) + "`: " + errno_text(errno);
    return false;
  }

  // The file's content (invalid UTF-8 repaired), or none when it does not exist. A
  // directory, an unreadable file or one over the size limit is an error.
  bool read_file(const std::string& path, Value& out, std::string& error) {
    ResolvedPath p;
    if (!resolve(path, p, error)) return false;
    const std::string shown = "`" + escape_line(path) + "`";
    // O_NOFOLLOW: the walk resolved every symlink, so one here appeared since; refuse it.
    // O_NONBLOCK: opening a FIFO must not hang the runtime's thread.
    const int fd = ::open(p.real.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) {
        out = Value::none();
        return true;
      }
      error = "cannot read " + shown + ": " + errno_text(errno);
      return false;
    }
    struct stat st;
    const bool known = ::fstat(fd, &st) == 0;
    if (!known || !S_ISREG(st.st_mode)) {
      error = "cannot read " + shown + ": " +
              (!known ? errno_text(errno) : S_ISDIR(st.st_mode) ? "it is a directory" : "it is not a regular file");
      ::close(fd);
      return false;
    }
    std::string bytes;
    char buffer[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        error = "cannot read " + shown + ": " + errno_text(errno);
        ::close(fd);
        return false;
      }
      if (bytes.size() + static_cast<size_t>(n) > max_file_bytes_) {
        error = "cannot read " + shown + ": it has more than " + std::to_string(max_file_bytes_) + " bytes";
        ::close(fd);
        return false;
      }
      bytes.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    out = Value::string(repair_utf8(bytes));  // a present `string?` is the string itself
    return true;
  }

  // The VM process's environment variable, or none when it is not set.
  static bool env(const std::string& name, Value& out) {
    // getenv would stop at a NUL and misread `=`; no variable has either in its name.
    const char* value =
        name.empty() || name.find('\0') != std::string::npos || name.find('=') != std::string::npos ? nullptr
                                                                                                     : std::getenv(name.c_str());
    out = value ? Value::string(repair_utf8(value)) : Value::none();
    return true;
  }

  std::shared_ptr<const FsRoot> root_;
  const size_t max_file_bytes_;
};

}  // namespace

std::shared_ptr<ObservationAdapter> make_builtin_observations(std::shared_ptr<const FsRoot> root,
                                                              size_t max_file_bytes) {
  return std::make_shared<BuiltinObservations>(std::move(root), max_file_bytes);
}

}  // namespace ved::vm
