// `vedvm replay DIR`: a run re-executed from its journal matches it tick for tick; a
// changed program, a tampered journal and a damaged input record are each reported,
// naming the tick (and, for a state, the instance and field).
#include <doctest/doctest.h>
#include <leveldb/env.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "runtime_support.h"
#include "vm/runtime/record_log.h"
#include "vm/runtime/storage_env.h"
#include "vm/runtime/tick_record.h"

using namespace ved::rt;

namespace {

const char* kCounter = R"(
state { value: int = 0, label: string = "" }
goal Done { predicate: value >= 3  strategy: Step }
transition Step() { value = value + 1  label = format("step {}", value) }
)";

// Rewrites the tick records of `dir`'s journal with `edit`, which may change any of them
// (but not add or remove any). Every tick after tick 0 is a frame of the tick-record log:
// the log is written anew as one segment of valid frames, so that what `edit` changed is
// the only difference — a journal tampered with consistently, which only replay can tell.
void rewrite_journal(const std::string& dir, const std::function<void(std::vector<ved::vm::TickRecord>&)>& edit) {
  std::vector<ved::vm::TickRecord> records;
  std::vector<uint64_t> numbers;
  ved::vm::LogEnd end;
  std::string error;
  const ved::vm::Status s = ved::vm::RecordLog::scan(dir, leveldb::Env::Default(), 0,
                                                     [&](uint64_t number, int64_t, std::string_view payload) {
                                                       ved::vm::TickRecord r;
                                                       REQUIRE_MESSAGE(ved::vm::decode_tick_record(payload, r, error), error);
                                                       records.push_back(std::move(r));
                                                       numbers.push_back(number);
                                                       return true;
                                                     },
                                                     end);
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  REQUIRE_MESSAGE(end.damage.empty(), end.damage);
  REQUIRE(!records.empty());
  edit(records);
  REQUIRE(ved::vm::RecordLog::remove_all(dir, leveldb::Env::Default()).is_ok());
  std::string frames;
  size_t last_at = 0;
  for (size_t k = 0; k < records.size(); ++k) {
    last_at = frames.size();
    ved::vm::append_log_frame(frames, numbers[k], records[k].tick, ved::vm::encode_tick_record(records[k]));
  }
  ved::vm::RecordLog log(dir, ved::vm::StorageEnv::system());
  REQUIRE(log.append(numbers.front(), frames, last_at).is_ok());
  REQUIRE(log.sync().is_ok());
}

// Rewrites every journal line for which `edit` returns true (it changes the line in
// place). Returns how many it changed.
int tamper(const std::string& dir, const std::function<bool(std::string&)>& edit) {
  int lines = 0;
  rewrite_journal(dir, [&](std::vector<ved::vm::TickRecord>& records) {
    for (ved::vm::TickRecord& record : records)
      for (std::string& line : record.journal)
        if (edit(line)) ++lines;
  });
  return lines;
}

}  // namespace

TEST_CASE("replay: a run matches its journal, replay is read-only and repeatable") {
  TempDir tmp;
  write_file(tmp / "counter.ved", kCounter);
  Result run = vedvm_run({tmp / "counter.ved", "--data-dir", tmp / "d", "--sync=none", "--quiet"});
  REQUIRE(run.exit_code == 0);
  Result a = vedvm_run({"replay", tmp / "d"});
  CHECK_MESSAGE(a.exit_code == 0, a.out << a.err);
  CHECK(contains(a.out, "replay: 4 ticks match the journal"));
  Result b = vedvm_run({"replay", tmp / "d"});
  CHECK(b.out == a.out);
  // --from/--to bound what is compared.
  Result part = vedvm_run({"replay", tmp / "d", "--from", "2", "--to", "3"});
  CHECK(contains(part.out, "replay: 2 ticks match"));
  // The same source rebuilt behaves the same.
  Result same = vedvm_run({"replay", tmp / "d", "--program", tmp / "counter.ved"});
  CHECK_MESSAGE(same.exit_code == 0, same.out << same.err);
}

