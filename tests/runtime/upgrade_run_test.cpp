// Program evolution end to end (issue 13; docs/upgrades.md): a data dir run by v1 is taken
// over by v2 (a new field and a migration), then v3 (a chain), with `vedvm upgrade` or by
// running the new build on it; after a clean stop, after kill -9 mid-run, and while a
// serving run has messages and intents in flight. The journal replays from tick 1 across
// every upgrade; two data dirs with the same history end byte-identical; a refused
// upgrade or a migration that faults changes nothing, and the old build still resumes.
#include <doctest/doctest.h>

#include <csignal>
#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "runtime_support.h"

using namespace ved::rt;

namespace {

// v2's migration, which v3 keeps (a chain starts from every stored version).
#define ADD_LABEL_MIGRATION \
  "migration add_label {\n"                                                                  \
  "    from: Counter.State@1\n"                                                              \
  "    to: Counter.State@2\n"                                                                \
  "    return Counter.State@2(value = from.value * 2, label = \"was \" + str(from.value))\n" \
  "}\n"

// Counter counts one a tick up to its goal. v2 adds `label` (the migration writes the
// value it found, and doubles it); v3 adds `tier` on top, through v2.
const char* kV1 = R"(domain Counter {
    state { value: int }
    goal Reached {
        predicate: value >= 5
        strategy: Increment
    }
    transition Increment() { value = value + 1 }
}
)";

const char* kV2 = R"(@version 2
domain Counter {
    state { value: int  label: string }
    goal Reached {
        predicate: value >= 14
        strategy: Increment
    }
    transition Increment() { value = value + 1 }
}
)" ADD_LABEL_MIGRATION;

const char* kV3 = R"(@version 3
domain Counter {
    state { value: int  label: string  tier: string }
    goal Reached {
        predicate: value >= 20
        strategy: Increment
    }
    transition Increment() { value = value + 1 }
}
)" ADD_LABEL_MIGRATION R"(migration add_tier {
    from: Counter.State@2
    to: Counter.State@3
    let tier = "bronze"
    if from.value >= 10 { tier = "gold" }
    return Counter.State@3(value = from.value, label = from.label, tier = tier)
}
)";

// Each version compiled as `app` (the program's name is its file's) in a directory of its own.
struct Versions {
  TempDir v1_dir, v2_dir, v3_dir;
  std::string v1 = compile_source(v1_dir, kV1, "app");
  std::string v2 = compile_source(v2_dir, kV2, "app");
  std::string v3 = compile_source(v3_dir, kV3, "app");
};

Result must_run(const std::vector<std::string>& args, int exit_code = 0) {
  Result r = vedvm_run(args);
  INFO("vedvm " << args.front() << ": " << describe(r) << "\n" << r.out << r.err);
  REQUIRE(r.exited);
  REQUIRE(r.exit_code == exit_code);
  return r;
}

std::map<std::string, std::string> fields_of(const std::string& dir, const std::string& instance = "Counter") {
  const Result r = must_run({"inspect", dir, "--json"});
  const auto all = inspected_instances(r.out);
  REQUIRE(all.count(instance) == 1);
  return all.at(instance).fields;
}

int64_t tick_of(const std::string& dir) {
  const Result r = must_run({"inspect", dir, "--json"});
  return nlohmann::json::parse(r.out)["tick"].get<int64_t>();
}

// Every journal line of ticks 0..last, as `inspect --tick` prints them.
std::string journal_of(const std::string& dir) {
  std::string all;
  const int64_t last = tick_of(dir);
  for (int64_t t = 0; t <= last; ++t) {
    Result r = vedvm_run({"inspect", dir, "--tick", std::to_string(t)});
    if (r.exit_code == 0) all += r.out;
  }
  return all;
}

void replays(const std::string& dir) {
  const Result r = must_run({"replay", dir});
  CHECK(contains(r.out, "match the journal"));
}

}  // namespace

