// Which registers are live (may still be read) at the end of each block: the classic
// backward dataflow, for the passes that move or rename a definition and must know that
// no later block reads the register they change.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/module.h"

namespace ved::ir {

// The registers an instruction reads, each reported once per operand (a range reports
// each of its registers). An operand updated in place (MAP_SET's map, FOR_STEP's counter)
// is read. `range` tells the callback the operand is part of a run of registers, which a
// pass cannot rename one at a time.
template <class F>
void for_each_read(const Instr& i, F&& f);

// live_out[b][r]: register r may be read after block b ends. YIELD and ADVANCE keep every
// register live (the next slice starts from the saved registers, not from a successor).
std::vector<std::vector<bool>> live_out(const Function& f);

}  // namespace ved::ir

#include "bytecode/operands.h"

namespace ved::ir {

template <class F>
void for_each_read(const Instr& i, F&& f) {
  const bytecode::OperandRoles roles = bytecode::operand_roles(i.op);
  if ((roles.reads_a && !(roles.a_may_be_absent && i.a == bytecode::kNoRegister)) || roles.updates_a)
    f(i.a, /*range=*/false);
  if (roles.reads_b) f(i.b, false);
  if (roles.reads_c) f(i.c, false);
  if (roles.reads_range) {
    const uint32_t count = roles.range_of_pairs ? 2 * i.c : i.c;
    for (uint32_t k = 0; k < count; ++k) f(i.b + k, true);
  }
}

}  // namespace ved::ir
