// Where a run lives between ticks: the program, its instances with their mailboxes, the
// messages to deliver next tick, and the journal, in a Store (runtime.md §5). The tick
// loop (runtime.cpp) decides what a tick does; this decides how it is written and read.
#pragma once

#include <string>
#include <vector>

#include "vm/runtime/instance.h"
#include "vm/runtime/store.h"

namespace ved::vm {

// A message on its way: delivered at the start of the next tick.
struct Delivery {
  InstanceKey target;
  Message message;
};

struct LoadedRun {
  int64_t tick = 0;  // the last committed tick
  uint64_t seed = 0;
  uint64_t timer_sequence = 0;
  std::vector<Instance> instances;  // in instance order
  std::vector<Delivery> pending;
};

class RunStore {
 public:
  RunStore(const Program& program, Store& store, bool sync) : p_(program), store_(store), sync_(sync) {}

  // Whether the data dir holds a run (of any program).
  bool holds_run(bool& holds, std::string& error) const;
  // Loads the run the data dir holds, checking everything it reads; refuses a run of
  // another program (naming it) and damaged records (naming them).
  bool load(LoadedRun& out, std::string& error) const;
  // Writes a new run: the program, the seed, the instances activated before tick 1.
  bool begin(const std::string& bundle, uint64_t seed, std::vector<Instance*> instances, std::string& error);
  // Writes one tick atomically: the changed instances and their mailbox changes, the
  // messages to deliver next, the journal records and a state hash of each changed
  // instance. `append`: the tick was committed already (a `resume` between runs), its
  // new records go after the ones it has.
  bool commit(int64_t tick, uint64_t timer_sequence, const std::vector<Instance*>& changed,
              const std::vector<Delivery>& pending, std::vector<std::string> journal, bool append, std::string& error);

 private:
  void write_instance(Instance& in, Store::Batch& batch) const;

  const Program& p_;
  Store& store_;
  bool sync_;
};

}  // namespace ved::vm
