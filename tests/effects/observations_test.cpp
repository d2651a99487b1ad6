// System.file_exists, System.read_file, System.env.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "builtin_support.h"

namespace ved::effects_test {
namespace {

namespace fs = std::filesystem;

// "true"/"false"/"none"/the string, or "error: ..." when sampling fails.
std::string sample(Builtins& b, const std::string& name, const std::string& arg) {
  vm::Value out;
  std::string error;
  if (!b.observe(name, {str(arg)}, out, error)) return "error: " + error;
  if (out.tag() == vm::Tag::Bool) return out.as_bool() ? "true" : "false";
  if (out.is_none()) return "none";
  if (out.tag() == vm::Tag::String) return "\"" + out.as_string() + "\"";
  return "?";
}

TEST_CASE("file_exists says whether the path names something") {
  Builtins b;
  write_text(b.root / "greeting.txt", "Hello Ved");
  fs::create_directories(b.root / "dir");
  fs::create_symlink("nowhere", b.root / "dangling");
  CHECK(sample(b, "System.file_exists", "greeting.txt") == "true");
  CHECK(sample(b, "System.file_exists", (b.root / "greeting.txt").string()) == "true");
  CHECK(sample(b, "System.file_exists", "dir") == "true");
  CHECK(sample(b, "System.file_exists", "missing.txt") == "false");
  CHECK(sample(b, "System.file_exists", "no/such/dir/file") == "false");
  CHECK(sample(b, "System.file_exists", "greeting.txt/under-a-file") == "false");
  CHECK(sample(b, "System.file_exists", "dangling") == "false");
  fs::remove(b.root / "greeting.txt");
  CHECK(sample(b, "System.file_exists", "greeting.txt") == "false");  // re-sampled, not cached
}

TEST_CASE("read_file gives the content, or none when the file is missing") {
  Builtins b;
  write_text(b.root / "config", "key = value\n");
  CHECK(sample(b, "System.read_file", "config") == "\"key = value\n\"");
  CHECK(sample(b, "System.read_file", "missing") == "none");
  CHECK(sample(b, "System.read_file", "no/dir/missing") == "none");
  write_text(b.root / "empty", "");
  CHECK(sample(b, "System.read_file", "empty") == "\"\"");
  write_text(b.root / "latin1", "caf\xE9");
  CHECK(sample(b, "System.read_file", "latin1") == "\"caf\xEF\xBF\xBD\"");
}

TEST_CASE("read_file of a directory, a FIFO or an oversized file is an error") {
  Builtins b([](vm::BuiltinAdapterOptions& o) { o.max_output_bytes = 10; });
  fs::create_directories(b.root / "dir");
  CHECK(sample(b, "System.read_file", "dir").rfind("error: cannot read `dir`", 0) == 0);
  REQUIRE(::mkfifo((b.root / "fifo").c_str(), 0600) == 0);
  CHECK(sample(b, "System.read_file", "fifo").rfind("error: cannot read `fifo`", 0) == 0);
  write_text(b.root / "big", std::string(11, 'x'));
  CHECK(sample(b, "System.read_file", "big").find("more than 10 bytes") != std::string::npos);
  write_text(b.root / "fits", std::string(10, 'x'));
  CHECK(sample(b, "System.read_file", "fits") == "\"xxxxxxxxxx\"");
}

TEST_CASE("an escaping path is an error, not false or none") {
  Builtins b;
  write_text(b.outside / "secret", "s3cret");
  fs::create_symlink(b.outside / "secret", b.root / "peek");
  for (const std::string& path : {std::string("../outside/secret"), (b.outside / "secret").string(), std::string("peek"),
                                  std::string("/etc/passwd")}) {
    const std::string exists = sample(b, "System.file_exists", path);
    CHECK_MESSAGE(exists.find("escapes the file-system root") != std::string::npos, exists);
    const std::string read = sample(b, "System.read_file", path);
    CHECK_MESSAGE(read.find("escapes the file-system root") != std::string::npos, read);
    CHECK(read.find("s3cret") == std::string::npos);
  }
  CHECK(sample(b, "System.file_exists", "").rfind("error: the path is empty", 0) == 0);
}

TEST_CASE("env gives the VM's environment variable, or none") {
  Builtins b;
  ::setenv("VED_EFFECTS_TEST_VAR", "some value", 1);
  CHECK(sample(b, "System.env", "VED_EFFECTS_TEST_VAR") == "\"some value\"");
  ::setenv("VED_EFFECTS_TEST_VAR", "", 1);
  CHECK(sample(b, "System.env", "VED_EFFECTS_TEST_VAR") == "\"\"");  // set but empty is not none
  ::unsetenv("VED_EFFECTS_TEST_VAR");
  CHECK(sample(b, "System.env", "VED_EFFECTS_TEST_VAR") == "none");
  CHECK(sample(b, "System.env", "") == "none");
  CHECK(sample(b, "System.env", "PATH=x") == "none");
}

TEST_CASE("wrong arguments are an error, not a crash") {
  Builtins b;
  vm::Value out;
  std::string error;
  vm::ObservationAdapter* adapter = b.set.observation("System.file_exists");
  REQUIRE(adapter);
  CHECK_FALSE(adapter->sample("System.file_exists", {}, 0, out, error));
  CHECK_FALSE(error.empty());
  std::vector<vm::Value> args{vm::Value::integer(3)};
  CHECK_FALSE(adapter->sample("System.read_file", args, 0, out, error));
  std::vector<vm::Value> ok_args{str("x")};
  CHECK_FALSE(adapter->sample("System.nope", ok_args, 0, out, error));
}

}  // namespace
}  // namespace ved::effects_test
