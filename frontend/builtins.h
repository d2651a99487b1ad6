// The pure built-in functions of language.md §9, and the names that reach for the wall
// clock or OS entropy (rejected with V-ERR-002).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "frontend/diagnostic.h"
#include "frontend/types.h"

namespace ved {

enum class BuiltinPurity {
  Pure,        // usable anywhere
  ReadsTick,   // tick(): deterministic, usable anywhere
  DrawsRandom, // rand(n): advances the instance's generator; transitions only
  TestOnly,    // advance_ticks(n): simulation tests only
};

struct BuiltinCall {
  Span span;                       // the whole call
  std::vector<TypeRef> arg_types;  // already checked
  std::vector<Span> arg_spans;
  std::optional<std::string> first_string_literal;  // for format("{}...", ...)
};

bool is_builtin_function(const std::string& name);
BuiltinPurity builtin_purity(const std::string& name);
const std::vector<std::string>& builtin_function_names();

// The result type of `name(args)`, reporting V-TYP-004 / V-TYP-002 when the arguments
// do not fit. Returns the Error type after reporting.
TypeRef type_builtin_call(const std::string& name, const BuiltinCall& call, TypeTable& types, DiagnosticSink& sink);

// Whether a dotted path (`System.time`, `now`, `Math.random`) names a wall-clock or
// entropy source. Such names are never declared in Ved.
bool is_nondeterministic_source(const std::string& path);

}  // namespace ved
