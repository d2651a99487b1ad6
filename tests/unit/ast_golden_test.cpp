// Golden AST dumps: the text dump of each source must equal its checked-in `.ast`
// file. Sources are tests/golden/ast/*.ved and, read in place, a representative set
// of the shared corpus (tests/golden/ast/corpus/). `UPDATE_GOLDEN=1` rewrites the
// expected files.
#include <doctest/doctest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "frontend/ast_dump.h"
#include "test_support.h"

using namespace ved;
using namespace ved::test;

namespace {

struct GoldenCase {
  std::filesystem::path source;
  std::string display_name;  // the file name recorded in the dump: stable across machines
  std::filesystem::path expected;
};

std::vector<GoldenCase> golden_cases() {
  std::vector<GoldenCase> cases;
  auto dir = tests_dir() / "golden" / "ast";
  for (const auto& path : files_in(dir, {".ved"})) {
    cases.push_back({path, path.filename().string(), dir / (path.stem().string() + ".ast")});
  }
  return cases;
}

std::vector<GoldenCase> corpus_golden_cases() {
  std::vector<GoldenCase> cases;
  auto dir = tests_dir() / "golden" / "ast" / "corpus";
  for (const char* rel : {"upstream/showcase.lxm", "upstream/test_2_message_storm.lxm", "upstream/public-demo.lxm",
                          "docs/authority.ved", "docs/effects-outcomes.ved", "docs/fanout.ved",
                          "docs/hello-stability.ved", "docs/slices-and-faults.ved"}) {
    std::filesystem::path r(rel);
    cases.push_back({corpus_dir() / r, rel, dir / (r.parent_path().string() + "-" + r.stem().string() + ".ast")});
  }
  return cases;
}

void check_golden(const std::vector<GoldenCase>& cases) {
  const bool update = std::getenv("UPDATE_GOLDEN") != nullptr;
  for (const auto& c : cases) {
    INFO("source: " << c.source.string());
    auto parsed = parse_text(c.display_name, read_file(c.source));
    REQUIRE(parsed->program);
    std::string dump = render_dump_text(ast_to_dump(*parsed->program, parsed->sources));
    if (update) {
      std::filesystem::create_directories(c.expected.parent_path());
      write_file(c.expected, dump);
    }
    REQUIRE_MESSAGE(std::filesystem::exists(c.expected), "missing golden file; run with UPDATE_GOLDEN=1");
    CHECK(dump == read_file(c.expected));
  }
}

}  // namespace

TEST_CASE("AST dumps match their golden files") {
  auto cases = golden_cases();
  CHECK(cases.size() >= 2);
  check_golden(cases);
}

TEST_CASE("AST dumps of corpus programs match their golden files" * doctest::test_suite("corpus")) {
  check_golden(corpus_golden_cases());
}

TEST_CASE("the JSON dump is valid JSON with the same tree as the text dump") {
  auto parsed = parse_text("all-constructs.ved", read_file(tests_dir() / "golden" / "ast" / "all-constructs.ved"));
  REQUIRE(parsed->program);
  DumpNode root = ast_to_dump(*parsed->program, parsed->sources);
  auto j = nlohmann::json::parse(render_dump_json(root));
  CHECK(j["kind"] == "Program");
  CHECK(j["mode"] == "system");
  REQUIRE(j["children"].is_array());
  CHECK(j["children"].size() == root.children.size());
  // Count nodes in both representations.
  std::function<size_t(const DumpNode&)> count_dump = [&](const DumpNode& n) {
    size_t total = 1;
    for (const auto& c : n.children) total += count_dump(c);
    return total;
  };
  std::function<size_t(const nlohmann::json&)> count_json = [&](const nlohmann::json& n) {
    size_t total = 1;
    if (n.contains("children"))
      for (const auto& c : n["children"]) total += count_json(c);
    return total;
  };
  CHECK(count_json(j) == count_dump(root));
  CHECK(count_dump(root) > 300);
}
