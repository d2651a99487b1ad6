// Which node runs which program: the leader's decision (docs/cluster.md "Placement"),
// from committed facts only, so that the node and the whole-cluster simulation
// (tests/cluster/simulation/) decide alike.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/journal_entry.h"
#include "cluster/placement.h"

namespace ved::vm {
struct Program;
}

namespace ved::cluster {

class StateMachine;
struct MemberRecord;

// The table place() gives now for the members in the Raft configuration
// (`in_configuration`) and the programs not finished, each in its deploy group
// (placement_group), with why those that have no owner wait.
PlacementTable program_placement(StateMachine& sm, const std::function<bool(uint64_t)>& in_configuration);

// The Placement entry the leader should propose now: program_placement's table at the
// next epoch. None when nothing would change (or there is nothing to place).
std::optional<PlacementEntry> next_placement(StateMachine& sm, const std::function<bool(uint64_t)>& in_configuration);

// The environments a program's `deploy`s name (language.md §11), each once, in source
// order, space-separated ("" when it has none): what the state machine records of it.
std::string program_deploy_groups(const vm::Program& program);

// The group a program is placed in (docs/cluster.md "Deploy groups"): a program is the
// unit a node owns, placed whole, so of the environments it names (`deploy_groups`, as
// program_deploy_groups writes them) the first that some member was started with
// (`--group`, in `member_groups`); "" — any node — when it names none, or none is any
// member's: a `deploy` is a placement hint, which a cluster without such nodes cannot
// follow.
std::string placement_group(const std::string& deploy_groups, const std::set<std::string>& member_groups);
// The groups of the members in the Raft configuration.
std::set<std::string> member_groups(StateMachine& sm, const std::function<bool(uint64_t)>& in_configuration);

// The leader's eligibility decisions (--rebalance-after): a member back from DOWN may
// receive programs again once this leader has heard it for that long, counted by this
// leader alone (a new leader counts afresh: reset()).
class EligibilityTimer {
 public:
  // The `members` (StateMachine::members) to commit Eligible for now (each returned once, until settled()): up, not
  // eligible, heard (`heard(id)`) without a break for `rebalance_after_ms`.
  std::vector<uint64_t> due(const std::map<uint64_t, MemberRecord>& members, uint64_t now_ms,
                            uint64_t rebalance_after_ms, const std::function<bool(uint64_t)>& heard);
  void settled(uint64_t node) { pending_.erase(node); }  // its Eligible was applied or failed
  void reset() { up_since_.clear(); }

 private:
  std::map<uint64_t, uint64_t> up_since_;  // a member up but not eligible, heard since
  std::set<uint64_t> pending_;             // Eligible proposed, not settled
};

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
