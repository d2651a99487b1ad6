// Simulated adapters: `--effect NAME=ok[:V]|fail[:M]|script:FILE`.
#include <doctest/doctest.h>

#include <fstream>

#include "effects_support.h"
#include "vm/effects/simulated_adapter.h"
#include "vm/runtime_library.h"

namespace ved::effects_test {
namespace {

const char* kProgram = R"(
effect Infra.Provision(size: string) -> string : infrastructure
effect Infra.Count() -> int : local
effect Infra.Ping() : local
state { n: int }
transition T() { n = n + 1 }
)";

std::string describe(const vm::EffectOutcome& o) {
  if (!o.ok) return "failed " + o.code + ": " + o.message;
  if (o.value.tag() == vm::Tag::String) return "ok " + o.value.as_string();
  if (o.value.tag() == vm::Tag::Int) return "ok " + std::to_string(o.value.as_int());
  return o.value.tag() == vm::Tag::Unit ? "ok ()" : "ok ?";
}

std::string answer(const vm::Program& p, const std::string& effect, const std::string& spec, uint64_t ordinal = 0) {
  std::string error;
  auto adapter = vm::parse_simulated_adapter(p, effect, spec, error);
  if (!adapter) return "error: " + error;
  CHECK(adapter->between_ticks());
  return describe(adapter->execute(request_for(p, effect, {}, ordinal)));
}

TEST_CASE("simulated adapters answer as their binding says") {
  auto p = compile_program(kProgram);
  CHECK(answer(*p, "Infra.Provision", "ok:vm-1") == "ok vm-1");
  CHECK(answer(*p, "Infra.Provision", "ok") == "ok ");
  CHECK(answer(*p, "Infra.Provision", "fail:quota") == "failed failed: quota");
  CHECK(answer(*p, "Infra.Provision", "fail") == "failed failed: failed (simulated)");
  CHECK(answer(*p, "Infra.Count", "ok:42") == "ok 42");
  CHECK(answer(*p, "Infra.Count", "ok") == "ok 0");
  CHECK(answer(*p, "Infra.Ping", "ok") == "ok ()");
}

TEST_CASE("bad bindings are refused with a reason") {
  auto p = compile_program(kProgram);
  CHECK(answer(*p, "Infra.Nope", "ok") == "error: the program has no effect `Infra.Nope`");
  CHECK(answer(*p, "Infra.Count", "ok:4x") == "error: `4x` is not a value of `Infra.Count`'s result type");
  CHECK(answer(*p, "Infra.Count", "maybe").find("expected ok[:VALUE], fail[:MESSAGE] or script:FILE") !=
        std::string::npos);
  CHECK(answer(*p, "Infra.Count", "script:/nonexistent/answers").find("cannot read the script") != std::string::npos);
}

TEST_CASE("a script answers the k-th intent with its k-th line, then repeats the last") {
  auto p = compile_program(kProgram);
  ScratchDir dir;
  const auto file = (dir.path() / "answers").string();
  std::ofstream(file) << "# provisioning goes badly, then well\nfail:quota\n\nfail:timeout\nok:vm-7\n";
  CHECK(answer(*p, "Infra.Provision", "script:" + file, 0) == "failed failed: quota");
  CHECK(answer(*p, "Infra.Provision", "script:" + file, 1) == "failed failed: timeout");
  CHECK(answer(*p, "Infra.Provision", "script:" + file, 2) == "ok vm-7");
  CHECK(answer(*p, "Infra.Provision", "script:" + file, 9) == "ok vm-7");
  std::ofstream(file) << "ok:1\nbogus\n";
  CHECK(answer(*p, "Infra.Count", "script:" + file) == "error: " + file + ":2: `bogus`: expected ok[:VALUE], fail[:MESSAGE] or script:FILE");
  std::ofstream(file, std::ios::trunc) << "# nothing\n";
  CHECK(answer(*p, "Infra.Count", "script:" + file).find("has no answers") != std::string::npos);
}

}  // namespace
}  // namespace ved::effects_test
