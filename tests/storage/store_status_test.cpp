// Store's failures come as kinds (vm/runtime/status.h), so that a caller acts on what
// went wrong without reading its words: each kind of bad data dir, and a missing key.
#include <doctest/doctest.h>

#include <fstream>

#include "in_process_run.h"
#include "vm/runtime/store.h"

namespace ved::storage_test {

using Code = vm::Status::Code;

namespace {

Code open_code(const std::string& dir, vm::StoreMode mode) {
  vm::Status status;
  auto store = vm::Store::open(dir, mode, status);
  CHECK_MESSAGE(!store, "opened " << dir);
  CHECK_FALSE(status.message().empty());
  return status.code();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

}  // namespace

TEST_CASE("store status: each kind of bad data dir is told by its code, with a message") {
  ScratchDir dir;
  CHECK(open_code(dir / "missing", vm::StoreMode::Existing) == Code::NotFound);

  std::filesystem::create_directories(dir / "other");
  write_file(dir / "other/notes.txt", "not a data dir");
  CHECK(open_code(dir / "other", vm::StoreMode::Run) == Code::NotADataDir);
  CHECK(open_code(dir / "other", vm::StoreMode::Fresh) == Code::NotADataDir);

  write_file(dir / "file", "x");
  CHECK(open_code(dir / "file", vm::StoreMode::Run) == Code::NotADataDir);

  // A data dir in use: LevelDB's lock is held by the first store.
  vm::Status status;
  auto first = vm::Store::open(dir / "busy", vm::StoreMode::Run, status);
  REQUIRE_MESSAGE(first, status.message());
  CHECK(open_code(dir / "busy", vm::StoreMode::Run) == Code::InUse);
  first.reset();

  // The marker cut short, and the marker of another format.
  auto made = vm::Store::open(dir / "cut", vm::StoreMode::Run, status);
  REQUIRE_MESSAGE(made, status.message());
  made.reset();
  std::filesystem::resize_file(dir / "cut/VED-DATA-DIR", 100);
  CHECK(open_code(dir / "cut", vm::StoreMode::Run) == Code::Damaged);

  made = vm::Store::open(dir / "old", vm::StoreMode::Run, status);
  REQUIRE_MESSAGE(made, status.message());
  made.reset();
  {
    std::fstream marker(dir / "old/VED-DATA-DIR", std::ios::in | std::ios::out | std::ios::binary);
    marker.seekp(20);
    marker << "1";  // "format 1"
  }
  CHECK(open_code(dir / "old", vm::StoreMode::Run) == Code::OtherFormat);
  // Another format is said as such: only damage is called damage (runtime.md).
  vm::Status old;
  CHECK_FALSE(vm::Store::open(dir / "old", vm::StoreMode::Inspect, old));
  CHECK(old.code() == Code::OtherFormat);
  CHECK(old.message().find("another version of the VM") != std::string::npos);
  CHECK(old.message().find("damaged") == std::string::npos);
}

TEST_CASE("store status: a key that is not there is NotFound, not an error with an empty message") {
  ScratchDir dir;
  vm::Status status;
  auto store = vm::Store::open(dir / "data", vm::StoreMode::Run, status);
  REQUIRE_MESSAGE(store, status.message());
  std::string value;
  CHECK(store->get("meta/nothing", value).is_not_found());
  vm::Store::Batch batch;
  batch.put("meta/something", "42");
  REQUIRE(store->commit(batch, false).is_ok());
  CHECK(store->get("meta/something", value).is_ok());
  CHECK(value == "42");
  int seen = 0;
  CHECK(store->scan("meta/", [&](std::string_view, std::string_view) { return ++seen > 0; }).is_ok());
  CHECK(seen == 1);
}

}  // namespace ved::storage_test
