#include "frontend/builtins.h"

#include <algorithm>

namespace ved {

namespace {

const std::vector<std::string> kNames = {
    "len",   "min",   "max",         "abs",       "contains", "keys",  "values", "append", "remove",
    "slice", "split", "join",        "upper",     "lower",    "starts_with", "ends_with", "format",
    "hash",  "tick",  "rand",        "int",       "float",    "str",   "advance_ticks"};

bool is_error(TypeRef t) { return t->is_error() || t->kind == TypeKind::Unknown; }

// How each built-in is called, for help lines.
std::string builtin_signature(const std::string& name) {
  static const std::vector<std::pair<std::string, std::string>> kSignatures = {
      {"len", "len(collection)"}, {"min", "min(a, b)"}, {"max", "max(a, b)"}, {"abs", "abs(n)"},
      {"contains", "contains(collection, item)"}, {"keys", "keys(map)"}, {"values", "values(map)"},
      {"append", "append(list, element)"}, {"remove", "remove(list, index)` or `remove(map, key)"},
      {"slice", "slice(list_or_string, start, end)"}, {"split", "split(text, separator)"},
      {"join", "join(list, separator)"}, {"upper", "upper(text)"}, {"lower", "lower(text)"},
      {"starts_with", "starts_with(text, prefix)"}, {"ends_with", "ends_with(text, suffix)"},
      {"format", "format(\"{} and {}\", a, b)"}, {"hash", "hash(value)"}, {"tick", "tick()"},
      {"rand", "rand(bound)"}, {"int", "int(value)"}, {"float", "float(value)"}, {"str", "str(value)"},
      {"advance_ticks", "advance_ticks(n)"}};
  for (const auto& [n, sig] : kSignatures)
    if (n == name) return sig;
  return name + "(...)";
}

}  // namespace

bool is_builtin_function(const std::string& name) {
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

const std::vector<std::string>& builtin_function_names() { return kNames; }

BuiltinPurity builtin_purity(const std::string& name) {
  if (name == "tick") return BuiltinPurity::ReadsTick;
  if (name == "rand") return BuiltinPurity::DrawsRandom;
  if (name == "advance_ticks") return BuiltinPurity::TestOnly;
  return BuiltinPurity::Pure;
}

TypeRef type_builtin_call(const std::string& name, const BuiltinCall& call, TypeTable& T, DiagnosticSink& sink) {
  const auto& a = call.arg_types;
  auto arity = [&](size_t lo, size_t hi, const char* shape) {
    if (a.size() >= lo && a.size() <= hi) return true;
    sink.error("V-TYP-004", call.span, "`" + name + "` takes " + shape)
        .label("called with " + std::to_string(a.size()) + " argument" + (a.size() == 1 ? "" : "s"))
        .help("call it as `" + builtin_signature(name) + "`");
    return false;
  };
  auto mismatch = [&](size_t i, const std::string& wanted) {
    sink.error("V-TYP-002", call.arg_spans[i], "`" + name + "` expects " + wanted)
        .label("this is `" + type_to_string(a[i]) + "`")
        .help("convert it explicitly with `int(..)`, `float(..)` or `str(..)` if that is what you mean");
    return T.error();
  };
  for (TypeRef t : a) {
    if (t->is_error()) return T.error();  // already reported
  }

  if (name == "len") {
    if (!arity(1, 1, "one string, list or map")) return T.error();
    if (!is_error(a[0]) && a[0]->kind != TypeKind::String && a[0]->kind != TypeKind::List &&
        a[0]->kind != TypeKind::Map)
      return mismatch(0, "a string, list or map");
    return T.int_();
  }
  if (name == "min" || name == "max") {
    if (!arity(1, 2, "two numbers, or one list of numbers")) return T.error();
    if (a.size() == 1) {
      if (is_error(a[0])) return T.unknown();
      if (a[0]->kind != TypeKind::List || !a[0]->element->is_numeric()) return mismatch(0, "a list of numbers");
      return a[0]->element;
    }
    for (size_t i = 0; i < 2; ++i)
      if (!is_error(a[i]) && !a[i]->is_numeric()) return mismatch(i, "a number");
    if (is_error(a[0]) || is_error(a[1])) return T.unknown();
    return a[0] == a[1] ? a[0] : T.float_();
  }
  if (name == "abs") {
    if (!arity(1, 1, "one number")) return T.error();
    if (!is_error(a[0]) && !a[0]->is_numeric()) return mismatch(0, "a number");
    return a[0];
  }
  if (name == "contains") {
    if (!arity(2, 2, "a collection and an item")) return T.error();
    if (is_error(a[0])) return T.bool_();
    if (a[0]->kind == TypeKind::String) {
      if (!assignable(a[1], T.string())) return mismatch(1, "a string");
    } else if (a[0]->kind == TypeKind::List) {
      if (!assignable(a[1], a[0]->element)) return mismatch(1, a_type(a[0]->element));
    } else if (a[0]->kind == TypeKind::Map) {
      if (!assignable(a[1], a[0]->key)) return mismatch(1, a_type(a[0]->key) + " key");
    } else {
      return mismatch(0, "a string, list or map");
    }
    return T.bool_();
  }
  if (name == "keys" || name == "values") {
    if (!arity(1, 1, "one map")) return T.error();
    if (is_error(a[0])) return T.unknown();
    if (a[0]->kind != TypeKind::Map) return mismatch(0, "a map");
    return T.list(name == "keys" ? a[0]->key : a[0]->element);
  }
  if (name == "append") {
    if (!arity(2, 2, "a list and an element")) return T.error();
    if (is_error(a[0])) return is_error(a[1]) ? T.unknown() : T.list(a[1]);
    if (a[0]->kind != TypeKind::List) return mismatch(0, "a list");
    if (!assignable(a[1], a[0]->element)) return mismatch(1, a_type(a[0]->element));
    return a[0]->element->kind == TypeKind::Unknown ? T.list(a[1]) : a[0];
  }
  if (name == "remove") {
    if (!arity(2, 2, "a list and an index, or a map and a key")) return T.error();
    if (is_error(a[0])) return a[0];
    if (a[0]->kind == TypeKind::List) {
      if (!assignable(a[1], T.int_())) return mismatch(1, "an int index");
    } else if (a[0]->kind == TypeKind::Map) {
      if (!assignable(a[1], a[0]->key)) return mismatch(1, a_type(a[0]->key) + " key");
    } else {
      return mismatch(0, "a list or a map");
    }
    return a[0];
  }
  if (name == "slice") {
    if (!arity(3, 3, "a string or list, a start and an end")) return T.error();
    if (!is_error(a[0]) && a[0]->kind != TypeKind::String && a[0]->kind != TypeKind::List)
      return mismatch(0, "a string or a list");
    for (size_t i = 1; i < 3; ++i)
      if (!assignable(a[i], T.int_())) return mismatch(i, "an int");
    return a[0];
  }
  if (name == "split") {
    if (!arity(2, 2, "a string and a separator")) return T.error();
    for (size_t i = 0; i < 2; ++i)
      if (!assignable(a[i], T.string())) return mismatch(i, "a string");
    return T.list(T.string());
  }
  if (name == "join") {
    if (!arity(2, 2, "a list of strings and a separator")) return T.error();
    if (!assignable(a[0], T.list(T.string()))) return mismatch(0, "a list of strings");
    if (!assignable(a[1], T.string())) return mismatch(1, "a string");
    return T.string();
  }
  if (name == "upper" || name == "lower") {
    if (!arity(1, 1, "one string")) return T.error();
    if (!assignable(a[0], T.string())) return mismatch(0, "a string");
    return T.string();
  }
  if (name == "starts_with" || name == "ends_with") {
    if (!arity(2, 2, "two strings")) return T.error();
    for (size_t i = 0; i < 2; ++i)
      if (!assignable(a[i], T.string())) return mismatch(i, "a string");
    return T.bool_();
  }
  if (name == "format") {
    if (a.empty()) {
      arity(1, SIZE_MAX, "a format string and its arguments");
      return T.error();
    }
    if (!assignable(a[0], T.string())) return mismatch(0, "a format string");
    if (call.first_string_literal) {
      size_t holes = 0;
      for (size_t p = call.first_string_literal->find("{}"); p != std::string::npos;
           p = call.first_string_literal->find("{}", p + 2))
        ++holes;
      if (holes != a.size() - 1) {
        sink.error("V-TYP-004", call.span, "`format` string has " + std::to_string(holes) + " `{}` but " +
                                               std::to_string(a.size() - 1) + " argument" +
                                               (a.size() == 2 ? " follows" : "s follow"))
            .label("mismatched placeholders")
            .help("give one argument per `{}`");
        return T.error();
      }
    }
    return T.string();
  }
  if (name == "hash") {
    if (!arity(1, 1, "one value")) return T.error();
    return T.int_();
  }
  if (name == "tick") {
    if (!arity(0, 0, "no arguments")) return T.error();
    return T.int_();
  }
  if (name == "rand") {
    if (!arity(1, 1, "an int bound")) return T.error();
    if (!assignable(a[0], T.int_())) return mismatch(0, "an int bound");
    return T.int_();
  }
  if (name == "int" || name == "float" || name == "str") {
    if (!arity(1, 1, "one value")) return T.error();
    if (name != "str" && !is_error(a[0]) && !a[0]->is_numeric() && a[0]->kind != TypeKind::String &&
        a[0]->kind != TypeKind::Bool)
      return mismatch(0, "a number, bool or string");
    return name == "int" ? T.int_() : name == "float" ? T.float_() : T.string();
  }
  if (name == "advance_ticks") {
    if (!arity(1, 1, "a number of ticks")) return T.error();
    if (!assignable(a[0], T.int_())) return mismatch(0, "an int");
    return T.unit();
  }
  return T.error();
}

bool is_nondeterministic_source(const std::string& path) {
  static const std::vector<std::string> kExact = {
      "now",         "time",          "clock",        "random",      "uuid",         "entropy",
      "System.time", "System.now",    "System.clock", "System.random", "System.uuid", "Math.random",
      "Time.now",    "Clock.now",     "Date.now",     "OS.random",   "OS.entropy",   "System.nanotime"};
  if (std::find(kExact.begin(), kExact.end(), path) != kExact.end()) return true;
  return path.rfind("Random.", 0) == 0 || path.rfind("Clock.", 0) == 0;
}

}  // namespace ved
