// Simulated adapters (runtime.md §7): `--effect NAME=ok[:VALUE]`, `fail[:MESSAGE]` or
// `script:FILE` answer every intent of an effect without touching the world, between
// ticks, so that tests and demos are deterministic from the source alone.
#pragma once

#include <memory>
#include <string>

#include "vm/effects/adapter.h"

namespace ved::vm {

// An adapter that answers every intent with `outcome` (also what simulation tests'
// `effect E { return v }` / `{ fail "m" }` stubs become).
std::shared_ptr<EffectAdapter> make_fixed_adapter(EffectOutcome outcome);

// Parses a binding for effect `name` of `program`:
//   ok            succeed (with the zero value of the result type, "" for a string)
//   ok:VALUE      succeed with VALUE read as the result type (unit, bool, int, float, string)
//   fail          fail with code "failed"
//   fail:MESSAGE  fail with this message
//   script:FILE   FILE has one `ok[:VALUE]` / `fail[:MESSAGE]` per line (blank lines and
//                 lines starting with `#` skipped); the k-th intent of the effect gets the
//                 k-th answer, and the last answer repeats. Read once, here.
// Returns null with `error` for an unknown effect, a bad spec or an unreadable script.
std::shared_ptr<EffectAdapter> parse_simulated_adapter(const Program& program, const std::string& name,
                                                       const std::string& spec, std::string& error);

}  // namespace ved::vm
