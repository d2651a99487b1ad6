// Shorthands for building values and calling built-ins in the VM's unit tests.
#pragma once

#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "vm/runtime_library.h"
#include "vm/value.h"

namespace ved::vm::test {

inline Value I(int64_t i) { return Value::integer(i); }
inline Value F(double f) { return Value::floating(f); }
inline Value B(bool b) { return Value::boolean(b); }
inline Value S(std::string s) { return Value::string(std::move(s)); }
inline Value L(std::initializer_list<Value> items) { return Value::list(std::vector<Value>(items)); }
inline Value M(std::initializer_list<std::pair<Value, Value>> entries) {
  MapEntries m;
  for (const auto& [k, v] : entries) m.emplace(k, v);
  return Value::map(std::move(m));
}

// The record layouts and effect names the tests print with.
inline const std::vector<RecordLayout>& test_records() {
  static const std::vector<RecordLayout> records = {
      {"Point", {"x", "y"}},
      {"Empty", {}},
      {"Tagged", {"label", "items"}},
  };
  return records;
}
inline const std::vector<std::string>& test_effects() {
  static const std::vector<std::string> effects = {"http.get", "email.send"};
  return effects;
}
inline BuiltinContext test_context() { return {test_records(), test_effects()}; }

inline std::string str(const Value& v) { return format_value(v, test_records(), test_effects()); }

struct Call {
  FaultKind fault;
  Value result;
  std::string message;
};
inline Call call(Builtin id, std::vector<Value> args) {
  Call c{FaultKind::None, Value::unit(), {}};
  c.fault = call_builtin(id, args.data(), static_cast<uint16_t>(args.size()), c.result, c.message, test_context());
  return c;
}
// The result of a call that must succeed; the test stops here otherwise.
inline Value ok(Builtin id, std::vector<Value> args) {
  Call c = call(id, std::move(args));
  REQUIRE_MESSAGE(c.fault == FaultKind::None, c.message);
  return c.result;
}

inline std::vector<std::string> strings_of(const Value& list) {
  std::vector<std::string> out;
  for (const Value& v : list.as_list()) out.push_back(v.as_string());
  return out;
}
inline std::vector<int64_t> ints_of(const Value& list) {
  std::vector<int64_t> out;
  for (const Value& v : list.as_list()) out.push_back(v.as_int());
  return out;
}

}  // namespace ved::vm::test
