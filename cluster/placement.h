// Which node owns which instance (cluster.md §1 "Ownership"; issue 14, item 2): a pure,
// deterministic function of the committed facts — members with their groups and
// liveness, the leader pin, the instance set, each domain's `deploy` group. Every node
// computes the same table from the same committed entries, so the table travels as a
// `Placement{epoch, table}` entry only to fix the epoch at which it takes effect.
//
// The rules, in order:
//  * an instance of a Tenant-scope domain is owned by the pinned leader;
//  * an instance of a domain deployed to environment E is owned by a node started with
//    `--group E`; while none is up and eligible, it waits (owner 0) and the reason says so;
//  * any other instance by rendezvous (highest-random-weight) hashing over the eligible
//    nodes of no group restriction: each (instance, node) pair gets a fixed 64-bit
//    weight and the heaviest node wins. A node joining takes only the instances it now
//    outweighs (about 1/n of them); a node leaving gives up only its own; nothing else moves.
//
// A node is eligible once it has been up for `--rebalance-after`: the leader decides that
// from its clock and commits it (a Liveness entry), so the decision is a committed fact
// here, never a clock read. Nodes that are down or not yet eligible own nothing.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ved::cluster {

struct PlacementMember {
  uint64_t id = 0;
  std::string group;      // --group, "" for none
  bool up = false;
  bool eligible = false;  // up for at least --rebalance-after
};

struct PlacementInstance {
  std::string name;         // `Type[id]`: what the weight hashes
  bool tenant_scope = false;
  std::string deploy_group; // "" when its domain is not deployed anywhere
};

struct PlacementInput {
  std::vector<PlacementMember> members;    // any order
  uint64_t leader_pin = 0;                 // the node that owns Tenant-scope instances
  std::vector<PlacementInstance> instances;
};

struct PlacementTable {
  std::map<std::string, uint64_t> owner;  // instance -> node; 0: waiting
  // Why an instance waits, per deploy group or reason ("no node of group `eu` is up").
  std::map<std::string, std::string> waiting;
};

// The table for `input`. The same input, in any member or instance order, gives the same
// table.
PlacementTable place(const PlacementInput& input);

// The weight rendezvous hashing gives (instance, node): fixed across builds and
// machines (XXH64 of the name with the node id as seed), never std::hash.
uint64_t placement_weight(const std::string& instance, uint64_t node);

// How many instances change owner between two tables (an instance in only one of them
// counts when it has an owner there).
size_t moved_between(const PlacementTable& before, const PlacementTable& after);

}  // namespace ved::cluster
