#include "runtime_support.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ved::rt {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ved-rt-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string describe(const Result& r) {
  return r.exited ? "exit " + std::to_string(r.exit_code) : "signal " + std::to_string(r.signal);
}

Process::Process(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = scratch_ / "out", err = scratch_ / "err";
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  started_ = std::chrono::steady_clock::now();
  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
}

Process::~Process() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

void Process::reap(int status) {
  reaped_ = true;
  status_ = status;
}

bool Process::finished() {
  if (reaped_) return true;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) reap(status);
  return reaped_;
}

bool Process::kill_now() {
  if (finished()) return false;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  reap(status);
  // It may have exited on its own between the check and the kill.
  return WIFSIGNALED(status);
}

bool Process::send(int sig) {
  if (finished()) return false;
  return ::kill(pid_, sig) == 0;
}

Result Process::wait(std::chrono::milliseconds timeout) {
  bool timed_out = false;
  const auto deadline = started_ + timeout;
  while (!finished()) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill_now();
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Result r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  r.exited = WIFEXITED(status_);
  r.exit_code = r.exited ? WEXITSTATUS(status_) : -1;
  r.signal = WIFSIGNALED(status_) ? WTERMSIG(status_) : 0;
  r.out = read_file(scratch_.path() / "out");
  r.err = read_file(scratch_.path() / "err");
  if (timed_out) r.err += "\n(timed out)";
  return r;
}

Result run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  Process p(argv);
  return p.wait(timeout);
}

Result vedvm_run(const std::vector<std::string>& args) {
  std::vector<std::string> argv{vedvm()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::vector<std::string> summary_lines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  std::string line;
  bool in_summary = false;
  while (std::getline(in, line)) {
    if (line.rfind("-- ", 0) == 0) in_summary = true;
    if (in_summary) lines.push_back(line);
  }
  return lines;
}

std::map<std::string, std::string> summary_instances(const std::string& out) {
  std::map<std::string, std::string> instances;
  auto lines = summary_lines(out);
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty() || line[0] == ' ') continue;  // goal, fault and dead-letter lines
    size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    instances[line.substr(0, space)] = line.substr(space + 1);
  }
  return instances;
}

std::map<std::string, std::string> state_fields(const std::string& state) {
  std::map<std::string, std::string> fields;
  size_t open = state.find('(');
  if (open == std::string::npos || state.empty() || state.back() != ')') return fields;
  const std::string body = state.substr(open + 1, state.size() - open - 2);
  // Split on top-level ", " (outside strings and brackets).
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      current += c;
      if (c == '\\' && i + 1 < body.size()) current += body[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
    if (depth == 0 && c == ',' && i + 1 < body.size() && body[i + 1] == ' ') {
      parts.push_back(current);
      current.clear();
      ++i;
      continue;
    }
    current += c;
  }
  if (!current.empty()) parts.push_back(current);
  for (const auto& part : parts) {
    size_t colon = part.find(": ");
    if (colon == std::string::npos) continue;
    fields[part.substr(0, colon)] = part.substr(colon + 2);
  }
  return fields;
}

std::map<std::string, InspectedInstance> inspected_instances(const std::string& inspect_json) {
  std::map<std::string, InspectedInstance> out;
  auto j = nlohmann::json::parse(inspect_json);
  for (const auto& in : j.at("instances")) {
    InspectedInstance i;
    i.status = in.at("status").get<std::string>();
    i.fields = state_fields(in.at("state").get<std::string>());
    out[in.at("instance").get<std::string>()] = std::move(i);
  }
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace ved::rt
