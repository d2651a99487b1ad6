// End-to-end tests of the real `vedc` binary: exit codes, streams, formats.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "frontend/diagnostic_codes.h"
#include "test_support.h"

using namespace ved;
using namespace ved::test;

namespace {

CommandResult vedc_run(const std::string& args) { return run(shell_quote(vedc()) + " " + args); }

std::string golden(const std::string& rel) { return shell_quote((tests_dir() / "golden" / rel).string()); }
std::string example(const std::string& rel) {
  return shell_quote((tests_dir().parent_path() / "examples" / rel).string());
}

}  // namespace

TEST_CASE("vedc --version and --help succeed") {
  auto v = vedc_run("--version");
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("vedc") != std::string::npos);
  auto h = vedc_run("--help");
  CHECK(h.exit_code == 0);
  CHECK(h.out.find("--check") != std::string::npos);
  CHECK(h.out.find("--emit") != std::string::npos);
}

TEST_CASE("usage errors exit 2") {
  CHECK(vedc_run("").exit_code == 2);                       // no input
  CHECK(vedc_run("--no-such-flag x.ved").exit_code == 2);   // unknown flag
  CHECK(vedc_run("--emit=nonsense x.ved").exit_code == 2);  // bad value
  CHECK(vedc_run("--color=sometimes x.ved").exit_code == 2);
  // -o makes no sense without a bundle.
  CHECK(vedc_run("--check -o x.vedb " + example("hello.ved")).exit_code == 2);
}

TEST_CASE("--emit=llvm: one LLVM function per Ved function, -O optimised") {
  auto plain = vedc_run("--emit=llvm " + example("hello.ved"));
  CHECK_MESSAGE(plain.exit_code == 0, plain.err);
  CHECK(plain.out.find("define i64 @ved_f0(") != std::string::npos);
  CHECK(plain.out.find("b0.body:") != std::string::npos);  // names survive without -O
  auto optimised = vedc_run("--emit=llvm -O " + example("hello.ved"));
  CHECK_MESSAGE(optimised.exit_code == 0, optimised.err);
  CHECK(optimised.out.find("define i64 @ved_f0(") != std::string::npos);
  CHECK(optimised.out != plain.out);
}

TEST_CASE("--check: exit 0 on a valid program, nothing on stdout") {
  auto r = vedc_run("--check " + golden("check/ok/compact-style.ved") + " " + golden("check/ok/downward-sends.ved"));
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
}

TEST_CASE("--check: exit 1 and a diagnostic on stderr for a bad program") {
  auto r = vedc_run("--check --color=never " + golden("syntax/assign-in-predicate.ved"));
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("error[V-SYN-005]") != std::string::npos);
  CHECK(r.err.find("= help:") != std::string::npos);
  CHECK(r.err.find("could not compile: 1 error") != std::string::npos);
  CHECK(r.err.find('\x1b') == std::string::npos);
}

TEST_CASE("--json prints one JSON object per diagnostic line") {
  auto r = vedc_run("--check --json " + golden("syntax/three-independent-parse-errors.ved"));
  CHECK(r.exit_code == 1);
  size_t lines = 0;
  size_t start = 0;
  while (start < r.err.size()) {
    size_t end = r.err.find('\n', start);
    auto j = nlohmann::json::parse(r.err.substr(start, end - start));
    CHECK(j["code"].get<std::string>().rfind("V-SYN-", 0) == 0);
    ++lines;
    start = end + 1;
  }
  CHECK(lines == 3);
}

TEST_CASE("an unreadable file is V-ERR-100 and exit 1") {
  auto r = vedc_run("--check /nonexistent/missing.ved");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("V-ERR-100") != std::string::npos);
  CHECK(r.err.find("/nonexistent/missing.ved") != std::string::npos);
}

TEST_CASE("--explain knows every registered code and rejects others") {
  for (const auto& info : all_diagnostic_codes()) {
    INFO("code: " << info.code);
    auto r = vedc_run("--explain " + std::string(info.code));
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(std::string(info.title)) != std::string::npos);
    CHECK(r.out.find("Example:") != std::string::npos);
  }
  auto bad = vedc_run("--explain V-SYN-999");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("did you mean") != std::string::npos);
}

