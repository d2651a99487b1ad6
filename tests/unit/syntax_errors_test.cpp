// Negative tests: each file under tests/golden/syntax declares, in `// expect:` lines,
// exactly the diagnostics (code, line, column) the parser must report for it.
#include <doctest/doctest.h>

#include <regex>
#include <set>

#include "frontend/diagnostic_codes.h"
#include "test_support.h"

using namespace ved;
using namespace ved::test;

namespace {

}  // namespace

TEST_CASE("each malformed program gets exactly its expected diagnostics") {
  auto files = files_in(tests_dir() / "golden" / "syntax", {".ved"});
  CHECK(files.size() >= 25);
  for (const auto& path : files) {
    INFO("file: " << path.filename().string());
    std::string text = read_file(path);
    auto expected = expectations(text);
    REQUIRE_FALSE(expected.empty());
    auto parsed = parse_text(path.filename().string(), text);
    CHECK(parsed->program == nullptr);
    CHECK(diagnostic_positions(*parsed) == expected);
  }
}

TEST_CASE("every syntax diagnostic has a registered code, a label and a help line") {
  for (const auto& path : files_in(tests_dir() / "golden" / "syntax", {".ved"})) {
    INFO("file: " << path.filename().string());
    auto parsed = parse_text(path.filename().string(), read_file(path));
    for (const auto& d : parsed->sink.diagnostics()) {
      INFO("code: " << d.code);
      CHECK(find_diagnostic_code(d.code) != nullptr);
      CHECK_FALSE(d.primary.message.empty());
      CHECK_FALSE(d.help.empty());
      CHECK(d.primary.span.end >= d.primary.span.begin);
      CHECK(d.primary.span.end <= parsed->sources.file(parsed->file).text().size());
    }
  }
}

TEST_CASE("every V-SYN code is exercised by at least one negative test") {
  std::set<std::string> seen;
  for (const auto& path : files_in(tests_dir() / "golden" / "syntax", {".ved"})) {
    for (const auto& e : expectations(read_file(path))) seen.insert(e.substr(0, e.find(' ')));
  }
  for (const auto& info : all_diagnostic_codes()) {
    if (info.code.substr(0, 6) != "V-SYN-") continue;
    INFO("code: " << info.code);
    CHECK(seen.count(std::string(info.code)) == 1);
  }
}

TEST_CASE("a misspelled keyword is reported once and the rest of the file still parses") {
  auto parsed = parse_text("t.ved", "domian A { state { x: int } }\ndomain B { state { test: int } }\n");
  auto positions = diagnostic_positions(*parsed);
  CHECK(positions == std::vector<std::string>{"V-SYN-007 at 1:1", "V-SYN-015 at 2:20"});
}

TEST_CASE("contextual words remain usable as names") {
  auto parsed = parse_text("t.ved",
                           "domain D {\n"
                           "  state { target: int  priority: int  step: int  slice: int  scope: string  on: bool }\n"
                           "  goal G { predicate: target == priority }\n"
                           "  transition T() { step = step + 1  let after = slice  target = after }\n"
                           "}\n");
  CHECK(diagnostic_positions(*parsed) == std::vector<std::string>{});
  REQUIRE(parsed->program);
  CHECK(parsed->program->domains[0].state.size() == 6);
  CHECK(parsed->program->domains[0].state[0].name.name == "target");
}
