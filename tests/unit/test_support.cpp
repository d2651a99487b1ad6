#include "test_support.h"

#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#include "frontend/parser.h"
#include "ir/compile.h"

namespace ved::test {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir, const std::vector<std::string>& extensions,
                                            bool recursive) {
  std::vector<std::filesystem::path> out;
  auto consider = [&](const std::filesystem::directory_entry& e) {
    if (!e.is_regular_file()) return;
    std::string ext = e.path().extension().string();
    if (std::find(extensions.begin(), extensions.end(), ext) != extensions.end()) out.push_back(e.path());
  };
  if (recursive) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) consider(e);
  } else {
    for (const auto& e : std::filesystem::directory_iterator(dir)) consider(e);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::unique_ptr<Parsed> parse_text(const std::string& name, const std::string& text) {
  auto p = std::make_unique<Parsed>();
  p->file = p->sources.add(name, text);
  p->program = parse(p->sources, p->file, p->sink);
  return p;
}

std::unique_ptr<Checked> check_text(const std::string& name, const std::string& text, bool lint) {
  auto c = std::make_unique<Checked>();
  c->file = c->sources.add(name, text);
  CheckOptions options;
  options.lint = lint;
  // As `vedc --check` does: a program the checker accepts is also lowered, which finds
  // what only lowering can (V-TYP-018).
  ir::Compilation compiled = ir::compile_file(c->sources, c->file, c->sink, options);
  c->program = std::move(compiled.program);
  c->prelude = std::move(compiled.prelude);
  c->model = std::move(compiled.model);
  c->module = std::move(compiled.module);
  return c;
}

std::vector<std::string> expectations(const std::string& text) {
  static const std::regex pattern(R"(// expect: (V-[A-Z]+-[0-9]+ at [0-9]+:[0-9]+))");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> diagnostic_positions(const Parsed& parsed) {
  std::vector<std::string> out;
  for (const auto& d : parsed.sink.diagnostics()) {
    LineColumn lc = parsed.sources.locate(d.primary.span);
    out.push_back(d.code + " at " + std::to_string(lc.line) + ":" + std::to_string(lc.column));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'') out += "'\\''";
    else out.push_back(ch);
  }
  return out + "'";
}

CommandResult run(const std::string& command_line) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path();
  std::string stem = "ved-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  auto out_path = dir / (stem + ".out");
  auto err_path = dir / (stem + ".err");
  std::string full = command_line + " >" + shell_quote(out_path.string()) + " 2>" + shell_quote(err_path.string()) +
                     " </dev/null";
  int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return r;
}

}  // namespace ved::test