// `replay --trace`: the replayed run's events are the ones the run printed with --trace,
// text and JSON (what `vedvm --join --follow --trace` streams from a cluster's journal),
// across an upgrade too; the verdict goes to stderr, leaving stdout the trace alone.
TEST_CASE("replay --trace prints the events the run printed, text and JSON, across an upgrade") {
  TempDir tmp;
  write_file(tmp / "counter.ved", kCounter);
  for (const std::string format : {"--trace", "--trace=json"}) {
    CAPTURE(format);
    const std::string dir = tmp / ("d" + format);
    Result run = vedvm_run({tmp / "counter.ved", "--data-dir", dir, "--sync=none", format});
    REQUIRE(run.exit_code == 0);
    const std::string events = run.out.substr(0, run.out.find("-- "));
    CHECK(events.find("Step") != std::string::npos);
    Result replayed = vedvm_run({"replay", dir, format});
    CHECK_MESSAGE(replayed.exit_code == 0, replayed.err);
    CHECK(replayed.out == events);
    CHECK(contains(replayed.err, "replay: 4 ticks match the journal"));
  }
  // Upgraded (code only: the goal asks for more), then run on: one trace throughout.
  std::filesystem::create_directories(tmp / "v2");
  const std::string v2 = tmp / "v2" + "/counter.ved";
  write_file(v2, std::string(kCounter).replace(std::string(kCounter).find(">= 3"), 4, ">= 5"));
  const std::string dir = tmp / "d--trace";
  REQUIRE(vedvm_run({"upgrade", dir, v2}).exit_code == 0);
  Result more = vedvm_run({v2, "--data-dir", dir, "--sync=none", "--trace"});
  REQUIRE(more.exit_code == 0);
  Result first = vedvm_run({"replay", dir, "--trace", "--to", "4"});
  Result whole = vedvm_run({"replay", dir, "--trace"});
  CHECK_MESSAGE(whole.exit_code == 0, whole.err);
  CHECK(whole.out == first.out + more.out.substr(0, more.out.find("-- ")));
}

TEST_CASE("replay: a changed program is reported at the first tick and field it changes") {
  TempDir tmp;
  write_file(tmp / "counter.ved", kCounter);
  REQUIRE(vedvm_run({tmp / "counter.ved", "--data-dir", tmp / "d", "--sync=none", "--quiet"}).exit_code == 0);
  std::string changed = kCounter;
  changed.replace(changed.find("format(\"step {}\""), 16, "format(\"Step {}\"");
  write_file(tmp / "changed.ved", changed);
  Result r = vedvm_run({"replay", tmp / "d", "--program", tmp / "changed.ved"});
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(contains(r.out, "replay diverged at tick 1: Main field `label`"), r.out << r.err);
}

TEST_CASE("replay: a tampered journal is detected") {
  TempDir tmp;
  write_file(tmp / "counter.ved", kCounter);
  REQUIRE(vedvm_run({tmp / "counter.ved", "--data-dir", tmp / "d", "--sync=none", "--quiet"}).exit_code == 0);
  SUBCASE("a recorded state") {
    // Tick 1's record gets the instance record tick 2 wrote: a valid record whose state
    // the replay does not reach at tick 1.
    rewrite_journal(tmp / "d", [](std::vector<ved::vm::TickRecord>& records) {
      auto tick = [&](int64_t t) -> ved::vm::TickRecord& {
        auto it = std::find_if(records.begin(), records.end(), [&](const auto& r) { return r.tick == t; });
        REQUIRE(it != records.end());
        return *it;
      };
      ved::vm::TickRecord& one = tick(1);
      const ved::vm::TickRecord& two = tick(2);
      REQUIRE(one.instances.size() == 1);
      REQUIRE(two.instances.size() == 1);
      one.instances[0].value = two.instances[0].value;
    });
    Result r = vedvm_run({"replay", tmp / "d"});
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(contains(r.out, "replay diverged at tick 1: Main field `value`: recorded state hash"), r.out);
  }
  SUBCASE("an event") {
    CHECK(tamper(tmp / "d", [](std::string& record) {
            if (!record.starts_with("slice\t") || !contains(record, "value=2")) return false;
            record.replace(record.find("value=2"), 7, "value=9");
            return true;
          }) == 1);
    Result r = vedvm_run({"replay", tmp / "d"});
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(contains(r.out, "diverged at tick 2: recorded `slice Main Step value=9"), r.out);
  }
  SUBCASE("a deleted record") {
    bool done = false;
    rewrite_journal(tmp / "d", [&](std::vector<ved::vm::TickRecord>& records) {
      // The last journal line of the last tick (the journal is rendered from it): the
      // state line of its last instance write, or its last event.
      ved::vm::TickRecord& record = records.back();
      if (!record.instances.empty() && record.instances.back().line == record.journal.size())
        record.instances.pop_back();
      else
        record.journal.pop_back();
      done = true;
    });
    CHECK(done);
    Result r = vedvm_run({"replay", tmp / "d"});
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(contains(r.out, "the replay did more than the recorded run"), r.out);
  }
}

