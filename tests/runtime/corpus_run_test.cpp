// Every corpus program run to quiescence by the real `vedvm`, in fresh data dirs: the
// final field values and exit code that ../shared/corpus/README.md (upstream/) or the
// file's header comment (docs/) gives. Each program runs twice, in two fresh dirs, with
// --trace=json: the two traces and the two `inspect --json` documents must be identical,
// byte for byte (runtime.md: same program, same inputs, same states, bit for bit), and
// `vedvm replay` must re-execute each from its journal to the same state hashes.
//
// These tests are in test suite "corpus", left out where ../shared/corpus does not exist.
// The last test does the same for this repository's programs (tests/runtime/programs/),
// which run everywhere.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <csignal>

#include "runtime_support.h"

using namespace ved::rt;

namespace {

using Fields = std::map<std::string, std::map<std::string, std::string>>;

struct Run {
  Result result;
  std::string inspect;  // `vedvm inspect DIR --json`
  std::vector<nlohmann::json> trace;
};

// Runs `program` in a fresh data dir under `tmp` with --trace=json, then inspects it.
Run run_once(const TempDir& tmp, const std::string& dir_name, const std::string& program,
             const std::vector<std::string>& extra = {}) {
  Run r;
  const std::string dir = tmp / dir_name;
  std::vector<std::string> args{program, "--data-dir", dir, "--sync=none", "--trace=json"};
  args.insert(args.end(), extra.begin(), extra.end());
  r.result = vedvm_run(args);
  std::istringstream lines(r.result.out);
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty() && line[0] == '{') r.trace.push_back(nlohmann::json::parse(line));
  Result inspect = vedvm_run({"inspect", dir, "--json"});
  CHECK_MESSAGE(inspect.exit_code == 0, "inspect: " << describe(inspect) << " " << inspect.err);
  r.inspect = inspect.out;
  // Every run replays from its journal to the same state hashes, tick for tick.
  Result replay = vedvm_run({"replay", dir});
  CHECK_MESSAGE(replay.exit_code == 0, "replay of " << program << ": " << describe(replay) << "\n" << replay.out << replay.err);
  CHECK(contains(replay.out, "ticks match the journal"));
  return r;
}

// Runs `program` twice and checks the two runs are identical; returns the first.
Run run_twice(const std::string& program, const std::vector<std::string>& extra = {}) {
  TempDir tmp;
  Run a = run_once(tmp, "a", program, extra);
  Run b = run_once(tmp, "b", program, extra);
  INFO("program: " << program);
  CHECK_MESSAGE(a.result.exited, describe(a.result) << "\n" << a.result.err);
  CHECK(a.result.exit_code == b.result.exit_code);
  CHECK_MESSAGE(a.inspect == b.inspect, "inspect --json differs between two fresh runs");
  CHECK_MESSAGE(a.result.out == b.result.out, "--trace=json and the summary differ between two fresh runs");
  CHECK(a.result.err == b.result.err);
  CHECK_FALSE(a.trace.empty());
  // The trace and the inspection are as docs/json.md says (b's are the same bytes).
  for (const auto& [schema, text, lines] : {std::tuple<std::string, std::string, bool>{"trace.schema.json", a.result.out, true},
                                            {"inspect.schema.json", a.inspect, false}}) {
    Result valid = validate_json(tmp, schema, text, lines);
    CHECK_MESSAGE(valid.exit_code == 0, schema << ": " << describe(valid) << "\n" << valid.out << valid.err);
  }
  return a;
}

// The expected fields hold both in the summary and in `inspect --json`.
void check_fields(const Run& r, const Fields& expected, bool faulted = false) {
  auto summary = summary_instances(r.result.out);
  auto inspected = inspected_instances(r.inspect);
  for (const auto& [instance, fields] : expected) {
    INFO("instance " << instance);
    REQUIRE_MESSAGE(summary.count(instance), "not in the summary:\n" << r.result.out);
    REQUIRE(inspected.count(instance));
    const std::string& line = summary[instance];
    CHECK(line.rfind("FAULTED ", 0) == (faulted ? 0u : std::string::npos));
    CHECK(inspected[instance].status == (faulted ? "FAULTED" : "active"));
    auto from_summary = state_fields(faulted ? line.substr(8) : line);
    for (const auto& [field, value] : fields) {
      INFO("field " << field);
      CHECK(from_summary[field] == value);
      CHECK(inspected[instance].fields[field] == value);
    }
  }
}

