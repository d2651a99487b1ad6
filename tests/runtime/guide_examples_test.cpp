// The language guide (docs/guide/) and its examples (examples/guide/*.ved). Every example
// states its expected result in its header comment; this test finds every example, runs it
// with the real `vedc` and `vedvm` from the repository's root (so paths in the output read
// `examples/guide/NAME.ved`, as they do for a reader who runs it there), twice, in fresh
// data dirs and file-system roots, and checks what the header says. It also checks that the
// guide and the examples cannot drift apart: every example is named by some guide page,
// every file a page names exists, every ```ved block of the guide is a verbatim part of an
// example, and every expected result appears on a page that names its example.
//
// Header directives, one per `//` line of the leading comment (see docs/guide/README.md):
//   // flags: ARGS             a run with these extra arguments (split at spaces, no quoting);
//                              several `flags:` lines make several runs; expectations
//                              before the first one apply to every run, the others to the
//                              run above them
//   // expect: exit N          the exit code (required for every run)
//   // expect: LINE            a line of stdout (leading spaces ignored): trace or summary
//   // expect-stderr: LINE     a line of stderr (leading spaces ignored)
//   // expect-test: SUMMARY    run with `vedvm test`; the last line of stdout is SUMMARY
//   // expect-error: CODE [at L:C]    `vedc --check` fails with exactly these errors
//   // expect-warning: CODE [at L:C]  `vedc --check` gives exactly these warnings
#include <doctest/doctest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "runtime_support.h"

extern char** environ;

using namespace ved::rt;
namespace fs = std::filesystem;

namespace {

fs::path source_root() { return fs::path(VED_EXAMPLES_DIR).lexically_normal().parent_path(); }
fs::path examples_dir() { return source_root() / "examples" / "guide"; }
fs::path guide_dir() { return source_root() / "docs" / "guide"; }

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// Runs `argv` to its end with `cwd` as the working directory (runtime_support's `run`
// keeps the test's own), stdout and stderr captured, at most `timeout`.
Result run_in(const fs::path& cwd, const std::vector<std::string>& argv,
              std::chrono::milliseconds timeout = std::chrono::minutes(2)) {
  TempDir scratch;
  const std::string out = scratch / "out", err = scratch / "err";
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const auto started = std::chrono::steady_clock::now();
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  Result r;
  if (rc != 0) {
    r.err = "cannot start " + argv[0] + ": " + std::strerror(rc);
    return r;
  }
  int status = 0;
  bool timed_out = false;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() - started > timeout) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  r.exited = !timed_out && WIFEXITED(status);
  r.exit_code = r.exited ? WEXITSTATUS(status) : -1;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  r.out = read_file(out);
  r.err = read_file(err);
  if (timed_out) r.err += "\n(timed out)";
  return r;
}

// ---------------------------------------------------------------------------------------
// Example headers

struct Run {
  std::vector<std::string> flags;
  std::optional<int> exit_code;
  std::vector<std::string> out_lines;  // `expect:` lines other than `exit N`
  std::vector<std::string> err_lines;  // `expect-stderr:`
};

struct Diagnostic {
  std::string code;
  std::string at;  // "L:C", or empty for any position
};

struct Example {
  std::string file;  // "03-messaging.ved"
  std::string rel;   // "examples/guide/03-messaging.ved", relative to the source root
  std::string text;
  std::string page;  // the guide page its header names: "03-messaging.md"
  std::vector<Run> runs;
  std::vector<Diagnostic> errors, warnings;
  std::optional<std::string> test_summary;
  std::vector<std::string> problems;  // a malformed header
};

std::optional<Diagnostic> parse_diagnostic(const std::string& value) {
  auto w = words_of(value);
  if (w.size() == 1) return Diagnostic{w[0], ""};
  if (w.size() == 3 && w[1] == "at" && std::regex_match(w[2], std::regex(R"(\d+:\d+)"))) return Diagnostic{w[0], w[2]};
  return std::nullopt;
}

