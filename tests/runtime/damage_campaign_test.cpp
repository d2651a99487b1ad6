// The damage campaign (runtime.md §6, "What damage is detected"): every file of a
// finished run's data dir is cut short at many offsets, has bytes flipped, or is
// deleted, one damage per copy. Each damaged copy must either
//   - be refused: `vedvm` exits 1 with one `vedvm: error:` line naming the damage, and
//     runs nothing (no effect executed again); or
//   - be harmless: the resumed run ends as the uninterrupted one did (the same
//     `inspect --json`, no effect executed again) and `vedvm replay` passes; or
//   - hold damage only in history (journal records recovery does not read): the run is
//     as above, and `vedvm replay`, which reads the whole journal, refuses it by name.
// Anything else — a crash, a changed state, an effect run twice — fails the test. The
// counts of each class are printed (docs/runtime.md quotes them).
//
// The run is made so that its data dir has every kind of file and record: instances,
// mailbox entries that were consumed, intents and their outcomes, several LevelDB tables
// written by memtable flushes *during* a run (a 40 KB field rewritten every tick), so
// that the MANIFEST holds several edits and cutting one off loses a flush whose later
// ticks are still in the log — the rollback LevelDB cannot see by itself.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <iostream>

#include "runtime_support.h"

using namespace ved::rt;
namespace fs = std::filesystem;

namespace {

const char* kProgram = R"(// The damage campaign's run.
domain Counter {
    state { n: int  pongs: int  blob: String }
    goal Reach {
        predicate: n == 150
        strategy: Step
        terminate_after: never
    }
    transition Step() {
        if n == 0 {
            for i in 0..4000 { blob = blob + "0123456789" }
        }
        n = n + 1
        blob = format("{}{}", n % 10, blob)
        send Echo.Ping(k: n)
        if n % 10 == 0 {
            emit System.AppendFile(path: "executions.log", content: format("step {}\n", n))
        }
    }
    transition Pong(k: int) { pongs = pongs + k % 7 }
}

domain Echo {
    state { pings: int  sum: int }
    transition Ping(k: int) {
        pings = pings + 1
        sum = sum + k
        reply Pong(k: k)
    }
}
)";

struct Fixture {
  TempDir tmp;
  std::string bundle;
  std::string dir;   // the finished run's data dir
  std::string root;  // its --fs-root, with executions.log
  std::string inspect;
  std::string executions;
};

const Fixture& fixture() {
  static std::unique_ptr<Fixture> f = [] {
    auto fx = std::make_unique<Fixture>();
    write_file(fx->tmp.path() / "campaign.ved", kProgram);
    fx->bundle = fx->tmp / "campaign.vedb";
    REQUIRE(run({vedc(), fx->tmp / "campaign.ved", "-o", fx->bundle}).exit_code == 0);
    fx->dir = fx->tmp / "data";
    fx->root = fx->tmp / "root";
    fs::create_directories(fx->root);
    // In three processes, so that the MANIFEST has been rewritten and the tables come
    // from flushes in more than one process; under --sync=tick, as users run.
    for (const char* max : {"100", "200"})
      REQUIRE(vedvm_run({fx->bundle, "--data-dir", fx->dir, "--fs-root", fx->root, "--max-ticks", max, "--quiet"})
                  .exit_code == 2);
    REQUIRE(vedvm_run({fx->bundle, "--data-dir", fx->dir, "--fs-root", fx->root, "--quiet"}).exit_code == 0);
    fx->inspect = vedvm_run({"inspect", fx->dir, "--json"}).out;
    fx->executions = read_file(fs::path(fx->root) / "executions.log");
    REQUIRE(std::count(fx->executions.begin(), fx->executions.end(), '\n') == 15);
    return fx;
  }();
  return *f;
}

struct Counts {
  int refused = 0, harmless = 0, history = 0;
};

