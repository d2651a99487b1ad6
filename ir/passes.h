// IR passes. Each keeps the function's meaning, faults included: an instruction that
// can fault (checked arithmetic, lookups, calls, which spend fuel) is never removed or
// folded into something that does not fault at the same place.
#pragma once

#include <vector>

#include "ir/module.h"

namespace ved::ir {

// The blocks a terminator can go to.
std::vector<uint32_t> successors(const Instr& terminator);
// Whether `op` ends a block.
bool is_terminator(Op op);

// Removes blocks that no entry block reaches and renumbers the rest (entries keep their
// order). Part of lowering, not optional: unreachable blocks may be unterminated.
void remove_unreachable_blocks(Function& f);

// Constant folding: integer and float arithmetic on known constants when the result is
// defined (no overflow, no division by zero), comparisons and `!` of constants, and
// branches on known conditions (which become jumps).
void fold_constants(Module& m, Function& f);
// Copy propagation: after `MOVE a, b`, later reads of `a` in the same block read `b`
// until either is written. Never into the updated operand of LIST_SET/MAP_SET/FIELD_SET.
void propagate_copies(Function& f);
// Dead code: instructions without side effects or faults whose result nobody reads.
void eliminate_dead_code(Function& f);

// Jump threading: a JMP to a block that holds only a terminator becomes a copy of that
// terminator (thread_jumps.cpp).
void thread_jumps(Function& f);
// Scalar constants loaded inside a loop are loaded once, in the entry block, into
// registers of their own (hoist_loop_constants.cpp). After remove_unreachable_blocks.
void hoist_loop_constants(Module& m, Function& f);

// Folding, copies and dead code to a fixed point, then unreachable blocks, jump threading
// (and the blocks it leaves unreachable), then loop constants.
void optimize(Module& m);

}  // namespace ved::ir
