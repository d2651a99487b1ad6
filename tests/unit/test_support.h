// Helpers shared by the unit and end-to-end tests.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "frontend/checker.h"
#include "frontend/diagnostic.h"
#include "frontend/source_manager.h"
#include "ir/module.h"

namespace ved::test {

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& text);

// Files under `dir` whose names end with one of `extensions`, sorted by path so test
// order never depends on the file system.
std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir, const std::vector<std::string>& extensions,
                                            bool recursive = false);

struct Parsed {
  SourceManager sources;
  DiagnosticSink sink;
  std::unique_ptr<ast::Program> program;
  FileId file = 0;
};
// Parses `text` as a file called `name`.
std::unique_ptr<Parsed> parse_text(const std::string& name, const std::string& text);

// Parses and, if that succeeds, checks `text` against the standard prelude.
struct Checked : Parsed {
  std::unique_ptr<ast::Program> prelude;
  std::unique_ptr<ProgramModel> model;
  std::unique_ptr<ir::Module> module;  // when checking found no error
};
std::unique_ptr<Checked> check_text(const std::string& name, const std::string& text, bool lint = false);

// The `// expect: CODE at LINE:COL` lines of a golden test program, sorted.
std::vector<std::string> expectations(const std::string& text);

// "V-SYN-005 at 4:28" for each diagnostic, sorted.
std::vector<std::string> diagnostic_positions(const Parsed& parsed);

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs a shell command line, capturing stdout and stderr.
CommandResult run(const std::string& command_line);

std::string shell_quote(const std::string& s);

// The shared corpus (../shared/corpus): a test that reads it carries the decorator
// `* doctest::test_suite("corpus")`, so that it is left out where the corpus does not
// exist (unit/main.cpp).
inline std::filesystem::path corpus_dir() { return VED_CORPUS_DIR; }
inline std::filesystem::path tests_dir() { return VED_TESTS_DIR; }
inline std::string vedc() { return VED_VEDC; }

}  // namespace ved::test
