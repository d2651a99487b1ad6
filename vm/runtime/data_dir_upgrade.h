// Upgrading a data dir to a new build of its program (issue 13; docs/upgrades.md): the
// run it holds is loaded with the program that wrote it, taken over by the new one
// (run_upgrade.h: translated, migrated, or refused with every reason), and written back
// as one durable batch: the upgrade's tick, the whole run in the new program's terms,
// the new bundle and the program history. A refusal or a migration that faults writes
// nothing, so the old program still resumes the data dir; a crash leaves either the old
// run or the upgraded one.
#pragma once

#include <cstdint>
#include <string>

#include "vm/program.h"
#include "vm/runtime/run_upgrade.h"
#include "vm/runtime/store.h"
#include "vm/runtime/tick_record.h"

namespace ved::vm {

struct DataDirUpgrade {
  std::string old_name;
  uint64_t old_hash = 0;
  uint64_t new_hash = 0;
  int64_t tick = 0;             // the upgrade's own tick
  uint64_t instances = 0;       // carried over
  uint64_t migrated = 0;        // of them, migrated to a newer @version
  int64_t migration_fuel = 0;   // used by the migrations
};

// "from `app` (hash …) to hash … at tick 5: 1 instance, 1 migrated": what an upgrade did,
// as the tools say it.
std::string describe(const DataDirUpgrade& done);

// Whether the run in `store` was written by another build than `program`: true with
// `stored_hash` set; false when it is this program's (or the store holds no run).
bool holds_other_program(const Store& store, const Program& program, uint64_t& stored_hash, std::string& error);

// Takes the run in `store` over to `program` (whose bundle is `bundle`). False with
// `error` saying why it may not (nothing is written then).
bool upgrade_data_dir(Store& store, const Program& program, const std::string& bundle, DataDirUpgrade& done,
                      std::string& error);

// The same in two steps, for a run whose upgrade must be agreed on before it is written
// (a cluster's owner commits it to the journal in between, docs/cluster.md "Upgrades"):
// the upgrade computed from the run in `store` (which it leaves as it was), then written.
struct PreparedUpgrade {
  UpgradeResult result;
  TickRecord record;     // the upgrade tick's
  DataDirUpgrade done;   // what to say of it
};
bool prepare_data_dir_upgrade(Store& store, const Program& program, PreparedUpgrade& out, std::string& error);
bool write_data_dir_upgrade(Store& store, const Program& program, const std::string& bundle,
                            const PreparedUpgrade& prepared, std::string& error);

}  // namespace ved::vm