TEST_CASE("upgrade: v1 stops, v2 migrates its state and resumes, v3 chains, and the journal replays from tick 1") {
  Versions v;
  TempDir tmp;
  const std::string dir = tmp / "data";
  must_run({v.v1, "--data-dir", dir, "--quiet"});
  CHECK(fields_of(dir).at("value") == "5");
  const int64_t before = tick_of(dir);

  // `vedvm upgrade` on the stopped dir: one tick, the migration's result.
  const Result up = must_run({"upgrade", dir, v.v2});
  CHECK(contains(up.out, "upgraded `" + dir + "` from `app`"));
  CHECK(contains(up.out, "at tick " + std::to_string(before + 1) + ": 1 instance, 1 migrated"));
  auto f = fields_of(dir);
  CHECK(f.at("value") == "10");
  CHECK(f.at("label") == "\"was 5\"");
  const Result upgrade_tick = must_run({"inspect", dir, "--tick", std::to_string(before + 1)});
  CHECK(contains(upgrade_tick.out, " app upgrade from "));
  CHECK(contains(upgrade_tick.out, " Counter migrate Counter.State@1 -> @2 by add_label"));
  CHECK(contains(upgrade_tick.out, " Counter state "));
  // Upgrading again to the same build does nothing.
  CHECK(contains(must_run({"upgrade", dir, v.v2}).out, "nothing to upgrade"));

  // v2 runs on to its own goal; the old build is refused now (its state is older).
  must_run({v.v2, "--data-dir", dir, "--quiet"});
  CHECK(fields_of(dir).at("value") == "14");
  const Result old = must_run({v.v1, "--data-dir", dir, "--quiet"}, 1);
  CHECK(contains(old.err, "domain `Counter` is at `@version 1`, and the data dir holds 1 stored instance at version 2, "
                          "written by a newer program"));

  // Running v3 on the dir upgrades it first (v2 -> v3 by add_tier), then runs.
  const Result third = must_run({v.v3, "--data-dir", dir});
  CHECK(contains(third.err, "1 instance, 1 migrated"));
  f = fields_of(dir);
  CHECK(f.at("value") == "20");
  CHECK(f.at("label") == "\"was 5\"");
  CHECK(f.at("tier") == "\"gold\"");
  replays(dir);
  // `inspect --json` shows the program history.
  const auto inspect = nlohmann::json::parse(must_run({"inspect", dir, "--json"}).out);
  REQUIRE(inspect.contains("programs"));
  CHECK(inspect["programs"].size() == 3);
  CHECK(inspect["programs"][0]["first_tick"] == 0);
  CHECK(inspect["programs"][1]["first_tick"] == before + 1);
}

TEST_CASE("upgrade: a v1 -> v3 chain in one step runs both migrations") {
  Versions v;
  TempDir tmp;
  const std::string dir = tmp / "data";
  must_run({v.v1, "--data-dir", dir, "--quiet"});
  const Result up = must_run({"upgrade", dir, v.v3});
  CHECK(contains(up.out, "1 migrated"));
  const Result tick = must_run({"inspect", dir, "--tick", std::to_string(tick_of(dir))});
  CHECK(contains(tick.out, "Counter.State@1 -> @3 by add_label, add_tier"));
  const auto f = fields_of(dir);
  CHECK(f.at("value") == "10");
  CHECK(f.at("tier") == "\"gold\"");
  replays(dir);
}

TEST_CASE("upgrade: code-only changes resume with no migration, and a new goal is evaluated from the upgrade on") {
  TempDir a, b, tmp;
  const std::string v1 = compile_source(a, kV1, "app");
  // The transition rewritten, a transition, a goal and a domain added; the schema as it was.
  const std::string v2 = compile_source(b, R"(domain Counter {
    state { value: int }
    goal Reached {
        predicate: value >= 5
        strategy: Increment
    }
    goal Even {
        predicate: value % 2 == 0
        strategy: Increment
    }
    transition Increment() { value += 1 }
    transition Reset() { value = 0 }
}
domain Audit {
    state { seen: int }
}
)", "app");
  const std::string dir = tmp / "data";
  must_run({v1, "--data-dir", dir, "--quiet"});
  const Result up = must_run({"upgrade", dir, v2});
  CHECK(contains(up.out, "1 instance, 0 migrated"));
  must_run({v2, "--data-dir", dir, "--quiet"});
  // Even was unsatisfied at 5: it ran Increment once.
  CHECK(fields_of(dir).at("value") == "6");
  replays(dir);
}

