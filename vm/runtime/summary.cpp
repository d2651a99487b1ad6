// The summary a run prints when it stops (runtime.md §1).
#include "vm/runtime/summary.h"

#include <algorithm>
#include <map>

namespace ved::vm {

// Every instance when there are few; otherwise counts per domain, and the instances
// that need attention (FAULTED, a goal unsatisfied or terminated), at most 32 of them.
void summarize_run(const Program& p, const std::deque<Instance>& instances, const std::vector<size_t>& order,
                   RunSummary& summary) {
  constexpr size_t kListAll = 32;
  bool faulted = false, unsatisfied = false;
  size_t attention = 0;
  std::map<std::string, std::pair<size_t, size_t>> per_domain;  // name -> (instances, faulted)
  for (size_t i : order) {
    const Instance& in = instances[i];
    const DomainInfo& d = p.domains[in.key.domain];
    std::vector<std::string> detail;
    if (in.faulted && !in.last_fault.empty()) detail.push_back("  fault: " + in.last_fault);
    if (in.dead_letters > 0) detail.push_back("  dead letters: " + std::to_string(in.dead_letters));
    bool needs_attention = in.faulted;
    for (size_t g = 0; g < d.goals.size(); ++g) {
      const GoalProgress& gp = in.goals[g];
      if (gp.terminated) {
        detail.push_back("  goal " + d.goals[g].name + " terminated: " + gp.reason +
                         (in.last_failed_effect.empty() ? "" : "; last failed effect: " + in.last_failed_effect));
        needs_attention = true;
      } else if (!gp.satisfied) {
        detail.push_back("  goal " + d.goals[g].name + " unsatisfied (" + std::to_string(gp.attempts) + " attempts)");
        needs_attention = true;
      }
    }
    faulted = faulted || in.faulted;
    unsatisfied = unsatisfied || (needs_attention && !in.faulted) ||
                  std::any_of(in.goals.begin(), in.goals.end(), [](const GoalProgress& g) { return g.terminated || !g.satisfied; });
    auto& counts = per_domain[d.name];
    ++counts.first;
    if (in.faulted) ++counts.second;
    const bool list = instances.size() <= kListAll || (needs_attention && attention < kListAll);
    if (needs_attention) ++attention;
    if (!list) continue;
    summary.lines.push_back(describe_instance(p, instances[i].key) + (in.faulted ? " FAULTED " : " ") + format_value_shown(in.state, p.records, p.effect_names));
    for (auto& line : detail) summary.lines.push_back(std::move(line));
  }
  if (instances.size() > kListAll) {
    for (const auto& [domain, counts] : per_domain)
      summary.lines.push_back(domain + ": " + std::to_string(counts.first) + " instances, " +
                              std::to_string(counts.second) + " FAULTED");
    if (attention > kListAll)
      summary.lines.push_back("(" + std::to_string(attention - kListAll) + " more instances need attention: vedvm inspect)");
  }
  summary.exit_code = faulted ? 3 : (unsatisfied || summary.max_ticks_reached) ? 2 : 0;
}

}  // namespace ved::vm