// The trace events of one kind for one instance, in order (docs/json.md, trace events).
std::vector<nlohmann::json> events(const Run& r, const std::string& instance, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& e : r.trace)
    if (e["instance"] == instance && e["kind"] == kind) out.push_back(e);
  return out;
}

// How many slices of transition `t` started (slice 0 only), from the trace.
size_t transitions_run(const Run& r, const std::string& instance, const std::string& t) {
  size_t n = 0;
  for (const auto& e : events(r, instance, "slice"))
    if (e["transition"] == t && e["slice"] == 0) ++n;
  return n;
}

struct UpstreamRow {
  std::string file;
  Fields fields;
  int exit_code;
  std::function<void(const Run&)> more;
};

// The table of ../shared/corpus/README.md, `upstream/`.
const std::vector<UpstreamRow>& upstream_rows() {
  static const std::vector<UpstreamRow> rows = {
      {"hello-stability.lxm",
       {{"Counter", {{"value", "3"}}}},
       0,
       [](const Run& r) {
         // Goal `Stable` satisfied at tick 4.
         bool at_4 = false;
         for (const auto& e : r.trace)
           if (e["kind"] == "goal" && e["goal"] == "Stable" && e["event"] == "satisfied") at_4 = e["tick"] == 4;
         CHECK_MESSAGE(at_4, r.result.out);
       }},
      {"worker-pool-scaling.lxm",
       {{"WorkerPool", {{"desired", "30000"}, {"actual", "30000"}, {"booted", "true"}, {"provision_in_flight", "0"}}}},
       0,
       nullptr},
      {"public-demo.lxm", {{"Deployer", {{"nodes_running", "3"}}}}, 0, nullptr},
      {"state-convergence.lxm",
       {{"Deployment", {{"configured", "true"}, {"running", "true"}}}},
       0,
       [](const Run& r) {
         // The inferred strategy `Configure, Start`.
         auto slices = events(r, "Deployment", "slice");
         REQUIRE(slices.size() == 2);
         CHECK(slices[0]["transition"] == "Configure");
         CHECK(slices[1]["transition"] == "Start");
       }},
      {"test_2_message_storm.lxm",
       {{"Producer", {{"generated", "4"}, {"digested_total", "4"}}},
        {"ConsumerOne", {{"digested", "2"}}},
        {"ConsumerTwo", {{"digested", "2"}}}},
       0,
       nullptr},
      {"test_3_convergence_chaos.lxm", {{"ChaosManager", {{"workers", "5"}}}}, 0, nullptr},
      {"showcase.lxm",
       {{"Producer", {{"jobs_dispatched", "1"}, {"online", "true"}}}, {"Worker", {{"jobs_completed", "1"}}}},
       0,
       nullptr},
      {"retry-reconciliation.lxm",
       {{"ExternalTask", {{"completed", "true"}, {"retries", "1"}}}},
       0,
       [](const Run& r) {
         CHECK(contains(r.result.err, "V-WRN-004"));
         CHECK(contains(r.result.err, "PerformTask"));
         for (const char* t : {"Attempt", "FailureObserved", "SuccessObserved"}) {
           INFO("transition " << t);
           CHECK(transitions_run(r, "ExternalTask", t) == 1);
         }
         // The PerformTask intent fails with NoAdapter, has no handler: a dead letter.
         auto dead = events(r, "ExternalTask", "dead_letter");
         REQUIRE(dead.size() == 1);
         CHECK(contains(dead[0]["effect"].get<std::string>(), "PerformTask"));
         CHECK(dead[0]["code"] == "NoAdapter");
         CHECK(contains(r.result.out, "dead letters: 1"));
       }},
      {"authority-scope-demo.lxm",
       {},
       2,
       [](const Run& r) {
         CHECK(contains(r.result.err, "V-WRN-004"));
         CHECK(contains(r.result.err, "RunScopedAction"));
         // After 1000 attempts goal `Completed` is terminated; the output names the goal
         // and the failing effect.
         auto summary = summary_lines(r.result.out);
         std::string goal_line;
         for (const auto& l : summary)
           if (contains(l, "goal Completed")) goal_line = l;
         CHECK_MESSAGE(contains(goal_line, "terminated"), r.result.out);
         CHECK(contains(goal_line, "1000 attempts"));
         CHECK(contains(goal_line, "RunScopedAction"));
         auto inspect = nlohmann::json::parse(r.inspect);
         const auto& goal = inspect["instances"][0]["goals"][0];
         CHECK(goal["goal"] == "Completed");
         CHECK(goal["terminated"] == true);
         CHECK(goal["satisfied"] == false);
         CHECK(goal["attempts"] == 1000);
         CHECK(transitions_run(r, "NamespaceTask", "Execute") == 1000);
       }},
  };
  return rows;
}

