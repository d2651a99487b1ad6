// msgpack encoding of a Module. The layout is documented in docs/bundle.md; the loader
// (vm/bundle_loader.cpp) reads exactly this.
#include "ir/bundle_writer.h"

#include <xxhash.h>

#include <msgpack.hpp>

#include "bytecode/msgpack_float.h"
#include "ir/passes.h"

namespace ved::ir {

namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

void str(Packer& p, const std::string& s) { p.pack(s); }

void fields(Packer& p, const std::vector<Field>& fs) {
  p.pack_array(static_cast<uint32_t>(fs.size()));
  for (const auto& f : fs) {
    p.pack_array(2);
    str(p, f.name);
    p.pack(f.type);
  }
}

void u32s(Packer& p, const std::vector<uint32_t>& v) {
  p.pack_array(static_cast<uint32_t>(v.size()));
  for (uint32_t x : v) p.pack(x);
}

class Writer {
 public:
  Writer(const Module& m, const SourceManager& s) : m_(m), sources_(s), p_(buffer_) {}

  bool body(std::string& error) {
    // `deploys` only when there are some: a program without them keeps the bytes (and
    // the hash) it always had, and readers that predate the table never meet it.
    p_.pack_map(m_.deploys.empty() ? 14 : 15);
    str(p_, "program");
    str(p_, m_.program_name);
    str(p_, "sources");
    p_.pack_array(static_cast<uint32_t>(m_.source_files.size()));
    for (const auto& s : m_.source_files) str(p_, s);
    types();
    constants();
    str(p_, "records");
    p_.pack_array(static_cast<uint32_t>(m_.records.size()));
    for (const auto& r : m_.records) {
      p_.pack_array(2);
      str(p_, r.name);
      fields(p_, r.fields);
    }
    externals("effects", m_.effects, true);
    externals("observations", m_.observations, false);
    messages();
    str(p_, "spawns");
    p_.pack_array(static_cast<uint32_t>(m_.spawns.size()));
    for (const auto& s : m_.spawns) {
      p_.pack_array(2);
      p_.pack(s.domain);
      u32s(p_, s.fields);
    }
    if (!functions(error)) return false;
    domains();
    system();
    str(p_, "migrations");
    p_.pack_array(static_cast<uint32_t>(m_.migrations.size()));
    for (const auto& mig : m_.migrations) {
      p_.pack_array(5);
      str(p_, mig.name);
      p_.pack(mig.domain);
      p_.pack(mig.from_version);
      p_.pack(mig.to_version);
      p_.pack(mig.function);
    }
    tests();
    if (!m_.deploys.empty()) {
      str(p_, "deploys");
      p_.pack_array(static_cast<uint32_t>(m_.deploys.size()));
      for (const auto& d : m_.deploys) {
        p_.pack_array(3);
        p_.pack(d.domain);
        str(p_, d.environment);
        p_.pack(d.service);
      }
    }
    return true;
  }

  const msgpack::sbuffer& bytes() const { return buffer_; }

 private:
  void types() {
    str(p_, "types");
    const auto& all = m_.types.all();
    p_.pack_array(static_cast<uint32_t>(all.size()));
    for (const auto& t : all) {
      p_.pack_array(3);
      p_.pack(static_cast<uint32_t>(t.kind));
      p_.pack(t.x);
      p_.pack(t.y);
    }
  }

  // Always a msgpack float64: msgpack-c's pack_double writes whole-number doubles as
  // integers, which would lose the type (and the sign of -0.0).
  void float64(double f) {
    const auto bytes = bytecode::msgpack_float64(f);
    buffer_.write(bytes.data(), bytes.size());
  }

  void constants() {
    str(p_, "constants");
    p_.pack_array(static_cast<uint32_t>(m_.constants.size()));
    for (const auto& c : m_.constants) {
      p_.pack_array(2);
      p_.pack(static_cast<uint32_t>(c.kind));
      switch (c.kind) {
        case Constant::Kind::Int: p_.pack(c.i); break;
        case Constant::Kind::Float: float64(c.f); break;
        case Constant::Kind::String: str(p_, c.s); break;
        case Constant::Kind::Bool: p_.pack(c.i != 0); break;
      }
    }
  }

