#include "cluster/program_placement.h"

#include <algorithm>

#include "cluster/placement.h"
#include "cluster/state_machine.h"
#include "vm/program.h"

namespace ved::cluster {

PlacementTable program_placement(StateMachine& sm, const std::function<bool(uint64_t)>& in_configuration) {
  PlacementInput input;
  for (const auto& [id, m] : sm.members())
    if (in_configuration(id)) input.members.push_back({id, m.info.group, m.up, m.up && m.eligible});
  const std::set<std::string> groups = member_groups(sm, in_configuration);
  for (const auto& p : sm.programs())
    if (p.status != "finished") input.instances.push_back({program_unit(p.id), false, placement_group(p.group, groups)});
  return place(input);
}

std::optional<PlacementEntry> next_placement(StateMachine& sm, const std::function<bool(uint64_t)>& in_configuration) {
  const PlacementTable table = program_placement(sm, in_configuration);
  if (table.owner.empty()) return std::nullopt;
  bool same = true;
  for (const auto& [unit, node] : table.owner) same = same && sm.owner(unit) == node;
  if (same) return std::nullopt;
  PlacementEntry entry{sm.placement_epoch() + 1, {}};
  for (const auto& [unit, node] : table.owner) entry.table.push_back({unit, node});
  return entry;
}

std::string program_deploy_groups(const vm::Program& program) {
  std::string out;
  std::set<std::string> seen;
  for (const vm::DeployInfo& d : program.deploys)
    if (seen.insert(d.environment).second) out += (out.empty() ? "" : " ") + d.environment;
  return out;
}

std::set<std::string> member_groups(StateMachine& sm, const std::function<bool(uint64_t)>& in_configuration) {
  std::set<std::string> out;
  for (const auto& [id, m] : sm.members())
    if (!m.info.group.empty() && in_configuration(id)) out.insert(m.info.group);
  return out;
}

std::string placement_group(const std::string& deploy_groups, const std::set<std::string>& member_groups) {
  for (size_t at = 0; at < deploy_groups.size();) {
    const size_t end = std::min(deploy_groups.find(' ', at), deploy_groups.size());
    const std::string group = deploy_groups.substr(at, end - at);
    if (member_groups.count(group)) return group;
    at = end + 1;
  }
  return "";
}

std::vector<uint64_t> EligibilityTimer::due(const std::map<uint64_t, MemberRecord>& members, uint64_t now_ms,
                                            uint64_t rebalance_after_ms, const std::function<bool(uint64_t)>& heard) {
  std::vector<uint64_t> out;
  for (const auto& [node, m] : members) {
    if (!m.up || m.eligible || !heard(node)) {
      up_since_.erase(node);
      continue;
    }
    const uint64_t since = up_since_.emplace(node, now_ms).first->second;
    if (now_ms - since < rebalance_after_ms || !pending_.insert(node).second) continue;
    out.push_back(node);
  }
  return out;
}

uint64_t TakeoverWaits::dispatch_not_before(StateMachine& sm, uint64_t program, uint64_t self, uint64_t now_ms,
                                            uint64_t lease_ms) {
  const uint64_t epoch = sm.placement_epoch();
  Takeover& t = takeovers_[program];
  if (t.epoch == epoch) return t.not_before;
  t.epoch = epoch;  // (a wait already begun is never shortened)
  const uint64_t holder = sm.run_holder(program);
  if (holder == 0 || holder == self) return t.not_before;
  const auto members = sm.members();
  const auto it = members.find(holder);
  if (it != members.end() && !it->second.up) return t.not_before;
  t.not_before = std::max(t.not_before, now_ms + lease_ms);
  return t.not_before;
}

}  // namespace ved::cluster