TEST_CASE("upgrade: refusals name what changed and change nothing, and the old build still resumes") {
  TempDir a, b, c, tmp;
  const std::string v1 = compile_source(a, kV1, "app");
  const std::string dir = tmp / "data";
  must_run({v1, "--data-dir", dir, "--quiet"});
  const std::string journal = journal_of(dir);

  SUBCASE("the schema changed and the version did not") {
    const std::string v2 = compile_source(b, R"(domain Counter {
    state { value: string }
    transition Increment() { value = value + "1" }
}
)", "app");
    const Result r = must_run({"upgrade", dir, v2}, 1);
    CHECK(contains(r.err, "the state of domain `Counter` changed (field `value` int -> string) and its `@version` is "
                          "still 1, with 1 stored instance of the old schema"));
    CHECK(contains(r.err, "migration counter_v2"));
  }
  SUBCASE("another program") {
    const std::string other = compile_source(b, kV1, "billing");
    const Result r = must_run({"upgrade", dir, other}, 1);
    CHECK(contains(r.err, "the data dir holds the state of program `app`, and this program is `billing`"));
  }
  SUBCASE("a domain with stored instances removed") {
    const std::string v2 = compile_source(b, "domain Other { state { n: int } }\n", "app");
    const Result r = must_run({v2, "--data-dir", dir}, 1);
    CHECK(contains(r.err, "domain `Counter` is not in the new program, and the data dir holds 1 stored instance of it"));
  }
  SUBCASE("a migration that faults") {
    const std::string v2 = compile_source(b, R"(@version 2
domain Counter {
    state { value: int  label: string }
    transition Increment() { value = value + 1 }
}
migration add_label {
    from: Counter.State@1
    to: Counter.State@2
    return Counter.State@2(value = from.value / (from.value - 5), label = "")
}
)", "app");
    const Result r = must_run({"upgrade", dir, v2}, 1);
    CHECK(contains(r.err, "migration `add_label` of `Counter` (version 1 -> 2) faulted at "));
    CHECK(contains(r.err, "division by zero"));
    CHECK(contains(r.err, "nothing was changed"));
  }
  CHECK(journal_of(dir) == journal);
  CHECK(fields_of(dir).at("value") == "5");
  const Result again = must_run({v1, "--data-dir", dir});
  CHECK(contains(again.out, "(0 slices)"));
  replays(dir);
}

TEST_CASE("upgrade: messages on their way of a type the new build removed refuse it once, counted") {
  TempDir a, b, tmp;
  const char* kInbox = R"(domain Sender {
    state { sent: bool }
    goal Sent {
        predicate: sent
        strategy: Burst
    }
    transition Burst() {
        for i in 0..5 {
            send Inbox Note(n: i)
        }
        sent = true
    }
}
domain Inbox {
    state { total: int }
    transition Note(n: int) { total = total + n }
}
)";
  const std::string v1 = compile_source(a, kInbox, "app");
  const std::string v2 = compile_source(b, R"(domain Sender {
    state { sent: bool }
}
domain Inbox {
    state { total: int }
}
)", "app");
  const std::string dir = tmp / "data";
  must_run({v1, "--data-dir", dir, "--quiet", "--max-ticks", "1"}, 2);
  const Result r = must_run({"upgrade", dir, v2}, 1);
  CHECK(contains(r.err, "message `Inbox.Note` is in 5 stored mailbox entries, and the new program has no transition "
                        "`Note` in `Inbox`"));
  // One line for the type, not one per message.
  CHECK(r.err.find("Inbox.Note") == r.err.rfind("Inbox.Note"));
  // The old build delivers them, and then the new one may take over.
  must_run({v1, "--data-dir", dir, "--quiet"});
  must_run({"upgrade", dir, v2});
  replays(dir);
}

TEST_CASE("upgrade: an instance between the slices of a transition refuses the upgrade until the transition ends") {
  TempDir a, b, tmp;
  const char* kSlices = R"(domain Migrator {
    state { copied: int  phase: string = "idle" }
    goal Migrated {
        predicate: phase == "done"
        strategy: Copy
    }
    transition Copy() {
        phase = "copying"
        copied += 10
        yield
        copied += 20
        yield
        phase = "done"
    }
}
)";
  const std::string v1 = compile_source(a, kSlices, "app");
  std::string changed = kSlices;
  changed.replace(changed.find("copied += 20"), 12, "copied += 25");
  const std::string v2 = compile_source(b, changed, "app");
  const std::string dir = tmp / "data";
  must_run({v1, "--data-dir", dir, "--quiet", "--max-ticks", "1"}, 2);
  const Result refused = must_run({"upgrade", dir, v2}, 1);
  CHECK(contains(refused.err, "instance `Migrator` is between the slices of transition `Copy`"));
  must_run({v1, "--data-dir", dir, "--quiet"});
  must_run({"upgrade", dir, v2});
  CHECK(fields_of(dir, "Migrator").at("copied") == "30");
  replays(dir);
}

