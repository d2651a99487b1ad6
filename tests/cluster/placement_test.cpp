// Placement (cluster/placement.h): a pure function of committed facts. The same facts in
// any order give the same table; a node joining takes about 1/n of the instances and
// nothing else moves; a node leaving gives up only its own; nodes down or not yet
// eligible own nothing; Tenant-scope instances follow the leader pin; deployed domains
// stay in their group, and wait (saying why) while the group has no node.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <set>

#include "cluster/placement.h"
#include "cluster/program_placement.h"

using namespace ved::cluster;

namespace {

std::vector<PlacementInstance> workers(size_t n, const std::string& group = "") {
  std::vector<PlacementInstance> out;
  for (size_t i = 0; i < n; ++i) out.push_back(PlacementInstance{"Worker[" + std::to_string(i) + "]", false, group});
  return out;
}

PlacementMember member(uint64_t id, std::string group = "", bool up = true, bool eligible = true) {
  return PlacementMember{id, std::move(group), up, eligible};
}

std::map<uint64_t, size_t> per_node(const PlacementTable& t) {
  std::map<uint64_t, size_t> n;
  for (const auto& [instance, owner] : t.owner) ++n[owner];
  return n;
}

}  // namespace

TEST_CASE("placement: the same facts in any order give the same table, and every instance one live owner") {
  PlacementInput in{{member(1), member(2), member(3)}, 1, workers(1000)};
  const PlacementTable a = place(in);
  std::mt19937 shuffle(7);
  std::shuffle(in.members.begin(), in.members.end(), shuffle);
  std::shuffle(in.instances.begin(), in.instances.end(), shuffle);
  const PlacementTable b = place(in);
  CHECK(a.owner == b.owner);
  CHECK(a.waiting.empty());
  const auto counts = per_node(a);
  CHECK(counts.count(0) == 0);
  // Rendezvous hashing spreads 1,000 instances over 3 nodes evenly enough.
  for (uint64_t node : {1, 2, 3}) {
    CHECK(counts.at(node) > 250);
    CHECK(counts.at(node) < 420);
  }
  // The weight is a fixed function (not std::hash, not seeded per process).
  CHECK(placement_weight("Worker[0]", 1) == placement_weight("Worker[0]", 1));
  CHECK(placement_weight("Worker[0]", 1) != placement_weight("Worker[0]", 2));
}

TEST_CASE("placement: a node joining takes only what it now outweighs, a node leaving gives up only its own") {
  const auto instances = workers(10000);
  const PlacementTable three = place({{member(1), member(2), member(3)}, 1, instances});
  const PlacementTable four = place({{member(1), member(2), member(3), member(4)}, 1, instances});
  // Every instance that moved went to the new node; about a quarter moved.
  size_t to_new = 0;
  for (const auto& [instance, owner] : four.owner) {
    if (owner != three.owner.at(instance)) {
      CHECK(owner == 4);
      ++to_new;
    }
  }
  CHECK(moved_between(three, four) == to_new);
  CHECK(to_new > 2000);
  CHECK(to_new < 3000);
  // Node 2 goes down: only its instances move, spread over the others.
  const PlacementTable without_two = place({{member(1), member(2, "", false), member(3), member(4)}, 1, instances});
  for (const auto& [instance, owner] : without_two.owner) {
    if (four.owner.at(instance) != 2) CHECK(owner == four.owner.at(instance));
    else CHECK(owner != 2);
  }
  CHECK(moved_between(four, without_two) == per_node(four).at(2));
}

TEST_CASE("placement: a node up but not yet eligible (--rebalance-after) owns nothing, once eligible it takes its share") {
  const auto instances = workers(1000);
  const PlacementTable before = place({{member(1), member(2)}, 1, instances});
  const PlacementTable fresh = place({{member(1), member(2), member(3, "", true, false)}, 1, instances});
  CHECK(fresh.owner == before.owner);
  const PlacementTable settled = place({{member(1), member(2), member(3)}, 1, instances});
  CHECK(per_node(settled).at(3) > 200);
}

TEST_CASE("placement: Tenant-scope instances follow the leader pin, deployed domains stay in their group or wait") {
  std::vector<PlacementInstance> in = workers(100);
  in.push_back(PlacementInstance{"Billing", true, ""});
  const auto eu = workers(50, "eu");
  for (auto w : eu) {
    w.name = "Eu" + w.name;
    in.push_back(w);
  }
  PlacementInput input{{member(1), member(2, "eu"), member(3, "us")}, 3, in};
  PlacementTable t = place(input);
  CHECK(t.owner.at("Billing") == 3);
  for (size_t i = 0; i < 50; ++i) CHECK(t.owner.at("EuWorker[" + std::to_string(i) + "]") == 2);
  CHECK(t.waiting.empty());
  // The pin moves: so does Billing, and nothing else.
  input.leader_pin = 1;
  const PlacementTable moved = place(input);
  CHECK(moved.owner.at("Billing") == 1);
  CHECK(moved_between(t, moved) == 1);
  // The group's only node goes down: its instances wait, and say why.
  input.members[1].up = false;
  t = place(input);
  CHECK(t.owner.at("EuWorker[3]") == 0);
  CHECK(t.waiting.at("EuWorker[3]") == "no node of group `eu` is up and eligible");
  CHECK(t.waiting.count("Worker[3]") == 0);
  // No node at all: everything waits.
  for (auto& m : input.members) m.up = false;
  t = place(input);
  CHECK(t.owner.at("Worker[0]") == 0);
  CHECK(t.waiting.at("Worker[0]") == "no node is up and eligible");
  CHECK(t.waiting.at("Billing") == "the pinned leader (node 1) is not up");
}

// A program is placed whole (docs/cluster.md "Deploy groups"): of the environments its
// deploys name, the first some member was started with; none of them any member's, it
// goes anywhere.
TEST_CASE("placement: a program's group is the first environment it deploys to that a member has, else none") {
  using ved::cluster::placement_group;
  const std::set<std::string> members = {"eu", "us"};
  CHECK(placement_group("", members) == "");
  CHECK(placement_group("eu", members) == "eu");
  CHECK(placement_group("ap eu us", members) == "eu");
  CHECK(placement_group("us eu", members) == "us");
  CHECK(placement_group("ap", members) == "");
  CHECK(placement_group("eu", {}) == "");
  CHECK(placement_group("e", members) == "");  // whole names only
}
