// What a run says when it stops: instances by status, unsatisfied and terminated goals
// with the reason, faults, dead letters; and the exit code (runtime.md §1).
#pragma once

#include <vector>

#include "vm/runtime/instance.h"
#include "vm/runtime/runtime.h"

namespace ved::vm {

// `order`: the instances' indices in instance order.
void summarize_run(const Program& program, const std::deque<Instance>& instances, const std::vector<size_t>& order,
                   RunSummary& summary);

}  // namespace ved::vm
