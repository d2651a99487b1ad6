// A run taken over by a new version of its program (issue 13; docs/upgrades.md): the
// state a run holds between ticks — as a data dir loads it, or as a replayed run in
// memory leaves it — rewritten in the new program's terms, with every stored instance of
// an older `@version` migrated.
//
// A pure function of (old program, new program, run): the live upgrade of a data dir and
// replay across an upgrade both call it, so a replay recomputes exactly what the upgrade
// wrote. Everything in a run names things by the index its program gives them (domains,
// transitions, records, effects, observations); indices differ between two builds even
// when nothing changed, so everything is translated by name, never copied as is.
//
// An upgrade is a tick of its own (`upgrade_tick_record`): it runs no slices, and its
// record holds the migrated instances and an `upgrade` journal line naming both programs.
#pragma once

#include <string>
#include <vector>

#include "vm/program.h"
#include "vm/runtime/run_store.h"
#include "vm/runtime/tick_record.h"

namespace ved::vm {

struct MigratedInstance {
  InstanceKey key;  // in the new program
  int64_t from_version = 0;
  int64_t to_version = 0;
  std::vector<std::string> migrations;  // run in this order
};

struct UpgradeResult {
  LoadedRun run;  // the new program's; its tick is the upgrade's own
  std::vector<MigratedInstance> migrated;  // in instance order
  // Why the new program may not take the run over, one "what; what to do" line each, in
  // the order of the run's contents (empty when it may).
  std::vector<std::string> refusals;
  int64_t migration_fuel = 0;  // used by every migration run
};

// Takes `run`, a run of `old_program` after its last tick, over to `new_program`. False
// when it may not: `out.refusals` says why (every reason, not only the first), or `error`
// when a migration faulted (naming the domain, the migration and the source position);
// nothing of `run` is then worth keeping. Migrations get `migration_fuel` each.
bool upgrade_run(const Program& old_program, const Program& new_program, LoadedRun run, int64_t migration_fuel,
                 UpgradeResult& out, std::string& error);

// The upgrade tick's record: the migrated instances' new records (each with its state
// line after its `migrate` line), and the lines `upgrade TAB <name> TAB from <old hash>
// to <new hash>` and `migrate TAB <instance> TAB <Domain>.State@1 -> @2 by <migrations>`.
TickRecord upgrade_tick_record(const Program& old_program, const Program& new_program, const UpgradeResult& result);

}  // namespace ved::vm
