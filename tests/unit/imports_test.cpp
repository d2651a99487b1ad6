// Imports and multi-file programs (frontend/imports.h): a program made of several files
// checks and compiles as one; a missing file, an unknown std module, a cycle and two
// script-mode files are refused with their codes, on the offending line of the right file.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "frontend/source_manager.h"
#include "ir/compile.h"
#include "test_support.h"

using namespace ved;
using namespace ved::test;
namespace fs = std::filesystem;

namespace {

// A scratch directory of its own per test case, removed at the end.
struct Scratch {
  fs::path dir;
  explicit Scratch(const std::string& name) {
    dir = fs::temp_directory_path() / ("ved-imports-" + name + "-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() { fs::remove_all(dir); }
  std::string put(const std::string& rel, const std::string& text) const {
    fs::create_directories((dir / rel).parent_path());
    write_file(dir / rel, text);
    return (dir / rel).string();
  }
};

struct Result {
  SourceManager sources;
  DiagnosticSink sink;
  ir::Compilation compiled;
  // "CODE file:line:col" for every diagnostic, sorted; file relative to the scratch dir.
  std::vector<std::string> where(const fs::path& base) const {
    std::vector<std::string> out;
    for (const auto& d : sink.diagnostics()) {
      LineColumn lc = sources.locate(d.primary.span);
      std::string file = fs::path(sources.file(d.primary.span.file).name()).lexically_relative(base).string();
      if (file.empty() || file.rfind("..", 0) == 0) file = sources.file(d.primary.span.file).name();
      out.push_back(d.code + " " + file + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.column));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  const Diagnostic* first(const std::string& code) const {
    for (const auto& d : sink.diagnostics())
      if (d.code == code) return &d;
    return nullptr;
  }
};

std::unique_ptr<Result> compile_paths(const std::vector<std::string>& paths) {
  auto r = std::make_unique<Result>();
  std::vector<FileId> roots;
  for (const auto& p : paths) {
    FileId id;
    std::string error;
    REQUIRE_MESSAGE(r->sources.add_from_disk(p, id, error), error);
    roots.push_back(id);
  }
  r->compiled = ir::compile_files(r->sources, roots, r->sink);
  return r;
}

CommandResult vedc_run(const std::string& args) { return run(shell_quote(vedc()) + " " + args); }

const char* kMain = R"(import "lib/util.ved"
import "model.ved"
import std.math

domain Counter {
    state { value: int = 0 }
    goal Done { predicate: value >= limit() }
    transition Step() { value = clamp(bump(value), 0, 100) }
}
)";
// Imported twice (by main and by model): read once.
const char* kUtil = "fn bump(x: int) -> int { return x + 1 }\n";
const char* kModel = "import \"lib/util.ved\"\n\nfn limit() -> int { return bump(2) }\n";

}  // namespace

TEST_CASE("a three-file program checks and compiles as one, each file read once") {
  Scratch s("three");
  std::string main = s.put("main.ved", kMain);
  s.put("lib/util.ved", kUtil);
  s.put("model.ved", kModel);
  auto r = compile_paths({main});
  CHECK(r->where(s.dir) == std::vector<std::string>{});
  REQUIRE(r->compiled.module != nullptr);
  CHECK(r->compiled.module->program_name == "main");
  size_t util_files = 0;
  for (size_t i = 0; i < r->sources.size(); ++i)
    if (r->sources.file(static_cast<FileId>(i)).name().ends_with("util.ved")) ++util_files;
  CHECK(util_files == 1);
}

TEST_CASE("vedc a.ved b.ved compiles one program from several files (a file named twice is read once)") {
  Scratch s("roots");
  std::string a = s.put("a.ved", "domain A {\n    state { n: int = 0 }\n    goal G { predicate: n == twice(2) }\n    transition T() { n = twice(2) }\n}\n");
  std::string b = s.put("b.ved", "fn twice(x: int) -> int { return x * 2 }\n");
  auto alone = vedc_run("--color=never " + shell_quote(a));
  CHECK(alone.exit_code == 1);  // `twice` is in b.ved
  CHECK(alone.err.find("a.ved:3") != std::string::npos);
  CHECK_FALSE(fs::exists(s.dir / "a.vedb"));
  auto both = vedc_run("--color=never " + shell_quote(a) + " " + shell_quote(b) + " " + shell_quote(b));
  CHECK_MESSAGE(both.exit_code == 0, both.err);
  CHECK(fs::exists(s.dir / "a.vedb"));  // beside the first file, named after it
  CHECK_FALSE(fs::exists(s.dir / "b.vedb"));
  // The same program as one file importing the other.
  std::string c = s.put("c/a.ved", "import \"../b.ved\"\n" + read_file(a));
  auto imported = vedc_run("--color=never " + shell_quote(c) + " -o " + shell_quote((s.dir / "c.vedb").string()));
  CHECK_MESSAGE(imported.exit_code == 0, imported.err);
}

TEST_CASE("an error in an imported file is reported at that file's line") {
  Scratch s("error");
  std::string main = s.put("main.ved", "import \"lib/bad.ved\"\nfn a() -> int { return 1 }\n");
  s.put("lib/bad.ved", "// a helper\nfn bad() -> int {\n    return \"x\"\n}\n");
  auto r = compile_paths({main});
  CHECK(r->where(s.dir) == std::vector<std::string>{"V-TYP-012 lib/bad.ved:3:12"});
  auto cli = vedc_run("--check --color=never " + shell_quote(main));
  CHECK(cli.exit_code == 1);
  CHECK(cli.err.find("lib/bad.ved:3:12") != std::string::npos);
  // A syntax error in an imported file likewise.
  s.put("lib/bad.ved", "fn bad( -> int { return 1 }\n");
  auto syntax = compile_paths({main});
  REQUIRE(syntax->sink.has_errors());
  CHECK(syntax->where(s.dir).front().find(" lib/bad.ved:1:") != std::string::npos);
}

TEST_CASE("a missing file is refused on the import that names it, with the path looked for") {
  Scratch s("missing");
  std::string main = s.put("main.ved", "fn a() -> int { return 1 }\nimport \"lib/nope.ved\"\n");
  auto r = compile_paths({main});
  CHECK(r->where(s.dir) == std::vector<std::string>{"V-ERR-019 main.ved:2:1"});
  const Diagnostic* d = r->first("V-ERR-019");
  REQUIRE(d != nullptr);
  CHECK(d->message == "cannot import `lib/nope.ved`: no such file, or it cannot be read");
  CHECK(d->primary.message.find((s.dir / "lib/nope.ved").string()) != std::string::npos);
  REQUIRE_FALSE(d->help.empty());
  CHECK(d->help[0].find("relative to the directory of the file that imports it") != std::string::npos);
  CHECK(r->compiled.module == nullptr);
}

TEST_CASE("an import cycle is refused, naming the files around it") {
  Scratch s("cycle");
  std::string a = s.put("a.ved", "import \"b.ved\"\nfn a() -> int { return 1 }\n");
  s.put("b.ved", "import \"sub/c.ved\"\nfn b() -> int { return 1 }\n");
  s.put("sub/c.ved", "fn c() -> int { return 1 }\nimport \"../a.ved\"\n");
  auto r = compile_paths({a});
  CHECK(r->where(s.dir) == std::vector<std::string>{"V-ERR-020 sub/c.ved:2:1"});
  const Diagnostic* d = r->first("V-ERR-020");
  REQUIRE(d != nullptr);
  CHECK(d->message.find("import cycle: `") == 0);
  CHECK(d->message.find("a.ved` imports `") != std::string::npos);
  CHECK(d->message.find("b.ved`, which imports `") != std::string::npos);
  CHECK(d->message.find("c.ved`, which imports `") != std::string::npos);
  CHECK_FALSE(d->help.empty());
  // A file importing itself is the smallest cycle.
  std::string self = s.put("self.ved", "import \"self.ved\"\n");
  CHECK(compile_paths({self})->where(s.dir) == std::vector<std::string>{"V-ERR-020 self.ved:1:1"});
}

TEST_CASE("std modules: imported by name, unknown ones refused with the list, the prelude is implicit") {
  Scratch s("std");
  std::string ok = s.put("ok.ved", "import std.math\nimport std.prelude\nfn f() -> int { return gcd(12, clamp(18, 0, 100)) + sign(-3) }\n");
  CHECK(compile_paths({ok})->where(s.dir) == std::vector<std::string>{});
  std::string bad = s.put("bad.ved", "import std.maths\nimport util.strings\nfn f() -> int { return 1 }\n");
  auto r = compile_paths({bad});
  CHECK(r->where(s.dir) == std::vector<std::string>{"V-ERR-019 bad.ved:1:1", "V-ERR-019 bad.ved:2:1"});
  const Diagnostic* d = r->first("V-ERR-019");
  REQUIRE(d != nullptr);
  CHECK(d->message == "no standard library module `std.maths`");
  REQUIRE(d->help.size() == 2);
  CHECK(d->help[0] == "did you mean `std.math`?");
  // Without the import, std.math's functions are not declared.
  std::string without = s.put("without.ved", "fn f() -> int { return clamp(1, 0, 2) }\n");
  CHECK(compile_paths({without})->sink.has_errors());
}

TEST_CASE("script-mode members in two files of one program are refused") {
  Scratch s("script");
  std::string a = s.put("a.ved", "import \"b.ved\"\nstate { n: int }\n");
  s.put("b.ved", "state { m: int }\n");
  auto r = compile_paths({a});
  CHECK(r->where(s.dir) == std::vector<std::string>{"V-ERR-021 a.ved:2:1"});
}

TEST_CASE("vedc: a failed import writes no bundle and exits 1") {
  Scratch s("cli");
  std::string a = s.put("a.ved", "import \"gone.ved\"\nfn a() -> int { return 1 }\n");
  auto r = vedc_run("--color=never " + shell_quote(a));
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("error[V-ERR-019]") != std::string::npos);
  CHECK_FALSE(fs::exists(s.dir / "a.vedb"));
}
