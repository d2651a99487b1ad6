// `vedvm inspect DIR` and `vedvm resume DIR T[id]`: a data dir, offline.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "tools/vedvm/commands.h"
#include "tools/vedvm/json_output.h"
#include "vm/bundle_loader.h"
#include "vm/runtime/instance_codec.h"
#include "vm/runtime/program_history.h"
#include "vm/runtime/run_store.h"
#include "vm/runtime/runtime.h"

namespace vedvm {

bool open_data_dir(const std::string& dir, std::unique_ptr<ved::vm::Store>& store, ved::vm::Program& program,
                   std::string& bundle, ved::vm::StoreMode mode) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::cerr << "vedvm: error: no data dir `" << dir << "`\n";
    return false;
  }
  ved::vm::Status status;
  store = ved::vm::Store::open(dir, mode, status);
  if (!store) {
    std::cerr << "vedvm: error: " << terminal_text(status.message()) << "\n";
    return false;
  }
  if (status = store->get("meta/program", bundle); !status.is_ok()) {
    std::cerr << "vedvm: error: `" << dir << "` holds no Ved program"
              << (status.is_not_found() ? "" : ": " + terminal_text(status.message())) << "\n";
    return false;
  }
  std::string error;
  if (!ved::vm::load_bundle(bundle, program, error)) {
    std::cerr << "vedvm: error: the program stored in `" << dir << "` is damaged: " << terminal_text(error) << "\n";
    return false;
  }
  return true;
}

