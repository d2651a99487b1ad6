// The check after every slice (runtime.md §1 step 4), shared by the runtime and the
// test driver so that both fault the same way.
#pragma once

#include <optional>

#include "vm/interpreter.h"

namespace ved::vm {

// Evaluates `domain`'s invariants against `state`. Returns the fault that rolls the slice
// back: FaultKind::Invariant naming the first invariant that is false (located at its
// declaration), or the fault of an invariant that could not be evaluated; nullopt when
// every invariant holds. `slice` names the slice in the message: "slice 1 (account)".
std::optional<Fault> check_invariants(Interpreter& interpreter, const Program& program, const DomainInfo& domain,
                                      Value& state, int64_t tick, int64_t fuel, const std::string& slice);

}  // namespace ved::vm
