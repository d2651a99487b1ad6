// Where a run lives between ticks: the program, its instances with their mailboxes, the
// messages to deliver next tick, and the journal, in a Store (runtime.md §5). The tick
// loop (runtime.cpp) decides what a tick does; this decides how it is written and read.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vm/runtime/clock.h"
#include "vm/runtime/instance.h"
#include "vm/runtime/intent.h"
#include "vm/runtime/data_dir_marker.h"
#include "vm/runtime/group_writer.h"
#include "vm/runtime/run_head.h"
#include "vm/runtime/store.h"
#include "vm/runtime/tick_record.h"
#include "vm/runtime/write_group.h"

namespace ved::vm {

// A message on its way: delivered at the start of the next tick.
struct Delivery {
  InstanceKey target;
  Message message;
};

// How long slices took, per domain, as counts in power-of-two buckets of microseconds
// (bucket k: under 2^k µs). For `vedvm stats`; never an input of the run.
struct SliceTimes {
  static constexpr size_t kBuckets = 32;
  using Buckets = std::array<uint64_t, kBuckets>;
  std::map<std::string, Buckets> per_domain;
  static void add(Buckets& buckets, int64_t micros) {
    size_t k = 0;
    while (k + 1 < kBuckets && (int64_t{1} << k) <= micros) ++k;
    ++buckets[k];
  }
};

struct LoadedRun {
  int64_t tick = 0;  // the last committed tick
  uint64_t seed = 0;
  int64_t slice_budget = 0;  // 0: not recorded (the run's own option applies)
  uint64_t timer_sequence = 0;
  int64_t last_foreground_tick = -1;  // the background rule's memory (runtime.md §1 step 2)
  std::string effect_bindings;     // `meta/effects`: the simulated adapters it was started with
  std::deque<Instance> instances;  // in instance order
  std::vector<Delivery> pending;
  std::vector<Intent> open_intents;  // without a journaled outcome (maybe arrived), in emission order
  std::map<uint32_t, uint64_t> effect_counts;  // intents emitted so far, per effect
  // The last journaled value of each observation, by observation and arguments (the key
  // is encode_observation with a unit value).
  std::map<std::string, Value> observed;
};

// The messages to deliver next tick as `meta/pending` holds them: each delivery as a
// 16-hex-digit length and its encoding.
std::string encode_pending(const std::vector<Delivery>& pending);

// The live records' digest (`meta/digest`, and VED-DATA-DIR's): the sum, modulo 2^64,
// of one hash per live record — an instance record with its bytes, a mailbox entry and
// an open-intent marker by key (they are written once), an observation record and the
// effect counts with their bytes. Every commit updates it by what it adds and removes,
// and loading recomputes it from what it reads: a record lost or rolled back by damage
// the database itself cannot see (a MANIFEST cut at a record boundary drops a whole
// flush) makes the two differ. The meta/ records written by every commit (tick, pending,
// timer sequence, the digest itself) are left out: they are in the same batch as the
// digest, so none of them can be older than it.
uint64_t record_digest(std::string_view key, std::string_view value);

// The journal: the tick records, one a committed tick: tick 0's and an upgrade's in the
// database (`tick/<tick>`, written with the state they begin), every other in the
// tick-record log. A record's lines never hold a line break (runtime.cpp escapes them).
// Calls `visit(tick, line)` for every line of the ticks in [from, to], in order, until it
// returns false.
bool scan_journal(const Store& store, int64_t from, int64_t to,
                  const std::function<bool(int64_t, std::string_view)>& visit, std::string& error);
// The same, rendered with `program`, the run's own (a caller that has loaded it already).
bool scan_journal(const Program& program, const Store& store, int64_t from, int64_t to,
                  const std::function<bool(int64_t, std::string_view)>& visit, std::string& error);
// The last tick the data dir committed: its checkpoint's (meta/head), or a later one the
// tick-record log holds (a run still going, or one that stopped without a checkpoint).
bool last_committed_tick(const Store& store, int64_t& tick, std::string& error);
// Calls `visit(record)` for every tick record of the ticks in [from, to], in order (the
// parts of a tick that a `resume` added joined to it), until it returns false; a record
// that does not decode, a tick missing in between and a journal that stops short of the
// stored state are damage, named in `error`.
bool scan_tick_records(const Store& store, int64_t from, int64_t to,
                       const std::function<bool(const TickRecord&)>& visit, std::string& error);

class RunStore {
 public:
  RunStore(const Program& program, Store& store, bool sync, Clock& clock = Clock::system())
      : p_(program), store_(store), sync_(sync), clock_(clock) {}
  ~RunStore();  // waits for a group being written (VED-DATA-DIR then still says less)

