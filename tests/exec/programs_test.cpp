// Whole programs: what must not compile, deterministic bundles, and the shared corpus.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "exec_support.h"

using namespace ved::exec;

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::filesystem::path> corpus_files() {
  std::vector<std::filesystem::path> out;
  for (const auto& [dir, ext] : {std::pair{"upstream", ".lxm"}, std::pair{"docs", ".ved"}}) {
    for (const auto& e : std::filesystem::directory_iterator(corpus_dir() / dir))
      if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool is_rejected_authority_example(const std::filesystem::path& p) {
  return p.filename() == "authority-lateral.ved" || p.filename() == "authority-upward.ved";
}

}  // namespace

TEST_CASE("programs that must not compile report the right error at the right place") {
  const std::vector<CompileErrorCase> cases = {
      // A literal format string with the wrong number of `{}` is caught at compile time.
      {"fn f() -> string { return format(\"{}-{}\", 1) }", "V-TYP-004 at 1:27"},
      {"fn f() -> int { return \"a\" }", "V-TYP-012 at 1:24"},
      {"fn f(x: int) -> int { if x > 0 { return 1 } }", "V-TYP-012 at 1:4"},
      {"fn f() -> int { let x = 1 + \"a\" return 0 }", "V-TYP-008 at 1:27"},
      {"fn f() -> int { return 1 + 2.5 }", "V-TYP-012 at 1:24"},  // no implicit float -> int
      {"fn f() -> bool { return 1 < 2 < 3 }", "V-SYN-009 at 1:31"},
      {"fn f() -> int { return y }", "V-TYP-001 at 1:24"},
      {"fn f() -> int { return g(1) }", "V-TYP-009 at 1:24"},
      {"fn f(a: int) -> int { return a }\nfn g() -> int { return f(1, 2) }", "V-TYP-004 at 2:29"},
      {"type P { x: int }\nfn f() -> P { return P(z = 1) }", "V-TYP-005 at 2:24"},
      {"fn f() -> int { let m: map<float, int> = {} return 0 }", "V-TYP-003 at 1:28"},
      {"fn f() -> int { let xs = [] return 0 }", "V-TYP-018 at 1:26"},
      // Purity and determinism.
      {"fn f() -> int { return tick() }", "V-ERR-011 at 1:24"},
      {"fn f() -> int { return System.time }", "V-ERR-002 at 1:24"},
      {"domain D { state { n: int } invariant I { rand(3) > 0 } }", "V-ERR-011 at 1:43"},
      {"domain A { state { n: int } }\ndomain B { state { m: int } transition T() { m = A.n } }", "V-ERR-010 at 2:50"},
      {"domain D { state { n: int } goal G { predicate: n = 3 } }", "V-SYN-005 at 1:51"},
      // yield only between the top-level statements of a transition.
      {"fn f() -> int { yield return 1 }", "V-SYN-010 at 1:17"},
      {"domain D { state { n: int } transition T() { if n > 0 { yield } } }", "V-SYN-010 at 1:57"},
      {"domain D { state { n: int } transition T() { n = \"x\" } }", "V-TYP-002 at 1:50"},
      {"domain D { state { n: int } transition T() { send Nowhere.Go() } }", "V-TYP-006 at 1:51"},
      {"domain D { state { n: int } transition T() { n = 1 } transition T() { n = 0 } }", "V-TYP-010 at 1:65"},
  };
  CHECK(run_compile_error_cases(cases) == cases.size());
}

TEST_CASE("the same source compiles to the same bytes, a changed source does not") {
  const std::vector<std::string> sources = {
      "fn f() -> int { return 1 }",
      "type P { x: int, y: int = 2 }\nfn f(p: P) -> map<string, P> { return {\"b\": p, \"a\": P(x = 1)} }",
      "domain D { state { n: int = 1  m: map<int, string> }\n"
      "  goal G { predicate: n > 3 }\n"
      "  transition T() { n = n + 1  yield  m[n] = str(n) }\n"
      "  transition U() { slice a { n = 0 } slice b { n = 1 } }\n}",
  };
  std::vector<std::string> bundles;
  for (const auto& s : sources) {
    CAPTURE(s);
    Compiled a = compile(s), b = compile(s);
    REQUIRE_MESSAGE(a.ok(), a.describe());
    REQUIRE(b.ok());
    CHECK_FALSE(a.bundle.empty());
    CHECK(a.bundle == b.bundle);
    CHECK(a.program->hash == b.program->hash);
    bundles.push_back(a.bundle);
  }
  // Different programs, different bundles (the determinism above is not vacuous).
  CHECK(bundles[0] != bundles[1]);
  Compiled changed = compile("fn f() -> int { return 2 }");
  REQUIRE(changed.ok());
  CHECK(changed.bundle != bundles[0]);
}

TEST_CASE("corpus: every program compiles, loads, compiles the same twice and initialises" *
          doctest::test_suite("corpus")) {
  const auto files = corpus_files();
  REQUIRE(files.size() >= 10);
  size_t compiled_count = 0;
  for (const auto& path : files) {
    CAPTURE(path.string());
    const std::string text = read_text(path);
    REQUIRE_FALSE(text.empty());
    Compiled first = compile(text, path.filename().string());
    if (is_rejected_authority_example(path)) {
      CHECK_FALSE(first.ok());
      const std::string expected = path.filename() == "authority-lateral.ved" ? "V-ERR-007" : "V-ERR-001";
      CHECK(first.error_codes == std::vector<std::string>{expected});
      continue;
    }
    REQUIRE_MESSAGE(first.ok(), first.describe());
    Compiled second = compile(text, path.filename().string());
    REQUIRE(second.ok());
    CHECK(first.bundle == second.bundle);
    const auto& p = *first.program;
    CHECK_FALSE(p.domains.empty());
    ved::vm::TestDriver driver(p);
    for (const auto& d : p.domains) {
      CAPTURE(d.name);
      auto init = driver.initial_state(d.name);
      CHECK_MESSAGE(init.ok, init.fault.message);
      if (!init.ok) continue;
      CHECK(init.value.tag() == ved::vm::Tag::Record);
      CHECK(init.value.as_record().fields.size() == p.records[d.state_record].fields.size());
      // The initializer is deterministic too.
      CHECK(show(p, driver.initial_state(d.name).value) == show(p, init.value));
    }
    ++compiled_count;
  }
  CHECK(compiled_count == files.size() - 2);
}

TEST_CASE("corpus: slices-and-faults runs to Ledger{a: 60, b: 40, moves: 3} and an invariant fault" *
          doctest::test_suite("corpus")) {
  // The behaviour its header comment promises: three Transfers commit; the fourth commits
  // its first slice (a: 60, b: 40), and its second slice would make `a` negative, so that
  // slice alone is rolled back (moves stays 3), naming invariant NonNegative and slice
  // `account`.
  Compiled c = compile(read_text(corpus_dir() / "docs" / "slices-and-faults.ved"), "slices-and-faults.ved");
  REQUIRE_MESSAGE(c.ok(), c.describe());
  const auto& p = *c.program;
  ved::vm::TestDriver driver(p);
  auto init = driver.initial_state("Ledger");
  REQUIRE(init.ok);
  Value state = init.value;
  CHECK(show(p, state) == "Ledger.State(a: 100, b: 0, moves: 0)");
  for (int i = 0; i < 3; ++i) {
    auto run = driver.run_transition("Ledger", "Transfer", {}, state, 1'000'000);
    REQUIRE_FALSE(run.faulted);
    CHECK(run.slices.size() == 2);
    state = run.state;
  }
  CHECK(show(p, state) == "Ledger.State(a: 70, b: 30, moves: 3)");
  auto drain = driver.evaluate("Ledger", "Drain", state, 1'000'000);
  REQUIRE(drain.ok);
  CHECK_FALSE(drain.value.as_bool());
  auto fourth = driver.run_transition("Ledger", "Transfer", {}, state, 1'000'000);
  CHECK(fourth.faulted);
  CHECK(fourth.fault.kind == FaultKind::Invariant);
  CHECK(fourth.fault.message.find("NonNegative") != std::string::npos);
  CHECK(fourth.fault.message.find("account") != std::string::npos);
  CHECK(fourth.slices.size() == 2);
  CHECK(show(p, fourth.state) == "Ledger.State(a: 60, b: 40, moves: 3)");
}
