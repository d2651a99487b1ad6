// Rerunning on the same data dir (runtime.md §5, §6): a finished run resumes and does
// nothing more; --fresh starts over; --max-ticks stops early with exit 2 and a rerun
// continues; a FAULTED instance is cleared with `vedvm resume` and runs again.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "runtime_support.h"

using namespace ved::rt;

namespace {

struct Step {
  Result result;
  std::string inspect;
};

Step run_in(const std::string& dir, const std::string& program, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{program, "--data-dir", dir, "--sync=none"};
  args.insert(args.end(), extra.begin(), extra.end());
  Step s;
  s.result = vedvm_run(args);
  REQUIRE_MESSAGE(s.result.exited, describe(s.result) << "\n" << s.result.err);
  Result inspect = vedvm_run({"inspect", dir, "--json"});
  REQUIRE_MESSAGE(inspect.exit_code == 0, inspect.err);
  s.inspect = inspect.out;
  return s;
}

// examples/hello.ved: Counter counts to 3, its goal Stable satisfied at tick 4.
std::string hello() { return std::string(VED_EXAMPLES_DIR) + "/hello.ved"; }

int64_t tick_of(const std::string& inspect_json) { return nlohmann::json::parse(inspect_json)["tick"].get<int64_t>(); }
std::string name_of(const std::string& inspect_json) {
  return nlohmann::json::parse(inspect_json)["program"].get<std::string>();
}

// `-- NAME stopped at tick T (N slices)...`: T and N.
std::pair<int64_t, int64_t> tick_and_slices(const Result& r) {
  static const std::regex pattern(R"(^-- \S+ stopped at tick (\d+) \((\d+) slices\))");
  auto lines = summary_lines(r.out);
  std::smatch m;
  if (lines.empty() || !std::regex_search(lines[0], m, pattern)) return {-1, -1};
  return {std::stoll(m[1]), std::stoll(m[2])};
}

// The summary without its first line (which counts this process's slices).
std::vector<std::string> summary_body(const Result& r) {
  auto lines = summary_lines(r.out);
  if (!lines.empty()) lines.erase(lines.begin());
  return lines;
}

void check_resume_and_fresh(const std::string& program, int exit_code) {
  INFO("program: " << program);
  TempDir tmp;
  const std::string dir = tmp / "data";
  Step first = run_in(dir, program);
  CHECK(first.result.exit_code == exit_code);
  CHECK_FALSE(contains(first.result.err, "resuming"));
  const auto [first_tick, first_slices] = tick_and_slices(first.result);
  CHECK(first_tick == tick_of(first.inspect));
  CHECK(first_slices > 0);

  // Rerun on the same dir: it resumes at the last committed tick and runs nothing.
  Step again = run_in(dir, program);
  CHECK(again.result.exit_code == exit_code);
  const std::string resuming =
      "vedvm: resuming " + name_of(first.inspect) + " from " + dir + " at tick " + std::to_string(first_tick);
  CHECK_MESSAGE(contains(again.result.err, resuming), again.result.err);
  CHECK(tick_and_slices(again.result) == std::make_pair(first_tick, int64_t{0}));
  CHECK(again.inspect == first.inspect);
  CHECK(summary_body(again.result) == summary_body(first.result));

  // --quiet: no summary and no `resuming` line, same exit code.
  Step quiet = run_in(dir, program, {"--quiet"});
  CHECK(quiet.result.exit_code == exit_code);
  CHECK(quiet.result.out.empty());
  CHECK_FALSE(contains(quiet.result.err, "resuming"));
  CHECK(quiet.inspect == first.inspect);

  // --fresh: starts over from tick 0 and ends the same way.
  Step fresh = run_in(dir, program, {"--fresh"});
  CHECK(fresh.result.exit_code == exit_code);
  CHECK_FALSE(contains(fresh.result.err, "resuming"));
  CHECK(tick_and_slices(fresh.result) == std::make_pair(first_tick, first_slices));
  CHECK(fresh.inspect == first.inspect);
  CHECK(fresh.result.out == first.result.out);
}

}  // namespace

TEST_CASE("resume: a finished run reruns 0 slices, same state and exit code, and --fresh starts over (exit 0)" *
          doctest::test_suite("corpus")) {
  check_resume_and_fresh(corpus("upstream/hello-stability.lxm"), 0);
  check_resume_and_fresh(corpus("upstream/test_2_message_storm.lxm"), 0);
  check_resume_and_fresh(corpus("docs/fanout.ved"), 0);
}