void check_upstream(const std::string& file) {
  const auto& rows = upstream_rows();
  auto row = std::find_if(rows.begin(), rows.end(), [&](const UpstreamRow& r) { return r.file == file; });
  REQUIRE(row != rows.end());
  Run r = run_twice(corpus("upstream/" + file));
  CHECK_MESSAGE(r.result.exit_code == row->exit_code, describe(r.result) << "\n" << r.result.out << r.result.err);
  check_fields(r, row->fields);
  if (row->more) row->more(r);
}

}  // namespace

TEST_CASE("corpus: every upstream program has a row in the expectations table" * doctest::test_suite("corpus")) {
  std::set<std::string> files, rows;
  for (const auto& e : std::filesystem::directory_iterator(corpus_dir() / "upstream"))
    if (e.path().extension() == ".lxm") files.insert(e.path().filename().string());
  for (const auto& r : upstream_rows()) rows.insert(r.file);
  CHECK(files == rows);
}

TEST_CASE("corpus: upstream/hello-stability.lxm" * doctest::test_suite("corpus")) {
  check_upstream("hello-stability.lxm");
}
TEST_CASE("corpus: upstream/worker-pool-scaling.lxm" * doctest::test_suite("corpus")) {
  check_upstream("worker-pool-scaling.lxm");
}
TEST_CASE("corpus: upstream/public-demo.lxm" * doctest::test_suite("corpus")) {
  check_upstream("public-demo.lxm");
}
TEST_CASE("corpus: upstream/state-convergence.lxm" * doctest::test_suite("corpus")) {
  check_upstream("state-convergence.lxm");
}
TEST_CASE("corpus: upstream/test_2_message_storm.lxm" * doctest::test_suite("corpus")) {
  check_upstream("test_2_message_storm.lxm");
}
TEST_CASE("corpus: upstream/test_3_convergence_chaos.lxm" * doctest::test_suite("corpus")) {
  check_upstream("test_3_convergence_chaos.lxm");
}
TEST_CASE("corpus: upstream/showcase.lxm" * doctest::test_suite("corpus")) {
  check_upstream("showcase.lxm");
}
TEST_CASE("corpus: upstream/retry-reconciliation.lxm" * doctest::test_suite("corpus")) {
  check_upstream("retry-reconciliation.lxm");
}
TEST_CASE("corpus: upstream/authority-scope-demo.lxm" * doctest::test_suite("corpus")) {
  check_upstream("authority-scope-demo.lxm");
}

TEST_CASE("corpus: docs/authority.ved runs to requested 3, replicas 3 and 3, without a warning" *
          doctest::test_suite("corpus")) {
  Run r = run_twice(corpus("docs/authority.ved"));
  CHECK(r.result.exit_code == 0);
  CHECK_MESSAGE(r.result.err.empty(), r.result.err);
  check_fields(r, {{"Scaler", {{"requested", "3"}}},
                   {"PaymentsApi", {{"replicas", "3"}}},
                   {"InventoryApi", {{"replicas", "3"}}}});
}