  // Whether the data dir holds a run (of any program).
  bool holds_run(bool& holds, std::string& error) const;
  // Loads the run the data dir holds, checking everything it reads; refuses a run of
  // another program (naming it) and damaged records (naming them).
  bool load(LoadedRun& out, std::string& error);
  // Writes a new run: the program, the seed and slice budget (which decide what it does),
  // and `initial`, the record of tick 0: the instances activated before tick 1.
  bool begin(const std::string& bundle, uint64_t seed, int64_t slice_budget, const std::string& effect_bindings,
             TickRecord initial, std::string& error);
  // Writes `run`, a run of this store's program that an upgrade took over from the one
  // that wrote the store (data_dir_upgrade.h), in place of everything live the store
  // holds, with `record` (the upgrade's tick) and `bundle` added to the program history:
  // one durable batch, then VED-DATA-DIR.
  bool take_over(const LoadedRun& run, const TickRecord& record, const std::string& bundle, std::string& error);
  // Applies one tick's record (tick_record.h), the one way a tick reaches the store: its
  // writes (instance records, mailbox entries enqueued and dequeued, the messages to
  // deliver next, intents emitted or completed, observations) and the record itself,
  // which is the tick's journal. Ticks are applied once, in order: a record at or before
  // the last applied tick is refused with nothing written. With `append` (a `resume`
  // between runs) the record adds to the last tick's instead: its writes are applied and
  // it is a frame of its own with that tick, which readers join to the tick's earlier
  // parts (scan_tick_records).
  // Ticks are written in groups: a group's records are appended to the tick-record log in
  // one write (fsynced under --sync=tick) when it holds `max_group_ticks` ticks, or
  // kGroupBytes, or has waited `max_group_age`; before anything of its ticks is released
  // (mark_dispatched); and at the end of a run (sync_committed). Their writes to the live
  // state gather in memory (WriteGroup) and reach the database as a checkpoint, after the
  // log holding them is durable: every kCheckpointLogBytes of log or kCheckpointStateBytes of
  // state, before an
  // intent is released, and at the end of a run. A crash loses at most the group being
  // gathered, which nothing outside has seen: its ticks are recomputed on restart,
  // identically; recovery applies the log's frames after the last checkpoint.
  bool apply(TickRecord record, bool append, std::string& error);
  // Writes the current group (fsynced under --sync=tick), and a checkpoint if one is due;
  // nothing to do if it is empty.
  bool flush(std::string& error);
  // Writes the current group and a checkpoint, fsynced whatever --sync says, and says so
  // in VED-DATA-DIR (the end of a run; a no-op when everything committed is durable and
  // checkpointed already).
  bool sync_committed(std::string& error);
  // Records that `intents` were handed to adapters (their dispatch counts), with every
  // tick committed so far, durably: an intent is released only after the tick that
  // emitted it is on disk (runtime.md §7), even under --sync=none.
  bool mark_dispatched(const std::vector<const Intent*>& intents, std::string& error);
  // At most this many ticks a group (1: every tick written as it commits, as with a
  // trace, whose printed lines must never run ahead of the data dir).
  void set_max_group_ticks(size_t ticks) { max_group_ticks_ = ticks == 0 ? 1 : ticks; }
  // The longest the first tick of a group waits before the group is written (`--group-ms`).
  void set_max_group_age(std::chrono::milliseconds age) { max_group_age_ = age; }
  static constexpr size_t kGroupTicks = 4096;
  static constexpr size_t kGroupBytes = size_t{8} << 20;
  // A checkpoint is due once this much log was written since the last one (recovery
  // reads at most about this much), or this much state was gathered (the memory it
  // holds: 100,000 new instances gathered whole cost a quarter more per idle instance).
  static constexpr size_t kCheckpointLogBytes = size_t{32} << 20;
  static constexpr size_t kCheckpointStateBytes = size_t{4} << 20;
  // Both, made small by tests that recover across many checkpoints.
  void set_checkpoint_bytes(size_t bytes) { checkpoint_log_bytes_ = checkpoint_state_bytes_ = bytes; }
  // A cluster owner's run: every group is committed through `replicator` before it is
  // written here (tick_replicator.h). Null: a run of this machine alone.
  void set_replicator(TickReplicator* replicator) { replicator_ = replicator; }
  // Stores an intent's outcome as soon as it arrived (Intent::arrived).
  bool record_arrival(const Intent& intent, std::string& error);
  // Adds a process's slice times to the stored ones (`stat/slice_us/<domain>`), at the
  // end of a run: statistics, not state, so a killed run's are simply not counted (and a
  // failure to store them is not an error of the run).
  bool add_slice_times(const SliceTimes& times, std::string& error);
  // The stored slice times.
  bool slice_times(SliceTimes& out, std::string& error) const;
  // Adds a process's engine and what its JIT compiled (`stat/engine/<name>`: runs,
  // `stat/jit`: functions, instructions, microseconds loading LLVM and compiling;
  // `stat/jit_error`: why a compile failed, the latest, when `compile_error` is one), at
  // the end of a run, for `vedvm stats`: statistics, not state, as slice times; never
  // journaled, so a run replays under any engine.
  bool add_engine_stats(const std::string& engine, uint64_t functions, uint64_t instructions, uint64_t compile_us,
                        const std::string& compile_error, std::string& error);
  // The stored ones: runs per engine, and the JIT's totals.
  struct EngineTotals {
    std::map<std::string, uint64_t> runs;
    uint64_t functions = 0, instructions = 0, compile_us = 0;
    std::string compile_error;  // the latest, "" if no compile failed
  };
  bool engine_stats(EngineTotals& out, std::string& error) const;