Example parse_example(const fs::path& path) {
  Example ex;
  ex.file = path.filename().string();
  ex.rel = "examples/guide/" + ex.file;
  ex.text = read_file(path);
  Run common;
  std::vector<Run> runs;
  auto current = [&]() -> Run& { return runs.empty() ? common : runs.back(); };
  static const std::regex directive(R"(^//\s*(flags|expect(?:-[a-z]+)?):\s?(.*)$)");
  static const std::regex page(R"(docs/guide/([A-Za-z0-9_.-]+\.md))");
  for (const auto& line : lines_of(ex.text)) {
    if (line.rfind("//", 0) != 0) break;  // the header ends at the first line of code
    std::smatch m;
    if (ex.page.empty() && std::regex_search(line, m, page)) ex.page = m[1];
    if (!std::regex_match(line, m, directive)) continue;  // prose
    const std::string key = m[1], value = trim(m[2]);
    if (key == "flags") {
      runs.push_back(Run{words_of(value), std::nullopt, {}, {}});
    } else if (key == "expect") {
      std::smatch e;
      if (std::regex_match(value, e, std::regex(R"(exit (\d+))"))) {
        if (current().exit_code) ex.problems.push_back("two exit codes for one run");
        current().exit_code = std::stoi(e[1]);
      } else if (value.empty()) {
        ex.problems.push_back("an empty `expect:`");
      } else {
        current().out_lines.push_back(value);
      }
    } else if (key == "expect-stderr") {
      current().err_lines.push_back(value);
    } else if (key == "expect-test") {
      if (ex.test_summary) ex.problems.push_back("two `expect-test:` lines");
      ex.test_summary = value;
    } else if (key == "expect-error" || key == "expect-warning") {
      auto d = parse_diagnostic(value);
      if (!d) {
        ex.problems.push_back("`" + key + ": " + value + "` is not `CODE` or `CODE at LINE:COL`");
        continue;
      }
      (key == "expect-error" ? ex.errors : ex.warnings).push_back(*d);
    } else {
      ex.problems.push_back("unknown directive `" + key + ":`");
    }
  }
  if (runs.empty()) {
    runs.push_back(common);
  } else {
    for (auto& r : runs) {
      if (!r.exit_code) r.exit_code = common.exit_code;
      r.out_lines.insert(r.out_lines.begin(), common.out_lines.begin(), common.out_lines.end());
      r.err_lines.insert(r.err_lines.begin(), common.err_lines.begin(), common.err_lines.end());
    }
  }
  ex.runs = runs;
  if (ex.page.empty()) ex.problems.push_back("the header names no page docs/guide/NAME.md");
  if (!ex.errors.empty()) {
    if (ex.test_summary || ex.runs.size() != 1 || ex.runs[0].exit_code || !ex.runs[0].out_lines.empty() ||
        !ex.runs[0].flags.empty() || !ex.warnings.empty())
      ex.problems.push_back("a file that must not compile has only `expect-error:` and `expect-stderr:` lines");
  } else {
    for (const auto& r : ex.runs)
      if (!r.exit_code) ex.problems.push_back("a run without `// expect: exit N`");
  }
  return ex;
}

std::vector<Example> examples() {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(examples_dir()))
    if (entry.is_regular_file() && entry.path().extension() == ".ved") paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  std::vector<Example> out;
  for (const auto& p : paths) out.push_back(parse_example(p));
  return out;
}

// ---------------------------------------------------------------------------------------
// Checking outputs

// Whether some line of `output`, without its leading and trailing blanks, is `expected`.
bool has_line(const std::string& output, const std::string& expected) {
  for (const auto& line : lines_of(output))
    if (trim(line) == expected) return true;
  return false;
}

struct Reported {
  std::string severity, code, at;
};

// The diagnostics in vedc's human output: `error[CODE]: ...` then ` --> FILE:L:C`.
std::vector<Reported> reported_diagnostics(const std::string& err) {
  std::vector<Reported> out;
  static const std::regex head(R"(^(error|warning)\[(V-[A-Z]+-\d+)\]:.*)");
  static const std::regex where(R"(^\s*--> .*:(\d+):(\d+)$)");
  auto lines = lines_of(err);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m, w;
    if (!std::regex_match(lines[i], m, head)) continue;
    Reported d{m[1], m[2], ""};
    if (i + 1 < lines.size() && std::regex_match(lines[i + 1], w, where)) d.at = std::string(w[1]) + ":" + std::string(w[2]);
    out.push_back(d);
  }
  return out;
}

// `vedc --check` reports exactly the expected diagnostics of one severity.
void check_diagnostics(const std::vector<Reported>& reported, const std::string& severity,
                       const std::vector<Diagnostic>& expected, const std::string& err) {
  for (const auto& e : expected) {
    bool found = std::any_of(reported.begin(), reported.end(), [&](const Reported& r) {
      return r.severity == severity && r.code == e.code && (e.at.empty() || r.at == e.at);
    });
    CHECK_MESSAGE(found, "expected " << severity << " " << e.code << (e.at.empty() ? "" : " at " + e.at)
                                     << " from vedc --check; it printed:\n" << err);
  }
  for (const auto& r : reported) {
    if (r.severity != severity) continue;
    bool wanted = std::any_of(expected.begin(), expected.end(), [&](const Diagnostic& e) { return e.code == r.code; });
    CHECK_MESSAGE(wanted, "unexpected " << severity << " " << r.code << " at " << r.at << "; vedc printed:\n" << err);
  }
}

