#include "bench/parse/expression_generator.h"

#include <array>
#include <string_view>

namespace ved::bench {

namespace {

struct BinaryOperator {
  std::string_view spelling;
  int level;
  bool right_associative;
  bool comparison;
};

// Every binary operator of the grammar, including the word spellings; `+`, `-` and `==`
// appear twice because real code uses them most.
constexpr std::array<BinaryOperator, 19> kBinary{{
    {"*", 7, false, false},  {"/", 7, false, false},  {"%", 7, false, false},
    {"+", 6, false, false},  {"-", 6, false, false},  {"+", 6, false, false},
    {"??", 5, true, false},  {"<", 4, false, true},   {"<=", 4, false, true},
    {">", 4, false, true},   {">=", 4, false, true},  {"==", 3, false, true},
    {"!=", 3, false, true},  {"==", 3, false, true},  {"&&", 2, false, false},
    {"and", 2, false, false}, {"||", 1, false, false}, {"or", 1, false, false},
    {"-", 6, false, false},
}};

constexpr std::array<std::string_view, 10> kStrings{
    R"("idle")",
    R"("settled")",
    R"("tab\there")",
    R"("say \"hi\"")",
    R"("line\n")",
    R"("C:\\temp\\out")",
    R"("smile \u{1F600}")",
    R"("nul\0cr\r")",
    R"("")",
    R"("deploy-")",
};

constexpr std::array<std::string_view, 8> kInts{"0", "1", "2", "42", "30_000", "0x1F", "1_000_000", "0xff_ff"};
constexpr std::array<std::string_view, 5> kFloats{"1.5", "0.25", "2e10", "1.5e-3", "1_000.125"};
constexpr std::array<std::string_view, 6> kBuiltins{"len", "min", "max", "abs", "str", "hash"};

}  // namespace

std::string ExpressionGenerator::expr(const std::vector<std::string>& names, int depth) {
  names_ = &names;
  allow_maps_ = true;
  return any(depth).text;
}

std::string ExpressionGenerator::condition(const std::vector<std::string>& names, int depth) {
  names_ = &names;
  allow_maps_ = false;
  std::string text = any(depth).text;
  allow_maps_ = true;
  return text;
}

std::string ExpressionGenerator::int_literal() { return std::string(kInts[rng_.below(kInts.size())]); }
std::string ExpressionGenerator::float_literal() { return std::string(kFloats[rng_.below(kFloats.size())]); }
std::string ExpressionGenerator::string_literal() { return std::string(kStrings[rng_.below(kStrings.size())]); }

ExpressionGenerator::Printed ExpressionGenerator::any(int depth) {
  if (depth <= 0 || rng_.chance(25)) return atom();
  size_t pick = rng_.below(10);
  if (pick < 7) return binary(depth);
  if (pick < 8) return unary(depth);
  return postfix(depth);
}

ExpressionGenerator::Printed ExpressionGenerator::binary(int depth) {
  const BinaryOperator& op = kBinary[rng_.below(kBinary.size())];
  Printed lhs = any(depth - 1);
  Printed rhs = any(depth - 1);
  // A comparison operand of a comparison must be parenthesised even where precedence
  // alone would not need it (`a < b == c` is a chain).
  auto is_comparison = [](const Printed& p) { return p.level == Equality || p.level == Relational; };
  bool paren_lhs = op.right_associative ? lhs.level <= op.level : lhs.level < op.level;
  bool paren_rhs = op.right_associative ? rhs.level < op.level : rhs.level <= op.level;
  if (op.comparison) {
    paren_lhs = paren_lhs || is_comparison(lhs);
    paren_rhs = paren_rhs || is_comparison(rhs);
  }
  return {operand(lhs, paren_lhs) + " " + std::string(op.spelling) + " " + operand(rhs, paren_rhs), op.level};
}

ExpressionGenerator::Printed ExpressionGenerator::unary(int depth) {
  Printed inner = any(depth - 1);
  std::string text = operand(inner, inner.level < Unary);
  switch (rng_.below(3)) {
    case 0: return {(text[0] == '-' ? "- " : "-") + text, Unary};
    case 1: return {"!" + text, Unary};
    default: return {"not " + text, Unary};
  }
}

ExpressionGenerator::Printed ExpressionGenerator::postfix(int depth) {
  switch (rng_.below(4)) {
    case 0: {  // a built-in call with one or two arguments
      std::string_view fn = kBuiltins[rng_.below(kBuiltins.size())];
      std::string args = any(depth - 1).text;
      if (fn == "min" || fn == "max") args += ", " + any(depth - 1).text;
      return {std::string(fn) + "(" + args + ")", Postfix};
    }
    case 1: {  // indexing a list or map
      std::string base = (*names_)[rng_.below(names_->size())];
      return {base + "[" + any(depth - 1).text + "]", Postfix};
    }
    case 2: {  // a call on a member: format-like helpers of a record
      std::string base = (*names_)[rng_.below(names_->size())];
      return {base + ".get(" + any(depth - 1).text + ", default: " + int_literal() + ")", Postfix};
    }
    default: {  // a parenthesised operand followed by a member
      Printed inner = binary(depth);
      return {"(" + inner.text + ").size", Postfix};
    }
  }
}

ExpressionGenerator::Printed ExpressionGenerator::atom() {
  switch (rng_.below(allow_maps_ ? 12 : 11)) {
    case 0: case 1: case 2: return {(*names_)[rng_.below(names_->size())], Postfix};
    case 3: return {"state." + (*names_)[rng_.below(names_->size())], Postfix};
    case 4: case 5: return {int_literal(), Postfix};
    case 6: return {float_literal(), Postfix};
    case 7: return {string_literal(), Postfix};
    case 8: return {rng_.chance(50) ? "true" : "false", Postfix};
    case 9: return {"none", Postfix};
    case 10: return {"[" + int_literal() + ", " + (*names_)[rng_.below(names_->size())] + ", " + int_literal() + ",]",
                     Postfix};
    default: return {"{" + string_literal() + ": " + int_literal() + ", \"k\": " + (*names_)[0] + "}", Postfix};
  }
}

}  // namespace ved::bench
