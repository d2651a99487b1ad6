#include "runtime_support.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ved::rt {

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

std::string compile_source(const TempDir& dir, const std::string& source, const std::string& name) {
  const std::string src = dir / (name + ".ved"), out = dir / (name + ".vedb");
  write_file(src, source);
  Result r = run({vedc(), src, "-o", out});
  if (r.exit_code != 0) throw std::runtime_error("vedc " + src + " failed: " + r.err);
  return out;
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
    // `-- engine: jit, N functions ... compiled in T ms`: the engine and its compile
    // time (machine statistics, which differ from run to run), not an instance.
    if (line.rfind("-- ", 0) == 0) continue;
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

namespace {

// A string as a Ved literal (vm/runtime_library.cpp, quote_string).
void append_quoted(const std::string& text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c < 0x20 || c == 0x7F) {
      out += "\\u{";
      if (c >= 0x10) out += kHex[c >> 4];
      out += kHex[c & 0xF];
      out += '}';
    } else {
      out += ch;
    }
  }
  out += '"';
}

void append_float(double f, std::string& out) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  std::string_view text(buf, static_cast<size_t>(end - buf));
  out += text;
  if (text.find_first_of(".en") == std::string_view::npos) out += ".0";
}

void append_ved_text(const nlohmann::ordered_json& v, std::string& out) {
  if (v.is_null()) {
    out += "none";
  } else if (v.is_boolean()) {
    out += v.get<bool>() ? "true" : "false";
  } else if (v.is_number_integer()) {
    out += std::to_string(v.get<int64_t>());
  } else if (v.is_number_float()) {
    append_float(v.get<double>(), out);
  } else if (v.is_string()) {
    append_quoted(v.get<std::string>(), out);
  } else if (v.is_array()) {
    out += '[';
    for (size_t k = 0; k < v.size(); ++k) {
      if (k) out += ", ";
      append_ved_text(v[k], out);
    }
    out += ']';
  } else if (v.contains("$int")) {
    out += v["$int"].get<std::string>();
  } else if (v.contains("$float")) {
    const std::string f = v["$float"].get<std::string>();
    out += f == "NaN" ? "nan" : f == "Infinity" ? "inf" : "-inf";
  } else if (v.contains("$unit")) {
    out += "()";
  } else if (v.contains("$intent")) {
    out += "<intent " + v["$intent"].get<std::string>() + ">";
  } else if (v.contains("$map")) {
    out += '{';
    bool first = true;
    for (const auto& pair : v["$map"]) {
      if (!first) out += ", ";
      first = false;
      append_ved_text(pair[0], out);
      out += ": ";
      append_ved_text(pair[1], out);
    }
    out += '}';
  } else if (v.contains("$record")) {
    out += v["$record"].get<std::string>() + "(";
    bool first = true;
    for (const auto& [name, field] : v.items()) {
      if (name == "$record") continue;
      if (!first) out += ", ";
      first = false;
      out += name + ": ";
      append_ved_text(field, out);
    }
    out += ')';
  }
}

}  // namespace

std::string ved_text(const nlohmann::ordered_json& value) {
  std::string out;
  append_ved_text(value, out);
  return out;
}

std::map<std::string, InspectedInstance> inspected_instances(const std::string& inspect_json) {
  std::map<std::string, InspectedInstance> out;
  auto j = nlohmann::ordered_json::parse(inspect_json);
  for (const auto& in : j.at("instances")) {
    InspectedInstance i;
    i.status = in.at("status").get<std::string>();
    for (const auto& [name, field] : in.at("state").items())
      if (name != "$record") i.fields[name] = ved_text(field);
    out[in.at("instance").get<std::string>()] = std::move(i);
  }
  return out;
}

const std::string& python_with_jsonschema() {
  static const std::string found = [] {
    for (const std::string& p : {std::string("/usr/bin/python3"), std::string(VED_PYTHON3)}) {
      std::error_code ec;
      if (!p.empty() && std::filesystem::exists(p, ec) && run({p, "-c", "import jsonschema"}).exit_code == 0) return p;
    }
    return std::string();
  }();
  return found;
}

Result validate_json(const TempDir& tmp, const std::string& schema, const std::string& text, bool lines) {
  static int n = 0;
  const std::string file = tmp / ("json-" + std::to_string(++n) + ".json");
  write_file(file, text);
  if (python_with_jsonschema().empty()) {
    Result r;
    r.exited = true;
    r.exit_code = 2;
    r.err = "no python3 with the jsonschema module: apt-get install python3-jsonschema";
    return r;
  }
  std::vector<std::string> argv{python_with_jsonschema(), VED_CHECK_JSON, std::string(VED_DOCS_DIR) + "/json", schema, file};
  if (lines) argv.push_back("--lines");
  return run(argv);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace ved::rt