void check_lines(const Result& r, const Run& run) {
  for (const auto& line : run.out_lines)
    CHECK_MESSAGE(has_line(r.out, line), "no line `" << line << "` on stdout:\n" << r.out << "\nstderr:\n" << r.err);
  for (const auto& line : run.err_lines)
    CHECK_MESSAGE(has_line(r.err, line), "no line `" << line << "` on stderr:\n" << r.err);
}

void check_same(const Result& a, const Result& b) {
  CHECK_MESSAGE(a.out == b.out, "stdout differs between two fresh runs:\n" << a.out << "\n----\n" << b.out);
  CHECK_MESSAGE(a.err == b.err, "stderr differs between two fresh runs:\n" << a.err << "\n----\n" << b.err);
  CHECK(a.exit_code == b.exit_code);
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

void check_example(const Example& ex) {
  INFO("example " << ex.rel);
  for (const auto& p : ex.problems) FAIL_CHECK("malformed header: " << p);
  if (!ex.problems.empty()) return;
  const fs::path root = source_root();

  // Compile-time expectations. A file that must not compile stops here.
  std::vector<std::string> check{vedc(), "--check", ex.rel};
  Result compiled = run_in(root, check);
  Result compiled_again = run_in(root, check);
  check_same(compiled, compiled_again);
  auto reported = reported_diagnostics(compiled.err);
  check_diagnostics(reported, "error", ex.errors, compiled.err);
  check_diagnostics(reported, "warning", ex.warnings, compiled.err);
  if (!ex.errors.empty()) {
    CHECK_MESSAGE(compiled.exit_code == 1, "vedc --check " << ex.rel << ": " << describe(compiled) << "\n" << compiled.err);
    check_lines(compiled, ex.runs[0]);
    return;
  }
  REQUIRE_MESSAGE(compiled.exit_code == 0, "vedc --check " << ex.rel << ": " << describe(compiled) << "\n" << compiled.err);

  for (size_t i = 0; i < ex.runs.size(); ++i) {
    const Run& run = ex.runs[i];
    TempDir tmp;
    auto argv_for = [&](const std::string& which) {
      std::vector<std::string> argv{vedvm()};
      if (ex.test_summary) {
        argv.insert(argv.end(), {"test", ex.rel});
      } else {
        fs::create_directories(tmp.path() / ("fs-" + which));
        argv.insert(argv.end(), {ex.rel, "--data-dir", tmp / ("data-" + which), "--fs-root", tmp / ("fs-" + which),
                                 "--sync=none"});
      }
      argv.insert(argv.end(), run.flags.begin(), run.flags.end());
      return argv;
    };
    const auto argv = argv_for("a");
    INFO("run " << (i + 1) << ": " << command_line(argv));
    Result a = run_in(root, argv);
    Result b = run_in(root, argv_for("b"));
    CHECK_MESSAGE(a.exit_code == *run.exit_code, describe(a) << "\nstdout:\n" << a.out << "\nstderr:\n" << a.err);
    check_lines(a, run);
    check_same(a, b);
    if (ex.test_summary) {
      auto out = lines_of(a.out);
      while (!out.empty() && trim(out.back()).empty()) out.pop_back();
      CHECK_MESSAGE((!out.empty() && out.back() == *ex.test_summary), "the last line is not `" << *ex.test_summary << "`:\n" << a.out);
    } else {
      // The run's journal replays to the same states, tick for tick.
      Result replay = run_in(root, {vedvm(), "replay", tmp / "data-a"});
      CHECK_MESSAGE(replay.exit_code == 0, "vedvm replay: " << describe(replay) << "\n" << replay.out << replay.err);
    }
  }
}

// ---------------------------------------------------------------------------------------
// The guide's pages

struct Page {
  std::string name;  // "03-messaging.md"
  std::string text;
};

std::vector<Page> pages() {
  std::vector<Page> out;
  for (const auto& entry : fs::directory_iterator(guide_dir()))
    if (entry.is_regular_file() && entry.path().extension() == ".md")
      out.push_back(Page{entry.path().filename().string(), read_file(entry.path())});
  std::sort(out.begin(), out.end(), [](const Page& a, const Page& b) { return a.name < b.name; });
  return out;
}

struct CodeBlock {
  std::string info;     // what follows the opening fence: "ved", "ved fragment", "text", "sh"
  std::string body;     // the lines between the fences, each with its newline
  size_t line = 0;      // of the opening fence, 1-based
  std::string problem;  // a fence that does not close, or an opening fence inside the block
};

// The fenced blocks of a page. A block closes at a line that is exactly three backquotes.
std::vector<CodeBlock> code_blocks(const std::string& markdown) {
  std::vector<CodeBlock> out;
  auto lines = lines_of(markdown);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("```", 0) != 0) continue;
    CodeBlock block{trim(lines[i].substr(3)), "", i + 1, ""};
    size_t j = i + 1;
    for (; j < lines.size() && trim(lines[j]) != "```"; ++j) {
      if (lines[j].rfind("```", 0) == 0 && block.problem.empty())
        block.problem = "a fence opens at line " + std::to_string(j + 1) + " inside this block";
      block.body += lines[j] + "\n";
    }
    if (j == lines.size()) block.problem = "this block is never closed";
    out.push_back(block);
    i = j;
  }
  return out;
}

}  // namespace

