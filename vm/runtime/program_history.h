// Which program ran which ticks of a data dir (issue 13; docs/upgrades.md): a run is
// begun by one program and may be upgraded to others, each upgrade a tick of its own.
// The data dir keeps every bundle it has run (`prog/<hash>`) and the history
// (`meta/programs`: one `<first tick> <hash>` line per program, in order), so that the
// journal is rendered, and replay re-executes each tick, with the program in force then.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vm/program.h"
#include "vm/runtime/store.h"

namespace ved::vm {

struct ProgramEpoch {
  int64_t first_tick = 0;  // 0 for the program that began the run; else its upgrade tick
  uint64_t hash = 0;
};

std::string encode_program_history(const std::vector<ProgramEpoch>& epochs);
// False when the text is not a history: first ticks start at 0 and grow strictly.
bool decode_program_history(std::string_view text, std::vector<ProgramEpoch>& epochs);
// `prog/<hash in 16 hex digits>`.
std::string program_storage_key(uint64_t hash);

// A data dir's programs, loaded (and verified) when first asked for.
class ProgramHistory {
 public:
  // Reads `meta/programs`; `current`, when given, is the run's current program already
  // loaded by the caller (it is not loaded a second time). False with `error` naming what
  // is missing or damaged.
  bool open(const Store& store, const Program* current, std::string& error);
  const std::vector<ProgramEpoch>& epochs() const { return epochs_; }
  // The epoch in force at `tick`: the last one whose first tick is at or before it.
  size_t epoch_at(int64_t tick) const;
  // Whether `tick` is an upgrade (the first tick of a program other than the first).
  bool is_upgrade(int64_t tick) const;
  // The program of epoch `k`, or null with `error` when its bundle is missing or damaged.
  const Program* program(size_t k, std::string& error);
  // Its bundle's bytes (read again from the store).
  bool bundle(size_t k, std::string& bytes, std::string& error) const;

 private:
  const Store* store_ = nullptr;
  const Program* current_ = nullptr;
  std::vector<ProgramEpoch> epochs_;
  std::map<uint64_t, std::unique_ptr<Program>> loaded_;  // by hash
};

}  // namespace ved::vm
