// Damaged and foreign data dirs (runtime.md §5): `vedvm PROGRAM`, `vedvm inspect` and
// `vedvm resume` exit 1 with a clear message on stderr, never die of a signal, and
// leave what is not theirs alone; `--fresh` recovers where that makes sense.
//
// The damage is done to copies of real data dirs: `tables` (tests/runtime/programs/
// fanout.ved, 1001 instances, run to the end and reopened, so its state is in LevelDB
// tables, *.ldb) and `log` (the same program stopped by --max-ticks, its state only in the
// write-ahead log, *.log, and its tick records in the tick-record log, journal-*.log).
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>

#include <leveldb/db.h>

#include "runtime_support.h"

using namespace ved::rt;
namespace fs = std::filesystem;

namespace {

const std::string& fanout() {
  static const std::string path = repo_program("fanout.ved");
  return path;
}

std::vector<fs::path> files_ending(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// LevelDB's write-ahead logs: the `.log` files that are not the tick-record log's segments.
std::vector<fs::path> write_ahead_logs(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const fs::path& f : files_ending(dir, ".log"))
    if (f.filename().string().rfind("journal-", 0) != 0) out.push_back(f);
  return out;
}

std::vector<fs::path> files_starting(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Data dirs made once per process, copied for each damage.
struct Fixtures {
  TempDir tmp;
  std::string tables, log;
  std::string final_inspect;  // of fanout run to the end
};

const Fixtures& fixtures() {
  // Removed (with its temp dir) at exit.
  static std::unique_ptr<Fixtures> f = [] {
    auto fx = std::make_unique<Fixtures>();
    fx->tables = fx->tmp / "tables";
    Result whole = vedvm_run({fanout(), "--data-dir", fx->tables, "--sync=none", "--quiet"});
    REQUIRE(whole.exit_code == 0);
    // Reopening moves the write-ahead log into tables.
    REQUIRE(vedvm_run({fanout(), "--data-dir", fx->tables, "--sync=none", "--quiet"}).exit_code == 0);
    REQUIRE_FALSE(files_ending(fx->tables, ".ldb").empty());
    fx->final_inspect = vedvm_run({"inspect", fx->tables, "--json"}).out;
    fx->log = fx->tmp / "log";
    REQUIRE(vedvm_run({fanout(), "--data-dir", fx->log, "--sync=none", "--quiet", "--max-ticks", "100"}).exit_code == 2);
    REQUIRE(files_ending(fx->log, ".ldb").empty());
    REQUIRE(write_ahead_logs(fx->log).size() == 1);
    REQUIRE(fs::file_size(write_ahead_logs(fx->log)[0]) > 100'000);
    REQUIRE(files_starting(fx->log, "journal-").size() == 1);
    return fx;
  }();
  return *f;
}

// A copy of a fixture, in its own temp dir.
struct Copy {
  TempDir tmp;
  std::string dir;
  explicit Copy(const std::string& from) : dir(tmp / "data") { fs::copy(from, dir, fs::copy_options::recursive); }
};

void truncate_to(const fs::path& file, uintmax_t size) { fs::resize_file(file, size); }

void overwrite_with_garbage(const fs::path& file, uintmax_t offset, size_t n, uint64_t seed) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  Rng rng(seed);
  std::string garbage(n, '\0');
  for (char& c : garbage) c = static_cast<char>(rng.next());
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(garbage.data(), static_cast<std::streamsize>(n));
}

// `vedvm fanout.ved` on `dir` is refused: exit 1 (not a signal), nothing on stdout, and
// on stderr one `vedvm: error:` message naming the dir and containing each needle.
// `inspect` is refused as well (exit 1).
void check_refused(const std::string& dir, const std::vector<std::string>& needles,
                   const std::string& program = fanout()) {
  Result r = vedvm_run({program, "--data-dir", dir, "--sync=none"});
  CHECK_MESSAGE(r.exited, describe(r) << "\n" << r.err);
  CHECK_MESSAGE(r.exit_code == 1, describe(r) << "\n" << r.out << r.err);
  CHECK(r.out.empty());
  CHECK_MESSAGE(r.err.rfind("vedvm: error: ", 0) == 0, r.err);
  CHECK_MESSAGE(contains(r.err, dir), r.err);
  for (const auto& n : needles) CHECK_MESSAGE(contains(r.err, n), "stderr: " << r.err << "expected: " << n);
  Result inspect = vedvm_run({"inspect", dir, "--json"});
  CHECK_MESSAGE(inspect.exited, describe(inspect) << "\n" << inspect.err);
  CHECK_MESSAGE(inspect.exit_code == 1, describe(inspect) << "\n" << inspect.out << inspect.err);
  CHECK_MESSAGE(inspect.err.rfind("vedvm: error: ", 0) == 0, inspect.err);
  Result resume = vedvm_run({"resume", dir, "Hub"});
  CHECK_MESSAGE(resume.exited, describe(resume));
  CHECK(resume.exit_code == 1);
}

// --fresh starts over in the damaged dir and runs to the end.
void check_fresh_recovers(const std::string& dir) {
  Result r = vedvm_run({fanout(), "--data-dir", dir, "--sync=none", "--fresh", "--quiet"});
  CHECK_MESSAGE(r.exit_code == 0, describe(r) << "\n" << r.err);
  CHECK_FALSE(contains(r.err, "resuming"));
  Result inspect = vedvm_run({"inspect", dir, "--json"});
  CHECK(inspect.exit_code == 0);
  CHECK(inspect.out == fixtures().final_inspect);
}

}  // namespace

TEST_CASE("damaged: the data dir of another program is refused, naming it and --fresh") {
  TempDir tmp;
  const std::string dir = tmp / "data";
  const std::string hello = std::string(VED_EXAMPLES_DIR) + "/hello.ved";
  REQUIRE(vedvm_run({hello, "--data-dir", dir, "--sync=none"}).exit_code == 0);
  const std::string before = vedvm_run({"inspect", dir, "--json"}).out;

  Result r = vedvm_run({fanout(), "--data-dir", dir, "--sync=none"});
  CHECK(r.exited);
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_MESSAGE(contains(r.err, "the data dir holds the state of program `hello`, and this program is `fanout`"), r.err);
  CHECK(contains(r.err, "--fresh"));
  // Untouched, and still inspectable as hello's.
  Result inspect = vedvm_run({"inspect", dir, "--json"});
  CHECK(inspect.exit_code == 0);
  CHECK(inspect.out == before);

  check_fresh_recovers(dir);
  // Now it is fanout's, and hello is refused the same way.
  Result back = vedvm_run({hello, "--data-dir", dir, "--sync=none"});
  CHECK(back.exit_code == 1);
  CHECK(contains(back.err, "holds the state of program `fanout`"));
}

TEST_CASE("damaged: a non-empty directory that holds no database is refused, even with --fresh") {
  TempDir tmp;
  const std::string dir = tmp / "data";
  fs::create_directory(dir);
  write_file(fs::path(dir) / "notes.txt", "mine\n");
  check_refused(dir, {"is not a Ved data dir"});
  // --fresh does not delete files that are not its own.
  Result fresh = vedvm_run({fanout(), "--data-dir", dir, "--sync=none", "--fresh"});
  CHECK(fresh.exited);
  CHECK(fresh.exit_code == 1);
  CHECK(contains(fresh.err, "is not a Ved data dir"));
  CHECK(read_file(fs::path(dir) / "notes.txt") == "mine\n");
}

// Regression test (a bug, fixed): `--fresh` called leveldb::DestroyDB on a directory
// before deciding whether it was a data dir, deleting every file named like LevelDB's
// (`2023.log`, `LOG`, `CURRENT`), and only then refused it.
TEST_CASE("damaged: --fresh on a directory that is not a data dir deletes nothing, even files named like LevelDB's") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "data";
  fs::create_directory(dir);
  const std::map<std::string, std::string> files{
      {"2023.log", "a year of notes\n"}, {"LOG", "my log\n"}, {"CURRENT", "my current\n"}, {"notes.txt", "mine\n"}};
  for (const auto& [name, text] : files) write_file(dir / name, text);
  for (bool fresh : {true, false}) {
    INFO("--fresh " << fresh);
    std::vector<std::string> args{fanout(), "--data-dir", dir.string(), "--sync=none"};
    if (fresh) args.push_back("--fresh");
    Result r = vedvm_run(args);
    CHECK(r.exited);
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(contains(r.err, "not a Ved data dir"), r.err);
    size_t count = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      ++count;
      CHECK(read_file(e.path()) == files.at(e.path().filename().string()));
    }
    CHECK(count == files.size());
  }
}