TEST_CASE("corpus: docs/fanout.ved activates Worker[0..999] by messages, each done once" *
          doctest::test_suite("corpus")) {
  Run r = run_twice(corpus("docs/fanout.ved"));
  CHECK(r.result.exit_code == 0);
  auto inspected = inspected_instances(r.inspect);
  CHECK(inspected.size() == 1001);
  CHECK(inspected["Dispatcher"].fields["sent"] == "1000");
  CHECK(inspected["Dispatcher"].fields["acked"] == "1000");
  // The default `Worker` instance has no goal and no start: never activated.
  CHECK(inspected.count("Worker") == 0);
  int ok = 0;
  for (int i = 0; i < 1000; ++i) {
    auto it = inspected.find("Worker[" + std::to_string(i) + "]");
    if (it != inspected.end() && it->second.status == "active" && it->second.fields["done"] == "1" &&
        it->second.fields["last"] == std::to_string(i))
      ++ok;
  }
  CHECK(ok == 1000);
  // With more than 32 instances the summary counts them per domain instead of listing
  // them (each one is in `inspect`), and lists only those that need attention: none.
  auto lines = summary_lines(r.result.out);
  CHECK(std::find(lines.begin(), lines.end(), "Dispatcher: 1 instances, 0 FAULTED") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "Worker: 1000 instances, 0 FAULTED") != lines.end());
  CHECK(summary_instances(r.result.out).count("Worker[999]") == 0);
}

TEST_CASE("corpus: docs/slices-and-faults.ved ends FAULTED in slice `account`, the first slice kept" *
          doctest::test_suite("corpus")) {
  Run r = run_twice(corpus("docs/slices-and-faults.ved"));
  CHECK(r.result.exit_code == 3);
  check_fields(r, {{"Ledger", {{"a", "60"}, {"b", "40"}, {"moves", "3"}}}}, /*faulted=*/true);
  // The fault record names invariant NonNegative, transition Transfer and slice `account`.
  auto faults = events(r, "Ledger", "fault");
  REQUIRE(faults.size() == 1);
  const auto& fault = faults[0]["fault"];
  CHECK(fault["kind"] == "invariant");
  CHECK(contains(fault["message"].get<std::string>(), "NonNegative"));
  CHECK(contains(fault["where"].get<std::string>(), "Transfer"));
  CHECK(contains(fault["where"].get<std::string>(), "account"));
  CHECK(contains(fault["text"].get<std::string>(), "NonNegative"));
  std::string fault_line;
  for (const auto& l : summary_lines(r.result.out))
    if (contains(l, "fault:")) fault_line = l;
  CHECK(contains(fault_line, "NonNegative"));
  CHECK(contains(fault_line, "Transfer"));
  CHECK(contains(fault_line, "account"));
  // The fourth Transfer committed its first slice: four attempts, seven slices committed.
  CHECK(transitions_run(r, "Ledger", "Transfer") == 4);
  CHECK(events(r, "Ledger", "slice").size() == 7);
}

TEST_CASE("corpus: docs/effects-outcomes.ved without an adapter: every attempt fails, goal terminated" *
          doctest::test_suite("corpus")) {
  // No adapter is bound: every Infra.Provision intent fails with NoAdapter, handled by
  // ProvisionFailed, so the run is the header's `fail` case.
  Run r = run_twice(corpus("docs/effects-outcomes.ved"));
  CHECK(r.result.exit_code == 2);
  check_fields(r, {{"Pool", {{"want", "2"}, {"have", "0"}, {"failures", "5"}}}});
  CHECK(transitions_run(r, "Pool", "Grow") == 5);
  CHECK(transitions_run(r, "Pool", "ProvisionFailed") == 5);
  CHECK(transitions_run(r, "Pool", "Provisioned") == 0);
  std::string goal_line;
  for (const auto& l : summary_lines(r.result.out))
    if (contains(l, "goal Capacity")) goal_line = l;
  CHECK_MESSAGE(contains(goal_line, "terminated"), r.result.out);
  CHECK(contains(goal_line, "5 attempts"));
  CHECK(contains(goal_line, "NoAdapter"));
}

