// Random Ved expressions that parse without diagnostics.
//
// Expressions are printed with the fewest parentheses the precedence table allows, so
// the parser's operator-precedence machinery does real work; parentheses are added
// only where required, and around a comparison that is the operand of another
// comparison (an unparenthesised chain is V-SYN-009).
#pragma once

#include <string>
#include <vector>

#include "bench/parse/split_mix.h"

namespace ved::bench {

class ExpressionGenerator {
 public:
  explicit ExpressionGenerator(SplitMix64& rng) : rng_(rng) {}

  // An expression over `names` with at most `depth` levels of operators.
  std::string expr(const std::vector<std::string>& names, int depth);
  // Like expr(), but never starts a `{ }` map literal anywhere, so it can stand
  // before a block: `if <condition> { ... }`.
  std::string condition(const std::vector<std::string>& names, int depth);

  std::string int_literal();    // 42, 30_000, 0x1F, ...
  std::string float_literal();  // 1.5, 2e10, 1.5e-3, ...
  std::string string_literal(); // quoted, often with escapes

 private:
  // Precedence levels, loosest first; higher binds tighter.
  enum Level { Or = 1, And, Equality, Relational, Coalesce, Additive, Multiplicative, Unary, Postfix };

  struct Printed {
    std::string text;
    int level;
  };

  Printed any(int depth);
  Printed atom();
  Printed binary(int depth);
  Printed unary(int depth);
  Printed postfix(int depth);
  static std::string operand(const Printed& p, bool parenthesize) {
    return parenthesize ? "(" + p.text + ")" : p.text;
  }

  SplitMix64& rng_;
  const std::vector<std::string>* names_ = nullptr;
  bool allow_maps_ = true;
};

}  // namespace ved::bench
