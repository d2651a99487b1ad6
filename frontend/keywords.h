// The words of the language: reserved words (language.md §1), contextual words, and
// "did you mean" suggestions for misspellings of either.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ved {

bool is_reserved_word(std::string_view word);

// Words that begin a top-level declaration.
const std::vector<std::string_view>& declaration_keywords();

// Words that begin a declaration, a domain member, a goal item or a statement: the
// words a misspelling at the start of an item most likely meant.
const std::vector<std::string_view>& item_keywords();

// Optimal string alignment distance (Levenshtein plus adjacent transpositions, so
// `domian` is one edit from `domain`).
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a plausible typo
// (at most 2 edits, and fewer edits than half the word's length). Ties go to the
// earlier candidate, so results never depend on anything but the inputs.
std::optional<std::string_view> nearest_word(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace ved
