// GuardedParser (frontend/guarded_parser.h) is the generated VedParser with a nesting
// bound and CachedPredictionSimulator (grammar/cached_prediction_simulator.h), which
// answers predictions from the DFA's cached edges before ANTLR's own adaptivePredict. It
// must choose exactly as ANTLR does: on every test program, fuzz regression and corpus
// program, its parse tree is compared with the one the generated parser builds with
// ANTLR's ParserATNSimulator, in SLL and in LL mode, with error recovery (so programs
// with syntax errors count too), each parsed twice so that the second parse runs on a
// DFA that the first one filled.
#include <string>
#include <vector>

// Before doctest, which defines FAIL and GIVEN: names of tokens, and of the generated
// contexts' accessors for them.
#include "VedParser.h"
#include "frontend/guarded_parser.h"
#include "frontend/source_char_stream.h"
#include "frontend/source_manager.h"
#include "frontend/token_source.h"

#include <doctest/doctest.h>

#include "test_support.h"

using namespace ved;

namespace {

struct Lexed {
  explicit Lexed(const std::string& text) : input(text), source(input), tokens(&source) { tokens.fill(); }
  parse_detail::SourceCharStream input;
  parse_detail::VedTokenSource source;
  antlr4::BufferedTokenStream tokens;
};

template <class Parser>
std::string tree_of(const std::string& text, antlr4::atn::PredictionMode mode) {
  Lexed lexed(text);
  Parser parser(&lexed.tokens);
  parser.removeErrorListeners();
  parser.template getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(mode);
  return parser.program()->toStringTree(&parser);
}

void check_files(const std::vector<std::filesystem::path>& files) {
  size_t compared = 0;
  for (const auto& path : files) {
    std::string name = path.filename().string();
    // Inputs built to nest past the front end's bounds: ved::parse refuses them before
    // parsing, and the generated parser alone would recurse as deep as they go.
    if (name.find("too-deep") != std::string::npos || name.find("stack-overflow") != std::string::npos ||
        name.find("timeout") != std::string::npos) {
      continue;
    }
    std::string text = test::read_file(path);
    if (find_invalid_utf8(text) != std::string::npos) continue;  // never lexed: refused before
    INFO(path.string());
    for (auto mode : {antlr4::atn::PredictionMode::SLL, antlr4::atn::PredictionMode::LL}) {
      for (int round = 0; round < 2; ++round) {
        std::string expected = tree_of<grammar::VedParser>(text, mode);
        CHECK(tree_of<parse_detail::GuardedParser>(text, mode) == expected);
      }
    }
    ++compared;
  }
  CHECK(compared > 0);
}

std::string nested_parens(size_t depth) {
  return "fn f() -> int { return " + std::string(depth, '(') + "1" + std::string(depth, ')') + " }\n";
}

}  // namespace

TEST_CASE("GuardedParser builds the generated parser's tree on every test program and fuzz regression") {
  check_files(test::files_in(test::tests_dir(), {".ved", ".lxm"}, true));
}

TEST_CASE("GuardedParser builds the generated parser's tree on the corpus" * doctest::test_suite("corpus")) {
  check_files(test::files_in(test::corpus_dir(), {".ved", ".lxm"}, true));
}

TEST_CASE("GuardedParser stops a parse that nests past its bound, at a token inside the nesting") {
  // Two or three levels of rules per parenthesis: 300 stay under the bound of 1,000,
  // 600 go past it.
  CHECK(tree_of<parse_detail::GuardedParser>(nested_parens(300), antlr4::atn::PredictionMode::SLL).size() > 0);

  std::string text = nested_parens(600);
  Lexed lexed(text);
  parse_detail::GuardedParser parser(&lexed.tokens);
  parser.removeErrorListeners();
  size_t stopped_at = 0;
  bool stopped = false;
  try {
    parser.program();
  } catch (const parse_detail::NestingTooDeep& e) {
    stopped = true;
    stopped_at = e.token_index;
  }
  REQUIRE(stopped);
  // Token 8 is the first `(` (fn f ( ) -> int { return), 8 + 600 the `1`.
  CHECK(lexed.tokens.get(stopped_at)->getText() == "(");
  CHECK(stopped_at > 8 + 300);
  CHECK(stopped_at < 8 + 600);
}