TEST_CASE("upgrade: after kill -9 mid-run, and two data dirs with the same history end byte-identical") {
  TempDir a, b, tmp;
  // Killed in the middle: one increment a tick, towards a goal it never reaches here.
  const std::string v1 = compile_source(a, R"(domain Counter {
    state { value: int }
    goal Reached {
        predicate: value >= 100000000
        strategy: Increment
        terminate_after: never
    }
    transition Increment() { value = value + 1 }
}
)", "app");
  const std::string v2 = compile_source(b, R"(@version 2
domain Counter {
    state { value: int  found: int }
    goal Reached {
        predicate: value >= found + 100
        strategy: Increment
        terminate_after: never
    }
    transition Increment() { value = value + 1 }
}
migration remember {
    from: Counter.State@1
    to: Counter.State@2
    return Counter.State@2(value = from.value, found = from.value)
}
)", "app");
  const std::string dir = tmp / "data";
  {
    Process p({vedvm(), v1, "--data-dir", dir, "--quiet"});
    // Killed once some ticks are durable (inspect reads beside a running VM).
    for (int i = 0; i < 400; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      Result r = vedvm_run({"inspect", dir, "--json"});
      if (r.exit_code == 0 && nlohmann::json::parse(r.out)["tick"].get<int64_t>() >= 50) break;
    }
    REQUIRE(p.kill_now());
  }
  const int64_t killed_at = tick_of(dir);
  REQUIRE(killed_at >= 50);
  const std::string copy = tmp / "copy";
  std::filesystem::copy(dir, copy, std::filesystem::copy_options::recursive);
  for (const std::string& d : {dir, copy}) {
    must_run({"upgrade", d, v2});
    must_run({v2, "--data-dir", d, "--quiet", "--sync=none"});
  }
  const auto f = fields_of(dir);
  CHECK(f.at("value") == std::to_string(killed_at + 100));
  // The migration saw the state of the last committed tick: one increment a tick.
  CHECK(f.at("found") == std::to_string(killed_at));
  CHECK(must_run({"inspect", dir, "--json"}).out == must_run({"inspect", copy, "--json"}).out);
  Result tail_a = must_run({"inspect", dir, "--tick", std::to_string(killed_at + 1)});
  Result tail_b = must_run({"inspect", copy, "--tick", std::to_string(killed_at + 1)});
  CHECK(tail_a.out == tail_b.out);
  replays(dir);
}

TEST_CASE("upgrade: a serving run takes `vedvm upgrade` at a tick boundary, with messages and intents in flight") {
  TempDir a, b, tmp;
  // Six jobs, one emitted a tick; each outcome counted once. `sleep` keeps intents in flight.
  const char* kJobs = R"(@privilege infrastructure
domain Worker {
    state { sent: int  done: int }
    transition Start() on start { schedule Next() after 1 ticks }
    transition Next() {
        if sent < 6 {
            emit Process.Run(argv: ["sleep", "0.1"], idempotency_key: format("job-{}", sent))
            sent = sent + 1
            schedule Next() after 1 ticks
        }
    }
    transition Finished(out: string) on Process.Run.ok { done = done + 1 }
}
)";
  std::string v2_source = kJobs;
  v2_source = std::regex_replace(v2_source, std::regex("@privilege infrastructure\n"), "@privilege infrastructure\n@version 2\n");
  v2_source = std::regex_replace(v2_source, std::regex("done: int \\}"), "done: int  note: string }") +
              R"(migration note {
    from: Worker.State@1
    to: Worker.State@2
    return Worker.State@2(sent = from.sent, done = from.done, note = "upgraded at " + str(from.sent))
}
)";
  const std::string v1 = compile_source(a, kJobs, "jobs");
  const std::string v2 = compile_source(b, v2_source, "jobs");
  const std::string dir = tmp / "data";
  Process server({vedvm(), v1, "--data-dir", dir, "--serve", "--tick-ms", "20", "--allow-exec", "--quiet"});
  auto worker = [&] {
    Result r = vedvm_run({"inspect", dir, "--json"});
    return r.exit_code == 0 ? inspected_instances(r.out)["Worker"].fields : std::map<std::string, std::string>{};
  };
  for (int i = 0; i < 500 && (worker().count("sent") == 0 || worker()["sent"] < "2"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // A damaged request (not a bundle) is refused by the serving run, which goes on.
  write_file(std::filesystem::path(dir) / "upgrade-request.vedb", "not a bundle");
  std::string verdict;
  for (int i = 0; i < 1000 && verdict.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (std::filesystem::exists(std::filesystem::path(dir) / "upgrade-result"))
      verdict = read_file(std::filesystem::path(dir) / "upgrade-result");
  }
  CHECK(verdict.rfind("refused\n", 0) == 0);
  std::filesystem::remove(std::filesystem::path(dir) / "upgrade-result");
  REQUIRE_FALSE(server.finished());
  const Result up = must_run({"upgrade", dir, v2, "--wait", "30"});
  CHECK(contains(up.out, "by the serving process"));
  for (int i = 0; i < 1000 && worker()["done"] != "6"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(server.send(SIGTERM));
  const Result stopped = server.wait(std::chrono::seconds(30));
  CHECK(stopped.exited);
  const auto f = worker();
  CHECK(f.at("sent") == "6");
  CHECK(f.at("done") == "6");
  CHECK(contains(f.at("note"), "upgraded at "));
  // Every intent's outcome journaled once.
  const Result stats = must_run({"stats", dir});
  CHECK(contains(stats.out, "outcome: 6\n"));
  CHECK(contains(stats.out, "upgrade: 1\n"));
  replays(dir);
}
