// bind_builtin_adapters: which names get which adapter; the text helpers they share.
#include <doctest/doctest.h>

#include "builtin_support.h"
#include "vm/effects/adapter_text.h"

namespace ved::effects_test {
namespace {

TEST_CASE("every standard-library effect and observation is bound") {
  Builtins b;
  for (const char* name : {"System.WriteFile", "System.AppendFile", "System.DeleteFile", "Log.Info", "Log.Warn",
                           "Net.HttpGet", "Net.HttpPost", "Process.Run"})
    CHECK_MESSAGE(b.set.effect(name) != nullptr, name);
  for (const char* name : {"System.file_exists", "System.read_file", "System.env"})
    CHECK_MESSAGE(b.set.observation(name) != nullptr, name);
  // `pure`/`local` built-ins between ticks, `service` and above on the pool (runtime.md §7).
  for (const auto& e : b.program->effects) {
    vm::EffectAdapter* a = b.set.effect(e.name);
    if (a) CHECK_MESSAGE(a->between_ticks() == (e.privilege <= 1), e.name);
  }
}

TEST_CASE("effects that are not the standard library's stay unbound") {
  auto program = compile_program("effect Infra.Provision(size: string) -> string : infrastructure\n" +
                                 std::string(kStdlibProgram));
  ScratchDir dir;
  vm::BuiltinAdapterOptions options;
  options.fs_root = dir.path();
  vm::AdapterSet set;
  vm::bind_builtin_adapters(*program, options, set);
  CHECK(set.effect("Infra.Provision") == nullptr);
  CHECK(set.effect("System.WriteFile") != nullptr);
}

TEST_CASE("binding needs an existing fs root") {
  auto program = compile_program(kStdlibProgram);
  vm::BuiltinAdapterOptions options;
  options.fs_root = "/nonexistent/ved/root";
  vm::AdapterSet set;
  CHECK_THROWS_AS(vm::bind_builtin_adapters(*program, options, set), std::runtime_error);
}

TEST_CASE("a relative fs root is made absolute") {
  // The root is resolved once, at binding: later changes of the working directory do not move it.
  auto program = compile_program(kStdlibProgram);
  vm::BuiltinAdapterOptions options;
  options.fs_root = ".";
  vm::AdapterSet set;
  vm::bind_builtin_adapters(*program, options, set);
  vm::Value out;
  std::string error;
  std::vector<vm::Value> args{str(".")};
  REQUIRE(set.observation("System.file_exists")->sample("System.file_exists", args, 0, out, error));
  CHECK(out.as_bool());
}

TEST_CASE("repair_utf8 replaces each invalid byte and keeps valid text") {
  CHECK(vm::repair_utf8("plain") == "plain");
  CHECK(vm::repair_utf8("\xC3\xA9t\xC3\xA9") == "\xC3\xA9t\xC3\xA9");
  CHECK(vm::repair_utf8("a\xFF" "b") == "a\xEF\xBF\xBD" "b");
  CHECK(vm::repair_utf8("\xC3") == "\xEF\xBF\xBD");                  // cut short
  CHECK(vm::repair_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  CHECK(vm::is_valid_utf8(vm::repair_utf8("\x80\x80\xF4\x90\x80\x80")));
}

TEST_CASE("escape_line keeps text on one line") {
  CHECK(vm::escape_line("a\nb\r\tc\\d\x01\x7F") == "a\\nb\\r\\tc\\\\d\\u{1}\\u{7f}");
  CHECK(vm::escape_line("\xC3\xA9") == "\xC3\xA9");
  CHECK(vm::escape_line("\xFF") == "\xEF\xBF\xBD");
}

TEST_CASE("head_of cuts at a code point boundary") {
  CHECK(vm::head_of("short", 10) == "short");
  CHECK(vm::head_of("abcdef", 3) == "abc...");
  CHECK(vm::head_of("a\xC3\xA9", 2) == "a...");
}

TEST_CASE("errno_text names the error") {
  CHECK(vm::errno_text(ENOENT) == "No such file or directory");
  CHECK_FALSE(vm::errno_text(12345).empty());
}

}  // namespace
}  // namespace ved::effects_test
