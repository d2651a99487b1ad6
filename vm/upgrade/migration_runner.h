// Running a domain's migration chain on one stored instance (language.md §10,
// docs/upgrades.md). Pure: the runner reads the old program's state value and the new
// program's migrations and returns the new state, touching nothing else; the caller
// (the upgrade, once it is wired into the data dir) commits every result or none.
//
// Each step calls one compiled migration (FunctionKind::Migration). Its parameter is a
// record of the fields the body reads; the runner fills it by name from the state the
// previous step produced (the stored state, for the first), checking that each field is
// there with the type the migration reads. Fuel bounds the whole chain; a fault stops
// it and is reported with the migration's name and source position.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vm/interpreter.h"
#include "vm/program.h"
#include "vm/value.h"

namespace ved::vm::upgrade {

// The migrations (indices into program.migrations) that bring `domain` from
// `from_version` to its version, in order: from each version, the migration that goes
// furthest (the first in the bundle among equals). Returns false and sets `error` when
// no chain leads there.
bool migration_chain(const Program& program, uint32_t domain, int64_t from_version, std::vector<uint32_t>& chain,
                     std::string& error);

struct MigrationResult {
  bool ok = false;
  Value state;                       // ok: the instance's state as a value of the new program
  std::vector<std::string> applied;  // the migrations run, in order
  int64_t fuel_used = 0;
  // !ok: what went wrong, a sentence naming the domain and the migration, e.g.
  // "migration `add_email` of `Profile` faulted at app.ved:14:5: division by zero".
  std::string error;
  std::string migration;  // the one that failed ("" when no migration ran)
  Fault fault;            // kind None when no code faulted (a missing field, no chain)
  std::string location;   // "file:line:col" of the fault, when one has a position
};

class MigrationRunner {
 public:
  // `old_program` wrote the stored states; `new_program` has the migrations. Both must
  // outlive the runner.
  MigrationRunner(const Program& old_program, const Program& new_program);
  ~MigrationRunner();
  MigrationRunner(const MigrationRunner&) = delete;
  MigrationRunner& operator=(const MigrationRunner&) = delete;

  // Migrates `stored`, the state of an instance of `new_domain` (a record of the old
  // program, as the data dir holds it) stored at `stored_version`, to the new program's
  // version of the domain. At most `fuel` instructions' worth of blocks run in all;
  // `tick` is what `tick()` would read (migrations are pure and cannot, today).
  MigrationResult run(uint32_t new_domain, int64_t stored_version, const Value& stored, int64_t fuel,
                      int64_t tick = 0);

 private:
  const Program& old_;
  const Program& new_;
  std::unique_ptr<Interpreter> interpreter_;
};

}  // namespace ved::vm::upgrade