TEST_CASE("guide: every example in examples/guide/ does what its header says, twice over") {
  auto all = examples();
  REQUIRE_MESSAGE(all.size() >= 11, "too few examples in " << examples_dir());
  for (const auto& ex : all) check_example(ex);
  MESSAGE(all.size() << " guide examples checked");
}

TEST_CASE("guide: the pages and the examples cannot drift apart") {
  auto all = examples();
  auto docs = pages();
  REQUIRE_FALSE(docs.empty());
  REQUIRE(std::any_of(docs.begin(), docs.end(), [](const Page& p) { return p.name == "README.md"; }));

  // Every example a page names exists.
  static const std::regex named(R"(examples/guide/[A-Za-z0-9_.-]+\.ved(?![A-Za-z0-9]))");
  std::set<std::string> files;
  for (const auto& ex : all) files.insert(ex.rel);
  std::map<std::string, std::set<std::string>> names;  // page -> the examples it names
  for (const auto& page : docs) {
    for (auto it = std::sregex_iterator(page.text.begin(), page.text.end(), named); it != std::sregex_iterator(); ++it) {
      CHECK_MESSAGE(files.count(it->str()), page.name << " names " << it->str() << ", which does not exist");
      names[page.name].insert(it->str());
    }
  }
  // Every example names its page in its header, and that page names it.
  for (const auto& ex : all) {
    INFO("example " << ex.rel);
    // The page the header names exists and names the example in turn.
    auto page = std::find_if(docs.begin(), docs.end(), [&](const Page& p) { return p.name == ex.page; });
    REQUIRE_MESSAGE(page != docs.end(), "its header names docs/guide/" << ex.page << ", which does not exist");
    CHECK_MESSAGE(names[ex.page].count(ex.rel), "docs/guide/" << ex.page << " does not name " << ex.rel);
    // The result the header expects is the result that page states.
    const std::string& stated = page->text;
    auto stated_on_page = [&](const std::string& what) {
      CHECK_MESSAGE(contains(stated, what), "`" << what << "` (from the header of " << ex.rel
                                                << ") is not on docs/guide/" << ex.page);
    };
    for (const auto& run : ex.runs) {
      if (run.exit_code) stated_on_page("exit " + std::to_string(*run.exit_code));
      for (const auto& l : run.out_lines) stated_on_page(l);
      for (const auto& l : run.err_lines) stated_on_page(l);
      std::string flags;
      for (const auto& f : run.flags) flags += (flags.empty() ? "" : " ") + f;
      if (!flags.empty()) stated_on_page(flags);
    }
    if (ex.test_summary) stated_on_page(*ex.test_summary);
    for (const auto& d : ex.errors) stated_on_page(d.code);
    for (const auto& d : ex.warnings) stated_on_page(d.code);
  }

  // Every ```ved block is a verbatim part of an example, unless marked ```ved fragment; and
  // every block says what it holds.
  static const std::set<std::string> kinds{"ved", "ved fragment", "text", "sh"};
  for (const auto& page : docs) {
    for (const auto& block : code_blocks(page.text)) {
      INFO(page.name << ":" << block.line);
      CHECK_MESSAGE(block.problem.empty(), block.problem);
      CHECK_MESSAGE(kinds.count(block.info), "a code block marked `" << block.info
                                                 << "`; use ved, ved fragment, text or sh");
      if (block.info != "ved") continue;
      bool quoted = std::any_of(all.begin(), all.end(), [&](const Example& ex) { return contains(ex.text, block.body); });
      CHECK_MESSAGE(quoted, "this ```ved block is not a verbatim part of any examples/guide/*.ved "
                            "(mark it ```ved fragment if it is not meant to run):\n" << block.body);
    }
  }
}
