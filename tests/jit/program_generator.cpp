#include "program_generator.h"

#include <vector>

namespace ved::jit_test {

namespace {

enum class T { Int, Float, Bool, Str, List };

const char* type_name(T t) {
  switch (t) {
    case T::Int: return "int";
    case T::Float: return "float";
    case T::Bool: return "bool";
    case T::Str: return "string";
    case T::List: return "list<int>";
  }
  return "int";
}

struct Var {
  std::string name;
  T type;
  bool assignable;  // loop variables are not
};

struct Helper {
  std::string name;
  std::vector<T> params;
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  std::string program() {
    std::string out;
    const uint32_t helpers = 1 + rng_.below(4);
    for (uint32_t h = 0; h < helpers; ++h) out += helper(h);
    out += main_fn();
    return out;
  }

 private:
  // ---- functions ---------------------------------------------------------------------
  std::string helper(uint32_t index) {
    Helper h{"h" + std::to_string(index), {}};
    const uint32_t arity = 1 + rng_.below(3);
    static const T kParamTypes[] = {T::Int, T::Int, T::Float, T::Bool};
    for (uint32_t k = 0; k < arity; ++k) h.params.push_back(kParamTypes[rng_.below(4)]);
    begin_function();
    std::string text = "fn " + h.name + "(";
    for (size_t k = 0; k < h.params.size(); ++k) {
      const std::string p = "p" + std::to_string(k);
      text += (k ? ", " : "") + p + ": " + type_name(h.params[k]);
      scope_.push_back({p, h.params[k], true});
    }
    text += ") -> int {\n";
    text += statements(2 + rng_.below(4), 1);
    text += "    return " + expr(T::Int, 3) + "\n}\n\n";
    helpers_.push_back(h);  // callable by later functions only: no unbounded recursion
    return text;
  }

 public:
  std::string transition_program() {
    std::string out;
    const uint32_t helpers = 1 + rng_.below(3);
    for (uint32_t h = 0; h < helpers; ++h) out += helper(h);
    begin_function();
    scope_.push_back({"n", T::Int, true});
    out += "domain D {\n    state { out: string }\n    transition Go(n: int) {\n";
    const uint32_t parts = 2 + rng_.below(3);
    const size_t mark = scope_.size();
    for (uint32_t part = 0; part < parts; ++part) {
      // Top-level statements only: what they declare lives on across the yield.
      const uint32_t count = 2 + rng_.below(4);
      for (uint32_t k = 0; k < count; ++k) out += statement(2);
      if (part + 1 < parts) out += "        yield\n";
    }
    std::string result = "\"\"";
    for (const Var& v : scope_) {
      const std::string shown = v.type == T::Str ? v.name : "str(" + v.name + ")";
      result = "(" + result + " + \"" + v.name + "=\" + " + shown + " + \";\")";
    }
    scope_.resize(mark);
    out += "        out = " + result + "\n    }\n}\n";
    return out;
  }

 private:
  std::string main_fn() {
    begin_function();
    scope_.push_back({"n", T::Int, true});
    std::string text = "fn main(n: int) -> string {\n";
    text += statements(4 + rng_.below(6), 1);
    // Prints every variable still in scope: the result shows all that was computed.
    std::string result = "\"\"";
    for (const Var& v : scope_) {
      const std::string shown = v.type == T::Str ? v.name : "str(" + v.name + ")";
      result = "(" + result + " + \"" + v.name + "=\" + " + shown + " + \";\")";
    }
    text += "    return " + result + "\n}\n";
    return text;
  }

  void begin_function() {
    scope_.clear();
    next_var_ = 0;
  }

  // ---- statements -----------------------------------------------------------------------
  std::string indent(int depth) { return std::string(4 * depth, ' '); }

  std::string statements(uint32_t count, int depth) {
    std::string out;
    const size_t mark = scope_.size();
    for (uint32_t k = 0; k < count; ++k) out += statement(depth);
    scope_.resize(mark);  // block scope: what was declared inside ends here
    return out;
  }

  std::string fresh() { return "v" + std::to_string(next_var_++); }

