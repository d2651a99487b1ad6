#include "ir/liveness.h"

#include "ir/passes.h"

namespace ved::ir {

std::vector<std::vector<bool>> live_out(const Function& f) {
  const size_t n = f.blocks.size();
  const size_t regs = f.registers.size();
  // Per block: what it reads before writing (uses) and what it writes (defs).
  std::vector<std::vector<bool>> uses(n, std::vector<bool>(regs, false));
  std::vector<std::vector<bool>> defs(n, std::vector<bool>(regs, false));
  std::vector<bool> yields(n, false);
  for (size_t b = 0; b < n; ++b) {
    for (const Instr& i : f.blocks[b].code) {
      for_each_read(i, [&](uint32_t r, bool) {
        if (r < regs && !defs[b][r]) uses[b][r] = true;
      });
      const bytecode::OperandRoles roles = bytecode::operand_roles(i.op);
      if ((roles.writes_a || roles.updates_a || roles.kills_a) && i.a < regs) defs[b][i.a] = true;
      if (i.op == Op::YIELD || i.op == Op::ADVANCE) yields[b] = true;
    }
  }
  std::vector<std::vector<bool>> in(n, std::vector<bool>(regs, false));
  std::vector<std::vector<bool>> out(n, std::vector<bool>(regs, false));
  for (size_t b = 0; b < n; ++b)
    if (yields[b]) out[b].assign(regs, true);
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t b = n; b-- > 0;) {
      const auto& code = f.blocks[b].code;
      if (!code.empty() && !yields[b])
        for (uint32_t s : successors(code.back()))
          for (size_t r = 0; r < regs; ++r)
            if (in[s][r] && !out[b][r]) out[b][r] = changed = true;
      for (size_t r = 0; r < regs; ++r) {
        const bool live = uses[b][r] || (out[b][r] && !defs[b][r]);
        if (live && !in[b][r]) in[b][r] = changed = true;
      }
    }
  }
  return out;
}

}  // namespace ved::ir
