#include "vm/upgrade/compatibility.h"

#include "vm/upgrade/migration_runner.h"
#include "vm/upgrade/schema.h"

namespace ved::vm::upgrade {

namespace {

std::string plural(uint64_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

int32_t find_domain(const Program& p, const std::string& name) {
  for (size_t i = 0; i < p.domains.size(); ++i)
    if (p.domains[i].name == name) return static_cast<int32_t>(i);
  return -1;
}

std::string state_name(const std::string& domain, int64_t version) {
  return domain + ".State@" + std::to_string(version);
}

// A `migration` skeleton a user can start from.
std::string migration_hint(const Program& old_p, uint32_t old_domain, const Program& new_p, uint32_t new_domain,
                           int64_t from, int64_t to) {
  const std::string& name = new_p.domains[new_domain].name;
  const RecordLayout& old_rec = old_p.records[old_p.domains[old_domain].state_record];
  const RecordLayout& new_rec = new_p.records[new_p.domains[new_domain].state_record];
  const uint32_t old_r = old_p.domains[old_domain].state_record;
  const uint32_t new_r = new_p.domains[new_domain].state_record;
  std::string args;
  for (size_t j = 0; j < new_rec.fields.size(); ++j) {
    const std::string& f = new_rec.fields[j];
    // Carried over as is only when the stored field has the new field's type.
    bool kept = false;
    for (size_t i = 0; i < old_rec.fields.size(); ++i)
      kept = kept || (old_rec.fields[i] == f && same_shape(old_p, old_p.record_field_types[old_r][i], new_p,
                                                           new_p.record_field_types[new_r][j]));
    args += (args.empty() ? "" : ", ") + f + " = " + (kept ? "from." + f : std::string("..."));
  }
  std::string lower;
  for (char c : name) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return "migration " + lower + "_v" + std::to_string(to) + " { from: " + state_name(name, from) +
         "  to: " + state_name(name, to) + "  return " + state_name(name, to) + "(" + args + ") }";
}

class Checker {
 public:
  Checker(const Program& o, const Program& n, const DataDirContents& s) : old_(o), new_(n), stored_(s) {}

  CompatibilityReport run() {
    if (old_.name != new_.name) {
      refuse(Refusal::Kind::ProgramRenamed, new_.name,
             "the data dir holds the state of program `" + old_.name + "`, and this program is `" + new_.name + "`",
             "run `" + new_.name + "` on a data dir of its own (--data-dir), or start over with --fresh");
    }
    for (const auto& d : stored_.domains)
      if (d.instances > 0) domain(d);
    for (const auto& m : stored_.messages)
      if (m.entries > 0) message(m);
    if (!report_.refusals.empty()) report_.verdict = Verdict::Refused;
    else if (!report_.migrations.empty()) report_.verdict = Verdict::MigrationsNeeded;
    return std::move(report_);
  }

 private:
  void domain(const StoredDomain& s) {
    const int32_t od = find_domain(old_, s.name);
    const int32_t nd = find_domain(new_, s.name);
    const std::string held = plural(s.instances, "stored instance", "stored instances");
    if (nd < 0) {
      refuse(Refusal::Kind::DomainRemoved, s.name,
             "domain `" + s.name + "` is not in the new program, and the data dir holds " + held + " of it",
             "keep `domain " + s.name + "` in the program (its state schema unchanged), or start over with --fresh");
      return;
    }
    const DomainInfo& n = new_.domains[static_cast<size_t>(nd)];
    if (s.version > n.version) {
      refuse(Refusal::Kind::VersionDowngraded, s.name,
             "domain `" + s.name + "` is at `@version " + std::to_string(n.version) + "`, and the data dir holds " + held +
                 " at version " + std::to_string(s.version) + ", written by a newer program",
             "run the newer program, or start over with --fresh");
      return;
    }
    // The stored schema is the old program's (its instances were brought to its
    // version when it took over); without the domain there, nothing is known of it.
    if (od < 0) {
      refuse(Refusal::Kind::SchemaChanged, s.name,
             "the data dir holds " + held + " of domain `" + s.name + "`, which the program that wrote it does not declare",
             "start over with --fresh");
      return;
    }
    const DomainInfo& o = old_.domains[static_cast<size_t>(od)];
    std::string why;
    const bool same = same_shape(old_, o.state_type, new_, n.state_type, &why);
    if (s.version == n.version) {
      if (same) return;
      const std::string diff = record_difference(old_, o.state_record, new_, n.state_record);
      refuse(Refusal::Kind::SchemaChanged, s.name,
             "the state of domain `" + s.name + "` changed (" + (diff.empty() ? why : diff) + ") and its `@version` is still " +
                 std::to_string(n.version) + ", with " + held + " of the old schema",
             "add `@version " + std::to_string(n.version + 1) + "` to `domain " + s.name + "` and a migration, e.g. `" +
                 migration_hint(old_, static_cast<uint32_t>(od), new_, static_cast<uint32_t>(nd), n.version,
                                n.version + 1) +
                 "`; or start over with --fresh");
      return;
    }
    PlannedMigration plan;
    plan.domain = s.name;
    plan.new_domain = static_cast<uint32_t>(nd);
    plan.from_version = s.version;
    plan.to_version = n.version;
    plan.instances = s.instances;
    std::string error;
    if (!migration_chain(new_, plan.new_domain, s.version, plan.chain, error)) {
      refuse(Refusal::Kind::NoMigrationChain, s.name,
             "domain `" + s.name + "` is at `@version " + std::to_string(n.version) + "`, and the data dir holds " + held +
                 " at version " + std::to_string(s.version) + ": " + error,
             "add a migration from " + state_name(s.name, s.version) + ", e.g. `" +
                 migration_hint(old_, static_cast<uint32_t>(od), new_, plan.new_domain, s.version, s.version + 1) +
                 "`; or start over with --fresh");
      return;
    }
    if (!chain_reads_what_exists(plan, o)) return;
    report_.migrations.push_back(std::move(plan));
  }

  // Each step reads fields the state before it has, with the types it reads them as:
  // checked here, before anything runs, so a mismatch is a refusal and not a fault on
  // the first instance.
  bool chain_reads_what_exists(const PlannedMigration& plan, const DomainInfo& old_domain) {
    const Program* program = &old_;
    uint32_t record = old_domain.state_record;
    for (uint32_t mi : plan.chain) {
      const MigrationInfo& m = new_.migrations[mi];
      const FunctionInfo& f = new_.functions[m.function];
      const uint32_t in = new_.types[f.registers[0]].x;
      const RecordLayout& have = program->records[record];
      for (size_t i = 0; i < new_.records[in].fields.size(); ++i) {
        const std::string& field = new_.records[in].fields[i];
        size_t j = 0;
        while (j < have.fields.size() && have.fields[j] != field) ++j;
        std::string problem;
        if (j == have.fields.size()) {
          problem = "there is no such field";
        } else {
          std::string why;
          if (!same_shape(*program, program->record_field_types[record][j], new_,
                          new_.record_field_types[in][i], &why))
            problem = "it is stored as " + type_text(*program, program->record_field_types[record][j]) +
                      " and read as " + type_text(new_, new_.record_field_types[in][i]);
        }
        if (problem.empty()) continue;
        refuse(Refusal::Kind::MigrationInputMismatch, plan.domain,
               "migration `" + m.name + "` of domain `" + plan.domain + "` reads `from." + field + "` of " +
                   state_name(plan.domain, m.from_version) + ", and " + problem,
               "read only the fields " + state_name(plan.domain, m.from_version) + " has, with their types; or start over with --fresh");
        return false;
      }
      program = &new_;
      record = new_.types[f.result].x;
    }
    return true;
  }

  void message(const StoredMessage& s) {
    const std::string subject = s.domain + "." + s.message;
    const std::string held = plural(s.entries, "stored mailbox entry", "stored mailbox entries");
    const int32_t od = find_domain(old_, s.domain);
    const int32_t nd = find_domain(new_, s.domain);
    const TransitionInfo* o = od < 0 ? nullptr : transition(old_, static_cast<uint32_t>(od), s.message);
    const TransitionInfo* n = nd < 0 ? nullptr : transition(new_, static_cast<uint32_t>(nd), s.message);
    const std::string drain = "let the old program deliver them first (run it until its mailboxes are empty), "
                              "keep the old transition beside a new one, or start over with --fresh";
    if (!n) {
      refuse(Refusal::Kind::MessageRemoved, subject,
             "message `" + subject + "` is in " + held + ", and the new program has no transition `" + s.message +
                 "` in `" + s.domain + "`" + (nd < 0 ? " (no domain `" + s.domain + "`)" : ""),
             drain);
      return;
    }
    if (!o) return;  // nothing known of what the entries carry: the domain check decides
    std::string change;
    if (o->params.size() != n->params.size()) {
      change = "it took " + params_text(old_, *o) + " and takes " + params_text(new_, *n);
    } else {
      for (size_t i = 0; i < o->params.size() && change.empty(); ++i) {
        std::string why;
        if (o->params[i].name != n->params[i].name) change = "parameter `" + o->params[i].name + "` is now `" + n->params[i].name + "`";
        else if (!same_shape(old_, o->params[i].type, new_, n->params[i].type, &why))
          change = "parameter `" + o->params[i].name + "` " + why;
      }
    }
    if (change.empty()) return;
    refuse(Refusal::Kind::MessageChanged, subject,
           "message `" + subject + "` changed (" + change + ") and is in " + held + " written with the old signature",
           drain);
  }

  static const TransitionInfo* transition(const Program& p, uint32_t domain, const std::string& name) {
    for (const auto& t : p.domains[domain].transitions)
      if (t.name == name) return &t;
    return nullptr;
  }

  static std::string params_text(const Program& p, const TransitionInfo& t) {
    std::string out = "(";
    for (size_t i = 0; i < t.params.size(); ++i)
      out += (i ? ", " : "") + t.params[i].name + ": " + type_text(p, t.params[i].type);
    return out + ")";
  }

  void refuse(Refusal::Kind kind, std::string subject, std::string message, std::string hint) {
    report_.refusals.push_back(Refusal{kind, std::move(subject), std::move(message), std::move(hint)});
  }

  const Program& old_;
  const Program& new_;
  const DataDirContents& stored_;
  CompatibilityReport report_;
};

}  // namespace

std::string CompatibilityReport::describe() const {
  std::string out;
  for (const auto& r : refusals) out += r.message + "; " + r.hint + "\n";
  return out;
}

CompatibilityReport check_compatibility(const Program& old_program, const Program& new_program,
                                        const DataDirContents& stored) {
  return Checker(old_program, new_program, stored).run();
}

DataDirContents assume_everything_in_use(const Program& old_program) {
  DataDirContents c;
  for (const auto& d : old_program.domains) {
    c.domains.push_back(StoredDomain{d.name, 1, d.version});
    // Start and outcome handlers are run by the VM, never sent: no mailbox holds them.
    for (const auto& t : d.transitions)
      if (!t.is_start && t.on_effect < 0) c.messages.push_back(StoredMessage{d.name, t.name, 1});
  }
  return c;
}

}  // namespace ved::vm::upgrade
