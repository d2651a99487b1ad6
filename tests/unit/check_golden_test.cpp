// The checker against programs with known results: tests/golden/check/*.ved declare in
// `// expect:` lines exactly the diagnostics `vedc --check` (or, after a first line
// `// mode: lint`, `vedc --lint`) reports; tests/golden/check/ok/*.ved must check clean;
// and the shared corpus compiles with exactly the warnings its README names.
#include <doctest/doctest.h>

#include <regex>
#include <set>

#include "frontend/diagnostic_codes.h"
#include "frontend/diagnostic_render.h"
#include "test_support.h"

using namespace ved;
using namespace ved::test;

namespace {

bool lint_mode(const std::string& text) { return text.rfind("// mode: lint", 0) == 0; }

std::vector<std::string> codes_of(const Parsed& p) {
  std::vector<std::string> out;
  for (const auto& d : p.sink.diagnostics()) out.push_back(d.code);
  std::sort(out.begin(), out.end());
  return out;
}

std::string corpus_text(const std::string& rel) { return read_file(corpus_dir() / rel); }

}  // namespace

TEST_CASE("each negative program gets exactly its expected diagnostics") {
  auto files = files_in(tests_dir() / "golden" / "check", {".ved"});
  CHECK(files.size() >= 60);
  for (const auto& path : files) {
    INFO("file: " << path.filename().string());
    std::string text = read_file(path);
    auto expected = expectations(text);
    REQUIRE_FALSE(expected.empty());
    auto checked = check_text(path.filename().string(), text, lint_mode(text));
    CHECK(checked->program != nullptr);
    CHECK(diagnostic_positions(*checked) == expected);
  }
}

TEST_CASE("every semantic code is exercised by a negative test, with a label and a help") {
  std::set<std::string> seen;
  for (const auto& path : files_in(tests_dir() / "golden" / "check", {".ved"})) {
    std::string text = read_file(path);
    for (const auto& e : expectations(text)) seen.insert(e.substr(0, e.find(' ')));
    auto checked = check_text(path.filename().string(), text, lint_mode(text));
    for (const auto& d : checked->sink.diagnostics()) {
      INFO(path.filename().string() << ": " << d.code);
      CHECK(find_diagnostic_code(d.code) != nullptr);
      CHECK_FALSE(d.primary.message.empty());
      CHECK_FALSE(d.help.empty());
    }
  }
  for (const auto& info : all_diagnostic_codes()) {
    std::string code(info.code);
    // File errors have no source to point into; vedc_cli_test covers them.
    if (code.rfind("V-SYN-", 0) == 0 || code == "V-ERR-100" || code == "V-ERR-101") continue;
    // Import errors involve several files on disk; imports_test covers them.
    if (code == "V-ERR-019" || code == "V-ERR-020" || code == "V-ERR-021") continue;
    // `--against` compares with a deployed bundle; against_test covers these.
    if (code == "V-ERR-023" || code == "V-ERR-024") continue;
    INFO("code: " << code);
    CHECK(seen.count(code) == 1);
  }
}

TEST_CASE("correct programs check clean") {
  auto files = files_in(tests_dir() / "golden" / "check" / "ok", {".ved"});
  CHECK(files.size() >= 10);
  for (const auto& path : files) {
    INFO("file: " << path.filename().string());
    auto checked = check_text(path.filename().string(), read_file(path));
    CHECK(diagnostic_positions(*checked) == std::vector<std::string>{});
  }
}

TEST_CASE("the upstream corpus compiles with exactly the warnings its README names" * doctest::test_suite("corpus")) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"upstream/hello-stability.lxm", {}},
      {"upstream/worker-pool-scaling.lxm", {}},
      {"upstream/public-demo.lxm", {}},
      {"upstream/state-convergence.lxm", {}},
      {"upstream/test_2_message_storm.lxm", {}},
      {"upstream/test_3_convergence_chaos.lxm", {}},
      {"upstream/showcase.lxm", {}},
      {"upstream/retry-reconciliation.lxm", {"V-WRN-004"}},
      {"upstream/authority-scope-demo.lxm", {"V-WRN-004"}},
  };
  CHECK(expected.size() == files_in(corpus_dir() / "upstream", {".lxm"}).size());
  for (const auto& [rel, codes] : expected) {
    INFO("file: " << rel);
    auto checked = check_text(rel, corpus_text(rel));
    CHECK_FALSE(checked->sink.has_errors());
    CHECK(codes_of(*checked) == codes);
  }
}

