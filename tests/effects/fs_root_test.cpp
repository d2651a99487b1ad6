// Confinement of file paths to --fs-root: every way out is refused with `permission` and
// touches nothing outside; ways that stay inside work.
#include <doctest/doctest.h>

#include <filesystem>

#include "builtin_support.h"
#include "vm/effects/fs_root.h"

namespace ved::effects_test {
namespace {

namespace fs = std::filesystem;

// The outcome of WriteFile(path, "new"), as "ok" or "code: message".
std::string write(Builtins& b, const std::string& path) {
  vm::EffectOutcome o = b.run("System.WriteFile", {str(path), str("new")});
  return o.ok ? "ok" : o.code + ": " + o.message;
}

bool refused(const std::string& outcome) { return outcome.rfind("permission: ", 0) == 0; }

TEST_CASE("a relative path lands under the root, an absolute one inside the root is allowed") {
  Builtins b;
  CHECK(write(b, "a.txt") == "ok");
  CHECK(read_text(b.root / "a.txt") == "new");
  CHECK(write(b, (b.root / "abs.txt").string()) == "ok");
  CHECK(read_text(b.root / "abs.txt") == "new");
  CHECK(write(b, "./sub/./b.txt") == "ok");
  CHECK(read_text(b.root / "sub" / "b.txt") == "new");
  // `..` that stays inside is fine.
  CHECK(write(b, "sub/../c.txt") == "ok");
  CHECK(read_text(b.root / "c.txt") == "new");
}

TEST_CASE("paths that climb out of the root are refused and write nothing outside") {
  Builtins b;
  write_text(b.outside / "victim.txt", "original");
  const fs::path scratch = b.root.parent_path();

  const std::string up = write(b, "../escape.txt");
  CHECK(refused(up));
  CHECK(up.find("../escape.txt") != std::string::npos);        // names the path
  CHECK(up.find(b.root.string()) != std::string::npos);        // and the root
  CHECK_FALSE(fs::exists(scratch / "escape.txt"));

  CHECK(refused(write(b, "a/../../x")));
  CHECK_FALSE(fs::exists(scratch / "x"));
  CHECK_FALSE(fs::exists(b.root / "a"));  // refused before anything was created

  CHECK(refused(write(b, "../outside/victim.txt")));
  // Out and back in is refused too: the walk may not leave the root once inside.
  CHECK(refused(write(b, "../root/back.txt")));
  CHECK_FALSE(fs::exists(b.root / "back.txt"));

  CHECK(read_text(b.outside / "victim.txt") == "original");
}

// Only paths inside the test's scratch directory are ever written at, even the ones that
// must be refused: if confinement were broken, a test aiming at a system file would
// overwrite it.
TEST_CASE("absolute paths elsewhere are refused") {
  Builtins b;
  write_text(b.outside / "victim.txt", "original");
  CHECK(refused(write(b, (b.outside / "victim.txt").string())));
  CHECK(refused(write(b, (b.outside / "new.txt").string())));
  CHECK(refused(write(b, b.root.parent_path().string())));  // the directory holding the root
  CHECK(read_text(b.outside / "victim.txt") == "original");
  CHECK_FALSE(std::filesystem::exists(b.outside / "new.txt"));
}

TEST_CASE("a symlinked directory inside the root that points outside is refused") {
  Builtins b;
  write_text(b.outside / "victim.txt", "original");
  fs::create_directory_symlink(b.outside, b.root / "link");
  CHECK(refused(write(b, "link/victim.txt")));
  CHECK(refused(write(b, "link/new.txt")));
  CHECK(refused(write(b, "link/../root/x.txt")));
  CHECK(read_text(b.outside / "victim.txt") == "original");
  CHECK_FALSE(fs::exists(b.outside / "new.txt"));
  // A relative target that climbs out is the same.
  fs::create_directory_symlink("../outside", b.root / "rel");
  const std::string rel = write(b, "rel/victim.txt");
  CHECK(refused(rel));
  CHECK(rel.find("symlink") != std::string::npos);
  CHECK(read_text(b.outside / "victim.txt") == "original");
}

TEST_CASE("a final-component symlink that points outside is refused, for every file effect") {
  Builtins b;
  write_text(b.outside / "victim.txt", "original");
  fs::create_symlink(b.outside / "victim.txt", b.root / "final");
  fs::create_symlink(b.outside / "missing.txt", b.root / "dangling");
  CHECK(refused(write(b, "final")));
  CHECK(refused(write(b, "dangling")));
  vm::EffectOutcome append = b.run("System.AppendFile", {str("final"), str("more")});
  CHECK(append.code == "permission");
  vm::EffectOutcome del = b.run("System.DeleteFile", {str("final")});
  CHECK(del.code == "permission");
  CHECK(read_text(b.outside / "victim.txt") == "original");
  CHECK_FALSE(fs::exists(b.outside / "missing.txt"));
  CHECK(fs::is_symlink(b.root / "final"));
}

TEST_CASE("symlinks that stay inside the root are followed") {
  Builtins b;
  fs::create_directories(b.root / "real");
  fs::create_directory_symlink("real", b.root / "alias");
  CHECK(write(b, "alias/f.txt") == "ok");
  CHECK(read_text(b.root / "real" / "f.txt") == "new");
  // A final symlink inside: the write goes to its target, and the link stays a link.
  write_text(b.root / "target.txt", "old");
  fs::create_symlink("target.txt", b.root / "ln");
  CHECK(write(b, "ln") == "ok");
  CHECK(read_text(b.root / "target.txt") == "new");
  CHECK(fs::is_symlink(b.root / "ln"));
  // Deleting a link removes the link, not its target.
  CHECK(b.run("System.DeleteFile", {str("ln")}).ok);
  CHECK_FALSE(fs::is_symlink(b.root / "ln"));
  CHECK(read_text(b.root / "target.txt") == "new");
}

TEST_CASE("a path through a symlink outside the root that points into it is judged by where it lands") {
  Builtins b;
  const fs::path door = b.root.parent_path() / "door";
  fs::create_directory_symlink(b.root, door);
  CHECK(write(b, (door / "via-door.txt").string()) == "ok");
  CHECK(read_text(b.root / "via-door.txt") == "new");
  // But the door itself is outside: deleting it is refused.
  CHECK(b.run("System.DeleteFile", {str(door.string())}).code == "permission");
  CHECK(fs::is_symlink(door));
}

TEST_CASE("empty paths, NUL bytes and symlink loops are refused") {
  Builtins b;
  vm::EffectOutcome empty = b.run("System.WriteFile", {str(""), str("x")});
  CHECK(empty.code == "invalid");
  vm::EffectOutcome nul = b.run("System.WriteFile", {str(std::string("a\0b", 3)), str("x")});
  CHECK(nul.code == "invalid");
  CHECK_FALSE(fs::exists(b.root / "a"));
  fs::create_symlink("loop2", b.root / "loop1");
  fs::create_symlink("loop1", b.root / "loop2");
  vm::EffectOutcome loop = b.run("System.WriteFile", {str("loop1"), str("x")});
  CHECK(loop.code == "io");
  CHECK(loop.message.find("symbolic links") != std::string::npos);
}

TEST_CASE("FsRoot resolves to canonical paths and says what the entry is") {
  ScratchDir dir;
  fs::create_directories(dir.path() / "r" / "d");
  vm::FsRoot root(dir.path() / "r" / "d" / "..");  // made canonical
  CHECK(root.root() == fs::canonical(dir.path() / "r"));
  CHECK(root.contains(root.root()));
  CHECK(root.contains(root.root() / "x"));
  CHECK_FALSE(root.contains(root.root().string() + "x"));  // a sibling with a longer name
  CHECK_FALSE(root.contains(root.root().parent_path()));
  vm::ResolvedPath p;
  vm::PathRefusal refusal;
  REQUIRE(root.resolve("d/../new/file", p, refusal));
  CHECK(p.real == root.root() / "new" / "file");
  CHECK(p.entry == p.real);
  fs::create_symlink("d", root.root() / "l");
  REQUIRE(root.resolve("l", p, refusal));
  CHECK(p.real == root.root() / "d");
  CHECK(p.entry == root.root() / "l");
  CHECK_THROWS_AS(vm::FsRoot(dir.path() / "missing"), std::runtime_error);
  write_text(dir.path() / "plain", "x");
  CHECK_THROWS_AS(vm::FsRoot(dir.path() / "plain"), std::runtime_error);
}

}  // namespace
}  // namespace ved::effects_test
