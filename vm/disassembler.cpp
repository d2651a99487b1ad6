#include "vm/disassembler.h"

#include <sstream>

#include "vm/bundle_loader.h"

namespace ved::vm {

namespace {

// Operands as the layout names them: r3 (register), b2 (block), k5 (constant).
std::string operands(const Program& p, const Instr& i) {
  using bytecode::Layout;
  auto r = [](uint32_t x) { return x == bytecode::kNoRegister ? std::string("-") : "r" + std::to_string(x); };
  auto b = [](uint32_t x) { return "b" + std::to_string(x); };
  const auto& info = bytecode::op_info(i.op);
  switch (info.layout) {
    case Layout::None: return "";
    case Layout::R: return r(i.a);
    case Layout::RR: return r(i.a) + ", " + r(i.b);
    case Layout::RRR: return r(i.a) + ", " + r(i.b) + ", " + r(i.c);
    case Layout::RK: {
      const Value& k = p.constants[i.d];
      const std::string text = k.tag() == Tag::String ? quote_string(k.as_string())
                                                      : format_value(k, p.records, p.effect_names);
      return r(i.a) + ", k" + std::to_string(i.d) + " (" + text + ")";
    }
    case Layout::RN: return r(i.a) + ", " + std::to_string(i.op == Op::LOAD_INT ? static_cast<int32_t>(i.d) : static_cast<int64_t>(i.d));
    case Layout::N: return std::to_string(i.d);
    case Layout::RRN: return r(i.a) + ", " + r(i.b) + ", " + std::to_string(i.d);
    case Layout::RRNX: return r(i.a) + ", " + r(i.b) + ".." + std::to_string(i.b + i.c) + ", #" + std::to_string(i.d);
    case Layout::B: return b(i.d);
    case Layout::RBB: return r(i.a) + ", " + b(i.b) + ", " + b(i.c);
    case Layout::RRBB: return r(i.a) + ", " + r(i.b) + ", " + b(i.c) + ", " + b(i.d);
    case Layout::RRRF:
      return r(i.a) + ", " + r(i.b) + ".." + std::to_string(i.b + i.c) + ", " + p.functions[i.d].name;
  }
  return "";
}

// What a descriptor operand (#n) refers to, for the comment column.
std::string descriptor(const Program& p, const Instr& i) {
  switch (i.op) {
    case Op::CALL_BUILTIN: return bytecode::kBuiltinIds[i.d];
    case Op::INTENT_NEW: return p.effects[i.d].name;
    case Op::OBSERVE: return p.observations[i.d].name;
    case Op::SEND:
    case Op::SCHEDULE: {
      const MessageInfo& m = p.messages[i.d];
      return m.domain < 0 ? "reply " + m.name : p.domains[m.domain].name + "." + m.name;
    }
    case Op::SPAWN: return p.domains[p.spawns[i.d].domain].name;
    case Op::LIST_NEW:
    case Op::MAP_NEW: return type_text(p, i.d);
    case Op::RECORD_NEW: return p.records[i.d].name;
    case Op::ADVANCE: return "then slice " + std::to_string(i.d);
    default: return "";
  }
}

const char* special_kind_text(FunctionKind k) {
  switch (k) {
    case FunctionKind::TestValue: return "test value";
    case FunctionKind::TestGiven: return "test given";
    case FunctionKind::TestScript: return "test script";
    case FunctionKind::TestExpect: return "test expectation";
    case FunctionKind::Migration: return "migration";
    default: return nullptr;
  }
}

std::string position_text(const Program& p, const SourcePos& pos) {
  const std::string at = source_position(p, pos);
  return at.empty() ? "?" : at;
}

// The tests table, after the functions it names.
void tests(const Program& p, std::ostringstream& out) {
  static constexpr const char* kExpectation[] = {"always", "eventually", "final"};
  auto fn = [&](int64_t f) { return f < 0 ? std::string("-") : "function " + std::to_string(f); };
  for (size_t ti = 0; ti < p.tests.size(); ++ti) {
    const TestInfo& t = p.tests[ti];
    out << "\ntest " << ti << " " << quote_string(t.name) << " ; " << position_text(p, t.position) << "\n";
    for (const auto& g : t.given)
      out << "  given " << p.domains[g.domain].name << (g.id_function < 0 ? "" : "[" + fn(g.id_function) + "]")
          << ": " << fn(g.fields_function) << "\n";
    for (const auto& s : t.stubs)
      out << "  stub " << p.effects[s.effect].name << (s.fails ? " fails" : " returns") << ": " << fn(s.value_function)
          << "\n";
    out << "  script: " << fn(t.script) << "\n";
    for (const auto& e : t.expectations) {
      out << "  expect " << kExpectation[e.kind] << " " << fn(e.function) << "(";
      for (size_t k = 0; k < e.domains.size(); ++k) out << (k ? ", " : "") << p.domains[e.domains[k]].name;
      std::string text = e.text;  // one line per expectation, whatever the source's layout
      for (char& c : text)
        if (c == '\n' || c == '\r') c = ' ';
      out << "): " << text << " ; " << position_text(p, e.position) << "\n";
    }
  }
}

}  // namespace

std::string disassemble(const Program& p, const SourceLookup& lookup) {
  std::ostringstream out;
  out << "; " << p.name << ": bundle format " << p.format << ", " << p.compiler << ", hash " << std::hex << p.hash
      << std::dec << "\n";
  for (size_t fi = 0; fi < p.functions.size(); ++fi) {
    const FunctionInfo& f = p.functions[fi];
    out << "\nfunction " << fi << " " << f.name << " (";
    for (uint32_t k = 0; k < f.param_count; ++k) out << (k ? ", " : "") << "r" << k << ": " << type_text(p, f.registers[k]);
    out << ") -> " << type_text(p, f.result) << ", " << f.registers.size() << " registers";
    if (const char* kind = special_kind_text(f.kind)) out << " ; " << kind;
    out << "\n";
    uint32_t last_line = 0, last_file = UINT32_MAX;
    for (size_t b = 0; b < f.blocks.size(); ++b) {
      for (size_t s = 0; s < f.slice_entries.size(); ++s)
        if (f.slice_entries[s] == b && (f.kind == FunctionKind::Transition || f.kind == FunctionKind::TestScript))
          out << "  ; slice " << s << (f.slice_names[s].empty() ? "" : " " + f.slice_names[s]) << "\n";
      out << "  b" << b << ": ; fuel " << f.blocks[b].cost << "\n";
      const uint32_t end = b + 1 < f.blocks.size() ? f.blocks[b + 1].start : static_cast<uint32_t>(f.code.size());
      for (uint32_t pc = f.blocks[b].start; pc < end; ++pc) {
        const Instr& i = f.code[pc];
        const SourcePos& pos = f.positions[pc];
        if (pos.line != 0 && (pos.line != last_line || pos.file != last_file)) {
          std::string text = lookup ? lookup(p.sources[pos.file], pos.line) : "";
          size_t first = text.find_first_not_of(" \t");
          out << "    ; " << pos.line << ": " << (first == std::string::npos ? "" : text.substr(first)) << "\n";
          last_line = pos.line;
          last_file = pos.file;
        }
        std::string line = "    " + std::to_string(pc) + "  " + bytecode::op_info(i.op).name + " " + operands(p, i);
        std::string what = descriptor(p, i);
        if (!what.empty()) {
          line.resize(std::max<size_t>(line.size(), 44), ' ');
          line += " ; " + what;
        }
        out << line << "\n";
      }
    }
  }
  tests(p, out);
  return out.str();
}

bool disassemble_bundle(std::string_view bytes, const SourceLookup& lookup, std::string& out, std::string& error) {
  Program program;
  if (!load_bundle(bytes, program, error)) return false;
  out = disassemble(program, lookup);
  return true;
}

}  // namespace ved::vm