 private:
  // The record's writes into the state gathered since the last checkpoint (their bytes
  // moved there), and the digest moved by them.
  void apply_writes(TickRecord record);
  bool apply_into_group(TickRecord record, bool append, std::string& error);
  // Writes the current group to the log, and a checkpoint when one is due or
  // `checkpoint` asks for one (synced then); with `sync`, durably — in the background
  // (GroupWriter) unless `wait` asks for it to be on disk on return.
  bool write_group(bool sync, bool wait, bool checkpoint, std::string& error);
  // Waits for the group being written in the background, and says in VED-DATA-DIR that it
  // is durable.
  bool collect(std::string& error);
  // Recovery: applies the log's frames after the checkpoint `head` names, and writes the
  // state they make as a new checkpoint (`head` then names it).
  bool recover_from_log(RunHead& head, std::string& error);
  // The obs/ records' and effect counts' parts of the digest, as stored.
  bool read_digest_parts(std::string& error);
  bool load_intents(LoadedRun& out, std::string& error);
  // Compares what the database holds with what VED-DATA-DIR says was committed.
  bool check_against_marker(int64_t tick, const std::string& program_hash, std::string& error) const;
  bool marker_lags_upgrade(const CommittedMark& mark) const;
  // Tells VED-DATA-DIR that the last commit is durable (or the commit of `tick`, whose
  // live records had `digest`).
  bool mark_durable(bool sync, std::string& error);
  bool mark_durable(int64_t tick, uint64_t digest, bool sync, std::string& error);

  const Program& p_;
  Store& store_;
  bool sync_;
  Clock& clock_;  // when a group has waited long enough
  TickReplicator* replicator_ = nullptr;
  uint64_t digest_ = 0;               // of the live records after the last commit
  int64_t last_tick_ = -1;            // the last commit's tick
  bool last_durable_ = true;          // whether the last commit is known to be on disk
  std::map<std::string, uint64_t> observed_digest_;  // obs/ key -> its part of the digest
  uint64_t effect_counts_digest_ = 0;
  // The group: the framed records of the ticks committed since the last log write, the
  // first numbered `group_first_frame_`, and how many ticks they are.
  std::string group_frames_;
  uint64_t group_first_frame_ = 0;
  size_t group_last_frame_at_ = 0;  // where the group's last frame starts in group_frames_
  size_t group_ticks_ = 0;
  uint64_t next_frame_ = 0;  // the number of the next tick record's log frame
  // The live state's writes since the last checkpoint, and the `meta/pending` and
  // `meta/head` the next checkpoint writes (none: as the last one wrote them).
  WriteGroup state_;
  std::optional<std::string> state_pending_;
  std::optional<RunHead> state_head_;
  size_t log_bytes_since_checkpoint_ = 0;
  size_t checkpoint_log_bytes_ = kCheckpointLogBytes;
  size_t checkpoint_state_bytes_ = kCheckpointStateBytes;
  std::unique_ptr<GroupWriter> writer_;  // groups written in the background
  bool writer_refused_ = false;          // the system would not start its thread
  Clock::time_point group_started_;
  size_t max_group_ticks_ = kGroupTicks;
  std::chrono::milliseconds max_group_age_{5};
};

}  // namespace ved::vm
