// The diagnostic formats of language.md §13 and the code registry.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "frontend/diagnostic_codes.h"
#include "frontend/diagnostic_render.h"
#include "test_support.h"

using namespace ved;
using namespace ved::test;

TEST_CASE("human format: header, location, excerpt, caret, help") {
  auto parsed = parse_text("app.ved", "domain A {\n  state { s: string }\n  goal G { predicate: s = \"x\" }\n}\n");
  REQUIRE(parsed->sink.diagnostics().size() == 1);
  std::string text = render_human(parsed->sink.diagnostics()[0], parsed->sources, RenderOptions{});
  CHECK(text ==
        "error[V-SYN-005]: `=` assigns; a condition compares with `==`\n"
        " --> app.ved:3:25\n"
        "  |\n"
        "3 |   goal G { predicate: s = \"x\" }\n"
        "  |                         ^ assignment in a condition\n"
        "  |\n"
        "  = help: write `s == \"x\"`\n");
}

TEST_CASE("human format: secondary labels, gutter width, tabs") {
  std::string src = "domain A {\n\tstate { x: int }\n";
  for (int i = 0; i < 8; ++i) src += "\n";
  src += "\tstate { y: int }\n}\n";
  auto parsed = parse_text("t.ved", src);
  REQUIRE(parsed->sink.diagnostics().size() == 1);
  std::string text = render_human(parsed->sink.diagnostics()[0], parsed->sources, RenderOptions{});
  // Line 11 needs a two-digit gutter; line 2 is shown with `-` marks; tabs display as 4.
  CHECK(text.find("  --> t.ved:11:2\n") != std::string::npos);  // columns count code points; a tab is one
  CHECK(text.find(" 2 |     state { x: int }\n") != std::string::npos);
  CHECK(text.find("   |     ---------------- the first one is here\n") != std::string::npos);
  CHECK(text.find("11 |     state { y: int }\n") != std::string::npos);
  CHECK(text.find("   |     ^^^^^^^^^^^^^^^^ another state block\n") != std::string::npos);
}

TEST_CASE("colour only when asked") {
  auto parsed = parse_text("t.ved", "x = 1\n");
  REQUIRE_FALSE(parsed->sink.diagnostics().empty());
  const auto& d = parsed->sink.diagnostics()[0];
  CHECK(render_human(d, parsed->sources, RenderOptions{false}).find('\x1b') == std::string::npos);
  CHECK(render_human(d, parsed->sources, RenderOptions{true}).find("\x1b[1;31m") != std::string::npos);
}

TEST_CASE("JSON format has the documented shape") {
  auto parsed = parse_text("app.ved", "domain A {\n  state { x: int }\n  state { y: int }\n}\n");
  REQUIRE(parsed->sink.diagnostics().size() == 1);
  std::string line = render_json(parsed->sink.diagnostics()[0], parsed->sources);
  CHECK(line.find('\n') == std::string::npos);  // one object per line
  auto j = nlohmann::json::parse(line);
  CHECK(j["code"] == "V-SYN-022");
  CHECK(j["severity"] == "error");
  CHECK(j["message"].is_string());
  CHECK(j["file"] == "app.ved");
  CHECK(j["line"] == 3);
  CHECK(j["column"] == 3);
  CHECK(j["end_line"] == 3);
  CHECK(j["byte_start"].is_number_unsigned());
  CHECK(j["byte_end"].get<int>() > j["byte_start"].get<int>());
  REQUIRE(j["labels"].is_array());
  REQUIRE(j["labels"].size() == 2);
  CHECK(j["labels"][0]["primary"] == true);
  CHECK(j["labels"][1]["primary"] == false);
  CHECK(j["labels"][1]["line"] == 2);
  for (const char* key : {"message", "file", "line", "column", "end_line", "end_column", "byte_start", "byte_end"}) {
    CHECK(j["labels"][0].contains(key));
  }
  CHECK(j["help"].is_array());
  CHECK(j["help"].size() >= 1);
  CHECK(j["notes"].is_array());
}

TEST_CASE("summary line") {
  CHECK(render_summary(0, 0, {}) == "");
  CHECK(render_summary(1, 0, {}) == "error: could not compile: 1 error\n");
  CHECK(render_summary(2, 1, {}) == "error: could not compile: 2 errors, 1 warning\n");
  CHECK(render_summary(0, 3, {}) == "warning: 3 warnings emitted\n");
}

TEST_CASE("every code used in the front end is registered, once") {
  std::set<std::string> registered;
  for (const auto& info : all_diagnostic_codes()) {
    INFO("code: " << info.code);
    CHECK(registered.insert(std::string(info.code)).second);
    CHECK_FALSE(info.title.empty());
    CHECK_FALSE(info.explanation.empty());
    CHECK_FALSE(info.example.empty());
  }
  static const std::regex code_pattern(R"re("(V-[A-Z]{3}-[0-9]{3})")re");
  size_t uses = 0;
  for (const auto& path : files_in(tests_dir().parent_path() / "frontend", {".cpp"})) {
    if (path.filename() == "diagnostic_codes.cpp") continue;
    std::string text = read_file(path);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), code_pattern); it != std::sregex_iterator(); ++it) {
      INFO("used in " << path.filename().string() << ": " << (*it)[1]);
      CHECK(registered.count((*it)[1]) == 1);
      ++uses;
    }
  }
  CHECK(uses > 20);
}

TEST_CASE("a long line is shown as a window around the label") {
  std::string src = "domain A { state { x: int } transition T() { x = " + std::string(3000, ' ') + "x + \"s\" } }\n";
  auto parsed = check_text("long.ved", src);
  REQUIRE(parsed->sink.diagnostics().size() == 1);
  std::string text = render_human(parsed->sink.diagnostics()[0], parsed->sources, RenderOptions{});
  CHECK(text.size() < 1000);  // not the 3 KB line
  CHECK(text.find("...") != std::string::npos);
  // The caret still sits under the operator it names.
  size_t excerpt = text.find("x + \"s\"");
  size_t caret = text.find('^');
  REQUIRE(excerpt != std::string::npos);
  REQUIRE(caret != std::string::npos);
  size_t excerpt_col = excerpt - text.rfind('\n', excerpt) - 1;
  size_t caret_col = caret - text.rfind('\n', caret) - 1;
  CHECK(caret_col == excerpt_col + 2);
}