int inspect(const std::string& dir, bool json, const std::string& only) {
  std::unique_ptr<ved::vm::Store> store;
  ved::vm::Program program;
  std::string bundle, error;
  if (!open_data_dir(dir, store, program, bundle)) return kExitError;
  ved::vm::RuntimeOptions options;
  ved::vm::Runtime runtime(program, bundle, options);
  bool resumed = false;
  if (!runtime.attach(*store, resumed, error)) {
    std::cerr << "vedvm: error: data dir `" << dir << "`: " << terminal_text(error) << "\n";
    return kExitError;
  }
  ved::vm::ProgramHistory history;
  if (!history.open(*store, &program, error)) {
    std::cerr << "vedvm: error: data dir `" << dir << "`: " << terminal_text(error) << "\n";
    return kExitError;
  }
  if (json) {
    // One document (docs/json.md, `inspect`).
    Json out = Json::object();
    out["program"] = program.name;
    out["tick"] = int_json(runtime.tick());
    out["programs"] = Json::array();
    for (const ved::vm::ProgramEpoch& e : history.epochs())
      out["programs"].push_back(Json{{"first_tick", int_json(e.first_tick)}, {"hash", ved::vm::hex_u64(e.hash)}});
    out["instances"] = Json::array();
    for (const auto& in : runtime.instances()) {
      if (!only.empty() && ved::vm::describe_instance(program, in.key) != only) continue;
      out["instances"].push_back(instance_json(program, in));
    }
    out["open_intents"] = Json::array();
    for (const ved::vm::Intent* x : runtime.open_intents()) out["open_intents"].push_back(open_intent_json(program, *x));
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  std::cout << program.name << " at tick " << runtime.tick() << "\n";
  // An upgraded run: which build ran from which tick.
  if (history.epochs().size() > 1) {
    std::cout << "programs:";
    for (const ved::vm::ProgramEpoch& e : history.epochs())
      std::cout << " " << ved::vm::hex_u64(e.hash) << " from tick " << e.first_tick << ";";
    std::cout << "\n";
  }
  bool shown = false, selected = only.empty();
  for (const auto& line : runtime.describe_instances()) {
    // Instance lines start in column 0; their goal and fault lines are indented.
    if (line.empty() || line[0] != ' ') {
      shown = only.empty() || line == only || line.rfind(only + " ", 0) == 0;
      selected = selected || shown;
    }
    if (shown) std::cout << terminal_text(line) << "\n";
  }
  if (!selected) {
    std::cerr << "vedvm: error: no instance " << only << " in `" << dir << "`\n";
    return kExitError;
  }
  // Effects in flight: emitted, outcome not journaled yet (runtime.md §6).
  for (const ved::vm::Intent* x : runtime.open_intents()) {
    const std::string by = ved::vm::describe_instance(program, x->instance);
    if (!only.empty() && by != only) continue;
    std::cout << "intent " << x->id() << " " << program.effects[x->effect].name << " by " << by << ": "
              << (x->arrived ? "outcome arrived, not yet journaled"
                             : x->dispatches == 0 ? "not dispatched yet"
                                                  : "dispatched " + std::to_string(x->dispatches) + " time(s), no outcome yet")
              << "\n";
  }
  return kExitOk;
}

int stats(const std::string& dir) {
  std::unique_ptr<ved::vm::Store> store;
  ved::vm::Program program;
  std::string bundle, error;
  if (!open_data_dir(dir, store, program, bundle)) return kExitError;
  int64_t last = 0;
  const std::string tick = ved::vm::last_committed_tick(*store, last, error) ? std::to_string(last) : "";
  error.clear();
  std::map<std::string, int64_t> counts;
  bool ok = ved::vm::scan_journal(program, *store, 0, ved::vm::kLastTick, [&](int64_t, std::string_view record) {
    ++counts[std::string(record.substr(0, record.find('\t')))];
    return true;
  }, error);
  if (!ok) {
    std::cerr << "vedvm: error: the journal of `" << dir << "` is damaged: " << terminal_text(error) << "\n";
    return kExitError;
  }
  std::cout << program.name << ": " << (tick.empty() ? "0" : tick) << " ticks\n";
  for (const auto& [kind, n] : counts) std::cout << "  " << kind << ": " << n << "\n";
  // Slice times per domain: percentiles as the upper bounds of their power-of-two bucket.
  ved::vm::SliceTimes times;
  ved::vm::RunStore run_store(program, *store, false);
  if (run_store.slice_times(times, error) && !times.per_domain.empty()) {
    std::cout << "slice time (microseconds, upper bounds):\n";
    for (const auto& [domain, buckets] : times.per_domain) {
      uint64_t total = 0;
      for (uint64_t n : buckets) total += n;
      auto percentile = [&](double q) {
        uint64_t seen = 0;
        for (size_t k = 0; k < buckets.size(); ++k) {
          seen += buckets[k];
          if (seen >= static_cast<uint64_t>(q * static_cast<double>(total))) return uint64_t{1} << k;
        }
        return uint64_t{1} << (buckets.size() - 1);
      };
      std::cout << "  " << domain << ": " << total << " slices, p50 < " << percentile(0.5) << ", p90 < "
                << percentile(0.9) << ", p99 < " << percentile(0.99) << "\n";
    }
  }
  // Which engines ran it, and what the JIT compiled (docs/jit.md): statistics of the
  // machine, like slice times, so after them (tests compare what comes before).
  ved::vm::RunStore::EngineTotals engines;
  {
    ved::vm::RunStore engine_store(program, *store, false);
    std::string ignored;
    if (engine_store.engine_stats(engines, ignored) && !engines.runs.empty()) {
      std::cout << "engines:";
      for (const auto& [name, runs] : engines.runs) std::cout << " " << name << " (" << runs << (runs == 1 ? " run)" : " runs)");
      std::cout << "\n";
      // The time counts loading LLVM and compiling, on the tiered JIT's compile thread too.
      if (engines.functions > 0 || engines.compile_us > 0) {
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.1f", static_cast<double>(engines.compile_us) / 1000);
        std::cout << "jit: " << engines.functions << " functions (" << engines.instructions << " instructions) compiled in "
                  << ms << " ms\n";
      }
      if (!engines.compile_error.empty())
        std::cout << "jit: a compile failed (its functions ran interpreted): " << terminal_text(engines.compile_error) << "\n";
    }
  }
  return kExitOk;
}

int journal(const std::string& dir, int64_t tick, bool json) {
  std::unique_ptr<ved::vm::Store> store;
  ved::vm::Program program;
  std::string bundle, error;
  if (!open_data_dir(dir, store, program, bundle)) return kExitError;
  size_t records = 0;
  // JSON: the intents the tick emitted (their arguments are in their records, not in the
  // journal's text), then one object per record in a document (docs/json.md, `journal`).
  std::map<uint32_t, ved::vm::Intent> intents;
  Json events = Json::array();
  if (json) {
    const std::string prefix = ved::vm::intent_storage_key(tick, 0);
    const ved::vm::Status read = store->scan(prefix.substr(0, prefix.rfind('/') + 1), [&](std::string_view, std::string_view bytes) {
      ved::vm::Intent x;
      std::string ignored;  // an unreadable record: the emit event keeps its text only
      if (ved::vm::decode_intent(program, bytes, x, ignored) && x.tick == tick) intents.emplace(x.index, std::move(x));
      return true;
    });
    if (!read.is_ok()) {
      std::cerr << "vedvm: error: the intents of `" << dir << "` are damaged: " << terminal_text(read.message()) << "\n";
      return kExitError;
    }
  }
  bool ok = ved::vm::scan_journal(program, *store, tick, tick,
                        [&](int64_t, std::string_view record) {
                          ++records;
                          if (json) {
                            events.push_back(journal_record_json(program, tick, record, intents));
                            return true;
                          }
                          std::string line(record);
                          size_t a = line.find('\t'), b = line.find('\t', a + 1);
                          if (a == std::string::npos || b == std::string::npos) return true;
                          // A fourth field holds an input's value for replay: not for people.
                          const std::string detail = line.substr(b + 1, line.find('\t', b + 1) - b - 1);
                          std::cout << "tick=" << tick << " " << line.substr(a + 1, b - a - 1) << " " << line.substr(0, a)
                                    << (detail.empty() ? "" : " " + detail) << "\n";
                          return true;
                        },
                        error);
  if (!ok) {
    std::cerr << "vedvm: error: the journal of `" << dir << "` is damaged: " << terminal_text(error) << "\n";
    return kExitError;
  }
  if (json && records > 0) {
    Json out = Json::object();
    out["program"] = program.name;
    out["tick"] = int_json(tick);
    out["events"] = std::move(events);
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  if (records == 0) {
    // Not an empty answer: say why there is none. Ticks that committed nothing (nothing
    // happened, or time jumped over them to a timer) are legitimately absent.
    int64_t last = -1;
    if (!ved::vm::last_committed_tick(*store, last, error)) last = -1;
    std::cerr << "vedvm: error: tick " << tick << " is not in the journal of `" << dir << "`";
    if (last == 0)
      std::cerr << ": the run has committed no tick yet";
    else if (last > 0 && tick == 0)
      std::cerr << ": the run's ticks start at 1; the last tick it committed is " << last;
    else if (last > 0 && tick > last)
      std::cerr << ": the last tick the run committed is " << last;
    else if (last > 0)
      std::cerr << ": nothing was committed at tick " << tick
                << " (a tick in which nothing happened, or one that time jumped over, leaves no record); the last "
                   "tick the run committed is "
                << last;
    std::cerr << "\n";
    return kExitError;
  }
  return kExitOk;
}

int resume(const std::string& dir, const std::string& instance) {
  std::unique_ptr<ved::vm::Store> store;
  ved::vm::Program program;
  std::string bundle, error;
  if (!open_data_dir(dir, store, program, bundle, ved::vm::StoreMode::Existing)) return kExitError;
  ved::vm::RuntimeOptions options;
  ved::vm::Runtime runtime(program, bundle, options);
  bool resumed = false;
  if (!runtime.attach(*store, resumed, error) || !runtime.resume(instance, error)) {
    std::cerr << "vedvm: error: " << terminal_text(error) << "\n";
    return kExitError;
  }
  std::cout << instance << " resumed\n";
  return kExitOk;
}

}  // namespace vedvm
