#include "ir/print.h"

#include <charconv>
#include <sstream>

namespace ved::ir {

std::string type_name(const Module& m, TypeId t) {
  const TypeDesc& d = m.types[t];
  switch (d.kind) {
    case TypeKind::Unit: return "unit";
    case TypeKind::Bool: return "bool";
    case TypeKind::Int: return "int";
    case TypeKind::Float: return "float";
    case TypeKind::String: return "string";
    case TypeKind::List: return "list<" + type_name(m, d.x) + ">";
    case TypeKind::Map: return "map<" + type_name(m, d.x) + ", " + type_name(m, d.y) + ">";
    case TypeKind::Optional: return type_name(m, d.x) + "?";
    case TypeKind::Record: return m.records[d.x].name;
    case TypeKind::Intent: return "intent<" + m.effects[d.x].name + ">";
  }
  return "?";
}

namespace {

std::string constant_text(const Constant& c) {
  switch (c.kind) {
    case Constant::Kind::Int: return std::to_string(c.i);
    case Constant::Kind::Bool: return c.i ? "true" : "false";
    case Constant::Kind::Float: {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, c.f);
      return std::string(buf, r.ptr);
    }
    case Constant::Kind::String: {
      std::string out = "\"";
      for (char ch : c.s) {
        if (ch == '"' || ch == '\\') out += '\\';
        if (ch == '\n') {
          out += "\\n";
          continue;
        }
        out += ch;
      }
      return out + "\"";
    }
  }
  return "?";
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

// A test's row: which function does what (the functions follow, by name).
void tests(const Module& m, const Test& t, std::ostringstream& out) {
  static constexpr const char* kExpectation[] = {"always", "eventually", "final"};
  auto fn = [&](int64_t f) { return f < 0 ? std::string("-") : m.functions[f].name; };
  out << "test " << constant_text(Constant{Constant::Kind::String, 0, 0, t.name}) << "\n";
  for (const auto& g : t.given)
    out << "  given " << m.domains[g.domain].name << (g.id_function < 0 ? "" : "[" + fn(g.id_function) + "]")
        << " -> " << fn(g.fields_function) << "\n";
  for (const auto& s : t.stubs)
    out << "  stub " << m.effects[s.effect].name << (s.fails ? " fails" : " returns") << " -> " << fn(s.value_function)
        << "\n";
  out << "  script -> " << fn(t.script) << "\n";
  for (const auto& e : t.expectations) {
    out << "  expect " << kExpectation[e.kind] << " -> " << fn(e.function) << "(";
    for (size_t k = 0; k < e.domains.size(); ++k) out << (k ? ", " : "") << m.domains[e.domains[k]].name;
    out << ")\n";
  }
}

}  // namespace

std::string print_module(const Module& m, const SourceManager& sources) {
  std::ostringstream out;
  out << "; program " << m.program_name << "\n";
  for (size_t i = 0; i < m.records.size(); ++i) {
    out << "record " << m.records[i].name << " {";
    for (size_t k = 0; k < m.records[i].fields.size(); ++k)
      out << (k ? ", " : " ") << m.records[i].fields[k].name << ": " << type_name(m, m.records[i].fields[k].type);
    out << " }\n";
  }
  for (const auto& d : m.domains) {
    out << "domain " << d.name << " scope " << d.scope << " privilege " << int(d.privilege) << " version "
        << d.version << (d.activated_by_default ? " activated" : "") << "\n";
    for (const auto& g : d.goals) {
      out << "  goal " << g.name << " priority " << g.priority << " predicate " << m.functions[g.predicate].name
          << " strategy [";
      for (size_t k = 0; k < g.strategy.size(); ++k) out << (k ? ", " : "") << d.transitions[g.strategy[k]].name;
      out << "]" << (g.inferred_strategy ? " (inferred)" : "") << "\n";
    }
    for (const auto& t : d.transitions)
      out << "  transition " << t.name << " -> " << m.functions[t.function].name << (t.is_start ? " (start)" : "")
          << "\n";
  }
  for (const auto& t : m.tests) tests(m, t, out);
  for (const auto& f : m.functions) {
    out << "\nfn " << f.name << "(";
    for (uint32_t p = 0; p < f.param_count; ++p)
      out << (p ? ", " : "") << "r" << p << " " << f.register_names[p] << ": " << type_name(m, f.registers[p]);
    out << ") -> " << type_name(m, f.result) << "\n";
    if (const char* kind = special_kind_text(f.kind)) out << "  ; " << kind << "\n";
    out << "  registers:";
    for (size_t r = f.param_count; r < f.registers.size(); ++r) {
      out << " r" << r;
      if (!f.register_names[r].empty()) out << " " << f.register_names[r];
      out << ": " << type_name(m, f.registers[r]) << (r + 1 < f.registers.size() ? "," : "");
    }
    out << "\n";
    for (size_t b = 0; b < f.blocks.size(); ++b) {
      for (size_t s = 0; s < f.slice_entries.size(); ++s) {
        if (f.slice_entries[s] == b && (f.kind == FunctionKind::Transition || f.kind == FunctionKind::TestScript))
          out << "  ; slice " << s << (f.slice_names[s].empty() ? "" : " " + f.slice_names[s]) << "\n";
      }
      out << "  b" << b << ":  ; fuel " << f.blocks[b].code.size() << "\n";
      for (const auto& i : f.blocks[b].code) {
        const auto& info = bytecode::op_info(i.op);
        std::ostringstream line;
        line << "    " << info.name << " " << i.a << ", " << i.b << ", " << i.c << ", " << i.d;
        if (i.op == Op::LOAD_CONST) line << "  ; " << constant_text(m.constants[i.d]);
        std::string text = line.str();
        if (i.span.end > 0) {
          LineColumn lc = sources.locate(i.span);
          text.resize(std::max<size_t>(text.size(), 40), ' ');
          text += "  ; " + std::to_string(lc.line) + ":" + std::to_string(lc.column);
        }
        out << text << "\n";
      }
    }
  }
  return out.str();
}

}  // namespace ved::ir
