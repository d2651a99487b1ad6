// Which functions the JIT compiles (jit.h): a fixed point over the call graph, because
// compiled code only ever calls compiled code. No LLVM here.
#include <algorithm>

#include "vm/jit/jit.h"

namespace ved::vm::jit {

namespace {

// Why the compiler cannot take this function by itself ("" if it can). Every opcode is
// compiled today (data instructions through a thunk); what remains are shapes the
// compiler does not expect from a verified bundle.
std::string own_reason(const Program& p, const FunctionInfo& f) {
  if (f.blocks.empty() || f.code.empty()) return "it has no code";
  if (f.slice_entries.empty()) return "it has no entry";
  if (f.positions.size() != f.code.size()) return "its position table does not match its code";
  return "";
}

}  // namespace

Compilability analyse(const Program& p) {
  const size_t n = p.functions.size();
  Compilability c;
  c.ok.assign(n, true);
  c.reason.assign(n, "");
  for (size_t f = 0; f < n; ++f) {
    c.reason[f] = own_reason(p, p.functions[f]);
    c.ok[f] = c.reason[f].empty();
  }
  // A function that calls one that cannot be compiled cannot be either; repeat until
  // nothing changes (recursion is fine: a cycle of compilable functions stays so).
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t f = 0; f < n; ++f) {
      if (!c.ok[f]) continue;
      for (const Instr& in : p.functions[f].code) {
        if (in.op != Op::CALL || c.ok[in.d]) continue;
        c.ok[f] = false;
        c.reason[f] = "it calls `" + p.functions[in.d].name + "`, which is interpreted";
        changed = true;
        break;
      }
    }
  }
  return c;
}

}  // namespace ved::vm::jit
