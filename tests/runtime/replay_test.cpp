// `vedvm replay DIR`: a run re-executed from its journal matches it tick for tick; a
// changed program, a tampered journal and a damaged input record are each reported,
// naming the tick (and, for a state, the instance and field).
#include <doctest/doctest.h>
#include <leveldb/db.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>

#include "runtime_support.h"
#include "vm/runtime/tick_record.h"

using namespace ved::rt;

namespace {

const char* kCounter = R"(
state { value: int = 0, label: string = "" }
goal Done { predicate: value >= 3  strategy: Step }
transition Step() { value = value + 1  label = format("step {}", value) }
)";

// Rewrites every journal record of `dir` for which `edit` returns true (it changes the
// record in place). Returns how many it changed. (A tick's journal lines are in its tick
// record, `tick/<tick>`.)
int tamper(const std::string& dir, const std::function<bool(std::string&)>& edit) {
  leveldb::DB* raw = nullptr;
  leveldb::Options options;
  REQUIRE(leveldb::DB::Open(options, dir, &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);
  std::vector<std::pair<std::string, std::string>> changed;
  int records = 0;
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  for (it->Seek("tick/"); it->Valid() && it->key().starts_with("tick/"); it->Next()) {
    ved::vm::TickRecord record;
    std::string error;
    REQUIRE_MESSAGE(ved::vm::decode_tick_record(it->value().ToString(), record, error), error);
    bool any = false;
    for (std::string& line : record.journal) {
      if (edit(line)) {
        any = true;
        ++records;
      }
    }
    if (any) changed.emplace_back(it->key().ToString(), ved::vm::encode_tick_record(record));
  }
  for (const auto& [k, v] : changed) REQUIRE(db->Put(leveldb::WriteOptions(), k, v).ok());
  return records;
}

}  // namespace

TEST_CASE("replay: a run matches its journal; replay is read-only and repeatable") {
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
    leveldb::DB* raw = nullptr;
    REQUIRE(leveldb::DB::Open(leveldb::Options(), tmp / "d", &raw).ok());
    {
      std::unique_ptr<leveldb::DB> db(raw);
      ved::vm::TickRecord one, two;
      std::string bytes, error;
      const std::string key_one = ved::vm::tick_record_key(1);
      REQUIRE(db->Get(leveldb::ReadOptions(), key_one, &bytes).ok());
      REQUIRE_MESSAGE(ved::vm::decode_tick_record(bytes, one, error), error);
      REQUIRE(db->Get(leveldb::ReadOptions(), ved::vm::tick_record_key(2), &bytes).ok());
      REQUIRE_MESSAGE(ved::vm::decode_tick_record(bytes, two, error), error);
      REQUIRE(one.instances.size() == 1);
      REQUIRE(two.instances.size() == 1);
      one.instances[0].value = two.instances[0].value;
      REQUIRE(db->Put(leveldb::WriteOptions(), key_one, ved::vm::encode_tick_record(one)).ok());
    }
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
    leveldb::DB* raw = nullptr;
    REQUIRE(leveldb::DB::Open(leveldb::Options(), tmp / "d", &raw).ok());
    {
      std::unique_ptr<leveldb::DB> db(raw);
      std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
      // The last journal line of the last tick (the journal is rendered from it).
      std::string last, bytes;
      for (it->Seek("tick/"); it->Valid() && it->key().starts_with("tick/"); it->Next()) {
        last = it->key().ToString();
        bytes = it->value().ToString();
      }
      REQUIRE(!last.empty());
      ved::vm::TickRecord record;
      std::string error;
      REQUIRE_MESSAGE(ved::vm::decode_tick_record(bytes, record, error), error);
      // Its last line: the state line of its last instance write, or its last event.
      if (!record.instances.empty() && record.instances.back().line == record.journal.size())
        record.instances.pop_back();
      else
        record.journal.pop_back();
      REQUIRE(db->Put(leveldb::WriteOptions(), last, ved::vm::encode_tick_record(record)).ok());
      done = true;
    }
    CHECK(done);
    Result r = vedvm_run({"replay", tmp / "d"});
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(contains(r.out, "the replay did more than the recorded run"), r.out);
  }
}

TEST_CASE("replay: a recorded outcome is fed back; changing it changes the replayed state") {
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