TEST_CASE("replay: a recorded outcome is fed back, changing it changes the replayed state") {
  TempDir tmp;
  const std::string program = repo_program("capacity.ved");
  REQUIRE(vedvm_run({program, "--data-dir", tmp / "d", "--sync=none", "--quiet", "--effect", "Infra.Provision=ok:vm-1"})
              .exit_code == 0);
  CHECK(vedvm_run({"replay", tmp / "d"}).exit_code == 0);
  // The outcome's value is in the record's data field as msgpack: "vm-1" is 766d2d31.
  CHECK(tamper(tmp / "d", [](std::string& record) {
          if (!record.starts_with("outcome\t")) return false;
          const size_t at = record.rfind("766d2d31");
          if (at == std::string::npos) return false;
          record.replace(at, 8, "766d2d32");
          return true;
        }) == 2);
  Result r = vedvm_run({"replay", tmp / "d"});
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(contains(r.out, "replay diverged at tick 2: Pool field `last`"), r.out);
  // Garbage where the value should be: the run cannot be replayed, and says why.
  CHECK(tamper(tmp / "d", [](std::string& record) {
          if (!record.starts_with("outcome\t")) return false;
          record = record.substr(0, record.rfind('\t') + 1) + "zz";
          return true;
        }) == 2);
  Result bad = vedvm_run({"replay", tmp / "d"});
  CHECK(bad.exit_code == 1);
  CHECK_MESSAGE(contains(bad.err, "cannot replay"), bad.err);
  CHECK(contains(bad.err, "malformed"));
}

TEST_CASE("replay: errors") {
  TempDir tmp;
  Result none = vedvm_run({"replay", tmp / "missing"});
  CHECK(none.exit_code == 1);
  CHECK(contains(none.err, "no data dir"));
}

TEST_CASE("replay: a resume before the first tick, tabs and newlines in state, a timer under --serve") {
  TempDir tmp;
  // Field defaults that fault: FAULTED before tick 1; `vedvm resume` appends to tick 0.
  write_file(tmp.path() / "df.ved", R"(
state { n: int = [1, 2][5]  at: int  text: string }
goal G { predicate: at > 0  strategy: Fix }
transition Fix() { at = tick()  text = "a\tb\nslice\tMain\tforged" }
)");
  CHECK(vedvm_run({tmp / "df.ved", "--data-dir", tmp / "d", "--sync=none", "--quiet"}).exit_code == 3);
  REQUIRE(vedvm_run({"resume", tmp / "d", "Main"}).exit_code == 0);
  Result run = vedvm_run({tmp / "df.ved", "--data-dir", tmp / "d", "--sync=none", "--trace"});
  CHECK_MESSAGE(run.exit_code == 0, run.out << run.err);
  CHECK_FALSE(contains(run.out, "\nslice\tMain\tforged"));  // one event, one line
  Result replay = vedvm_run({"replay", tmp / "d"});
  CHECK_MESSAGE(replay.exit_code == 0, replay.out << replay.err);

  // Serving, idle ticks still advance time: a timer 5 ticks ahead fires.
  write_file(tmp.path() / "timer.ved", R"(
state { fired: int }
transition Start() on start { schedule Fire() after 5 ticks }
transition Fire() { fired = fired + 1 }
)");
  Result served = vedvm_run({tmp / "timer.ved", "--data-dir", tmp / "t", "--sync=none", "--serve", "--tick-ms", "5",
                             "--max-ticks", "12"});
  CHECK_MESSAGE(contains(served.out, "fired: 1"), served.out << served.err);
  CHECK(vedvm_run({"replay", tmp / "t"}).exit_code == 0);
}
