// Committing a tick is applied once and in order: the same tick twice, or an older one,
// is refused with nothing written, so that a caller's mistake (a retried commit, a
// recovery that replays what the store has) can neither double a tick's writes nor take
// the run back.
#include <doctest/doctest.h>

#include <limits>

#include "in_process_run.h"
#include "vm/runtime/run_store.h"
#include "vm/runtime/store.h"

namespace ved::storage_test {

namespace {

vm::TickRecord record(int64_t tick, const std::string& line) {
  vm::TickRecord r;
  r.tick = tick;
  r.journal.push_back(line);
  return r;
}

}  // namespace

TEST_CASE("apply order: a tick committed twice or out of order is refused, and nothing of it is written") {
  const Workload w = compile_workload("workload.ved");
  ScratchDir dir;
  vm::Status status;
  auto store = vm::Store::open(dir / "data", vm::StoreMode::Run, status);
  REQUIRE_MESSAGE(store, status.message());
  const std::string one = "note\tHub\tfirst", two = "note\tHub\tsecond", three = "note\tHub\tresumed";
  std::string error;
  {
    vm::RunStore run(*w.program, *store, /*sync=*/false);
    CHECK_FALSE(run.apply(record(1, one), false, error));  // before the run began
    CHECK(error.find("no run has begun") != std::string::npos);
    error.clear();
    REQUIRE_MESSAGE(run.begin(w.bundle, 1, 1000, "", vm::TickRecord{}, error), error);
    REQUIRE_MESSAGE(run.apply(record(1, one), false, error), error);
    CHECK_FALSE(run.apply(record(1, one), false, error));  // twice
    CHECK(error.find("tick 1 refused: the last committed tick is 1") != std::string::npos);
    CHECK_FALSE(run.apply(record(0, two), false, error));  // out of order
    REQUIRE_MESSAGE(run.apply(record(4, two), false, error), error);  // idle ticks are not written
    CHECK_FALSE(run.apply(record(3, two), false, error));
    CHECK_FALSE(run.apply(record(1, three), /*append=*/true, error));  // a resume adds to the last tick only
    CHECK(error.find("(a resume adds to it)") != std::string::npos);
    REQUIRE_MESSAGE(run.apply(record(4, three), /*append=*/true, error), error);
    REQUIRE_MESSAGE(run.sync_committed(error), error);
  }
  // What the store holds is each accepted tick once, and it loads as a whole run.
  std::string journal;
  REQUIRE_MESSAGE(vm::scan_journal(*store, 0, std::numeric_limits<int64_t>::max(), [&](int64_t tick, std::string_view record) {
    journal += std::to_string(tick) + " " + std::string(record) + "\n";
    return true;
  }, error), error);
  CHECK(journal == "1 note\tHub\tfirst\n4 note\tHub\tsecond\n4 note\tHub\tresumed\n");
  vm::RunStore again(*w.program, *store, false);
  vm::LoadedRun loaded;
  REQUIRE_MESSAGE(again.load(loaded, error), error);
  CHECK(loaded.tick == 4);
}

}  // namespace ved::storage_test
