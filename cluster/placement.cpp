#include "cluster/placement.h"

#include <xxhash.h>

namespace ved::cluster {

uint64_t placement_weight(const std::string& instance, uint64_t node) {
  return XXH64(instance.data(), instance.size(), node);
}

namespace {

// The heaviest of `candidates` for `instance` (ties, vanishingly rare, to the lower id so
// that member order never matters); 0 when there is none.
uint64_t heaviest(const std::string& instance, const std::vector<uint64_t>& candidates) {
  uint64_t best = 0, best_weight = 0;
  for (uint64_t node : candidates) {
    const uint64_t w = placement_weight(instance, node);
    if (best == 0 || w > best_weight || (w == best_weight && node < best)) {
      best = node;
      best_weight = w;
    }
  }
  return best;
}

}  // namespace

PlacementTable place(const PlacementInput& in) {
  // Candidates per group ("" : every eligible node, whatever its group).
  std::map<std::string, std::vector<uint64_t>> by_group;
  bool pin_up = false;
  for (const PlacementMember& m : in.members) {
    if (m.id == in.leader_pin && m.up) pin_up = true;
    if (!m.up || !m.eligible) continue;
    by_group[""].push_back(m.id);
    if (!m.group.empty()) by_group[m.group].push_back(m.id);
  }
  PlacementTable t;
  for (const PlacementInstance& i : in.instances) {
    uint64_t owner = 0;
    if (i.tenant_scope) {
      // The leader runs them whether or not it is eligible: it is the leader.
      owner = pin_up ? in.leader_pin : 0;
      if (!owner) t.waiting[i.name] = "the pinned leader (node " + std::to_string(in.leader_pin) + ") is not up";
    } else {
      const std::string& group = i.deploy_group;
      auto it = by_group.find(group);
      owner = it == by_group.end() ? 0 : heaviest(i.name, it->second);
      if (!owner)
        t.waiting[i.name] = group.empty() ? "no node is up and eligible"
                                          : "no node of group `" + group + "` is up and eligible";
    }
    t.owner[i.name] = owner;
  }
  return t;
}

size_t moved_between(const PlacementTable& before, const PlacementTable& after) {
  size_t moved = 0;
  for (const auto& [instance, owner] : after.owner) {
    auto it = before.owner.find(instance);
    const uint64_t was = it == before.owner.end() ? 0 : it->second;
    if (was != 0 && was != owner) ++moved;
  }
  for (const auto& [instance, owner] : before.owner)
    if (owner != 0 && after.owner.find(instance) == after.owner.end()) ++moved;
  return moved;
}

}  // namespace ved::cluster