TEST_CASE("resume: the same for runs that end with exit 2 and exit 3" * doctest::test_suite("corpus")) {
  check_resume_and_fresh(corpus("docs/effects-outcomes.ved"), 2);
  check_resume_and_fresh(corpus("upstream/authority-scope-demo.lxm"), 2);
  check_resume_and_fresh(corpus("docs/slices-and-faults.ved"), 3);
}

// The same without the shared corpus, on this repository's programs: examples/hello.ved
// and tests/runtime/programs/ (their header comments say how they end).
TEST_CASE("resume: the same on this repository's programs (exit 0, 2 and 3), and vedvm resume of a FAULTED one") {
  check_resume_and_fresh(hello(), 0);
  check_resume_and_fresh(repo_program("fanout.ved"), 0);
  check_resume_and_fresh(repo_program("capacity.ved"), 2);
  check_resume_and_fresh(repo_program("overdraft.ved"), 3);

  TempDir tmp;
  {
    INFO("--max-ticks short of the goal: exit 2, the goal unsatisfied");
    Step r = run_in(tmp / "short", hello(), {"--max-ticks", "3"});
    CHECK(r.result.exit_code == 2);
    CHECK(contains(r.result.out, "goal Stable unsatisfied"));
  }
  {
    INFO("a FAULTED instance: `vedvm resume` clears it, the rerun goes on from its last tick");
    const std::string program = repo_program("overdraft.ved");
    const std::string dir = tmp / "faulted";
    Step first = run_in(dir, program);
    REQUIRE(first.result.exit_code == 3);
    CHECK(inspected_instances(first.inspect)["Account"].status == "FAULTED");
    CHECK(vedvm_run({"resume", dir, "Nobody"}).exit_code == 1);
    CHECK(vedvm_run({"resume", dir}).exit_code == 64);
    Result resume = vedvm_run({"resume", dir, "Account"});
    CHECK_MESSAGE(resume.exit_code == 0, resume.err);
    CHECK(resume.out == "Account resumed\n");
    // The fourth Withdraw takes the balance to -20, and its slice `count` faults again.
    Step second = run_in(dir, program);
    const std::string resuming =
        "resuming overdraft from " + dir + " at tick " + std::to_string(tick_of(first.inspect));
    CHECK_MESSAGE(contains(second.result.err, resuming), second.result.err);
    CHECK(second.result.exit_code == 3);
    auto account = inspected_instances(second.inspect)["Account"];
    CHECK(account.status == "FAULTED");
    CHECK(account.fields == std::map<std::string, std::string>{{"balance", "-20"}, {"withdrawals", "2"}});
    // Goal Empty holds now: after one more resume the run ends with exit 0, running nothing.
    CHECK(vedvm_run({"resume", dir, "Account"}).exit_code == 0);
    Step last = run_in(dir, program);
    CHECK(last.result.exit_code == 0);
    CHECK(tick_and_slices(last.result) == std::make_pair(tick_of(second.inspect), int64_t{0}));
    Result again = vedvm_run({"resume", dir, "Account"});
    CHECK(again.exit_code == 1);
    CHECK(contains(again.err, "Account is not FAULTED"));
  }
}

TEST_CASE("--max-ticks: a longer run stops with exit 2 and a rerun without it finishes as if uninterrupted") {
  TempDir tmp;
  const std::string program = repo_program("fanout.ved");
  Step whole = run_in(tmp / "whole", program);
  REQUIRE(whole.result.exit_code == 0);
  CHECK(tick_of(whole.inspect) > 50);

  const std::string dir = tmp / "part";
  Step part = run_in(dir, program, {"--max-ticks", "50"});
  CHECK(part.result.exit_code == 2);
  REQUIRE_FALSE(summary_lines(part.result.out).empty());
  CHECK(contains(summary_lines(part.result.out)[0], "stopped at tick 50"));
  CHECK(contains(summary_lines(part.result.out)[0], "--max-ticks reached"));
  CHECK(tick_of(part.inspect) == 50);
  auto hub = inspected_instances(part.inspect)["Hub"];
  CHECK(hub.fields["sent"] == "1000");
  CHECK(std::stoi(hub.fields["done"]) < 1000);

  // --max-ticks counts ticks from the start of the run, not of this process: at tick
  // 50, `--max-ticks 50` runs nothing and says so again.
  Step same = run_in(dir, program, {"--max-ticks", "50"});
  CHECK(same.result.exit_code == 2);
  CHECK(tick_and_slices(same.result) == std::make_pair(int64_t{50}, int64_t{0}));
  CHECK(same.inspect == part.inspect);

  Step rest = run_in(dir, program);
  CHECK(rest.result.exit_code == 0);
  CHECK(contains(rest.result.err, "at tick 50"));
  CHECK(rest.inspect == whole.inspect);
  CHECK(summary_body(rest.result) == summary_body(whole.result));
}

