#include "bench/parse/expression_generator.h"

#include <array>

namespace ved::bench {

namespace {

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
constexpr std::array<std::string_view, 6> kNonZeroInts{"1", "2", "7", "42", "0x1F", "1_000"};
constexpr std::array<std::string_view, 5> kFloats{"1.5", "0.25", "2e10", "1.5e-3", "1_000.125"};

// Program-wide functions the program generator declares in its header.
constexpr std::string_view kClamp = "clamp";  // fn clamp(x: int, lo: int, hi: int) -> int
constexpr std::string_view kLabel = "label";  // fn label(n: int) -> string

}  // namespace

std::string ExpressionGenerator::expr(const ExprEnv& env, Ty type, int depth, int min_level) {
  env_ = &env;
  allow_maps_ = true;
  Printed p = gen(type, depth);
  return operand(p, p.level < min_level);
}

std::string ExpressionGenerator::condition(const ExprEnv& env, int depth, int min_level) {
  env_ = &env;
  allow_maps_ = false;
  Printed p = gen(Ty::Bool, depth);
  allow_maps_ = true;
  return operand(p, p.level < min_level);
}

std::string ExpressionGenerator::block_head(const ExprEnv& env, Ty type, int depth) {
  env_ = &env;
  allow_maps_ = false;
  std::string text = gen(type, depth).text;
  allow_maps_ = true;
  return text;
}

std::string ExpressionGenerator::int_literal() { return std::string(kInts[rng_.below(kInts.size())]); }
std::string ExpressionGenerator::nonzero_int_literal() {
  return std::string(kNonZeroInts[rng_.below(kNonZeroInts.size())]);
}
std::string ExpressionGenerator::float_literal() { return std::string(kFloats[rng_.below(kFloats.size())]); }
std::string ExpressionGenerator::string_literal() { return std::string(kStrings[rng_.below(kStrings.size())]); }

std::string ExpressionGenerator::type_name(Ty type, const std::string& record) {
  const bool capital = rng_.chance(40);
  switch (type) {
    case Ty::Int: return capital ? "Int" : "int";
    case Ty::Float: return capital ? "Float" : "float";
    case Ty::Bool: return capital ? (rng_.chance(50) ? "Boolean" : "Bool") : "bool";
    case Ty::Str: return capital ? "String" : "string";
    case Ty::OptInt: return capital ? "Int?" : "int?";
    case Ty::OptStr: return capital ? "String?" : "string?";
    case Ty::ListInt: return capital ? "List<Int>" : "list<int>";
    case Ty::ListStr: return capital ? "list<String>" : "list<string>";
    case Ty::MapStrInt: return capital ? "Map<String, Int>" : "map<string, int>";
    case Ty::Job: return record;
    case Ty::OptJob: return record + "?";
  }
  return "int";
}

// ---------------------------------------------------------------------------------
// Printing

ExpressionGenerator::Printed ExpressionGenerator::binary(std::string_view op, int level, Printed lhs, Printed rhs) {
  const bool right_associative = op == "??";
  const bool comparison = level == Equality || level == Relational;
  bool paren_lhs = right_associative ? lhs.level <= level : lhs.level < level;
  bool paren_rhs = right_associative ? rhs.level < level : rhs.level <= level;
  // A comparison operand of a comparison must be parenthesised even where precedence
  // alone would not need it (`a < b == c` is a chain).
  if (comparison) {
    paren_lhs = paren_lhs || lhs.level == Equality || lhs.level == Relational;
    paren_rhs = paren_rhs || rhs.level == Equality || rhs.level == Relational;
  }
  return {operand(lhs, paren_lhs) + " " + std::string(op) + " " + operand(rhs, paren_rhs), level};
}

ExpressionGenerator::Printed ExpressionGenerator::unary(std::string_view op, Printed inner) {
  std::string text = operand(inner, inner.level < Unary);
  if (op == "not") return {"not " + text, Unary};
  // `- -x`, not `--x`; `!` never meets a leading `=`.
  if (op == "-" && text[0] == '-') return {"- " + text, Unary};
  return {std::string(op) + text, Unary};
}

ExpressionGenerator::Printed ExpressionGenerator::call(std::string_view fn, const std::vector<std::string>& args) {
  std::string text(fn);
  text += '(';
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) text += ", ";
    text += args[i];
  }
  text += ')';
  return {text, Postfix};
}