  void externals(const char* key, const std::vector<ExternalCall>& list, bool effects) {
    str(p_, key);
    p_.pack_array(static_cast<uint32_t>(list.size()));
    for (const auto& e : list) {
      p_.pack_array(effects ? 5 : 3);
      str(p_, e.name);
      fields(p_, e.params);
      p_.pack(e.result);
      if (effects) {
        p_.pack(static_cast<uint32_t>(e.privilege));
        p_.pack(e.declared);
      }
    }
  }

  void messages() {
    str(p_, "messages");
    p_.pack_array(static_cast<uint32_t>(m_.messages.size()));
    for (const auto& msg : m_.messages) {
      p_.pack_array(5);
      p_.pack(msg.domain);
      p_.pack(msg.transition);
      str(p_, msg.name);
      p_.pack(msg.high_lane);
      u32s(p_, msg.args);
    }
  }

  bool functions(std::string& error) {
    str(p_, "functions");
    p_.pack_array(static_cast<uint32_t>(m_.functions.size()));
    for (const auto& f : m_.functions) {
      if (f.registers.size() > bytecode::kMaxRegisters || f.blocks.size() > bytecode::kMaxBlocks) {
        error = "function `" + f.name + "` is too large for the bytecode (" + std::to_string(f.registers.size()) +
                " registers, " + std::to_string(f.blocks.size()) + " blocks; the limits are " +
                std::to_string(bytecode::kMaxRegisters) + " and " + std::to_string(bytecode::kMaxBlocks) + ")";
        return false;
      }
      p_.pack_array(10);
      str(p_, f.name);
      p_.pack(static_cast<uint32_t>(f.kind));
      p_.pack(f.domain);
      p_.pack(f.param_count);
      p_.pack(f.result);
      u32s(p_, f.registers);
      u32s(p_, f.slice_entries);
      p_.pack_array(static_cast<uint32_t>(f.slice_names.size()));
      for (const auto& n : f.slice_names) str(p_, n);
      // Blocks: [cost, [[op, a, b, c, d], ...]]. A block's fuel cost is its length.
      p_.pack_array(static_cast<uint32_t>(f.blocks.size()));
      for (const auto& b : f.blocks) {
        p_.pack_array(2);
        p_.pack(static_cast<uint32_t>(b.code.size()));
        p_.pack_array(static_cast<uint32_t>(b.code.size()));
        for (const auto& i : b.code) {
          p_.pack_array(5);
          p_.pack(static_cast<uint32_t>(i.op));
          p_.pack(i.a);
          p_.pack(i.b);
          p_.pack(i.c);
          p_.pack(i.d);
        }
      }
      // Source positions: [file, line, column] per instruction, in block order. An
      // instruction without a span of its own takes the previous one's.
      uint32_t file = 0, line = 0, column = 0;
      size_t count = 0;
      for (const auto& b : f.blocks) count += b.code.size();
      p_.pack_array(static_cast<uint32_t>(count));
      for (const auto& b : f.blocks) {
        for (const auto& i : b.code) {
          if (i.span.end > 0 || i.span.begin > 0) {
            LineColumn lc = sources_.locate(i.span);
            file = i.span.file;
            line = lc.line;
            column = lc.column;
          }
          p_.pack_array(3);
          p_.pack(file);
          p_.pack(line);
          p_.pack(column);
        }
      }
    }
    return true;
  }

