#include "frontend/keywords.h"

#include <algorithm>
#include <array>

namespace ved {

namespace {

constexpr std::array<std::string_view, 37> kReserved = {
    "domain", "state", "goal", "invariant", "transition", "fn", "type", "effect",
    "observe", "authority", "system", "environment", "deploy", "migration", "test",
    "import", "let", "if", "else", "while", "for", "in", "return", "yield", "fail",
    "assert", "emit", "send", "reply", "spawn", "schedule", "true", "false", "none",
    "and", "or", "not"};

}  // namespace

bool is_reserved_word(std::string_view word) {
  return std::find(kReserved.begin(), kReserved.end(), word) != kReserved.end();
}

const std::vector<std::string_view>& declaration_keywords() {
  static const std::vector<std::string_view> words = {
      "domain", "state", "goal", "invariant", "transition", "fn", "type", "effect", "observe",
      "authority", "system", "environment", "deploy", "migration", "test", "import"};
  return words;
}

const std::vector<std::string_view>& item_keywords() {
  static const std::vector<std::string_view> words = [] {
    std::vector<std::string_view> w = declaration_keywords();
    for (std::string_view extra : {
             // members and goal items
             "capability", "scope", "predicate", "target", "priority", "strategy", "terminate_after",
             "backoff", "step", "slice", "budget",
             // statements
             "let", "if", "else", "while", "for", "return", "yield", "fail", "assert", "emit", "send",
             "reply", "spawn", "schedule"})
      w.push_back(extra);
    return w;
  }();
  return words;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  // Callers only care about small distances; a length gap bounds the distance from
  // below, and skipping the table keeps huge identifiers (fuzz input) cheap.
  if ((n > m ? n - m : m - n) > 3) return n > m ? n - m : m - n;
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::optional<std::string_view> nearest_word(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::optional<std::string_view> best;
  size_t best_distance = 3;
  for (std::string_view c : candidates) {
    if (c == word) return std::nullopt;  // not a misspelling
    size_t dist = edit_distance(word, c);
    if (dist < best_distance && dist * 2 < word.size()) {
      best = c;
      best_distance = dist;
    }
  }
  return best;
}

}  // namespace ved
