// The whole-cluster simulation (simulated_cluster.h), seed by seed: libraft's fixture,
// our state machine and the runtime in one process, the seed injecting crashes,
// restarts, pauses, partitions, lost and late proposals and failed disk writes. Every
// seed must keep every invariant and end as one runtime on one data dir ends; the same
// seed twice must do exactly the same; and with fencing or the dispatch lease switched
// off, some seed must fail (the simulator has teeth).
//
// CI runs seeds 1-200 (3 nodes, and 5 nodes for every fifth). scripts/soak.sh N runs
// more: VED_SIM_SEEDS=FIRST:COUNT selects them, VED_SIM_LOG=1 prints a failing seed's log.
#include <doctest/doctest.h>

#include <cstdlib>
#include <functional>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "../../exec/exec_support.h"
#include "../../support/scratch_dir.h"
#include "simulated_cluster.h"

using namespace ved::cluster::sim;

namespace {

const SimProgram& program() {
  static const SimProgram p = [] {
    std::ifstream in(VED_SIM_PROGRAM);
    std::stringstream source;
    source << in.rdbuf();
    auto compiled = ved::exec::compile(source.str(), "sim_program.ved");
    if (!compiled.ok()) throw std::runtime_error(compiled.describe());
    return SimProgram{"sim_program", compiled.bundle, 42};
  }();
  return p;
}

const Reference& reference() {
  static const Reference r = [] {
    ved::test_support::ScratchDir dir;
    return run_reference(program(), dir.path().string());
  }();
  return r;
}

SimOptions options_for(uint64_t seed) {
  SimOptions o;
  o.seed = seed;
  o.nodes = seed % 5 == 0 ? 5 : 3;
  return o;
}

std::string describe(uint64_t seed, const SimResult& r) {
  std::string out = "seed " + std::to_string(seed) + ":";
  for (const auto& v : r.violations) out += "\n  " + v;
  if (std::getenv("VED_SIM_LOG")) out += "\n" + r.log;
  else out += "\n  (VED_SIM_LOG=1 prints what happened)";
  return out;
}

// The first line where two journals differ, both ways.
std::string first_difference(const std::string& expected, const std::string& actual) {
  std::istringstream a(expected), b(actual);
  std::string x, y;
  for (unsigned line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, x)), more_b = static_cast<bool>(std::getline(b, y));
    if (!more_a && !more_b) return "(none)";
    if (!more_a || !more_b || x != y)
      return "line " + std::to_string(line) + ":\n  single node: " + (more_a ? x : "(end)") + "\n  cluster:     " + (more_b ? y : "(end)");
  }
}

struct Totals {
  SimCounts c;
  void add(const SimCounts& x) {
    c.crashes += x.crashes;
    c.pauses += x.pauses;
    c.partitions += x.partitions;
    c.disk_faults += x.disk_faults;
    c.proposals_lost += x.proposals_lost;
    c.proposals_late += x.proposals_late;
    c.runs_started += x.runs_started;
    c.fenced += x.fenced;
    c.dispatches += x.dispatches;
    c.duplicate_dispatches += x.duplicate_dispatches;
    c.frames_caught_up += x.frames_caught_up;
    c.simulated_ms += x.simulated_ms;
  }
  std::string text() const {
    return std::to_string(c.crashes) + " crashes, " + std::to_string(c.pauses) + " pauses, " +
           std::to_string(c.partitions) + " partitions, " + std::to_string(c.disk_faults) + " disk faults, " +
           std::to_string(c.proposals_lost) + " proposals lost, " + std::to_string(c.proposals_late) + " late, " +
           std::to_string(c.runs_started) + " runs started, " + std::to_string(c.fenced) + " entries fenced, " +
           std::to_string(c.dispatches) + " dispatches (" + std::to_string(c.duplicate_dispatches) +
           " again after a takeover), " + std::to_string(c.frames_caught_up) + " frames caught up after snapshots, " +
           std::to_string(c.simulated_ms / 1000) + " s simulated";
  }
};