TEST_CASE("--max-ticks: exit 2 on a goal that needs more ticks (hello-stability needs 4)" *
          doctest::test_suite("corpus")) {
  TempDir tmp;
  Step r = run_in(tmp / "d", corpus("upstream/hello-stability.lxm"), {"--max-ticks", "3"});
  CHECK(r.result.exit_code == 2);
  CHECK(contains(r.result.out, "--max-ticks reached"));
  CHECK(contains(r.result.out, "goal Stable unsatisfied"));
  CHECK(inspected_instances(r.inspect)["Counter"].fields["value"] == "3");
  Step enough = run_in(tmp / "e", corpus("upstream/hello-stability.lxm"), {"--max-ticks", "5"});
  CHECK(enough.result.exit_code == 0);
  CHECK_FALSE(contains(enough.result.out, "--max-ticks reached"));
}

// Regression test (a bug, fixed): a run that becomes quiescent exactly at the limit is reported as stopped by the
// limit. hello-stability (and examples/hello.ved, the same program) is done at tick 4
// (goal Stable satisfied, nothing queued; the summary lists no unsatisfied goal), but
// `--max-ticks 4` prints `--max-ticks reached` and exits 2; `--max-ticks 5` exits 0. The
// loop checks the limit before it checks quiescence.
TEST_CASE("--max-ticks: a run quiescent at exactly the limit exits 0") {
  TempDir tmp;
  Step r = run_in(tmp / "d", hello(), {"--max-ticks", "4"});
  CHECK(tick_of(r.inspect) == 4);
  CHECK_MESSAGE(r.result.exit_code == 0, r.result.out);
  CHECK_FALSE(contains(r.result.out, "--max-ticks reached"));
}

namespace {

// slices-and-faults.ved, then `vedvm resume DIR Ledger` and a rerun, until the goal
// holds. Returns what each step printed and stored, for comparing two runs.
std::vector<std::string> fault_resume_sequence(const std::string& dir) {
  const std::string program = corpus("docs/slices-and-faults.ved");
  std::vector<std::string> record;
  Step s = run_in(dir, program);
  CHECK(s.result.exit_code == 3);
  record.push_back(s.inspect);
  record.push_back(s.result.out);

  // Observed: each resume lets Ledger's goal Drain make one more attempt. Its first
  // slice (debit) commits, moving 10 from a to b; its second slice (account) makes
  // moves 4, takes a below zero, and is rolled back: FAULTED again with moves 3.
  // Once a reaches 0 the goal holds: the last resume ends the run with exit 0.
  const int expected_a[] = {50, 40, 30, 20, 10, 0};
  int64_t tick = 8;
  for (int a : expected_a) {
    INFO("resume towards a = " << a);
    Result resume = vedvm_run({"resume", dir, "Ledger"});
    CHECK_MESSAGE(resume.exit_code == 0, resume.err);
    CHECK(resume.out == "Ledger resumed\n");
    Result inspect = vedvm_run({"inspect", dir, "--json"});
    auto cleared = inspected_instances(inspect.out)["Ledger"];
    CHECK(cleared.status == "active");
    CHECK(cleared.fields["a"] == std::to_string(a + 10));
    CHECK(tick_of(inspect.out) == tick);

    s = run_in(dir, program);
    CHECK(contains(s.result.err, "resuming slices-and-faults from " + dir + " at tick " + std::to_string(tick)));
    CHECK(s.result.exit_code == 3);
    CHECK(tick_and_slices(s.result) == std::make_pair(tick + 2, int64_t{2}));
    tick += 2;
    auto ledger = inspected_instances(s.inspect)["Ledger"];
    CHECK(ledger.status == "FAULTED");
    CHECK(ledger.fields["a"] == std::to_string(a));
    CHECK(ledger.fields["b"] == std::to_string(100 - a));
    CHECK(ledger.fields["moves"] == "3");
    CHECK(contains(s.result.out, "NonNegative"));
    record.push_back(s.inspect);
    record.push_back(s.result.out);
  }
  // a is 0 (the goal was seen satisfied at tick 20, before the account slice faulted).
  CHECK(vedvm_run({"resume", dir, "Ledger"}).exit_code == 0);
  s = run_in(dir, program);
  CHECK(s.result.exit_code == 0);
  CHECK(tick_and_slices(s.result) == std::make_pair(int64_t{20}, int64_t{0}));
  auto ledger = inspected_instances(s.inspect)["Ledger"];
  CHECK(ledger.status == "active");
  CHECK(ledger.fields == std::map<std::string, std::string>{{"a", "0"}, {"b", "100"}, {"moves", "3"}});
  auto goal = nlohmann::json::parse(s.inspect)["instances"][0]["goals"][0];
  CHECK(goal["goal"] == "Drain");
  CHECK(goal["satisfied"] == true);
  record.push_back(s.inspect);
  record.push_back(s.result.out);

  // Nothing is FAULTED any more.
  Result again = vedvm_run({"resume", dir, "Ledger"});
  CHECK(again.exit_code == 1);
  CHECK(contains(again.err, "Ledger is not FAULTED"));
  return record;
}

}  // namespace