  std::string statement(int depth) {
    const std::string in = indent(depth);
    const uint32_t pick = rng_.below(depth >= 3 ? 60 : 100);
    if (pick < 30) {
      static const T kTypes[] = {T::Int, T::Int, T::Float, T::Bool, T::Str, T::List};
      const T t = kTypes[rng_.below(6)];
      const std::string name = fresh();
      std::string line = in + "let " + name + ": " + type_name(t) + " = " + expr(t, 3) + "\n";
      scope_.push_back({name, t, true});
      return line;
    }
    if (pick < 53) {
      const Var* v = pick_var(true);
      if (!v) return in + "let " + fresh() + " = " + expr(T::Int, 2) + "\n";
      if (v->type == T::Int && rng_.chance(30)) return in + v->name + " += " + expr(T::Int, 2) + "\n";
      if (v->type == T::List && rng_.chance(40))
        return in + v->name + "[" + index(1) + "] = " + expr(T::Int, 2) + "\n";
      return in + v->name + " = " + expr(v->type, 3) + "\n";
    }
    // At a transition's top level too: an assert the compiler folds to a certain fault
    // there makes the next slice unreachable, which vedc once compiled to a bundle the
    // verifier refused (fixed in d931f75).
    if (pick < 55) {
      return in + "assert " + expr(T::Bool, 2) + ", \"assert " + std::to_string(next_var_) + "\"\n";
    }
    if (pick < 75) {
      std::string out = in + "if " + expr(T::Bool, 2) + " {\n" + statements(1 + rng_.below(3), depth + 1);
      if (rng_.chance(4)) out += indent(depth + 1) + "fail \"failed " + std::to_string(next_var_) + "\"\n";
      out += in + "}";
      if (rng_.chance(50)) out += " else {\n" + statements(1 + rng_.below(3), depth + 1) + in + "}";
      return out + "\n";
    }
    if (pick < 85) {
      const std::string i = fresh();
      std::string out = in + "for " + i + " in " + expr(T::Int, 1) + ".." + small_bound() + " {\n";
      scope_.push_back({i, T::Int, false});
      out += statements(1 + rng_.below(3), depth + 1);
      scope_.pop_back();
      return out + in + "}\n";
    }
    if (pick < 92) {
      const Var* xs = pick_typed(T::List);
      if (!xs) return statement(depth);
      const std::string x = fresh();
      std::string out = in + "for " + x + " in " + xs->name + " {\n";
      scope_.push_back({x, T::Int, false});
      out += statements(1 + rng_.below(2), depth + 1);
      scope_.pop_back();
      return out + in + "}\n";
    }
    // A while loop with a counter nothing else assigns.
    const std::string w = fresh();
    std::string out = in + "let " + w + " = 0\n" + in + "while " + w + " < " + small_bound() + " {\n";
    scope_.push_back({w, T::Int, false});
    out += statements(1 + rng_.below(3), depth + 1);
    out += indent(depth + 1) + w + " += 1\n";
    return out + in + "}\n";
  }

  // The end of a loop range: small, sometimes from `n`, so that loops stay short.
  std::string small_bound() {
    if (rng_.chance(30))
      if (const Var* v = pick_typed(T::Int)) return "(" + v->name + " % 7)";
    return std::to_string(rng_.below(9));
  }

  const Var* pick_var(bool assignable) {
    std::vector<const Var*> c;
    for (const Var& v : scope_)
      if (!assignable || v.assignable) c.push_back(&v);
    return c.empty() ? nullptr : c[rng_.below(static_cast<uint32_t>(c.size()))];
  }
  const Var* pick_typed(T t) {
    std::vector<const Var*> c;
    for (const Var& v : scope_)
      if (v.type == t) c.push_back(&v);
    return c.empty() ? nullptr : c[rng_.below(static_cast<uint32_t>(c.size()))];
  }

  // ---- expressions ------------------------------------------------------------------------
  std::string expr(T t, int depth) {
    if (depth <= 0 || rng_.chance(25)) return leaf(t);
    switch (t) {
      case T::Int: return int_expr(depth - 1);
      case T::Float: return float_expr(depth - 1);
      case T::Bool: return bool_expr(depth - 1);
      case T::Str: return str_expr(depth - 1);
      case T::List: return list_expr(depth - 1);
    }
    return leaf(t);
  }

  std::string leaf(T t) {
    if (rng_.chance(60))
      if (const Var* v = pick_typed(t)) return v->name;
    switch (t) {
      case T::Int: {
        static const char* kEdges[] = {"9223372036854775807", "(-9223372036854775807 - 1)", "4611686018427387904",
                                       "3037000500", "-1", "0"};
        if (rng_.chance(6)) return kEdges[rng_.below(6)];
        return std::to_string(static_cast<int>(rng_.below(200)) - 50);
      }
      case T::Float: {
        static const char* kFloats[] = {"0.0", "1.5", "-2.25", "1e300", "0.1", "3.0", "-0.0", "1e-300"};
        return kFloats[rng_.below(8)];
      }
      case T::Bool: return rng_.chance(50) ? "true" : "false";
      case T::Str: {
        static const char* kStrings[] = {"\"b\"", "\"a\"", "\"xyz\"", "\"h\\u{e9}llo\"", "\"42\""};
        return kStrings[rng_.below(5)];
      }
      case T::List: return "[" + leaf(T::Int) + ", " + leaf(T::Int) + "]";
    }
    return "0";
  }

