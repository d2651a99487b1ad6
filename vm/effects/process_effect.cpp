// Process.Run(argv) -> string: runs a program directly (posix_spawnp, no shell), only when
// the VM runs with --allow-exec. On the worker pool: everything here is per call, except
// the set of children running (under a mutex), which cancel_in_flight kills when the VM
// stops with them still running.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "vm/effects/adapter_text.h"
#include "vm/effects/builtin_adapters.h"

extern char** environ;

namespace ved::vm {

namespace {

// How much of stderr a failure message quotes, and how much is kept to quote from.
constexpr size_t kStderrQuote = 2000;

// A file descriptor closed when it goes out of scope.
struct Fd {
  int fd = -1;
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// The child's stdout or stderr, read without blocking as it comes.
struct Stream {
  Fd fd;
  std::string bytes;
  size_t keep = 0;        // bytes beyond this are counted, not kept
  bool overflow = false;  // more than `keep` arrived

  bool open() const { return fd.fd >= 0; }
  // Reads what is there now; closes at end of file.
  void drain() {
    char buffer[65536];
    while (open()) {
      const ssize_t n = ::read(fd.fd, buffer, sizeof buffer);
      if (n > 0) {
        const size_t room = bytes.size() < keep ? keep - bytes.size() : 0;
        bytes.append(buffer, std::min(room, static_cast<size_t>(n)));
        if (static_cast<size_t>(n) > room) overflow = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      fd.reset();  // end of file, or an error that ends the stream just the same
    }
  }
};

class ProcessEffect final : public EffectAdapter {
 public:
  explicit ProcessEffect(ProcessOptions options) : options_(std::move(options)) {}

  bool between_ticks() const override { return false; }

  // The pool is abandoning the calls running here (adapter.h): kill each child with its
  // process group, as a timeout does, and start none from now on. The running calls see
  // their child die and return; their outcomes are dropped and the intents dispatched
  // again by the next run.
  void cancel_in_flight() override {
    std::lock_guard lock(children_mutex_);
    cancelled_ = true;
    for (pid_t pid : children_) kill_group(pid);
  }

  EffectOutcome execute(const EffectRequest& request) override {
    try {
      if (request.effect_name != "Process.Run" || request.args.size() != 1 || request.args[0].tag() != Tag::List)
        return EffectOutcome::failure("adapter", "the process adapter cannot serve `" + request.effect_name +
                                                     "` with these arguments");
      if (!options_.allow_exec)
        return EffectOutcome::failure("exec_disabled",
                                      "Process.Run is disabled: pass --allow-exec to vedvm to let the program run processes");
      std::vector<std::string> argv;
      for (const Value& v : request.args[0].as_list()) {
        if (v.tag() != Tag::String) return EffectOutcome::failure("adapter", "Process.Run: argv holds a non-string");
        if (v.as_string().find('\0') != std::string::npos)
          return EffectOutcome::failure("invalid", "Process.Run: an argument contains a NUL character");
        argv.push_back(v.as_string());
      }
      if (argv.empty() || argv[0].empty())
        return EffectOutcome::failure("invalid", "Process.Run: argv is empty (it starts with the program to run)");
      if (cancelled()) return stopped("`" + escape_line(argv[0]) + "` was not started");
      return run(argv);
    } catch (const std::exception& e) {  // execute never throws (adapter.h)
      return EffectOutcome::failure("adapter", std::string("the process adapter broke: ") + e.what());
    }
  }

 private:
  EffectOutcome run(const std::vector<std::string>& argv) {
    const std::string program = "`" + escape_line(argv[0]) + "`";
    Stream out, err;
    out.keep = options_.max_output_bytes;
    err.keep = kStderrQuote;
    Fd out_write, err_write;
    if (!make_pipe(out.fd, out_write) || !make_pipe(err.fd, err_write))
      return EffectOutcome::failure("io", "cannot make a pipe for " + program + ": " + errno_text(errno));

    pid_t pid = -1;
    const int spawn_error = spawn(argv, out_write.fd, err_write.fd, pid);
    // The child has its own copies; ours must go, or the pipes never reach end of file.
    out_write.reset();
    err_write.reset();
    if (spawn_error != 0) {
      const std::string text = "cannot run " + program + ": " + errno_text(spawn_error);
      if (spawn_error == ENOENT) return EffectOutcome::failure("not_found", text);
      if (spawn_error == EACCES || spawn_error == EPERM) return EffectOutcome::failure("permission", text);
      return EffectOutcome::failure("io", text);
    }
    {
      // Known to cancel_in_flight until reaped. A child spawned while the pool was
      // giving up (after cancel_in_flight looked at the set) is killed here instead.
      std::lock_guard lock(children_mutex_);
      children_.insert(pid);
      if (cancelled_) kill_group(pid);
    }

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    int status = 0;
    bool exited = false, timed_out = false;
    for (;;) {
      if (!exited) exited = reap_child(pid, status);
      // After the child is reaped, everything it wrote is in the pipes: drain, and stop
      // even if a grandchild still holds them open.
      out.drain();
      err.drain();
      if (out.overflow || exited) break;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        timed_out = true;
        break;
      }
      // Short waits: a child that exits while something else holds its pipes gives no
      // pipe event, so exits are also looked for between waits.
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      wait_for_output(out, err, static_cast<int>(std::min<long long>(left + 1, out.open() || err.open() ? 50 : 2)));
    }
    if (!exited) {
      {
        std::lock_guard lock(children_mutex_);
        children_.erase(pid);  // not reaped yet, so its pid cannot have been reused
      }
      kill_group(pid);
      reap(pid, status, true);
    }
    if (cancelled()) return stopped(program + " was killed");
    if (timed_out)
      return EffectOutcome::failure("timeout", program + " did not finish within " + std::to_string(options_.timeout_ms) +
                                                   " ms and was killed",
                                    /*retryable=*/true);
    if (out.overflow)
      return EffectOutcome::failure("io", program + " wrote more than " + std::to_string(options_.max_output_bytes) +
                                              " bytes to stdout and was killed");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return EffectOutcome::success(Value::string(repair_utf8(out.bytes)));
    std::string message = WIFEXITED(status) ? program + " exited with status " + std::to_string(WEXITSTATUS(status))
                          : WIFSIGNALED(status) ? program + " was killed by signal " + std::to_string(WTERMSIG(status))
                                                : program + " ended abnormally";
    std::string stderr_text = repair_utf8(err.bytes);
    while (!stderr_text.empty() && (stderr_text.back() == '\n' || stderr_text.back() == '\r')) stderr_text.pop_back();
    if (!stderr_text.empty()) message += ": " + head_of(stderr_text, kStderrQuote);
    return EffectOutcome::failure("exit_status", message);
  }