// The header's two runs, with simulated adapters (`--effect`, runtime.md §7).
TEST_CASE("corpus: docs/effects-outcomes.ved with --effect ok and fail" * doctest::test_suite("corpus")) {
  Run ok = run_twice(corpus("docs/effects-outcomes.ved"), {"--effect", "Infra.Provision=ok:vm-1"});
  CHECK(ok.result.exit_code == 0);
  check_fields(ok, {{"Pool", {{"want", "2"}, {"have", "2"}, {"failures", "0"}}}});
  Run fail = run_twice(corpus("docs/effects-outcomes.ved"), {"--effect", "Infra.Provision=fail:quota"});
  CHECK(fail.result.exit_code == 2);
  check_fields(fail, {{"Pool", {{"have", "0"}, {"failures", "5"}}}});
}

// The built-in file adapters (runtime.md §7): the goal observes System.file_exists, the
// attempt emits System.WriteFile under --fs-root, the next tick's observation holds.
// Twice, each run with its own empty root: the same trace, the same state; and the run
// replays from its journal (the observations are in it).
TEST_CASE("corpus: docs/hello-stability.ved writes greeting.txt under --fs-root, the same twice" *
          doctest::test_suite("corpus")) {
  TempDir tmp;
  std::vector<Run> runs;
  for (const std::string name : {"a", "b"}) {
    const auto root = tmp.path() / ("root-" + name);
    std::filesystem::create_directory(root);
    runs.push_back(run_once(tmp, name, corpus("docs/hello-stability.ved"), {"--fs-root", root.string()}));
    CHECK_MESSAGE(runs.back().result.exit_code == 0, describe(runs.back().result) << "\n" << runs.back().result.out
                                                                                   << runs.back().result.err);
    CHECK(read_file(root / "greeting.txt") == "Hello Ved");
  }
  CHECK(runs[0].result.out == runs[1].result.out);
  CHECK(runs[0].inspect == runs[1].inspect);
  auto traced = [&](const nlohmann::json& parts) {
    return std::any_of(runs[0].trace.begin(), runs[0].trace.end(), [&](const nlohmann::json& e) {
      for (const auto& [key, value] : parts.items())
        if (!e.contains(key) || e[key] != value) return false;
      return true;
    });
  };
  const auto observed = [](bool exists) {
    return nlohmann::json{{"kind", "observe"},
                          {"observation", "System.file_exists"},
                          {"args", nlohmann::json::array({"greeting.txt"})},
                          {"value", exists}};
  };
  CHECK(traced(observed(false)));
  CHECK(traced(observed(true)));
  CHECK(traced({{"kind", "goal"}, {"goal", "EnsureGreetingExists"}, {"event", "satisfied"}}));
}

// --serve keeps ticking: deleting the file makes the goal false at a later tick and the
// file is written again. SIGTERM finishes the tick and exits 143; the served run, with
// the observations it journaled, replays.
TEST_CASE("corpus: docs/hello-stability.ved --serve rewrites greeting.txt after it is deleted" *
          doctest::test_suite("corpus")) {
  TempDir tmp;
  const auto root = tmp.path() / "root";
  std::filesystem::create_directory(root);
  const auto file = root / "greeting.txt";
  Process p({vedvm(), corpus("docs/hello-stability.ved"), "--data-dir", tmp / "d", "--sync=none", "--fs-root",
             root.string(), "--serve", "--tick-ms", "20", "--trace"});
  auto wait_for = [&](bool exists) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::filesystem::exists(file) != exists && std::chrono::steady_clock::now() < deadline && !p.finished())
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return std::filesystem::exists(file) == exists;
  };
  REQUIRE(wait_for(true));
  CHECK(read_file(file) == "Hello Ved");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(p.finished());  // serving: it does not stop when the goal holds
  std::filesystem::remove(file);
  CHECK(wait_for(true));
  CHECK(read_file(file) == "Hello Ved");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(p.send(SIGTERM));
  Result r = p.wait(std::chrono::seconds(20));
  CHECK_MESSAGE(r.exit_code == 143, describe(r) << "\n" << r.err);
  // Two attempts, each after the observation turned false.
  size_t writes = 0;
  for (size_t at = r.out.find("emit "); at != std::string::npos; at = r.out.find("emit ", at + 1)) ++writes;
  CHECK(writes == 2);
  Result replay = vedvm_run({"replay", tmp / "d"});
  CHECK_MESSAGE(replay.exit_code == 0, replay.out << replay.err);
}