  // An index: usually within a list (every list has two elements or more) or at the
  // start of a string, sometimes anything.
  std::string index(int depth) {
    if (rng_.chance(15)) return expr(T::Int, depth);
    if (rng_.chance(50)) return "0";
    return "(abs(" + expr(T::Int, depth) + ") % 2)";
  }
  std::string string_index(int depth) { return rng_.chance(80) ? "0" : index(depth); }
  // The right of `/` or `%`: usually a literal that is not zero.
  std::string divisor(T t, int depth) {
    if (rng_.chance(25)) return expr(t, depth);
    const std::string n = std::to_string(1 + rng_.below(9));
    return t == T::Float ? n + ".5" : n;
  }

  std::string call_helper(int depth) {
    const Helper& h = helpers_[rng_.below(static_cast<uint32_t>(helpers_.size()))];
    std::string out = h.name + "(";
    for (size_t k = 0; k < h.params.size(); ++k) out += (k ? ", " : "") + expr(h.params[k], depth);
    return out + ")";
  }

  std::string int_expr(int d) {
    static const char* kOps[] = {"+", "-", "*", "/", "%"};
    switch (rng_.below(12)) {
      case 0: case 1: case 2: case 3: {
        const uint32_t op = rng_.below(5);
        return "(" + expr(T::Int, d) + " " + kOps[op] + " " + (op >= 3 ? divisor(T::Int, d) : expr(T::Int, d)) + ")";
      }
      case 4: return "(-" + expr(T::Int, d) + ")";
      case 5: return "len(" + expr(rng_.chance(50) ? T::Str : T::List, d) + ")";
      case 6: return expr(T::List, d) + "[" + index(d) + "]";
      case 7: return helpers_.empty() ? leaf(T::Int) : call_helper(d);
      case 8: return "abs(" + expr(T::Int, d) + ")";
      case 9: return std::string(rng_.chance(50) ? "min(" : "max(") + expr(T::Int, d) + ", " + expr(T::Int, d) + ")";
      case 10: return "int(" + expr(T::Float, d) + ")";
      default: return leaf(T::Int);
    }
  }

  std::string float_expr(int d) {
    static const char* kOps[] = {"+", "-", "*", "/", "%"};
    switch (rng_.below(6)) {
      case 0: case 1: case 2: {
        const uint32_t op = rng_.below(5);
        return "(" + expr(T::Float, d) + " " + kOps[op] + " " + (op >= 3 ? divisor(T::Float, d) : expr(T::Float, d)) + ")";
      }
      case 3: return "float(" + expr(T::Int, d) + ")";
      case 4: return "(-" + expr(T::Float, d) + ")";
      default: return "(" + expr(T::Float, d) + " * " + expr(T::Int, d) + ")";  // int -> float
    }
  }

  std::string bool_expr(int d) {
    static const char* kCmp[] = {"<", "<=", ">", ">=", "==", "!="};
    switch (rng_.below(7)) {
      case 0: case 1: return "(" + expr(T::Int, d) + " " + kCmp[rng_.below(6)] + " " + expr(T::Int, d) + ")";
      case 2: return "(" + expr(T::Float, d) + " " + kCmp[rng_.below(6)] + " " + expr(T::Float, d) + ")";
      case 3: return "(" + expr(T::Str, d) + " " + kCmp[rng_.below(6)] + " " + expr(T::Str, d) + ")";
      case 4: return "(!" + expr(T::Bool, d) + ")";
      case 5: return "(" + expr(T::Bool, d) + (rng_.chance(50) ? " && " : " || ") + expr(T::Bool, d) + ")";
      default: return "contains(" + expr(T::Str, d) + ", " + expr(T::Str, d) + ")";
    }
  }

  std::string str_expr(int d) {
    switch (rng_.below(4)) {
      case 0: return "(" + expr(T::Str, d) + " + " + expr(T::Str, d) + ")";
      case 1: {
        static const T kShown[] = {T::Int, T::Float, T::Bool, T::List};
        return "str(" + expr(kShown[rng_.below(4)], d) + ")";
      }
      case 2: return expr(T::Str, d) + "[" + string_index(d) + "]";
      default: return leaf(T::Str);
    }
  }

  std::string list_expr(int d) {
    if (rng_.chance(50)) return "append(" + expr(T::List, d) + ", " + expr(T::Int, d) + ")";
    return "[" + expr(T::Int, d) + ", " + expr(T::Int, d) + ", " + expr(T::Int, d) + "]";
  }

  Rng rng_;
  std::vector<Var> scope_;
  std::vector<Helper> helpers_;
  uint32_t next_var_ = 0;
};

}  // namespace

std::string generate_program(uint64_t seed) { return Generator(seed).program(); }
std::string generate_transition_program(uint64_t seed) { return Generator(seed).transition_program(); }

}  // namespace ved::jit_test
