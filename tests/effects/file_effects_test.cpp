// System.WriteFile, System.AppendFile, System.DeleteFile under the fs root.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>

#include "builtin_support.h"

namespace ved::effects_test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST_CASE("file effects complete between ticks") {
  Builtins b;
  for (const char* name : {"System.WriteFile", "System.AppendFile", "System.DeleteFile"}) {
    REQUIRE(b.set.effect(name));
    CHECK(b.set.effect(name)->between_ticks());
  }
}

TEST_CASE("WriteFile writes exactly the content, replacing what was there, and leaves no temporary file") {
  Builtins b;
  vm::EffectOutcome first = b.run("System.WriteFile", {str("f.txt"), str("hello, world\n")});
  REQUIRE(first.ok);
  CHECK(first.value.tag() == vm::Tag::Unit);
  CHECK(read_text(b.root / "f.txt") == "hello, world\n");
  // Shorter content replaces, never leaves a tail of the old.
  REQUIRE(b.run("System.WriteFile", {str("f.txt"), str("bye")}).ok);
  CHECK(read_text(b.root / "f.txt") == "bye");
  const std::string odd("a\0b\xC3\xA9", 5);  // a NUL and UTF-8 go through byte for byte
  REQUIRE(b.run("System.WriteFile", {str("f.txt"), str(odd)}).ok);
  CHECK(read_text(b.root / "f.txt") == odd);
  REQUIRE(b.run("System.WriteFile", {str("f.txt"), str("")}).ok);
  CHECK(fs::file_size(b.root / "f.txt") == 0);
  CHECK(listing(b.root) == std::vector<std::string>{"f.txt"});
}

TEST_CASE("WriteFile works for a name as long as the file system allows") {
  Builtins b;
  const std::string name(250, 'n');
  REQUIRE(b.run("System.WriteFile", {str(name), str("long")}).ok);
  CHECK(read_text(b.root / name) == "long");
}

TEST_CASE("WriteFile creates missing parent directories inside the root") {
  Builtins b;
  REQUIRE(b.run("System.WriteFile", {str("deep/er/f.txt"), str("x")}).ok);
  CHECK(read_text(b.root / "deep" / "er" / "f.txt") == "x");
  REQUIRE(b.run("System.AppendFile", {str("other/log.txt"), str("y")}).ok);
  CHECK(read_text(b.root / "other" / "log.txt") == "y");
}

TEST_CASE("WriteFile keeps the permissions of the file it replaces") {
  Builtins b;
  write_text(b.root / "secret", "old");
  fs::permissions(b.root / "secret", fs::perms::owner_read | fs::perms::owner_write);
  REQUIRE(b.run("System.WriteFile", {str("secret"), str("new")}).ok);
  CHECK(fs::status(b.root / "secret").permissions() == (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("WriteFile reports io errors with the path and the system's reason") {
  Builtins b;
  fs::create_directories(b.root / "d" / "inner");
  vm::EffectOutcome dir = b.run("System.WriteFile", {str("d"), str("x")});
  CHECK(dir.code == "io");
  CHECK_FALSE(dir.retryable);
  CHECK(dir.message.find("`d`") != std::string::npos);
  CHECK(dir.message.find("directory") != std::string::npos);  // strerror: "Is a directory"
  CHECK(fs::is_directory(b.root / "d" / "inner"));
  CHECK(listing(b.root) == std::vector<std::string>{"d"});  // no temporary left behind

  write_text(b.root / "plain", "p");
  vm::EffectOutcome under_file = b.run("System.WriteFile", {str("plain/x"), str("x")});
  CHECK(under_file.code == "io");
  CHECK(read_text(b.root / "plain") == "p");

  CHECK(b.run("System.WriteFile", {str("."), str("x")}).code == "io");

  // A directory the VM may not write into.
  if (::geteuid() != 0) {  // root ignores permissions
    fs::create_directories(b.root / "ro");
    fs::permissions(b.root / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    vm::EffectOutcome ro = b.run("System.WriteFile", {str("ro/f"), str("x")});
    CHECK(ro.code == "io");
    CHECK(ro.message.find("Permission denied") != std::string::npos);
    fs::permissions(b.root / "ro", fs::perms::owner_all);
  }
}

TEST_CASE("AppendFile creates the file, then appends") {
  Builtins b;
  REQUIRE(b.run("System.AppendFile", {str("log.txt"), str("one\n")}).ok);
  REQUIRE(b.run("System.AppendFile", {str("log.txt"), str("two\n")}).ok);
  CHECK(read_text(b.root / "log.txt") == "one\ntwo\n");
  fs::create_directories(b.root / "d");
  vm::EffectOutcome dir = b.run("System.AppendFile", {str("d"), str("x")});
  CHECK(dir.code == "io");
  CHECK(dir.message.find("`d`") != std::string::npos);
}

TEST_CASE("AppendFile refuses what is not a regular file instead of blocking on it") {
  Builtins b;
  REQUIRE(::mkfifo((b.root / "fifo").c_str(), 0600) == 0);
  vm::EffectOutcome o = b.run("System.AppendFile", {str("fifo"), str("x")});
  CHECK(o.code == "io");
}

TEST_CASE("DeleteFile removes a file, a missing one is fine, a directory is not deleted") {
  Builtins b;
  write_text(b.root / "gone.txt", "x");
  REQUIRE(b.run("System.DeleteFile", {str("gone.txt")}).ok);
  CHECK_FALSE(fs::exists(b.root / "gone.txt"));
  // Deleting again (a re-dispatched intent, a goal that wants the file gone) succeeds.
  CHECK(b.run("System.DeleteFile", {str("gone.txt")}).ok);
  CHECK(b.run("System.DeleteFile", {str("no/such/dir/file")}).ok);
  fs::create_directories(b.root / "d");
  vm::EffectOutcome dir = b.run("System.DeleteFile", {str("d")});
  CHECK(dir.code == "io");
  CHECK(fs::is_directory(b.root / "d"));
}

}  // namespace
}  // namespace ved::effects_test