// One damaged copy, classified; a failed CHECK for anything that is neither.
void classify(const std::string& what, const std::function<void(const fs::path& dir)>& damage, Counts& counts) {
  INFO(what);
  const Fixture& fx = fixture();
  TempDir tmp;
  const fs::path dir = tmp.path() / "data", root = tmp.path() / "root";
  fs::copy(fx.dir, dir, fs::copy_options::recursive);
  fs::copy(fx.root, root, fs::copy_options::recursive);
  damage(dir);
  Result r = vedvm_run({fx.bundle, "--data-dir", dir.string(), "--fs-root", root.string(), "--quiet"});
  REQUIRE_MESSAGE(r.exited, describe(r) << "\n" << r.err);
  // Whatever happened, no effect ran again.
  CHECK(read_file(root / "executions.log") == fx.executions);
  if (r.exit_code == 1) {
    CHECK_MESSAGE(r.err.rfind("vedvm: error: ", 0) == 0, r.err);
    CHECK_MESSAGE((contains(r.err, "damaged") || contains(r.err, "not a Ved data dir")), r.err);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    ++counts.refused;
    return;
  }
  CHECK_MESSAGE(r.exit_code == 0, describe(r) << "\n" << r.err);
  Result inspect = vedvm_run({"inspect", dir.string(), "--json"});
  CHECK_MESSAGE(inspect.out == fx.inspect, inspect.err);
  Result replay = vedvm_run({"replay", dir.string()});
  REQUIRE(replay.exited);
  if (replay.exit_code == 0) {
    ++counts.harmless;
    return;
  }
  CHECK_MESSAGE((contains(replay.err, "Corruption") || contains(replay.err, "damaged")),
                describe(replay) << "\n" << replay.out << replay.err);
  ++counts.history;
}

void cut(const fs::path& file, uintmax_t size) { fs::resize_file(file, size); }

void flip(const fs::path& file, uintmax_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

std::vector<std::string> fixture_files() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fixture().dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Offsets spread over a file: both ends, and `inner` evenly between.
std::vector<uintmax_t> offsets(uintmax_t size, int inner) {
  std::vector<uintmax_t> out{0, 1};
  for (int k = 1; k <= inner; ++k) out.push_back(size * static_cast<uintmax_t>(k) / static_cast<uintmax_t>(inner + 1));
  if (size > 1) out.push_back(size - 1);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  while (!out.empty() && out.back() >= size && size > 0) out.pop_back();
  return out;
}

}  // namespace

TEST_CASE("damage campaign: every file of a finished run's data dir cut short, flipped or deleted") {
  const Fixture& fx = fixture();
  Counts total;
  std::map<std::string, Counts> per_kind;
  auto kind_of = [](const std::string& name) -> std::string {
    if (name.ends_with(".ldb")) return "table (*.ldb)";
    if (name.rfind("journal-", 0) == 0) return "tick-record log (journal-*.log)";
    if (name.ends_with(".log")) return "write-ahead log (*.log)";
    if (name.rfind("MANIFEST-", 0) == 0) return "MANIFEST";
    return name;
  };
  for (const std::string& name : fixture_files()) {
    const uintmax_t size = fs::file_size(fs::path(fx.dir) / name);
    Counts& c = per_kind[kind_of(name)];
    for (uintmax_t at : offsets(size, 14))
      classify(name + " cut to " + std::to_string(at) + " of " + std::to_string(size) + " bytes",
               [&](const fs::path& dir) { cut(dir / name, at); }, c);
    if (size > 0)
      for (uintmax_t at : offsets(size, 8))
        classify(name + ": byte " + std::to_string(at) + " of " + std::to_string(size) + " flipped",
                 [&](const fs::path& dir) { flip(dir / name, at); }, c);
    classify(name + " deleted", [&](const fs::path& dir) { fs::remove(dir / name); }, c);
  }
  for (const auto& [kind, c] : per_kind) {
    MESSAGE(kind << ": " << c.refused << " refused, " << c.harmless << " harmless, " << c.history
                 << " found when the journal is read");
    total.refused += c.refused;
    total.harmless += c.harmless;
    total.history += c.history;
  }
  MESSAGE("damage campaign: " << total.refused << " refused, " << total.harmless << " harmless, " << total.history
                              << " found when the journal is read");
  // The campaign must have found real damage of each kind (a test that cannot fail
  // otherwise): the log, the MANIFEST and the tables each refused at least once.
  CHECK(per_kind["table (*.ldb)"].refused > 0);
  CHECK(per_kind["MANIFEST"].refused > 0);
  CHECK(per_kind["VED-DATA-DIR"].refused > 0);
}
