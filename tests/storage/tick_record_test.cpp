// The tick record (vm/runtime/tick_record.h) is the one way a tick reaches the store: a
// store built by applying another run's records, without running any code, holds the
// same run (what a cluster follower will do); records decode to what was encoded; and a
// damaged record is refused with its part named, whatever byte it is cut at.
#include <doctest/doctest.h>

#include <limits>

#include "in_process_run.h"
#include "vm/runtime/instance_codec.h"
#include "vm/runtime/run_store.h"
#include "vm/runtime/store.h"

namespace ved::storage_test {

namespace {

constexpr int64_t kAll = std::numeric_limits<int64_t>::max();

std::vector<vm::TickRecord> records_of(const vm::Store& store) {
  std::vector<vm::TickRecord> out;
  std::string error;
  REQUIRE_MESSAGE(vm::scan_tick_records(store, 0, kAll, [&](const vm::TickRecord& r) {
    out.push_back(r);
    return true;
  }, error), error);
  return out;
}

// A loaded run as bytes: its head, every instance record, the pending messages, the open
// intents and the observations.
std::string loaded_bytes(const vm::Program& p, vm::Store& store) {
  vm::RunStore run(p, store, false);
  vm::LoadedRun loaded;
  std::string error;
  REQUIRE_MESSAGE(run.load(loaded, error), error);
  std::string out = std::to_string(loaded.tick) + " " + std::to_string(loaded.timer_sequence) + " " +
                    std::to_string(loaded.last_foreground_tick) + "\n";
  for (const vm::Instance& in : loaded.instances) out += vm::encode_instance(in) + "\n";
  out += vm::encode_pending(loaded.pending) + "\n";
  for (const vm::Intent& x : loaded.open_intents) out += vm::encode_intent(x) + "\n";
  for (const auto& [key, value] : loaded.observed) out += vm::hex_bytes(key) + "\n";
  return out;
}

}  // namespace

TEST_CASE("tick records: a store built only by applying a run's records holds the same run") {
  const Workload w = compile_workload("workload.ved");
  ScratchDir dir;
  vm::RuntimeOptions options = w.options();
  options.group_ms = 0;
  const RunEnd end = run_workload(w, dir / "owner", vm::StorageEnv::system(), options);
  REQUIRE_MESSAGE(end.ok, end.error);
  REQUIRE(end.tick > 5);

  auto owner = open_store(dir / "owner", vm::StoreMode::Existing);
  const std::vector<vm::TickRecord> records = records_of(*owner);
  REQUIRE(records.size() > 5);
  CHECK(records.front().tick == 0);
  CHECK(records.back().tick == end.tick);

  // The replica: the program from the owner's store, then each record applied in order.
  std::string bundle, error;
  REQUIRE(owner->get("meta/program", bundle).is_ok());
  {
    auto replica = open_store(dir / "replica", vm::StoreMode::Run);
    vm::RunStore run(*w.program, *replica, /*sync=*/false);
    REQUIRE_MESSAGE(run.begin(bundle, w.options().seed, w.options().slice_budget, "", records.front(), error), error);
    for (size_t k = 1; k < records.size(); ++k) {
      REQUIRE_MESSAGE(run.apply(records[k], false, error), error);
      // The same record again is refused: nothing of it is written twice.
      CHECK_FALSE(run.apply(records[k], false, error));
      CHECK(error.find("ticks are applied once, in order") != std::string::npos);
    }
    REQUIRE_MESSAGE(run.sync_committed(error), error);
  }
  auto replica = open_store(dir / "replica", vm::StoreMode::Existing);
  // Loading checks the digest the applies kept against the records it reads.
  CHECK(loaded_bytes(*w.program, *replica) == loaded_bytes(*w.program, *owner));
  replica.reset();
  owner.reset();
  const std::string journal = journal_of(dir / "owner", vm::StorageEnv::system());
  CHECK(journal.find(" state\t") != std::string::npos);
  CHECK(journal_of(dir / "replica", vm::StorageEnv::system()) == journal);
}

TEST_CASE("tick records: each decodes to what was encoded, and any cut or bad length is refused, named") {
  const Workload w = compile_workload("workload.ved");
  ScratchDir dir;
  const RunEnd end = run_workload(w, dir / "run", vm::StorageEnv::system(), w.options());
  REQUIRE_MESSAGE(end.ok, end.error);
  auto store = open_store(dir / "run", vm::StoreMode::Existing);
  size_t checked = 0;
  for (const vm::TickRecord& r : records_of(*store)) {
    const std::string bytes = vm::encode_tick_record(r);
    vm::TickRecord back;
    std::string error;
    REQUIRE_MESSAGE(vm::decode_tick_record(bytes, back, error), error);
    CHECK(vm::encode_tick_record(back) == bytes);
    // Every proper prefix is refused (nothing of a record is optional).
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      error.clear();
      CHECK_FALSE(vm::decode_tick_record(std::string_view(bytes).substr(0, cut), back, error));
      CHECK(error.find("tick record") != std::string::npos);
      ++checked;
    }
    // Trailing bytes, another format byte, an enormous count.
    CHECK_FALSE(vm::decode_tick_record(bytes + "x", back, error));
    CHECK(error.find("after its end") != std::string::npos);
    std::string other = bytes;
    other[0] = 9;
    CHECK_FALSE(vm::decode_tick_record(other, back, error));
    CHECK(error.find("format 9") != std::string::npos);
    std::string huge = bytes;
    for (size_t k = 25; k < 29; ++k) huge[k] = '\xff';  // the instance count
    CHECK_FALSE(vm::decode_tick_record(huge, back, error));
    CHECK(error.find("instances") != std::string::npos);
  }
  CHECK(checked > 1000);
}

}  // namespace ved::storage_test