// Regression test (a bug, fixed): a directory holding only `LOG` and `MANIFEST-2024` was
// taken for an interrupted creation of a data dir and wiped.
TEST_CASE("damaged: a directory holding only files named like a LevelDB creation's is not wiped") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "data";
  fs::create_directory(dir);
  write_file(dir / "LOG", "someone's log\n");
  write_file(dir / "MANIFEST-2024", "someone's manifest\n");
  Result r = vedvm_run({fanout(), "--data-dir", dir.string(), "--sync=none"});
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(contains(r.err, "not a Ved data dir"), r.err);
  CHECK(read_file(dir / "LOG") == "someone's log\n");
  CHECK(read_file(dir / "MANIFEST-2024") == "someone's manifest\n");
}

// Regression test (a bug, fixed): another application's LevelDB database (keys
// `user/alice`, no `meta/`) was taken over: Ved's keys were written into it.
TEST_CASE("damaged: another application's LevelDB database is refused and left as it was") {
  TempDir tmp;
  const std::string dir = tmp / "theirs";
  {
    leveldb::DB* raw = nullptr;
    leveldb::Options options;
    options.create_if_missing = true;
    REQUIRE(leveldb::DB::Open(options, dir, &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    REQUIRE(db->Put(leveldb::WriteOptions(), "user/alice", "alice's record").ok());
  }
  for (bool fresh : {false, true}) {
    std::vector<std::string> args{fanout(), "--data-dir", dir, "--sync=none"};
    if (fresh) args.push_back("--fresh");
    Result r = vedvm_run(args);
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(contains(r.err, "holds a LevelDB database but no VED-DATA-DIR"), r.err);
  }
  Result inspect = vedvm_run({"inspect", dir});
  CHECK(inspect.exit_code == 1);
  leveldb::DB* raw = nullptr;
  REQUIRE(leveldb::DB::Open(leveldb::Options(), dir, &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  std::vector<std::string> keys;
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
  CHECK(keys == std::vector<std::string>{"user/alice"});
  CHECK_FALSE(fs::exists(fs::path(dir) / "VED-DATA-DIR"));
}

TEST_CASE("damaged: a data dir path that is a regular file is refused, even with --fresh") {
  TempDir tmp;
  const std::string file = tmp / "data";
  write_file(file, "not a directory\n");
  Result r = vedvm_run({fanout(), "--data-dir", file, "--sync=none"});
  CHECK(r.exited);
  CHECK(r.exit_code == 1);
  CHECK_MESSAGE(contains(r.err, "is a file, not a directory"), r.err);
  Result fresh = vedvm_run({fanout(), "--data-dir", file, "--sync=none", "--fresh"});
  CHECK(fresh.exited);
  CHECK(fresh.exit_code == 1);
  CHECK(contains(fresh.err, "is a file, not a directory"));
  CHECK(read_file(file) == "not a directory\n");
  Result inspect = vedvm_run({"inspect", file});
  CHECK(inspect.exit_code == 1);
  CHECK(contains(inspect.err, "no data dir"));
}

TEST_CASE("damaged: truncated table files (*.ldb)") {
  for (const char* how : {"empty", "100 bytes", "half"}) {
    INFO("each .ldb truncated to " << how);
    Copy c(fixtures().tables);
    for (const auto& f : files_ending(c.dir, ".ldb")) {
      const uintmax_t size = fs::file_size(f);
      truncate_to(f, std::string(how) == "empty" ? 0 : std::string(how) == "half" ? size / 2 : 100);
    }
    check_refused(c.dir, {".ldb"});
    check_fresh_recovers(c.dir);
  }
}

TEST_CASE("damaged: garbage over a table file (*.ldb)") {
  // The start of a table holds the first keys in order: instance records, which recovery
  // reads and must refuse.
  {
    INFO("64 bytes of garbage at the start of each .ldb");
    Copy c(fixtures().tables);
    uint64_t seed = 1;
    for (const auto& f : files_ending(c.dir, ".ldb")) overwrite_with_garbage(f, 0, 64, seed++);
    check_refused(c.dir, {"Corruption"});
    check_fresh_recovers(c.dir);
  }
  // Elsewhere the garbage may fall on journal records only, which recovery does not read
  // (it reads instances, mailboxes and pending messages, so that it costs the number of
  // instances, not the history). Damage is then never silent for whoever reads it: either
  // the run refuses, or it resumes to the right state and `vedvm stats`, which reads the
  // whole journal, refuses.
  {
    INFO("64 bytes of garbage in the middle of each .ldb");
    Copy c(fixtures().tables);
    uint64_t seed = 1;
    for (const auto& f : files_ending(c.dir, ".ldb"))
      overwrite_with_garbage(f, fs::file_size(f) / 2, 64, seed++);
    Result r = vedvm_run({fanout(), "--data-dir", c.dir, "--sync=none", "--quiet"});
    REQUIRE(r.exited);
    if (r.exit_code == 1) {
      CHECK_MESSAGE(contains(r.err, "Corruption"), r.err);
    } else {
      CHECK(r.exit_code == 0);
      Result inspect = vedvm_run({"inspect", c.dir, "--json"});
      CHECK(inspect.out == fixtures().final_inspect);
      Result stats = vedvm_run({"stats", c.dir});
      CHECK(stats.exit_code == 1);
      CHECK_MESSAGE(contains(stats.err, "Corruption"), stats.err);
    }
    check_fresh_recovers(c.dir);
  }
}

TEST_CASE("damaged: a truncated MANIFEST") {
  for (uintmax_t size : {uintmax_t{0}, uintmax_t{20}}) {
    INFO("MANIFEST truncated to " << size << " bytes");
    Copy c(fixtures().tables);
    auto manifests = files_starting(c.dir, "MANIFEST-");
    REQUIRE(manifests.size() == 1);
    truncate_to(manifests[0], size);
    check_refused(c.dir, {"Corruption"});
    check_fresh_recovers(c.dir);
  }
}

TEST_CASE("damaged: garbage over the MANIFEST") {
  Copy c(fixtures().tables);
  auto manifests = files_starting(c.dir, "MANIFEST-");
  REQUIRE(manifests.size() == 1);
  overwrite_with_garbage(manifests[0], 0, 32, 99);
  check_refused(c.dir, {"Corruption"});
  check_fresh_recovers(c.dir);
}

TEST_CASE("damaged: CURRENT empty, naming a missing MANIFEST, or missing") {
  {
    INFO("CURRENT empty");
    Copy c(fixtures().tables);
    truncate_to(fs::path(c.dir) / "CURRENT", 0);
    check_refused(c.dir, {"Corruption"});
    check_fresh_recovers(c.dir);
  }
  {
    INFO("CURRENT names a MANIFEST that does not exist");
    Copy c(fixtures().tables);
    write_file(fs::path(c.dir) / "CURRENT", "MANIFEST-999999\n");
    check_refused(c.dir, {"Corruption", "MANIFEST-999999"});
    check_fresh_recovers(c.dir);
  }
  {
    INFO("CURRENT missing");
    Copy c(fixtures().tables);
    fs::remove(fs::path(c.dir) / "CURRENT");
    check_refused(c.dir, {"no CURRENT file"});
    check_fresh_recovers(c.dir);
  }
}

TEST_CASE("damaged: garbage over the write-ahead log (*.log)") {
  const auto log = write_ahead_logs(fixtures().log)[0].filename();
  const uintmax_t size = fs::file_size(fixtures().log / log);
  for (uintmax_t offset : {uintmax_t{0}, uintmax_t{1000}, size / 2, size - 100}) {
    INFO("64 bytes of garbage at offset " << offset << " of " << size);
    Copy c(fixtures().log);
    overwrite_with_garbage(fs::path(c.dir) / log, offset, 64, offset + 1);
    check_refused(c.dir, {"Corruption"});
    check_fresh_recovers(c.dir);
  }
}

// `vedvm fanout.ved` on `dir` resumes and ends as the uninterrupted run: what was lost
// was still held elsewhere.
void check_recovered(const std::string& dir) {
  Result r = vedvm_run({fanout(), "--data-dir", dir, "--sync=none", "--quiet"});
  CHECK_MESSAGE(r.exit_code == 0, describe(r) << "\n" << r.err);
  CHECK(vedvm_run({"inspect", dir, "--json"}).out == fixtures().final_inspect);
}

// Regression test (a bug, fixed): a write-ahead log cut short is what a crash in the
// middle of a write leaves, and LevelDB silently keeps the batches before the cut. When
// it held the only copy of ticks reported durable, resuming re-ran them, and re-executed
// their effects. Now the write-ahead log holds the run's start and its checkpoints, and
// the tick-record log holds every tick: a cut into the start (its first batch, a few
// kilobytes: the workers are spawned later) is refused, as VED-DATA-DIR remembers tick
// 100; a cut that loses only checkpoints is recovered from the tick-record log, to the
// same end.
TEST_CASE("damaged: a write-ahead log cut short into the run's start is refused, and a lost checkpoint is recovered") {
  const auto log = write_ahead_logs(fixtures().log)[0].filename();
  const uintmax_t size = fs::file_size(fixtures().log / log);
  for (uintmax_t cut : {uintmax_t{0}, uintmax_t{7}}) {
    INFO("log cut to " << cut << " of " << size << " bytes");
    Copy c(fixtures().log);
    truncate_to(fs::path(c.dir) / log, cut);
    check_refused(c.dir, {"damaged", "tick 100"});
    check_fresh_recovers(c.dir);
  }
  for (uintmax_t cut : {uintmax_t{5000}, size / 3, size * 6 / 10, size * 9 / 10, size - 10, size - 1, size}) {
    INFO("log cut to " << cut << " of " << size << " bytes");
    Copy c(fixtures().log);
    truncate_to(fs::path(c.dir) / log, cut);
    check_recovered(c.dir);
  }
}

// The tick-record log holds the frames the stored state was made from: a segment cut
// short loses them, and is refused as damage naming the journal; so is garbage over the
// last frame, which the checkpoint names. Garbage over earlier frames leaves the run able
// to go on (its live state is intact, and loading goes straight to the checkpoint's
// frame), and reading the journal (replay) names the damage.
TEST_CASE("damaged: a tick-record log cut short is refused, and garbage over its history is named") {
  const auto segment = files_starting(fixtures().log, "journal-")[0].filename();
  const uintmax_t size = fs::file_size(fixtures().log / segment);
  for (uintmax_t cut : {uintmax_t{0}, uintmax_t{7}, size / 3, size / 2, size * 9 / 10, size - 1}) {
    INFO("journal segment cut to " << cut << " of " << size << " bytes");
    Copy c(fixtures().log);
    truncate_to(fs::path(c.dir) / segment, cut);
    check_refused(c.dir, {"damaged", "the journal has lost frame"});
    check_fresh_recovers(c.dir);
  }
  for (uintmax_t offset : {uintmax_t{0}, uintmax_t{1000}, size / 3, size / 2, size - 100}) {
    INFO("64 bytes of garbage at offset " << offset << " of " << size);
    Copy c(fixtures().log);
    overwrite_with_garbage(fs::path(c.dir) / segment, offset, 64, offset + 1);
    Result run = vedvm_run({fanout(), "--data-dir", c.dir, "--sync=none", "--quiet"});
    CHECK(run.exit_code == (offset == size - 100 ? 1 : 0));  // the checkpoint's own frame, or history
    if (run.exit_code == 0) {
      CHECK(vedvm_run({"inspect", c.dir, "--json"}).out == fixtures().final_inspect);
      Result replay = vedvm_run({"replay", c.dir});
      CHECK(replay.exit_code == 1);
      CHECK_MESSAGE(contains(replay.err, "damaged"), replay.err);
      CHECK_MESSAGE(contains(replay.err, "journal"), replay.err);
    } else {
      check_refused(c.dir, {"damaged", "the journal"});
    }
  }
}

TEST_CASE("damaged: inspect and resume on a directory that does not exist") {
  TempDir tmp;
  const std::string dir = tmp / "missing";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"inspect", dir}, {"inspect", dir, "--json"}, {"resume", dir, "Ledger"}, {"stats", dir}}) {
    Result r = vedvm_run(args);
    CHECK(r.exited);
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK_MESSAGE(contains(r.err, "vedvm: error: no data dir `" + dir + "`"), r.err);
  }
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("damaged: inspect on an empty directory says it holds no Ved program") {
  TempDir tmp;
  const std::string dir = tmp / "empty";
  fs::create_directory(dir);
  Result r = vedvm_run({"inspect", dir, "--json"});
  CHECK(r.exited);
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_MESSAGE(contains(r.err, "holds no Ved program"), r.err);
}

// Regression test (a bug, fixed): `vedvm inspect` (and `resume`, `stats`) on an empty directory creates a
// LevelDB database in it (CURRENT, LOCK, LOG, MANIFEST-*, *.log) before saying it holds
// no Ved program: an offline, read-only command writes into a directory that was not a
// data dir (runtime.md §6: inspection runs nothing). Store::open always passes
// create_if_missing.
TEST_CASE("damaged: inspect on an empty directory leaves it empty") {
  TempDir tmp;
  const std::string dir = tmp / "empty";
  fs::create_directory(dir);
  CHECK(vedvm_run({"inspect", dir}).exit_code == 1);
  CHECK(fs::is_empty(dir));
}
