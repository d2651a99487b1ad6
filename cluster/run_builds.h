// The builds a program's run has had, and an upgrade's verdict (docs/cluster.md
// "Upgrades"): what the state machine keeps of upgrades, what a node taking a program over
// rebuilds its run dir from, and what a client is sent — plain values, shared by the
// journal's side and the wire's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ved::cluster {

// A build of the program, in force from `first_frame` on: the submitted one from frame 0,
// then each upgrade the run took, with the digest of its upgrade tick's record as the
// owner computed it.
struct CommittedBuild {
  uint64_t first_frame = 0;
  std::string bundle;
  uint64_t record_digest = 0;  // none for the first
};

// An upgrade as the client that asked for it follows it: pending until the owner's
// RunUpgrade, then taken (ok) or refused, with the owner's lines.
struct UpgradeVerdict {
  uint64_t program = 0;
  uint64_t upgrade = 0;  // the index of its Upgrade entry
  bool decided = false;
  bool ok = false;
  std::vector<std::string> lines;
};

}  // namespace ved::cluster
