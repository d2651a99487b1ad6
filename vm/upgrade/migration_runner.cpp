#include "vm/upgrade/migration_runner.h"

#include "vm/upgrade/schema.h"

namespace ved::vm::upgrade {

namespace {

std::string fault_kind_text(FaultKind k) { return std::string(bytecode::fault_kind_name(k)); }

}  // namespace

bool migration_chain(const Program& program, uint32_t domain, int64_t from_version, std::vector<uint32_t>& chain,
                     std::string& error) {
  chain.clear();
  const DomainInfo& d = program.domains[domain];
  if (from_version > d.version) {
    error = "stored instances of `" + d.name + "` are at version " + std::to_string(from_version) +
            ", newer than this program's version " + std::to_string(d.version);
    return false;
  }
  int64_t at = from_version;
  while (at < d.version) {
    int64_t best = -1;
    for (uint32_t i = 0; i < program.migrations.size(); ++i) {
      const MigrationInfo& m = program.migrations[i];
      if (m.domain != domain || m.from_version != at || m.to_version > d.version) continue;
      if (best == -1 || m.to_version > program.migrations[static_cast<size_t>(best)].to_version) best = i;
    }
    if (best == -1) {
      error = "no migration of `" + d.name + "` starts at version " + std::to_string(at) + " (the chain from " +
              std::to_string(from_version) + " to " + std::to_string(d.version) + " is incomplete)";
      return false;
    }
    chain.push_back(static_cast<uint32_t>(best));
    at = program.migrations[static_cast<size_t>(best)].to_version;
  }
  return true;
}

MigrationRunner::MigrationRunner(const Program& old_program, const Program& new_program)
    : old_(old_program), new_(new_program), interpreter_(std::make_unique<Interpreter>(new_program)) {}

MigrationRunner::~MigrationRunner() = default;

MigrationResult MigrationRunner::run(uint32_t new_domain, int64_t stored_version, const Value& stored, int64_t fuel,
                                     int64_t tick) {
  MigrationResult out;
  const DomainInfo& d = new_.domains[new_domain];
  std::vector<uint32_t> chain;
  if (!migration_chain(new_, new_domain, stored_version, chain, out.error)) return out;
  if (stored.tag() != Tag::Record || stored.as_record().type >= old_.records.size()) {
    out.error = "the stored state of `" + d.name + "` is not a record of the program that wrote it";
    return out;
  }

  // The state between steps: a value of `program`'s record `record`.
  const Program* program = &old_;
  uint32_t record = stored.as_record().type;
  Value state = stored;
  int64_t version = stored_version;
  for (uint32_t mi : chain) {
    const MigrationInfo& m = new_.migrations[mi];
    const FunctionInfo& f = new_.functions[m.function];
    const std::string which = "migration `" + m.name + "` of `" + d.name + "` (version " +
                              std::to_string(m.from_version) + " -> " + std::to_string(m.to_version) + ")";
    out.migration = m.name;
    // Its input: the fields it reads, by name, from the state so far.
    const uint32_t in_record = new_.types[f.registers[0]].x;
    const RecordLayout& want = new_.records[in_record];
    const auto& want_types = new_.record_field_types[in_record];
    const RecordLayout& have = program->records[record];
    const auto& have_types = program->record_field_types[record];
    std::vector<Value> fields;
    for (size_t i = 0; i < want.fields.size(); ++i) {
      size_t j = 0;
      while (j < have.fields.size() && have.fields[j] != want.fields[i]) ++j;
      if (j == have.fields.size()) {
        out.error = which + " reads `from." + want.fields[i] + "`, and the state at version " +
                    std::to_string(version) + " has no such field";
        return out;
      }
      std::string why;
      if (!same_shape(*program, have_types[j], new_, want_types[i], &why)) {
        out.error = which + " reads `from." + want.fields[i] + "` as " + type_text(new_, want_types[i]) +
                    ", and the state at version " + std::to_string(version) + " holds " +
                    type_text(*program, have_types[j]) + " (" + why + ")";
        return out;
      }
      fields.push_back(translate(*program, have_types[j], new_, want_types[i], state.as_record().fields[j]));
    }
    std::vector<Value> args;
    args.push_back(Value::record(in_record, std::move(fields)));

    InstanceEnv env;
    env.tick = tick;
    CallResult r = interpreter_->call(m.function, args, fuel, env);
    out.fuel_used += r.fuel_used;
    fuel -= r.fuel_used;
    if (!r.ok) {
      out.fault = r.fault;
      out.location = describe_fault_location(new_, r.fault);
      const std::string kind = fault_kind_text(r.fault.kind);
      out.error = which + " faulted at " + out.location + ": " +
                  (r.fault.message.empty() || r.fault.message == kind ? kind : kind + ": " + r.fault.message);
      return out;
    }
    program = &new_;
    record = new_.types[f.result].x;
    state = std::move(r.value);
    version = m.to_version;
    out.applied.push_back(m.name);
  }
  if (chain.empty()) {
    // Already at the program's version: the state is taken as is, if its schema is the
    // program's (the compatibility check refuses a data dir where it is not).
    std::string why;
    const uint32_t have = record_type(old_, record);
    if (have == UINT32_MAX || !same_shape(old_, have, new_, d.state_type, &why)) {
      out.error = "the stored state of `" + d.name + "` at version " + std::to_string(version) +
                  " has another schema than this program's (" + why + ") and no migration applies";
      out.migration.clear();
      return out;
    }
    state = translate(old_, have, new_, d.state_type, state);
  }
  out.ok = true;
  out.state = std::move(state);
  out.migration.clear();
  return out;
}

}  // namespace ved::vm::upgrade
