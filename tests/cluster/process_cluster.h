// Real `vedvm node` processes on 127.0.0.1 for the cluster tests: ports picked free at
// run time, every process started here killed (SIGKILL, by pid) when the harness goes
// away — also when a check fails and the test unwinds — and every command bounded in time.
// Below the harness, what the process tests share: forming a cluster, finding its leader.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "cluster_test_support.h"

namespace ved::cluster::test {

inline uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// A port nobody listens on right now (the kernel picks it; released before use).
inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct CommandResult {
  int exit_code = -1;  // -1: killed at the deadline
  std::string out, err;
  uint64_t elapsed_ms = 0;
};

class ProcessCluster {
 public:
  ProcessCluster(std::string vedvm, std::vector<std::string> security = {"--insecure"})
      : vedvm_(std::move(vedvm)), security_(std::move(security)) {}
  ~ProcessCluster() {
    for (auto& [i, n] : nodes_)
      if (n.pid > 0) {
        kill(n.pid, SIGCONT);
        kill(n.pid, SIGKILL);
        waitpid(n.pid, nullptr, 0);
      }
    for (pid_t pid : helpers_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }

  // Starts a process the cluster's nodes use (an external adapter), its output in
  // `name`.out and `name`.err in the scratch dir; killed with the cluster.
  void start_helper(const std::vector<std::string>& args, const std::string& name) {
    helpers_.push_back(spawn(args, dir_ / (name + ".err"), dir_ / (name + ".out")));
  }

  struct Node {
    pid_t pid = 0;
    std::string address, data_dir, log;
    std::vector<std::string> security;
  };

  const ScratchDir& dir() const { return dir_; }
  Node& node(int i) { return nodes_.at(i); }
  std::string address(int i) { return nodes_.at(i).address; }

  // Starts node `i` (a new one gets a free port and a data dir), with extra arguments.
  void start(int i, std::vector<std::string> extra, std::vector<std::string> security = {}) {
    Node& n = nodes_[i];
    if (n.address.empty()) {
      n.address = "127.0.0.1:" + std::to_string(free_port());
      n.data_dir = dir_ / ("node" + std::to_string(i));
      n.log = dir_ / ("node" + std::to_string(i) + ".log");
      n.security = security.empty() ? security_ : security;
    }
    std::vector<std::string> args = {vedvm_, "node", "--listen", n.address, "--data-dir", n.data_dir,
                                     "--failure-timeout", "1000"};
    if (partition_files_) args.insert(args.end(), {"--partition-file", partition_file(i)});
    args.insert(args.end(), n.security.begin(), n.security.end());
    args.insert(args.end(), extra.begin(), extra.end());
    n.pid = spawn(args, n.log, n.log + ".out");
  }
  // Testing-only partitions: every node started from now on watches its own
  // --partition-file in the scratch dir (absent until written: nothing dropped).
  void use_partition_files() { partition_files_ = true; }
  std::string partition_file(int i) const { return dir_ / ("node" + std::to_string(i) + ".partition"); }
  // Replaces node i's partition file atomically (the node may read it at any moment).
  void write_partition_file(int i, const std::string& text) {
    const std::string temporary = partition_file(i) + ".tmp";
    {
      std::ofstream out(temporary, std::ios::trunc);
      out << text;
    }
    REQUIRE(std::rename(temporary.c_str(), partition_file(i).c_str()) == 0);
  }
  // Whether node i's process is still running (not exited, not reaped).
  bool running(int i) {
    Node& n = nodes_.at(i);
    if (n.pid <= 0) return false;
    int status = 0;
    if (waitpid(n.pid, &status, WNOHANG) == n.pid) {
      n.pid = 0;
      return false;
    }
    return true;
  }
  // kill -9, and reap.
  void kill9(int i) {
    Node& n = nodes_.at(i);
    kill(n.pid, SIGKILL);
    waitpid(n.pid, nullptr, 0);
    n.pid = 0;
  }
  // Waits for a node process to exit on its own; its exit code, or -1 at the deadline.
  int wait_exit(int i, uint64_t timeout_ms) {
    Node& n = nodes_.at(i);
    const uint64_t deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
      int status = 0;
      if (waitpid(n.pid, &status, WNOHANG) == n.pid) {
        n.pid = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  // Runs vedvm with `args` (the cluster's security flags appended unless `security` is
  // given), killed at `timeout_ms`.
  CommandResult vedvm(std::vector<std::string> args, uint64_t timeout_ms = 20000,
                      const std::vector<std::string>* security = nullptr) {
    args.insert(args.begin(), vedvm_);
    const auto& sec = security ? *security : security_;
    args.insert(args.end(), sec.begin(), sec.end());
    return run(args, timeout_ms);
  }
  // Runs any program (argv[0] a path), killed at `timeout_ms`; its output is kept in the
  // scratch dir. Safe to call from several threads at once.
  CommandResult run(const std::vector<std::string>& args, uint64_t timeout_ms = 20000) {
    const int command = commands_++;
    const std::string out = dir_ / ("cmd" + std::to_string(command) + ".out");
    const std::string err = dir_ / ("cmd" + std::to_string(command) + ".err");
    const uint64_t start = now_ms();
    const pid_t pid = spawn(args, err, out);
    CommandResult r;
    int status = 0;
    while (true) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (now_ms() - start > timeout_ms) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    r.elapsed_ms = now_ms() - start;
    r.out = read_file(out);
    r.err = read_file(err);
    return r;
  }

  // `vedvm status --join` node i's address, as JSON (null if it did not answer).
  nlohmann::json status(int i) {
    auto r = vedvm({"status", "--join", address(i), "--json"}, 10000);
    if (r.out.empty()) return nullptr;
    try {
      return nlohmann::json::parse(r.out);
    } catch (...) {
      return nullptr;
    }
  }
  // The raw status one node reports of itself (its own indexes), through `status`.
  nlohmann::json self_row(int i) {
    auto s = status(i);
    if (s.is_null()) return nullptr;
    for (const auto& m : s["members"])
      if (m["node"] == s["asked"]["node"]) return m;
    return nullptr;
  }

  // Polls `condition` every 100 ms until it holds or `timeout_ms` passes.
  static bool wait_until(const std::function<bool()>& condition, uint64_t timeout_ms) {
    const uint64_t deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return condition();
  }

 private:
  static pid_t spawn(const std::vector<std::string>& args, const std::string& err, const std::string& out) {
    // Everything the child needs is prepared before fork(): a test may run commands from
    // several threads, and the child of a threaded process should only exec.
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(e, 2);
      dup2(o, 1);
      execv(argv[0], argv.data());
      _exit(127);
    }
    return pid;
  }

  std::string vedvm_;
  std::vector<std::string> security_;
  ScratchDir dir_;
  std::map<int, Node> nodes_;
  std::vector<pid_t> helpers_;
  std::atomic<int> commands_{0};
  bool partition_files_ = false;
};

// The leader (an index into `nodes`) as a member of `nodes` with a quorum reports it, or -1.
inline int leader_of(ProcessCluster& c, const std::vector<int>& nodes) {
  for (int i : nodes) {
    auto s = c.status(i);
    if (s.is_null() || s["leader"].is_null() || !s["asked"]["quorum"].get<bool>()) continue;
    const std::string leader_address = s["leader"]["address"];
    for (int j : nodes)
      if (c.address(j) == leader_address) return j;
  }
  return -1;
}

// Whether member `asked` has a quorum and counts `n` voters.
inline bool voters_are(ProcessCluster& c, int asked, size_t n) {
  auto s = c.status(asked);
  if (s.is_null() || !s["asked"]["quorum"].get<bool>()) return false;
  size_t voters = 0;
  for (const auto& m : s["members"]) voters += m["voter"].get<bool>() ? 1 : 0;
  return voters == n;
}

// Forms an n-node cluster: node 1 bootstraps, each next one joins through an earlier
// member; every node gets `extra` arguments too.
inline void form(ProcessCluster& c, int n, const std::vector<std::string>& extra = {}) {
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  c.start(1, with({"--bootstrap"}));
  REQUIRE(ProcessCluster::wait_until([&] { return voters_are(c, 1, 1); }, 15000));
  for (int i = 2; i <= n; ++i) {
    c.start(i, with({"--join", c.address(i == 2 ? 1 : i - 1)}));  // through any member
    REQUIRE_MESSAGE(ProcessCluster::wait_until([&] { return voters_are(c, 1, static_cast<size_t>(i)); }, 30000),
                    "node " << i << " did not join; its log:\n" << read_file(c.node(i).log));
  }
}

// How many programs member i lists (0 if it does not answer).
inline size_t programs_on(ProcessCluster& c, int i) {
  auto s = c.status(i);
  return s.is_null() ? 0 : s["programs"].size();
}

}  // namespace ved::cluster::test