  // A pipe whose read end does not block (we poll it) and whose write end does (the
  // child writes as usual). Both close on exec, so a child spawned at the same time by
  // another worker never inherits them and holds our pipes open.
  static bool make_pipe(Fd& read_end, Fd& write_end) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read_end.fd = fds[0];
    write_end.fd = fds[1];
    return ::fcntl(read_end.fd, F_SETFL, O_NONBLOCK) == 0;
  }

  // Starts argv in the working directory with stdin from /dev/null and stdout, stderr to
  // the pipes; in a new process group (killed whole on timeout), default signal handling
  // and nothing blocked (the VM's own choices are not the child's). Returns an errno
  // value, 0 on success.
  int spawn(const std::vector<std::string>& argv, int out_fd, int err_fd, pid_t& pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    if (int e = posix_spawn_file_actions_init(&actions)) return e;
    if (int e = posix_spawnattr_init(&attr)) {
      posix_spawn_file_actions_destroy(&actions);
      return e;
    }
    int error = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (!error) error = posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    if (!error) error = posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    if (!error && !options_.working_directory.empty())
      error = posix_spawn_file_actions_addchdir_np(&actions, options_.working_directory.c_str());
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2}) sigaddset(&defaults, s);
    if (!error) error = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (!error) error = posix_spawnattr_setpgroup(&attr, 0);
    if (!error) error = posix_spawnattr_setsigmask(&attr, &none);
    if (!error) error = posix_spawnattr_setsigdefault(&attr, &defaults);
    if (!error) {
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      error = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    return error;
  }

  // Its whole process group: what it started goes too.
  static void kill_group(pid_t pid) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }

  bool cancelled() {
    std::lock_guard lock(children_mutex_);
    return cancelled_;
  }

  // The outcome of a call cut short by cancel_in_flight. Nobody stores it.
  static EffectOutcome stopped(const std::string& what) {
    return EffectOutcome::failure("adapter", "Process.Run: the VM is stopping: " + what, /*retryable=*/true);
  }

  // reap(pid, status, false) for a child in `children_`, which it leaves once reaped:
  // both under the mutex, so that cancel_in_flight never signals a pid (or a group) that
  // was reaped and may belong to another process by now.
  bool reap_child(pid_t pid, int& status) {
    std::lock_guard lock(children_mutex_);
    const bool ended = reap(pid, status, false);
    if (ended) children_.erase(pid);
    return ended;
  }

  // Whether `pid` has ended (status in `status`); waits for it when `block`.
  static bool reap(pid_t pid, int& status, bool block) {
    for (;;) {
      const pid_t r = ::waitpid(pid, &status, block ? 0 : WNOHANG);
      if (r == pid) return true;
      if (r == 0) return false;
      if (errno == EINTR) continue;
      // ECHILD: someone else reaped it (a SIGCHLD handler set to ignore); its status is lost.
      status = 0xFF00;  // reads as "exited with status 255"
      return true;
    }
  }

  static void wait_for_output(const Stream& out, const Stream& err, int timeout_ms) {
    pollfd fds[2];
    nfds_t n = 0;
    if (out.open()) fds[n++] = {out.fd.fd, POLLIN, 0};
    if (err.open()) fds[n++] = {err.fd.fd, POLLIN, 0};
    if (n == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
      return;
    }
    ::poll(fds, n, timeout_ms);
  }

  const ProcessOptions options_;
  std::mutex children_mutex_;
  std::set<pid_t> children_;  // spawned and not reaped yet
  bool cancelled_ = false;    // cancel_in_flight was called: start nothing more
};

}  // namespace

std::shared_ptr<EffectAdapter> make_process_effect(ProcessOptions options) {
  return std::make_shared<ProcessEffect>(std::move(options));
}

}  // namespace ved::vm