bool ExpressionGenerator::pick_var(Ty type, Printed& out) {
  size_t count = 0;
  for (const auto& v : env_->vars) count += v.type == type;
  if (count == 0) return false;
  size_t pick = rng_.below(count);
  for (const auto& v : env_->vars) {
    if (v.type != type || pick-- != 0) continue;
    if (v.field && rng_.chance(15)) {
      static constexpr std::string_view kAliases[] = {"state.", "state.", "self.", "internal_state."};
      out = {std::string(kAliases[rng_.below(4)]) + v.name, Postfix};
    } else {
      out = {v.name, Postfix};
    }
    return true;
  }
  return false;
}

Ty ExpressionGenerator::any_scalar() {
  static constexpr Ty kScalars[] = {Ty::Int, Ty::Int, Ty::Float, Ty::Bool, Ty::Str, Ty::Str};
  return kScalars[rng_.below(6)];
}

// ---------------------------------------------------------------------------------
// Generation
//
// The order of C++ function arguments and of `+` operands is unspecified, and the
// output must be the same everywhere: every random draw is sequenced, either by a
// statement of its own or inside a braced list (evaluated left to right).

std::string ExpressionGenerator::concat(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

ExpressionGenerator::Printed ExpressionGenerator::bin(std::string_view op, int level, Ty lhs, Ty rhs, int depth) {
  Printed l = gen(lhs, depth - 1);
  Printed r = gen(rhs, depth - 1);
  return binary(op, level, l, r);
}

ExpressionGenerator::Printed ExpressionGenerator::gen(Ty type, int depth) {
  if (depth <= 0 || rng_.chance(25)) return leaf(type);
  switch (type) {
    case Ty::Int: return gen_int(depth);
    case Ty::Float: return gen_float(depth);
    case Ty::Bool: return gen_bool(depth);
    case Ty::Str: return gen_str(depth);
    case Ty::ListInt: return gen_list_int(depth);
    case Ty::ListStr: return gen_list_str(depth);
    case Ty::MapStrInt: return gen_map(depth);
    case Ty::Job: return gen_job(depth);
    case Ty::OptInt:
    case Ty::OptStr:
    case Ty::OptJob: return gen_optional(type);
  }
  return leaf(type);
}

ExpressionGenerator::Printed ExpressionGenerator::leaf(Ty type) {
  Printed var;
  const bool prefer_var = rng_.chance(60);
  switch (type) {
    case Ty::Int:
      if (prefer_var && pick_var(type, var)) return var;
      return {int_literal(), Postfix};
    case Ty::Float:
      if (prefer_var && pick_var(type, var)) return var;
      return {float_literal(), Postfix};
    case Ty::Bool:
      if (prefer_var && pick_var(type, var)) return var;
      return {rng_.chance(50) ? "true" : "false", Postfix};
    case Ty::Str:
      if (prefer_var && pick_var(type, var)) return var;
      return {string_literal(), Postfix};
    case Ty::ListInt:
      if (pick_var(type, var)) return var;
      return {concat({"[", int_literal(), ", ", int_literal(), "]"}), Postfix};
    case Ty::ListStr:
      if (pick_var(type, var)) return var;
      return {concat({"[", string_literal(), ", ", string_literal(), ",]"}), Postfix};
    case Ty::MapStrInt:
      // Callers only ask for a map where a variable or a literal may stand.
      if (pick_var(type, var)) return var;
      return {concat({"{", string_literal(), ": ", int_literal(), ", \"k\": ", int_literal(), "}"}), Postfix};
    case Ty::Job:
      if (pick_var(type, var)) return var;
      return call(env_->record, {"id = " + string_literal(), "size = " + int_literal(), "tags = []", "owner = none"});
    case Ty::OptInt:
    case Ty::OptStr:
    case Ty::OptJob: return gen_optional(type);
  }
  return {int_literal(), Postfix};
}

ExpressionGenerator::Printed ExpressionGenerator::gen_optional(Ty type) {
  Printed var;
  if (rng_.chance(70) && pick_var(type, var)) return var;
  switch (type) {
    case Ty::OptInt:
      if (!env_->find_fn.empty()) return call(env_->find_fn, {leaf(Ty::ListInt).text, leaf(Ty::Int).text});
      break;
    case Ty::OptStr:
      if (env_->observations && rng_.chance(50)) {
        if (rng_.chance(50)) return call("System.read_file", {"path: " + leaf(Ty::Str).text});
        return call("System.env", {leaf(Ty::Str).text});
      }
      {
        Printed job = leaf(Ty::Job);
        return {operand(job, job.level < Postfix) + ".owner", Postfix};
      }
    default: break;
  }
  pick_var(type, var);  // callers check that one exists
  return var;
}

ExpressionGenerator::Printed ExpressionGenerator::gen_int(int depth) {
  switch (rng_.below(13)) {
    case 0: case 1: case 2: case 3: {
      static constexpr std::string_view kOps[] = {"+", "-", "*", "/", "%", "+", "-"};
      std::string_view op = kOps[rng_.below(7)];
      int level = (op == "+" || op == "-") ? Additive : Multiplicative;
      Printed lhs = gen(Ty::Int, depth - 1);
      Printed rhs = (op == "/" || op == "%") && rng_.chance(60) ? Printed{nonzero_int_literal(), Postfix}
                                                               : gen(Ty::Int, depth - 1);
      return binary(op, level, lhs, rhs);
    }
    case 4: return unary("-", gen(Ty::Int, depth - 1));
    case 5: {
      Ty of = Ty::Str;
      switch (rng_.below(4)) {
        case 0: of = Ty::ListInt; break;
        case 1: of = Ty::ListStr; break;
        case 2: if (allow_maps_ || env_->has(Ty::MapStrInt)) of = Ty::MapStrInt; break;
        default: break;
      }
      return call("len", {gen(of, depth - 1).text});
    }
    case 6:
      switch (rng_.below(3)) {
        case 0: return call("abs", {gen(Ty::Int, depth - 1).text});
        case 1: return call("min", {gen(Ty::Int, depth - 1).text, gen(Ty::Int, depth - 1).text});
        default: return call("max", {gen(Ty::Int, depth - 1).text, gen(Ty::Int, depth - 1).text});
      }
    case 7: {
      if (rng_.chance(40)) {
        Ty of = any_scalar();
        return call("hash", {gen(of, depth - 1).text});
      }
      Ty of = rng_.chance(50) ? Ty::Float : (rng_.chance(50) ? Ty::Str : Ty::Bool);
      return call("int", {gen(of, depth - 1).text});
    }
    case 8:
      if (env_->has(Ty::OptInt) || !env_->find_fn.empty()) {
        Printed opt = gen_optional(Ty::OptInt);
        Printed fallback = gen(Ty::Int, depth - 1);
        return binary("??", Coalesce, opt, fallback);
      }
      return bin("+", Additive, Ty::Int, Ty::Int, depth);
    case 9: {
      Printed base;
      if (rng_.chance(50) && pick_var(Ty::ListInt, base))
        return {concat({base.text, "[", gen(Ty::Int, depth - 1).text, "]"}), Postfix};
      if (pick_var(Ty::MapStrInt, base)) return {concat({base.text, "[", gen(Ty::Str, depth - 1).text, "]"}), Postfix};
      return leaf(Ty::Int);
    }
    case 10: {
      const bool tags = rng_.chance(25);
      Printed job = gen(Ty::Job, depth - 1);
      if (tags) return call("len", {operand(job, job.level < Postfix) + ".tags"});
      return {operand(job, job.level < Postfix) + ".size", Postfix};
    }
    case 11:
      return call(kClamp, {gen(Ty::Int, depth - 1).text, int_literal(), gen(Ty::Int, depth - 1).text});
    default:
      if (env_->transition) {
        if (rng_.chance(50)) return call("rand", {nonzero_int_literal()});
        return call("tick", {});
      }
      return unary("-", leaf(Ty::Int));
  }
}

ExpressionGenerator::Printed ExpressionGenerator::gen_float(int depth) {
  switch (rng_.below(7)) {
    case 0: case 1: case 2: {
      static constexpr std::string_view kOps[] = {"+", "-", "*", "/", "%", "*", "+"};
      std::string_view op = kOps[rng_.below(7)];
      int level = (op == "+" || op == "-") ? Additive : Multiplicative;
      const bool divides = op == "/" || op == "%";
      // Mixed int/float arithmetic is a float; at least one side is a float.
      Printed f = gen(Ty::Float, depth - 1);
      Printed other;
      if (divides) {
        other = {rng_.chance(50) ? float_literal() : nonzero_int_literal(), Postfix};
      } else {
        Ty t = rng_.chance(50) ? Ty::Int : Ty::Float;
        other = gen(t, depth - 1);
      }
      if (!divides && rng_.chance(50)) return binary(op, level, other, f);
      return binary(op, level, f, other);
    }
    case 3: return unary("-", gen(Ty::Float, depth - 1));
    case 4: {
      Ty of = rng_.chance(70) ? Ty::Int : Ty::Str;
      return call("float", {gen(of, depth - 1).text});
    }
    case 5:
      switch (rng_.below(3)) {
        case 0: return call("abs", {gen(Ty::Float, depth - 1).text});
        case 1: return call("min", {gen(Ty::Float, depth - 1).text, gen(Ty::Int, depth - 1).text});
        default: return call("max", {gen(Ty::Int, depth - 1).text, gen(Ty::Float, depth - 1).text});
      }
    default: return leaf(Ty::Float);
  }
}

ExpressionGenerator::Printed ExpressionGenerator::gen_bool(int depth) {
  static constexpr std::string_view kOrdering[] = {"<", "<=", ">", ">="};
  static constexpr std::string_view kEquality[] = {"==", "!="};
  static constexpr std::string_view kAnd[] = {"&&", "and"}, kOr[] = {"||", "or"};
  switch (rng_.below(12)) {
    case 0: case 1: {  // numbers, mixed int and float
      Ty l = rng_.chance(70) ? Ty::Int : Ty::Float;
      Ty r = rng_.chance(70) ? Ty::Int : Ty::Float;
      if (rng_.chance(70)) return bin(kOrdering[rng_.below(4)], Relational, l, r, depth);
      return bin(kEquality[rng_.below(2)], Equality, l, r, depth);
    }
    case 2:  // strings
      if (rng_.chance(50)) return bin(kOrdering[rng_.below(4)], Relational, Ty::Str, Ty::Str, depth);
      return bin(kEquality[rng_.below(2)], Equality, Ty::Str, Ty::Str, depth);
    case 3: case 4:
      if (rng_.chance(50)) return bin(kAnd[rng_.below(2)], And, Ty::Bool, Ty::Bool, depth);
      return bin(kOr[rng_.below(2)], Or, Ty::Bool, Ty::Bool, depth);
    case 5: {
      std::string_view op = rng_.chance(50) ? "!" : "not";
      return unary(op, gen(Ty::Bool, depth - 1));
    }
    case 6:
      switch (rng_.below(4)) {
        case 0: return call("contains", {gen(Ty::ListInt, depth - 1).text, gen(Ty::Int, depth - 1).text});
        case 1: return call("contains", {gen(Ty::Str, depth - 1).text, gen(Ty::Str, depth - 1).text});
        case 2: return call("contains", {gen(Ty::ListStr, depth - 1).text, gen(Ty::Str, depth - 1).text});
        default:
          if (allow_maps_ || env_->has(Ty::MapStrInt))
            return call("contains", {gen(Ty::MapStrInt, depth - 1).text, gen(Ty::Str, depth - 1).text});
          return call("contains", {gen(Ty::Str, depth - 1).text, string_literal()});
      }
    case 7: {
      std::string_view fn = rng_.chance(50) ? "starts_with" : "ends_with";
      return call(fn, {gen(Ty::Str, depth - 1).text, gen(Ty::Str, depth - 1).text});
    }
    case 8: {  // an optional against `none`
      static constexpr Ty kOptionals[] = {Ty::OptInt, Ty::OptStr, Ty::OptJob};
      Ty t = kOptionals[rng_.below(3)];
      if (t == Ty::OptJob && !env_->has(t)) t = Ty::OptStr;
      if (t == Ty::OptInt && !env_->has(t) && env_->find_fn.empty()) t = Ty::OptStr;
      std::string_view op = kEquality[rng_.below(2)];
      const bool none_first = rng_.chance(20);
      Printed none{"none", Postfix};
      Printed opt = gen_optional(t);
      return none_first ? binary(op, Equality, none, opt) : binary(op, Equality, opt, none);
    }
    case 9: return bin(kEquality[rng_.below(2)], Equality, Ty::Bool, Ty::Bool, depth);
    case 10:
      if (env_->observations) {
        if (!env_->probe.empty() && rng_.chance(50)) return call(env_->probe, {"host: " + gen(Ty::Str, depth - 1).text});
        return call("System.file_exists", {gen(Ty::Str, depth - 1).text});
      }
      return bin(kOrdering[rng_.below(4)], Relational, Ty::Int, Ty::Int, depth);
    default: return leaf(Ty::Bool);
  }
}

ExpressionGenerator::Printed ExpressionGenerator::gen_str(int depth) {
  switch (rng_.below(11)) {
    case 0: case 1: return bin("+", Additive, Ty::Str, Ty::Str, depth);
    case 2: {
      Ty of = any_scalar();
      return call("str", {gen(of, depth - 1).text});
    }
    case 3: {
      std::string_view fn = rng_.chance(50) ? "upper" : "lower";
      return call(fn, {gen(Ty::Str, depth - 1).text});
    }
    case 4: {
      Ty a = any_scalar();
      if (rng_.chance(50)) return call("format", {"\"{}\"", gen(a, depth - 1).text});
      Ty b = any_scalar();
      return call("format", {"\"{}-{}\"", gen(a, depth - 1).text, gen(b, depth - 1).text});
    }
    case 5: {
      std::string separator = rng_.chance(50) ? "\", \"" : "\"/\"";
      return call("join", {gen(Ty::ListStr, depth - 1).text, separator});
    }
    case 6: {
      Printed opt = gen_optional(Ty::OptStr);
      Printed fallback = gen(Ty::Str, depth - 1);
      return binary("??", Coalesce, opt, fallback);
    }
    case 7: {
      Printed base;
      if (rng_.chance(40) && pick_var(Ty::Str, base))
        return {concat({base.text, "[", gen(Ty::Int, depth - 1).text, "]"}), Postfix};
      if (rng_.chance(50) && pick_var(Ty::ListStr, base))
        return {concat({base.text, "[", gen(Ty::Int, depth - 1).text, "]"}), Postfix};
      return call("slice", {gen(Ty::Str, depth - 1).text, int_literal(), gen(Ty::Int, depth - 1).text});
    }
    case 8: {
      Printed job = gen(Ty::Job, depth - 1);
      return {operand(job, job.level < Postfix) + ".id", Postfix};
    }
    case 9: return call(kLabel, {gen(Ty::Int, depth - 1).text});
    default: return leaf(Ty::Str);
  }
}

ExpressionGenerator::Printed ExpressionGenerator::gen_list_int(int depth) {
  switch (rng_.below(6)) {
    case 0:
      return {concat({"[", gen(Ty::Int, depth - 1).text, ", ", gen(Ty::Int, depth - 1).text, ", ", int_literal(), ",]"}),
              Postfix};
    case 1: return call("append", {gen(Ty::ListInt, depth - 1).text, gen(Ty::Int, depth - 1).text});
    case 2: return call("slice", {gen(Ty::ListInt, depth - 1).text, "0", gen(Ty::Int, depth - 1).text});
    case 3:
      if (allow_maps_ || env_->has(Ty::MapStrInt)) return call("values", {gen(Ty::MapStrInt, depth - 1).text});
      return leaf(Ty::ListInt);
    case 4: return call("remove", {gen(Ty::ListInt, depth - 1).text, "0"});
    default: return leaf(Ty::ListInt);
  }
}

ExpressionGenerator::Printed ExpressionGenerator::gen_list_str(int depth) {
  switch (rng_.below(6)) {
    case 0: return {concat({"[", gen(Ty::Str, depth - 1).text, ", ", string_literal(), "]"}), Postfix};
    case 1: return call("split", {gen(Ty::Str, depth - 1).text, "\",\""});
    case 2:
      if (allow_maps_ || env_->has(Ty::MapStrInt)) return call("keys", {gen(Ty::MapStrInt, depth - 1).text});
      return leaf(Ty::ListStr);
    case 3: return call("append", {gen(Ty::ListStr, depth - 1).text, gen(Ty::Str, depth - 1).text});
    case 4: {
      Printed job = gen(Ty::Job, depth - 1);
      return {operand(job, job.level < Postfix) + ".tags", Postfix};
    }
    default: return leaf(Ty::ListStr);
  }
}

ExpressionGenerator::Printed ExpressionGenerator::gen_map(int depth) {
  if (allow_maps_ && rng_.chance(40)) {
    return {concat({"{", gen(Ty::Str, depth - 1).text, ": ", gen(Ty::Int, depth - 1).text, ", \"k\": ", int_literal(),
                    ",}"}),
            Postfix};
  }
  if ((allow_maps_ || env_->has(Ty::MapStrInt)) && rng_.chance(40))
    return call("remove", {leaf(Ty::MapStrInt).text, gen(Ty::Str, depth - 1).text});
  return leaf(Ty::MapStrInt);
}

ExpressionGenerator::Printed ExpressionGenerator::gen_job(int depth) {
  switch (rng_.below(3)) {
    case 0: {
      // Record construction; both named-argument spellings.
      const std::string eq = rng_.chance(50) ? " = " : ": ";
      std::string owner = "none";
      if (!rng_.chance(30)) {
        Ty t = rng_.chance(50) ? Ty::Str : Ty::OptStr;
        owner = gen(t, depth - 1).text;
      }
      return call(env_->record, {"id" + eq + gen(Ty::Str, depth - 1).text, "size" + eq + gen(Ty::Int, depth - 1).text,
                                 "tags" + eq + gen(Ty::ListStr, depth - 1).text, "owner" + eq + owner});
    }
    case 1:
      if (env_->has(Ty::OptJob)) {
        Printed opt = gen_optional(Ty::OptJob);
        Printed fallback = gen(Ty::Job, depth - 1);
        return binary("??", Coalesce, opt, fallback);
      }
      return leaf(Ty::Job);
    default: return leaf(Ty::Job);
  }
}

}  // namespace ved::bench