TEST_CASE("the docs corpus: compiling programs are clean, the two authority violations are caught at the send" *
          doctest::test_suite("corpus")) {
  for (const char* rel : {"docs/authority.ved", "docs/effects-outcomes.ved", "docs/fanout.ved",
                          "docs/slices-and-faults.ved", "docs/hello-stability.ved"}) {
    INFO("file: " << rel);
    auto checked = check_text(rel, corpus_text(rel));
    CHECK(diagnostic_positions(*checked) == std::vector<std::string>{});
  }
  auto upward = check_text("up", corpus_text("docs/authority-upward.ved"));
  CHECK(diagnostic_positions(*upward) == std::vector<std::string>{"V-ERR-001 at 18:9"});
  const auto& up = upward->sink.diagnostics().at(0);
  CHECK(up.message.find("Workspace(\"payments\")") != std::string::npos);  // names both scopes
  CHECK(up.message.find("Environment(\"prod\")") != std::string::npos);

  auto lateral = check_text("lat", corpus_text("docs/authority-lateral.ved"));
  CHECK(diagnostic_positions(*lateral) == std::vector<std::string>{"V-ERR-007 at 12:28"});
  const auto& lat = lateral->sink.diagnostics().at(0);
  REQUIRE_FALSE(lat.help.empty());
  CHECK(lat.help[0].find("Environment(\"prod\")") != std::string::npos);  // the nearest common ancestor
}

TEST_CASE("an undeclared effect's first use declares it, a disagreeing use names the first") {
  const std::string source = R"(domain Oncall {
    state { paged: int }
    transition First() { emit Pager.Page(who: "oncall", level: 2) }
    transition Second() { emit Pager.Page(whom: "oncall", level: 2) }
}
)";
  auto checked = check_text("pager.ved", source);
  CHECK(diagnostic_positions(*checked) ==
        std::vector<std::string>{"V-TYP-004 at 4:43", "V-WRN-004 at 3:31", "V-WRN-004 at 4:32"});
  for (const auto& d : checked->sink.diagnostics()) {
    INFO(d.code << ": " << d.message);
    REQUIRE_FALSE(d.help.empty());
    if (d.code == "V-WRN-004") {
      // The warning suggests the declaration the first use implies.
      CHECK(d.help[0].find("`effect Pager.Page(who: string, level: int) : local`") != std::string::npos);
      continue;
    }
    CHECK(d.message == "undeclared effect `Pager.Page` has no argument `whom` at its first use");
    REQUIRE(d.secondary.size() == 1);
    LineColumn first = checked->sources.locate(d.secondary[0].span);
    CHECK(first.line == 3);
    CHECK(first.column == 31);
    CHECK(d.secondary[0].message == "first used here as `Pager.Page(who: string, level: int)`");
    CHECK(d.help[0].find("declare the effect, e.g. `effect Pager.Page(who: string, level: int) : local`") !=
          std::string::npos);
  }
}

TEST_CASE("--lint notes the inferred strategy of state-convergence" * doctest::test_suite("corpus")) {
  auto checked = check_text("sc", corpus_text("upstream/state-convergence.lxm"), true);
  bool found = false;
  for (const auto& d : checked->sink.diagnostics()) {
    if (d.code == "V-NTE-001" && d.message.find("`Configure, Start`") != std::string::npos) found = true;
  }
  CHECK(found);
}

TEST_CASE("checking is deterministic") {
  for (const auto& path : files_in(tests_dir() / "golden" / "check", {".ved"})) {
    std::string text = read_file(path);
    auto a = check_text("x.ved", text, lint_mode(text));
    auto b = check_text("x.ved", text, lint_mode(text));
    std::string ra, rb;
    for (const auto& d : a->sink.diagnostics()) ra += render_json(d, a->sources) + "\n";
    for (const auto& d : b->sink.diagnostics()) rb += render_json(d, b->sources) + "\n";
    CHECK(ra == rb);
  }
}

TEST_CASE("one mistake, one diagnostic: an ill-typed value does not cascade") {
  auto checked = check_text("t.ved",
                            "domain A {\n"
                            "  state { n: int  s: string }\n"
                            "  transition T() {\n"
                            "    let x = n + \"a\"\n"       // V-TYP-008
                            "    let y = x * 2 + len(x)\n"  // x is Error: nothing more
                            "    s = str(y)\n"
                            "  }\n"
                            "}\n");
  CHECK(diagnostic_positions(*checked) == std::vector<std::string>{"V-TYP-008 at 4:15"});
}

TEST_CASE("the model records scopes, privileges, strategies and expression types") {
  auto checked = check_text("m.ved", read_file(tests_dir() / "golden" / "check" / "ok" / "downward-sends.ved"));
  REQUIRE(checked->model);
  const auto& m = *checked->model;
  const DomainSym* scaler = m.domain("Scaler");
  const DomainSym* payments = m.domain("PaymentsApi");
  REQUIRE(scaler);
  REQUIRE(payments);
  CHECK(m.authority.describe(scaler->scope) == "Environment(\"prod\")");
  CHECK(m.authority.describe(payments->scope) == "Workspace(\"payments\")");
  CHECK(m.authority.is_ancestor_or_self(scaler->scope, payments->scope));
  CHECK_FALSE(m.authority.is_ancestor_or_self(payments->scope, scaler->scope));
  CHECK(scaler->privilege == Privilege::Local);
  REQUIRE(m.goals.size() == 1);
  CHECK(m.goals[0].strategy == std::vector<std::string>{"ScaleOut"});
  CHECK_FALSE(m.goals[0].inferred_strategy);
  CHECK(m.expr_types.size() > 5);
}
