// Bringing a data dir up to another's journal (vm/runtime/replicated_frames.h), as a
// cluster node taking a program over does: frames appended after the ones the dir holds
// recover into the same run, byte for byte; frames it holds already are skipped; frames
// that leave a gap, or are not whole frames, are refused with nothing written.
#include <doctest/doctest.h>

#include "in_process_run.h"
#include "vm/runtime/record_log.h"
#include "vm/runtime/replicated_frames.h"
#include "vm/runtime/store.h"
#include "vm/runtime/storage_env.h"

namespace ved::storage_test {

namespace {

// Every frame of a data dir's journal, as the bytes a cluster's journal carries.
std::string frames_of(const std::string& dir) {
  std::string out;
  vm::LogEnd end;
  const vm::Status s = vm::RecordLog::scan(dir, vm::StorageEnv::system().database(), 0,
                                           [&](uint64_t n, int64_t tick, std::string_view payload) {
                                             vm::append_log_frame(out, n, tick, payload);
                                             return true;
                                           },
                                           end);
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  REQUIRE(end.damage.empty());
  return out;
}

// The frames of `all` from frame `from` on (whole frames, as a part of a fetch is).
std::string frames_from(const std::string& all, uint64_t from) {
  std::string out, error;
  REQUIRE(vm::read_log_frames(all, 0, [&](uint64_t n, int64_t tick, std::string_view payload) {
    if (n >= from) vm::append_log_frame(out, n, tick, payload);
  }, error));
  return out;
}

uint64_t frame_count(const std::string& dir) {
  auto store = open_store(dir, vm::StoreMode::Run);
  uint64_t count = 0;
  const vm::Status s = vm::journal_frame_count(*store, count);
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  return count;
}

}  // namespace

TEST_CASE("replicated frames: a dir brought up to another run's frames, from its beginning or part-way, recovers that run") {
  const Workload w = compile_workload("workload.ved");
  ScratchDir dir;
  vm::StorageEnv& env = vm::StorageEnv::system();
  const RunEnd original = run_workload(w, dir / "original", env, w.options());
  REQUIRE_MESSAGE(original.ok, original.error);
  const std::string all = frames_of(dir / "original");
  const uint64_t total = frame_count(dir / "original");
  REQUIRE(total > 5);

  SUBCASE("from the beginning: tick 0 only, then every frame") {
    // Tick 0, as every node writes it: the run begun and stopped before tick 1.
    REQUIRE(run_workload(w, dir / "copy", env, w.options(), [](int64_t) { return true; }).ok);
    REQUIRE(frame_count(dir / "copy") == 0);
    {
      auto store = open_store(dir / "copy", vm::StoreMode::Run);
      uint64_t count = 0;
      const vm::Status s = vm::append_replicated_frames(*store, 0, all, count);
      REQUIRE_MESSAGE(s.is_ok(), s.message());
      CHECK(count == total);
    }
  }
  SUBCASE("part-way: a run stopped at tick 4, then every frame (those it has are skipped)") {
    REQUIRE(run_workload(w, dir / "copy", env, w.options(), [](int64_t tick) { return tick >= 4; }).ok);
    const uint64_t had = frame_count(dir / "copy");
    REQUIRE(had > 0);
    REQUIRE(had < total);
    CHECK(frames_of(dir / "copy") == frames_from(all, 0).substr(0, frames_of(dir / "copy").size()));
    auto store = open_store(dir / "copy", vm::StoreMode::Run);
    uint64_t count = 0;
    const vm::Status s = vm::append_replicated_frames(*store, 0, all, count);
    REQUIRE_MESSAGE(s.is_ok(), s.message());
    CHECK(count == total);
  }
  // The copy recovers into the original's run: nothing left to do, the same journal.
  const RunEnd copy = run_workload(w, dir / "copy", env, w.options());
  REQUIRE_MESSAGE(copy.ok, copy.error);
  CHECK(copy.resumed);
  CHECK(copy.tick == original.tick);
  CHECK(copy.instances == original.instances);
  CHECK(journal_of(dir / "copy", env) == journal_of(dir / "original", env));
  CHECK(frames_of(dir / "copy") == all);
}

TEST_CASE("replicated frames: a gap after the journal, or bytes that are not whole frames, are refused and nothing is written") {
  const Workload w = compile_workload("workload.ved");
  ScratchDir dir;
  vm::StorageEnv& env = vm::StorageEnv::system();
  REQUIRE(run_workload(w, dir / "original", env, w.options()).ok);
  const std::string all = frames_of(dir / "original");
  REQUIRE(run_workload(w, dir / "copy", env, w.options(), [](int64_t tick) { return tick >= 2; }).ok);
  const uint64_t had = frame_count(dir / "copy");
  const std::string before = frames_of(dir / "copy");
  {
    auto store = open_store(dir / "copy", vm::StoreMode::Run);
    uint64_t count = 0;
    vm::Status s = vm::append_replicated_frames(*store, had + 1, frames_from(all, had + 1), count);
    CHECK(s.is_not_found());
    CHECK(s.message() == "the replicated frames start at frame " + std::to_string(had + 1) +
                             ", and the data dir's journal holds " + std::to_string(had));
    std::string damaged = frames_from(all, had);
    damaged[damaged.size() - 1] ^= 0x40;
    s = vm::append_replicated_frames(*store, had, damaged, count);
    CHECK(s.is_damaged());
    CHECK(s.message().find("the replicated frames: frame ") == 0);
    CHECK(s.message().find("fails its checksum") != std::string::npos);
    s = vm::append_replicated_frames(*store, had, frames_from(all, had).substr(0, 10), count);
    CHECK(s.is_damaged());
    CHECK(s.message() == "the replicated frames: frame " + std::to_string(had) +
                             " (byte 0) is cut short: 10 bytes where a header takes 28");
  }
  CHECK(frame_count(dir / "copy") == had);
  CHECK(frames_of(dir / "copy") == before);
}

}  // namespace ved::storage_test