TEST_CASE("--emit=tokens lists tokens with positions") {
  // examples/hello.ved: four lines of comments, then `domain Counter {`.
  auto r = vedc_run("--emit=tokens " + example("hello.ved"));
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("5:1 DOMAIN \"domain\"\n5:8 IDENT \"Counter\"\n5:16 LBRACE \"{\"\n", 0) == 0);
  CHECK(r.out.find(" EOF\n") != std::string::npos);
  auto j = vedc_run("--emit=tokens --json " + example("hello.ved"));
  CHECK(j.exit_code == 0);
  auto first = nlohmann::json::parse(j.out.substr(0, j.out.find('\n')));
  CHECK(first["kind"] == "DOMAIN");
  CHECK(first["line"] == 5);
}

TEST_CASE("--emit=ast is deterministic across runs, in both formats") {
  for (const char* fmt : {"", "--json "}) {
    auto a = vedc_run(std::string("--emit=ast ") + fmt + golden("ast/all-constructs.ved"));
    auto b = vedc_run(std::string("--emit=ast ") + fmt + golden("ast/all-constructs.ved"));
    CHECK(a.exit_code == 0);
    CHECK(a.out.size() > 1000);
    CHECK(a.out == b.out);
  }
}

TEST_CASE("-Werror is accepted") {
  CHECK(vedc_run("--check -Werror " + example("hello.ved")).exit_code == 0);
}

TEST_CASE("-Werror: a compile that fails on a warning writes no bundle and keeps the old one") {
  auto dir = std::filesystem::temp_directory_path() / ("vedc-werror-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto source = dir / "warns.ved";
  write_file(source, read_file(tests_dir() / "golden" / "check" / "undeclared-effect.ved"));
  const auto bundle = dir / "warns.vedb";
  auto failed = vedc_run("-Werror --color=never " + shell_quote(source.string()));
  CHECK(failed.exit_code == 1);
  CHECK(failed.err.find("warning[V-WRN-004]") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(bundle));
  CHECK_FALSE(std::filesystem::exists(dir / "warns.vedb.tmp"));
  // Without -Werror the warning is only a warning: the bundle is written.
  auto passed = vedc_run("--color=never " + shell_quote(source.string()));
  CHECK(passed.exit_code == 0);
  REQUIRE(std::filesystem::exists(bundle));
  // A later -Werror failure leaves the good bundle as it was, byte for byte.
  const std::string before = read_file(bundle);
  CHECK(vedc_run("-Werror " + shell_quote(source.string()) + " -o " + shell_quote(bundle.string())).exit_code == 1);
  CHECK(read_file(bundle) == before);
  std::filesystem::remove_all(dir);
}

TEST_CASE("hostile input never crashes vedc") {
  auto dir = std::filesystem::temp_directory_path() / ("vedc-hostile-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::vector<std::pair<std::string, std::string>> inputs = {
      {"empty.ved", ""},
      {"nul.ved", std::string("domain A {\0}", 12)},
      {"deep.ved", "fn f() -> int { return " + std::string(2000, '(') + "1" + std::string(2000, ')') + " }"},
      {"unclosed.ved", std::string(500, '{')},
      {"closers.ved", std::string(500, '}')},
      {"binary.ved", "\x7f" "ELF\x02\x01\x01\x00\x00\x00"},
      {"latin1.ved", "state { x: string = \"\xe9\" }"},
  };
  for (const auto& [name, text] : inputs) {
    INFO("input: " << name);
    write_file(dir / name, text);
    auto r = vedc_run("--check " + shell_quote((dir / name).string()));
    CHECK((r.exit_code == 0 || r.exit_code == 1));
    if (r.exit_code == 1) CHECK(r.err.find("error[V-") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("the README's example checks clean") {
  auto r = vedc_run("--check " + example("hello.ved"));
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  auto ast = vedc_run("--emit=ast " + example("hello.ved"));
  CHECK(ast.exit_code == 0);
  CHECK(ast.out.find("Domain name=Counter") != std::string::npos);
}

TEST_CASE("--check type-checks and --lint adds lints") {
  auto upward = vedc_run("--check --color=never " + golden("check/upward-send.ved"));
  CHECK(upward.exit_code == 1);
  CHECK(upward.err.find("error[V-ERR-001]") != std::string::npos);
  auto lint = vedc_run("--lint --color=never " + golden("check/lint-inferred-strategy.ved"));
  CHECK(lint.exit_code == 0);
  CHECK(lint.err.find("note[V-NTE-001]: goal `Healthy` uses inferred strategy `Configure, Start`") != std::string::npos);
  auto warn = vedc_run("--check -Werror " + golden("check/undeclared-effect.ved"));
  CHECK(warn.exit_code == 1);  // V-WRN-004 becomes fatal
  CHECK(vedc_run("--check " + golden("check/undeclared-effect.ved")).exit_code == 0);
}
