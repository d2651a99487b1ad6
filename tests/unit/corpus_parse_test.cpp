// Every program of the shared corpus parses with no diagnostic, read in place.
#include <doctest/doctest.h>

#include "frontend/ast_dump.h"
#include "test_support.h"

using namespace ved;
using namespace ved::test;

namespace {

std::vector<std::filesystem::path> corpus_files() {
  auto files = files_in(corpus_dir() / "upstream", {".lxm", ".ved"});
  auto docs = files_in(corpus_dir() / "docs", {".ved", ".lxm"});
  files.insert(files.end(), docs.begin(), docs.end());
  return files;
}

}  // namespace

TEST_CASE("the corpus is where the tests expect it" * doctest::test_suite("corpus")) {
  // Guards against the loops below passing vacuously.
  CHECK(corpus_files().size() >= 16);
}

TEST_CASE("every corpus program parses without diagnostics" * doctest::test_suite("corpus")) {
  for (const auto& path : corpus_files()) {
    INFO("file: " << path.string());
    auto parsed = parse_text(path.filename().string(), read_file(path));
    CHECK(parsed->program != nullptr);
    CHECK(diagnostic_positions(*parsed) == std::vector<std::string>{});
  }
}

TEST_CASE("corpus files are in the mode their shape implies" * doctest::test_suite("corpus")) {
  auto script = parse_text("hello", read_file(corpus_dir() / "docs" / "hello-stability.ved"));
  REQUIRE(script->program);
  CHECK(script->program->mode == ast::FileMode::Script);
  REQUIRE(script->program->domains.size() == 1);
  CHECK(script->program->domains[0].name.name == "Main");
  CHECK(script->program->domains[0].implicit);
  CHECK(script->program->domains[0].goals.size() == 1);
  CHECK(script->program->domains[0].transitions.size() == 1);

  auto system = parse_text("showcase", read_file(corpus_dir() / "upstream" / "showcase.lxm"));
  REQUIRE(system->program);
  CHECK(system->program->mode == ast::FileMode::System);
  CHECK(system->program->domains.size() == 2);
  CHECK(system->program->systems.size() == 1);
  CHECK(system->program->deploys.size() == 2);
  CHECK(system->program->environments.size() == 1);
}

TEST_CASE("both surface styles give the same goal") {
  // Style A (compact corpus) and style B (docs) spell one goal two ways.
  auto a = parse_text("a.ved", "domain D { state { x: int } goal G { priority 10 target x == 3 strategy { Inc } } "
                               "transition Inc { step { x = x + 1 } } }");
  auto b = parse_text("b.ved", "domain D {\n state { x: Int }\n goal G {\n  priority: 10\n  predicate: x == 3\n"
                               "  strategy: Inc\n }\n transition Inc() { x = x + 1 }\n}\n");
  REQUIRE(a->program);
  REQUIRE(b->program);
  const auto& ga = a->program->domains[0].goals[0];
  const auto& gb = b->program->domains[0].goals[0];
  CHECK(*ga.priority->number == 10);
  CHECK(*gb.priority->number == 10);
  CHECK((*ga.strategy)[0].name == "Inc");
  CHECK((*gb.strategy)[0].name == "Inc");
  auto* pa = ga.predicate->as<ast::BinaryExpr>();
  auto* pb = gb.predicate->as<ast::BinaryExpr>();
  REQUIRE(pa);
  REQUIRE(pb);
  CHECK(pa->op == ast::BinaryOp::Eq);
  CHECK(pb->op == ast::BinaryOp::Eq);
  // `step { }` and a plain body are both one slice.
  CHECK(a->program->domains[0].transitions[0].slices.size() == 1);
  CHECK(b->program->domains[0].transitions[0].slices.size() == 1);
  CHECK(a->program->domains[0].transitions[0].slices[0].step_block);
  CHECK_FALSE(b->program->domains[0].transitions[0].slices[0].step_block);
}

TEST_CASE("parsing is deterministic: the same text gives the same dump" * doctest::test_suite("corpus")) {
  for (const auto& path : corpus_files()) {
    INFO("file: " << path.string());
    std::string text = read_file(path);
    auto first = parse_text("x.ved", text);
    auto second = parse_text("x.ved", text);
    REQUIRE(first->program);
    REQUIRE(second->program);
    CHECK(render_dump_json(ast_to_dump(*first->program, first->sources)) ==
          render_dump_json(ast_to_dump(*second->program, second->sources)));
  }
}

TEST_CASE("a byte-order mark and CRLF line endings are accepted, and positions stay right") {
  auto checked = check_text("bom.ved",
                            "\xEF\xBB\xBF" "domain A {\r\n  state { x: int }\r\n  transition T() { x = \"s\" }\r\n}\r\n");
  CHECK(diagnostic_positions(*checked) == std::vector<std::string>{"V-TYP-002 at 3:23"});
}
