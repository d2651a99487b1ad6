// Jump threading: a `JMP b` to a block that is nothing but its terminator becomes a copy
// of that terminator. An `if` inside a `for` ends both arms with a jump to the join
// block, which holds only the loop's FOR_STEP: threaded, each arm steps the loop itself,
// and an iteration runs one instruction and enters one block fewer.
//
// The copy keeps the original's source span, so a fault it raises (FOR_STEP's counter
// overflow) names the same line and column. Fuel stays what the bundle's blocks say it
// is; the blocks are just fewer.
#include "ir/passes.h"

namespace ved::ir {

void thread_jumps(Function& f) {
  // Each round replaces at least one jump or stops; a chain of n jumps needs n rounds,
  // and a cycle of empty blocks (`while true {}`) ends with a block that jumps to itself.
  for (size_t round = 0; round <= f.blocks.size(); ++round) {
    bool changed = false;
    for (uint32_t b = 0; b < f.blocks.size(); ++b) {
      auto& code = f.blocks[b].code;
      if (code.empty() || code.back().op != Op::JMP) continue;
      const uint32_t target = code.back().d;
      if (target == b) continue;
      const auto& there = f.blocks[target].code;
      if (there.size() != 1 || !is_terminator(there[0].op)) continue;
      // A slice boundary names a slice, not a block: left where it is.
      if (there[0].op == Op::YIELD || there[0].op == Op::ADVANCE) continue;
      code.back() = there[0];
      changed = true;
    }
    if (!changed) break;
  }
}

}  // namespace ved::ir
