// VedTokenSource (frontend/token_source.h) must make exactly the tokens of the lexer
// ANTLR generates from Ved.g4, which stays the definition: every field the parser and
// the diagnostics read (type, code-point start and stop, line, column, channel, text),
// for the test programs, the corpus, the fuzz regressions and generated text full of
// near-misses (unterminated strings and comments, half operators, number shapes,
// non-ASCII, a byte-order mark).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "VedLexer.h"
#include "frontend/source_manager.h"
#include "frontend/token_source.h"
#include "test_support.h"

using namespace ved;

namespace {

struct Seen {
  size_t type, start, stop, line, column, channel;
  std::string text;
  bool operator==(const Seen&) const = default;
};

std::string describe(const Seen& t) {
  return std::to_string(t.type) + " [" + std::to_string(t.start) + "," + std::to_string(t.stop) + "] " +
         std::to_string(t.line) + ":" + std::to_string(t.column) + " ch" + std::to_string(t.channel) + " `" + t.text +
         "`";
}

template <class Source>
std::vector<Seen> drain(Source& source) {
  std::vector<Seen> out;
  while (true) {
    std::unique_ptr<antlr4::Token> t = source.nextToken();
    out.push_back(Seen{t->getType(), t->getStartIndex(), t->getStopIndex(), t->getLine(), t->getCharPositionInLine(),
                       t->getChannel(), t->getText()});
    if (t->getType() == antlr4::Token::EOF) return out;
  }
}

// Both lexers over `text` (valid UTF-8); the first difference, or "".
std::string compare(const std::string& text) {
  antlr4::ANTLRInputStream reference_input(text);
  grammar::VedLexer reference(&reference_input);
  reference.removeErrorListeners();
  std::vector<Seen> expected = drain(reference);

  parse_detail::SourceCharStream input(text);
  parse_detail::VedTokenSource source(input);
  std::vector<Seen> actual = drain(source);

  for (size_t i = 0; i < std::max(expected.size(), actual.size()); ++i) {
    if (i >= expected.size()) return "extra token " + describe(actual[i]);
    if (i >= actual.size()) return "missing token " + describe(expected[i]);
    if (!(expected[i] == actual[i])) return "token " + std::to_string(i) + ": VedLexer " + describe(expected[i]) +
                                            ", VedTokenSource " + describe(actual[i]);
  }
  return "";
}

void check_files(const std::vector<std::filesystem::path>& files) {
  for (const auto& path : files) {
    std::string text = test::read_file(path);
    if (find_invalid_utf8(text) != std::string::npos) continue;  // never lexed: refused before
    INFO(path.string());
    CHECK(compare(text) == "");
  }
}

}  // namespace

TEST_CASE("the token source lexes every literal token of the grammar as VedLexer does") {
  antlr4::ANTLRInputStream empty("");
  grammar::VedLexer lexer(&empty);
  const antlr4::dfa::Vocabulary& vocabulary = lexer.getVocabulary();
  size_t literals = 0;
  for (size_t type = 1; type <= vocabulary.getMaxTokenType(); ++type) {
    std::string literal = vocabulary.getLiteralName(type);
    if (literal.size() < 3) continue;  // no fixed spelling
    std::string spelling = literal.substr(1, literal.size() - 2);
    ++literals;
    INFO(spelling);
    CHECK(compare(spelling) == "");
    CHECK(compare(" " + spelling + "x") == "");
    CHECK(compare(spelling + spelling + "\n" + spelling) == "");
  }
  CHECK(literals > 90);
}

TEST_CASE("the token source lexes the test programs and fuzz regressions as VedLexer does") {
  check_files(test::files_in(test::tests_dir(), {".ved", ".lxm"}, true));
}

TEST_CASE("the token source lexes the corpus as VedLexer does" * doctest::test_suite("corpus")) {
  check_files(test::files_in(test::corpus_dir(), {".ved", ".lxm"}, true));
}

TEST_CASE("the token source lexes generated near-misses as VedLexer does") {
  // Pieces chosen to sit on the boundaries between rules.
  const std::vector<std::string> pieces = {
      "0", "1", "9", "_", "x", "X", "e", "E", "f", "a", "Z", ".", "..", "+", "-", "*", "/", "%", "\"", "\\",
      "\n", "\r", " ", "\t", "\f", "\xC3\xA9", "\xEF\xBB\xBF", "\xF0\x9F\x98\x80", "&", "|", "=", "<", ">", "!",
      "?", "#", "'", "{", "}", "(", ")", "[", "]", ",", ";", ":", "@", "/*", "*/", "//", "**", "domain",
      "send_high", "terminate_after", "in", "int", "0x", "0X_", "1.5e+3", "2e-", "3.", "1_000", "\"a\\\"b\"",
      "\\\n", "->", "??", "+=", "-=", "*=", "==", "!=", "<=", ">=", "&&", "||"};
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next = [&]() {  // splitmix64: the same strings on every machine
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    size_t length = next() % 40;
    for (size_t i = 0; i < length; ++i) text += pieces[next() % pieces.size()];
    INFO(text);
    REQUIRE(compare(text) == "");
  }
}
