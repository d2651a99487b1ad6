// Shared by the built-in adapters' tests: a program with the standard library, its
// built-in adapters bound with a scratch directory as the file-system root, and helpers
// that run an effect or sample an observation the way the runtime would, checking that
// every value handed back has the declared type.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "effects_support.h"
#include "vm/effects/builtin_adapters.h"
#include "vm/interpreter.h"

namespace ved::effects_test {

inline const char* kStdlibProgram = R"(
state { n: int }
transition T() { n = n + 1 }
)";

inline const vm::ExternalInfo& observation_info(const vm::Program& program, const std::string& name) {
  for (const auto& o : program.observations)
    if (o.name == name) return o;
  throw std::runtime_error("the program has no observation " + name);
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

struct Builtins {
  ScratchDir scratch;               // holds `root` (the fs root) and `outside`
  std::filesystem::path root;       // canonical
  std::filesystem::path outside;    // canonical, a sibling of root
  std::ostringstream log;
  std::unique_ptr<vm::Program> program = compile_program(kStdlibProgram);
  vm::AdapterSet set;

  // `tweak` adjusts the options before binding (fs_root and log are set already).
  template <typename Tweak>
  explicit Builtins(Tweak tweak) {
    std::filesystem::create_directories(scratch.path() / "root");
    std::filesystem::create_directories(scratch.path() / "outside");
    root = std::filesystem::canonical(scratch.path() / "root");
    outside = std::filesystem::canonical(scratch.path() / "outside");
    vm::BuiltinAdapterOptions options;
    options.fs_root = root;
    options.log = &log;
    tweak(options);
    vm::bind_builtin_adapters(*program, options, set);
  }
  Builtins() : Builtins([](vm::BuiltinAdapterOptions&) {}) {}

  vm::EffectOutcome run(const std::string& effect, std::vector<vm::Value> args,
                        std::optional<std::string> idempotency_key = std::nullopt, std::string instance = "Test") {
    vm::EffectAdapter* adapter = set.effect(effect);
    REQUIRE_MESSAGE(adapter != nullptr, effect << " is not bound");
    vm::EffectRequest request = request_for(*program, effect, std::move(args));
    request.idempotency_key = std::move(idempotency_key);
    request.instance = std::move(instance);
    vm::EffectOutcome outcome = adapter->execute(request);
    if (outcome.ok) CHECK_MESSAGE(vm::value_conforms(*program, outcome.value, request.result_type), effect);
    // Failure messages become EffectError.message, a Ved string.
    CHECK(vm::is_valid_utf8(outcome.message));
    return outcome;
  }

  // Samples `name`; on success the value is checked against the declared result type.
  bool observe(const std::string& name, std::vector<vm::Value> args, vm::Value& out, std::string& error) {
    vm::ObservationAdapter* adapter = set.observation(name);
    REQUIRE_MESSAGE(adapter != nullptr, name << " is not bound");
    const uint32_t result = observation_info(*program, name).result;
    const bool ok = adapter->sample(name, args, result, out, error);
    if (ok) CHECK_MESSAGE(vm::value_conforms(*program, out, result), name);
    return ok;
  }
};

inline vm::Value str(const std::string& s) { return vm::Value::string(s); }

inline vm::Value strings(std::vector<std::string> items) {
  std::vector<vm::Value> values;
  for (auto& s : items) values.push_back(vm::Value::string(std::move(s)));
  return vm::Value::list(std::move(values));
}

}  // namespace ved::effects_test