  void domains() {
    str(p_, "domains");
    p_.pack_array(static_cast<uint32_t>(m_.domains.size()));
    for (const auto& d : m_.domains) {
      p_.pack_array(11);
      str(p_, d.name);
      p_.pack(d.state_record);
      p_.pack(d.initializer);
      str(p_, d.scope);
      p_.pack(static_cast<uint32_t>(d.scope_depth));
      p_.pack(static_cast<uint32_t>(d.privilege));
      p_.pack(d.version);
      p_.pack(d.activated_by_default);
      p_.pack_array(static_cast<uint32_t>(d.goals.size()));
      for (const auto& g : d.goals) {
        p_.pack_array(8);
        str(p_, g.name);
        p_.pack(g.priority);
        p_.pack(g.predicate);
        u32s(p_, g.strategy);
        p_.pack(g.inferred_strategy);
        p_.pack(static_cast<uint32_t>(g.terminate_kind));
        p_.pack(g.terminate_count);
        p_.pack(g.backoff_exponential ? g.backoff_max : int64_t{0});
      }
      p_.pack_array(static_cast<uint32_t>(d.invariants.size()));
      for (const auto& inv : d.invariants) {
        p_.pack_array(2);
        str(p_, inv.name);
        p_.pack(inv.function);
      }
      p_.pack_array(static_cast<uint32_t>(d.transitions.size()));
      for (const auto& t : d.transitions) {
        p_.pack_array(9);
        str(p_, t.name);
        fields(p_, t.params);
        p_.pack(t.function);
        p_.pack(t.is_start);
        p_.pack(t.on_effect);
        p_.pack(t.on_ok);
        p_.pack(t.budget);
        str(p_, t.escalation);
        str(p_, t.scope);
      }
    }
  }

  // [file, line, column] of the start of `span`.
  void position(Span span) {
    LineColumn lc = sources_.locate(span);
    p_.pack_array(3);
    p_.pack(static_cast<uint32_t>(span.file));
    p_.pack(lc.line);
    p_.pack(lc.column);
  }

  void tests() {
    str(p_, "tests");
    p_.pack_array(static_cast<uint32_t>(m_.tests.size()));
    for (const auto& t : m_.tests) {
      p_.pack_array(6);
      str(p_, t.name);
      position(t.span);
      p_.pack_array(static_cast<uint32_t>(t.given.size()));
      for (const auto& g : t.given) {
        p_.pack_array(3);
        p_.pack(g.domain);
        p_.pack(g.id_function);
        p_.pack(g.fields_function);
      }
      p_.pack_array(static_cast<uint32_t>(t.stubs.size()));
      for (const auto& s : t.stubs) {
        p_.pack_array(3);
        p_.pack(s.effect);
        p_.pack(s.fails);
        p_.pack(s.value_function);
      }
      p_.pack(t.script);
      p_.pack_array(static_cast<uint32_t>(t.expectations.size()));
      for (const auto& e : t.expectations) {
        p_.pack_array(5);
        p_.pack(static_cast<uint32_t>(e.kind));
        p_.pack(e.function);
        u32s(p_, e.domains);
        str(p_, e.text);
        position(e.span);
      }
    }
  }

  void system() {
    str(p_, "system");
    p_.pack_array(2);
    p_.pack(m_.has_system);
    p_.pack_array(static_cast<uint32_t>(m_.system.size()));
    for (const auto& s : m_.system) {
      p_.pack_array(3);
      p_.pack(s.domain);
      p_.pack(s.id_constant);
      p_.pack_array(static_cast<uint32_t>(s.fields.size()));
      for (const auto& [field, constant] : s.fields) {
        p_.pack_array(2);
        p_.pack(field);
        p_.pack(constant);
      }
    }
  }

  const Module& m_;
  const SourceManager& sources_;
  msgpack::sbuffer buffer_;
  Packer p_;
};

}  // namespace

std::string write_bundle(const Module& module, const SourceManager& sources, const std::string& compiler_version,
                         std::string& error) {
  Writer w(module, sources);
  if (!w.body(error)) return {};
  const msgpack::sbuffer& body = w.bytes();
  // The envelope: magic, versions, and the XXH64 of the body, so that a flipped bit
  // anywhere in the body is caught before the body is parsed.
  msgpack::sbuffer out;
  Packer p(out);
  p.pack_map(5);
  p.pack(std::string("magic"));
  p.pack(std::string(bytecode::kMagic));
  p.pack(std::string("format"));
  p.pack(bytecode::kFormatVersion);
  p.pack(std::string("compiler"));
  p.pack(compiler_version);
  p.pack(std::string("hash"));
  p.pack(static_cast<uint64_t>(XXH64(body.data(), body.size(), 0)));
  p.pack(std::string("body"));
  p.pack_bin(static_cast<uint32_t>(body.size()));
  p.pack_bin_body(body.data(), static_cast<uint32_t>(body.size()));
  return std::string(out.data(), out.size());
}

}  // namespace ved::ir
