// Which node runs which program: the leader's decision (docs/cluster.md "Placement"),
// from committed facts only, so that the node and the whole-cluster simulation
// (tests/cluster/simulation/) decide alike.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "cluster/journal_entry.h"

namespace ved::cluster {

class StateMachine;

// The Placement entry the leader should propose now: the table place() gives for the
// members in the Raft configuration (`in_configuration`) and the programs not finished,
// at the next epoch. None when nothing would change (or there is nothing to place).
std::optional<PlacementEntry> next_placement(StateMachine& sm, const std::function<bool(uint64_t)>& in_configuration);

// A program handed over while its previous owner still runs (a rebalance: a node came
// back and outweighs it) must not have its effects released by both. The previous owner
// stops by itself once its lease runs out (it can renew it no more: its entries are
// fenced), and its lease began before the placement that deposed it was committed; so
// the new owner releases nothing until a lease's length after it saw that placement.
// No wait is needed when the program's last lease holder is this node, nobody, or a node
// the cluster has declared DOWN (silent for the failure timeout, longer than a lease).
//
// Kept per node across its runner's restarts, so that a run that stops and starts again
// does not shorten the wait.
class TakeoverWaits {
 public:
  // When this node (`self`) may first release the program's effects: 0 for at once.
  uint64_t dispatch_not_before(StateMachine& sm, uint64_t program, uint64_t self, uint64_t now_ms, uint64_t lease_ms);

 private:
  struct Takeover {
    uint64_t epoch = 0;  // the placement epoch it was taken over at
    uint64_t not_before = 0;
  };
  std::map<uint64_t, Takeover> takeovers_;  // by program
};

}  // namespace ved::cluster