// Runs seeds [first, first + count): each must hold every invariant and end as the
// single-node run does.
Totals run_seeds(uint64_t first, uint64_t count) {
  const Reference& ref = reference();
  Totals totals;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    if (std::getenv("VED_SIM_LOG")) std::cerr << "seed " << seed << "\n";
    const SimResult r = simulate(program(), ref, options_for(seed));
    totals.add(r.counts);
    CHECK_MESSAGE(r.violations.empty(), describe(seed, r));
    if (!r.finished) continue;
    CHECK_MESSAGE(r.exit_code == ref.exit_code, "seed " << seed);
    CHECK_MESSAGE(r.journal == ref.journal,
                  "seed " << seed << ": the committed journal is not the single-node run's: " << first_difference(ref.journal, r.journal));
    CHECK_MESSAGE(r.instances == ref.instances, "seed " << seed);
  }
  MESSAGE("seeds " << first << "-" << first + count - 1 << ": " << totals.text());
  return totals;
}

}  // namespace

TEST_CASE("simulation: the reference run is the program's documented result") {
  const Reference& ref = reference();
  CHECK(ref.exit_code == 0);
  REQUIRE(!ref.instances.empty());
  CHECK(ref.instances.front().find("launched: true, machines: 6, tokens: 5") != std::string::npos);
  CHECK(ref.frames.size() > 50);  // long enough for faults to land mid-run
}

TEST_CASE("simulation: seeds 1-200 keep every invariant and end as one runtime does") {
  const Totals t = run_seeds(1, 200);
  // The seeds did hurt the cluster, and the cluster did have to fence, take over and fill
  // gaps after snapshots: a simulation that injected nothing would pass vacuously.
  CHECK(t.c.crashes > 0);
  CHECK(t.c.pauses > 0);
  CHECK(t.c.partitions > 0);
  CHECK(t.c.proposals_late > 0);
  CHECK(t.c.disk_faults > 0);
  CHECK(t.c.fenced > 0);
  CHECK(t.c.runs_started > 200);
  CHECK(t.c.duplicate_dispatches > 0);
  CHECK(t.c.frames_caught_up > 0);
}

TEST_CASE("simulation: a seed reproduces exactly, step by step") {
  for (uint64_t seed : {3, 10}) {
    const SimResult a = simulate(program(), reference(), options_for(seed));
    const SimResult b = simulate(program(), reference(), options_for(seed));
    CAPTURE(seed);
    CHECK(a.log == b.log);
    CHECK(a.log.size() > 1000);
    CHECK(a.counts.runs_started == b.counts.runs_started);
  }
}

// The teeth: with a guarantee switched off, some of the first 40 seeds must fail.
namespace {
bool some_seed_fails(const char* without, const std::function<void(SimOptions&)>& switch_off) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SimOptions o = options_for(seed);
    switch_off(o);
    const SimResult r = simulate(program(), reference(), o);
    if (!r.violations.empty()) {
      MESSAGE("without " << without << ", " << describe(seed, r));
      return true;
    }
  }
  return false;
}
}  // namespace

TEST_CASE("simulation: without fencing, some seed breaks an invariant") {
  CHECK(some_seed_fails("fencing", [](SimOptions& o) { o.fencing = false; }));
}

TEST_CASE("simulation: without the dispatch lease, some seed breaks an invariant") {
  CHECK(some_seed_fails("the release guards", [](SimOptions& o) { o.lease = false; }));
}

// scripts/soak.sh: VED_SIM_SEEDS=FIRST:COUNT.
TEST_CASE("simulation: soak (the seeds VED_SIM_SEEDS names)") {
  const char* spec = std::getenv("VED_SIM_SEEDS");
  if (!spec) return;
  uint64_t first = 1, count = 0;
  if (std::sscanf(spec, "%lu:%lu", &first, &count) != 2) FAIL("VED_SIM_SEEDS must be FIRST:COUNT, not " << spec);
  run_seeds(first, count);
}