TEST_CASE("FAULTED + vedvm resume: slices-and-faults runs again after each resume, the same in two runs" *
          doctest::test_suite("corpus")) {
  TempDir tmp;
  auto one = fault_resume_sequence(tmp / "one");
  auto two = fault_resume_sequence(tmp / "two");
  CHECK(one == two);
}

TEST_CASE("vedvm resume: errors" * doctest::test_suite("corpus")) {
  TempDir tmp;
  const std::string dir = tmp / "d";
  REQUIRE(run_in(dir, corpus("docs/slices-and-faults.ved")).result.exit_code == 3);
  Result unknown = vedvm_run({"resume", dir, "Nobody"});
  CHECK(unknown.exit_code == 1);
  CHECK(contains(unknown.err, "no instance Nobody"));
  Result indexed = vedvm_run({"resume", dir, "Ledger[3]"});
  CHECK(indexed.exit_code == 1);
  Result missing = vedvm_run({"resume", tmp / "missing", "Ledger"});
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.err, "no data dir"));
  CHECK(vedvm_run({"resume", dir}).exit_code == 64);
  // Still FAULTED: nothing above changed it.
  CHECK(inspected_instances(vedvm_run({"inspect", dir, "--json"}).out)["Ledger"].status == "FAULTED");
}

// Regression test (a bug, fixed): `vedvm resume` writes its journal records at the last committed tick with
// indices from 0, overwriting that tick's records: after a resume, the fault record of
// tick 8 is gone from the journal (`inspect --tick 8` shows `resume` and a state hash
// instead of `fault ...`). runtime.md §3: faults are journaled so that nothing is lost.
TEST_CASE("vedvm resume keeps the fault record in the journal" * doctest::test_suite("corpus")) {
  TempDir tmp;
  const std::string dir = tmp / "d";
  REQUIRE(run_in(dir, corpus("docs/slices-and-faults.ved")).result.exit_code == 3);
  Result before = vedvm_run({"inspect", dir, "--tick", "8"});
  REQUIRE(contains(before.out, "Ledger fault Transfer slice 1 (account)"));
  REQUIRE(vedvm_run({"resume", dir, "Ledger"}).exit_code == 0);
  Result after = vedvm_run({"inspect", dir, "--tick", "8"});
  CHECK_MESSAGE(contains(after.out, "Ledger fault Transfer slice 1 (account)"), after.out);
}

TEST_CASE("usage errors exit 64") {
  TempDir tmp;
  const std::string program = hello();
  CHECK(vedvm_run({program, "--data-dir", tmp / "d", "--sync=sometimes"}).exit_code == 64);
  CHECK(vedvm_run({program, "--data-dir", tmp / "d", "--max-ticks", "0"}).exit_code == 64);
  CHECK(vedvm_run({program, "--data-dir", tmp / "d", "--no-such-flag"}).exit_code == 64);
  CHECK(vedvm_run({}).exit_code == 64);
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "d"));
}