// The programs of tests/runtime/programs/, the way the corpus programs are run above:
// what their header comments say, twice the same, replayed from their journals.
TEST_CASE("tests/runtime/programs/: each runs to what its header says, the same twice, and replays") {
  {
    INFO("fanout.ved");
    Run r = run_twice(repo_program("fanout.ved"));
    CHECK(r.result.exit_code == 0);
    CHECK(nlohmann::json::parse(r.inspect)["tick"].get<int64_t>() > 1000);
    auto inspected = inspected_instances(r.inspect);
    CHECK(inspected.size() == 1001);
    CHECK(inspected["Hub"].fields ==
          std::map<std::string, std::string>{{"sent", "1000"}, {"done", "1000"}, {"sum", "499500"}});
    CHECK(inspected.count("Node") == 0);
    int ok = 0;
    for (int i = 0; i < 1000; ++i) {
      auto it = inspected.find("Node[" + std::to_string(i) + "]");
      if (it != inspected.end() && it->second.status == "active" && it->second.fields["jobs"] == "1" &&
          it->second.fields["id"] == std::to_string(i))
        ++ok;
    }
    CHECK(ok == 1000);
  }
  {
    INFO("overdraft.ved");
    Run r = run_twice(repo_program("overdraft.ved"));
    CHECK(r.result.exit_code == 3);
    check_fields(r, {{"Account", {{"balance", "10"}, {"withdrawals", "2"}}}}, /*faulted=*/true);
    auto faults = events(r, "Account", "fault");
    REQUIRE(faults.size() == 1);
    const auto& fault = faults[0]["fault"];
    CHECK(fault["kind"] == "invariant");
    CHECK(contains(fault["message"].get<std::string>(), "Limit"));
    CHECK(contains(fault["where"].get<std::string>(), "Withdraw"));
    CHECK(contains(fault["where"].get<std::string>(), "count"));
    // Three Withdraws, the third rolled back in its second slice: five slices committed.
    CHECK(transitions_run(r, "Account", "Withdraw") == 3);
    CHECK(events(r, "Account", "slice").size() == 5);
  }
  {
    INFO("capacity.ved without an adapter, and with --effect ok and fail");
    Run none = run_twice(repo_program("capacity.ved"));
    CHECK(none.result.exit_code == 2);
    check_fields(none, {{"Pool", {{"have", "0"}, {"failures", "3"}}}});
    CHECK(transitions_run(none, "Pool", "ProvisionFailed") == 3);
    std::string goal_line;
    for (const auto& l : summary_lines(none.result.out))
      if (contains(l, "goal Capacity")) goal_line = l;
    CHECK_MESSAGE(contains(goal_line, "terminated"), none.result.out);
    CHECK(contains(goal_line, "NoAdapter"));
    Run ok = run_twice(repo_program("capacity.ved"), {"--effect", "Infra.Provision=ok:vm-1"});
    CHECK(ok.result.exit_code == 0);
    check_fields(ok, {{"Pool", {{"have", "2"}, {"failures", "0"}, {"last", "\"vm-1\""}}}});
    Run fail = run_twice(repo_program("capacity.ved"), {"--effect", "Infra.Provision=fail:quota"});
    CHECK(fail.result.exit_code == 2);
    check_fields(fail, {{"Pool", {{"have", "0"}, {"failures", "3"}}}});
  }
}
