// The whole-cluster simulation (issue 14; cluster.md §1-§3): in one process and on one
// seed, libraft's fixture (its simulated network, disks and time) with our state machine
// on every node, the nodes' own decisions (liveness, placement, DEGRADED, which program
// runs where), and ProgramRunner — the runtime itself, unchanged — running the program on
// whichever node owns it, its entries travelling to the leader over a simulated network
// that delays, reorders and loses them. The seed decides every fault: crashes and
// restarts, pauses (a SIGSTOP before a release), partitions, proposals lost or
// delivered late, failed disk writes.
//
// Exactly one thread runs at any moment: the simulation's, or one runner's, which
// runs until it must hear from the cluster (a commit, the point before a release) and
// hands the turn back. So a seed is a complete description of a run: a failing seed
// reproduces from the seed alone.
//
// After every step the invariants of the issue are checked (simulate()'s violations);
// at the end the program must have finished as one runtime on one data dir finishes it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ved::cluster::sim {

struct SimProgram {
  std::string name;
  std::string bundle;  // the .vedb bytes
  uint64_t seed = 0;   // the run's seed (rand)
};

// The program run on one data dir by one runtime, with the same simulated service: what
// the cluster's committed run must equal.
struct Reference {
  std::vector<std::pair<int64_t, std::string>> frames;  // by frame number: tick, payload
  std::string journal;                                  // scan_journal's lines, "tick line\n"
  int exit_code = 0;
  std::vector<std::string> instances;  // Runtime::describe_instances
};
Reference run_reference(const SimProgram& program, const std::string& scratch_dir);

struct SimOptions {
  uint64_t seed = 1;
  unsigned nodes = 3;
  // The teeth switches: state machines that apply every owner's entry unfenced, and
  // owners that release effects with no guard (no dispatch lease, no takeover wait, even
  // once asked to stop). Either must make some seed fail an invariant.
  bool fencing = true;
  bool lease = true;
  uint64_t fault_ms = 30000;   // faults happen in the first this-many ms of simulated time
  uint64_t limit_ms = 400000;  // by when (simulated) the program must have finished
};

struct SimCounts {
  unsigned crashes = 0, pauses = 0, partitions = 0, disk_faults = 0;
  unsigned proposals_lost = 0, proposals_late = 0;
  unsigned runs_started = 0;   // runners started (the first, and every takeover or restart)
  unsigned fenced = 0;         // entries the state machines fenced (node 1's count)
  unsigned dispatches = 0, duplicate_dispatches = 0;
  uint64_t frames_caught_up = 0;  // fetched by replicas that restored a snapshot
  uint64_t simulated_ms = 0;
};

struct SimResult {
  std::vector<std::string> violations;  // empty: every invariant held
  bool finished = false;
  int exit_code = -1;
  std::string journal;  // the committed run's, rebuilt from node 1's replica
  std::vector<std::string> instances;
  SimCounts counts;
  std::string log;  // what happened, step by step (for a failing seed)
};

SimResult simulate(const SimProgram& program, const Reference& reference, const SimOptions& options);

}  // namespace ved::cluster::sim
