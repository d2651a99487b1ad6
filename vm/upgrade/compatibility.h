// May a new program take over a data dir written by an old one? (issue 13, item 1;
// docs/upgrades.md.) A pure decision: the two bundles plus a summary of what the data
// dir holds in, out nothing but a verdict, so it is unit-tested case by case, shared by
// `vedc --against` (which assumes every old domain and message is in use) and, once it
// is wired in, the VM's attach.
//
// Compatibility is by schema, not by program hash: every domain with stored instances
// keeps its state schema, or the new program's migration chain leads from the stored
// `@version` to the new one (and reads only fields the stored state has, with their
// types); every message type still in a stored mailbox keeps its signature.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vm/program.h"

namespace ved::vm::upgrade {

// What a data dir holds, per domain and per message type, as its caller counts it.
struct StoredDomain {
  std::string name;
  uint64_t instances = 0;
  int64_t version = 1;  // the @version its stored instances carry
};
struct StoredMessage {
  std::string domain;      // the receiving domain
  std::string message;     // the transition it invokes
  uint64_t entries = 0;    // mailbox entries (and scheduled messages) that carry it
};
struct DataDirContents {
  std::vector<StoredDomain> domains;
  std::vector<StoredMessage> messages;
};

enum class Verdict {
  Compatible,       // resume as is: every stored schema and message is unchanged
  MigrationsNeeded, // resume after running `migrations` on the stored instances
  Refused,          // not without a change to the program, or --fresh
};

// One domain whose stored instances a chain of migrations brings up to date.
struct PlannedMigration {
  std::string domain;
  uint32_t new_domain = 0;      // index in the new program
  int64_t from_version = 0;
  int64_t to_version = 0;
  std::vector<uint32_t> chain;  // indices into the new program's migrations, in order
  uint64_t instances = 0;
};

// Why a data dir is refused: one per domain or message, in a stable order.
struct Refusal {
  enum class Kind {
    ProgramRenamed,       // the new program has another name
    DomainRemoved,        // a domain with stored instances is gone
    SchemaChanged,        // the state changed and the @version did not
    NoMigrationChain,     // the @version changed and no chain leads from the stored one
    VersionDowngraded,    // the stored version is newer than the program's
    MigrationInputMismatch,  // a migration reads a field the stored state lacks or types differently
    MessageRemoved,       // a message in a stored mailbox has no transition now
    MessageChanged,       // ... or one with other parameters
  };
  Kind kind;
  std::string subject;  // the domain, or `Domain.Message`
  std::string message;  // a sentence naming the subject and what changed
  std::string hint;     // what to do: the migration to write, or --fresh
};

struct CompatibilityReport {
  Verdict verdict = Verdict::Compatible;
  std::vector<PlannedMigration> migrations;
  std::vector<Refusal> refusals;
  // Every refusal as "message; hint" lines, for a user (empty when not refused).
  std::string describe() const;
};

CompatibilityReport check_compatibility(const Program& old_program, const Program& new_program,
                                        const DataDirContents& stored);

// The contents `vedc --against` assumes: one instance of every old domain, at the old
// version, and every message type of the old program in some mailbox.
DataDirContents assume_everything_in_use(const Program& old_program);

}  // namespace ved::vm::upgrade
