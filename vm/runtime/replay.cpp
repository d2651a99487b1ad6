#include "vm/runtime/replay.h"

#include <map>
#include <memory>
#include <vector>

#include "vm/bundle_loader.h"
#include "vm/runtime/instance_codec.h"
#include "vm/runtime/journal_render.h"
#include "vm/runtime/program_history.h"
#include "vm/runtime/run_store.h"
#include "vm/runtime/run_upgrade.h"
#include "vm/runtime/runtime.h"

namespace ved::vm {

namespace {

struct Record {
  std::string kind, instance, detail, data;  // data: the input's bytes (decoded from hex)
};

bool split(const std::string& line, Record& r) {
  const size_t a = line.find('\t');
  const size_t b = a == std::string::npos ? a : line.find('\t', a + 1);
  if (b == std::string::npos) return false;
  r.kind = line.substr(0, a);
  r.instance = line.substr(a + 1, b - a - 1);
  const size_t c = line.find('\t', b + 1);
  r.detail = line.substr(b + 1, c == std::string::npos ? std::string::npos : c - b - 1);
  return c == std::string::npos || parse_hex_bytes(std::string_view(line).substr(c + 1), r.data);
}

std::string printable(const std::string& line) {
  std::string out = line.substr(0, line.find('\t', line.find('\t', line.find('\t') + 1) + 1));
  for (char& c : out)
    if (c == '\t') c = ' ';
  return out;
}

// The recorded inputs of one tick, for the program being replayed. Outcomes and
// observations are decoded with the recorded program (the one that wrote them) and
// matched to the replayed program by name.
bool collect_inputs(const Program& recorded, const Program& replayed, int64_t tick, const std::vector<std::string>& lines,
                    ReplayInputs& inputs, std::string& error) {
  for (const std::string& line : lines) {
    Record r;
    if (!split(line, r)) {
      error = "journal record of tick " + std::to_string(tick) + " is malformed: `" + printable(line) + "`";
      return false;
    }
    if (r.kind == "outcome") {
      ReplayInputs::Outcome o;
      uint32_t effect = 0;
      std::string e;
      if (!decode_outcome(recorded, r.data, effect, o.intent, o.outcome, e)) {
        error = "the outcome recorded at tick " + std::to_string(tick) + " is damaged: `" + printable(line) + "`: " + e;
        return false;
      }
      inputs.outcomes[tick].push_back(std::move(o));
    } else if (r.kind == "observe") {
      ReplayInputs::Observation o;
      std::string e;
      uint32_t index = 0;
      if (!decode_observation(recorded, r.data, index, o.args, o.value, o.failure, e)) {
        error = "the observation recorded at tick " + std::to_string(tick) + " is damaged: `" + printable(line) + "`: " + e;
        return false;
      }
      o.instance = r.instance;
      o.observation = UINT32_MAX;
      for (uint32_t k = 0; k < replayed.observations.size(); ++k)
        if (replayed.observations[k].name == recorded.observations[index].name) o.observation = k;
      if (o.observation != UINT32_MAX) inputs.observations[tick].push_back(std::move(o));
    }
  }
  return true;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(' ', start);
    out.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// The first field whose hash differs between two state records of `instance`
// (`<hash> <field hash> ...`), or "" when the program has no such domain or field.
std::string differing_field(const Program& program, const std::string& instance, const std::string& recorded,
                            const std::string& replayed) {
  const std::vector<std::string> a = words(recorded), b = words(replayed);
  const std::string domain = instance.substr(0, instance.find('['));
  for (const DomainInfo& d : program.domains) {
    if (d.name != domain) continue;
    const auto& fields = program.records[program.types[d.state_type].x].fields;
    for (size_t f = 1; f < a.size() && f < b.size() && f - 1 < fields.size(); ++f)
      if (a[f] != b[f]) return fields[f - 1];
  }
  return "";
}

// Says where a tick's records differ: the first instance whose state differs (with the
// first field that does), and the first record that differs.
void explain(const Program& program, int64_t tick, const std::vector<std::string>& recorded,
             const std::vector<std::string>& replayed, ReplayReport& report) {
  report.diverged = true;
  report.tick = tick;
  std::map<std::string, std::string> replayed_states;
  for (const std::string& line : replayed) {
    Record r;
    if (split(line, r) && r.kind == "state") replayed_states[r.instance] = r.detail;
  }
  std::string where;
  for (const std::string& line : recorded) {
    Record r;
    if (!split(line, r) || r.kind != "state") continue;
    auto it = replayed_states.find(r.instance);
    if (it != replayed_states.end() && it->second == r.detail) continue;
    report.instance = r.instance;
    if (it == replayed_states.end()) {
      where = r.instance + ": its state changed in the recorded run, not in the replay";
    } else {
      report.field = differing_field(program, r.instance, r.detail, it->second);
      where = r.instance + (report.field.empty() ? "" : " field `" + report.field + "`") + ": recorded state hash " +
              words(r.detail)[0] + ", replayed " + words(it->second)[0];
    }
    break;
  }
  size_t k = 0;
  while (k < recorded.size() && k < replayed.size() && recorded[k] == replayed[k]) ++k;
  std::string first;
  if (k == recorded.size()) {
    first = "the replay did more than the recorded run: `" + printable(replayed[k]) + "`";
  } else if (k == replayed.size()) {
    first = "the recorded run has `" + printable(recorded[k]) + "`, the replay nothing more";
  } else {
    first = "recorded `" + printable(recorded[k]) + "`, replayed `" + printable(replayed[k]) + "`";
  }
  if (report.instance.empty()) {
    Record r;
    if (split(k < recorded.size() ? recorded[k] : replayed[k], r)) report.instance = r.instance;
  }
  report.explanation = "replay diverged at tick " + std::to_string(tick) + ": " + (where.empty() ? first : where + "; " + first);
}

}  // namespace

ReplaySession::ReplaySession(ReplayOptions options) : o_(std::move(options)) {}
ReplaySession::~ReplaySession() = default;

// The run's seed and budget, and its programs (program_history.h): each tick is replayed,
// and its recorded inputs decoded, with the program in force then; a candidate build
// (`--program`) stands in for the last one.
bool ReplaySession::begin(const Store& store, std::string& error) {
  std::string format, seed_text, budget_text;
  if (const Status s = store.get("meta/format", format); !s.is_ok()) {
    error = s.is_not_found() ? "the data dir holds no Ved run" : s.message();
    return false;
  }
  if (format != run_format()) {
    error = "the data dir was written by another version of the VM (format `" + format + "`)";
    return false;
  }
  if (!o_.program_bundle.empty()) {
    candidate_ = std::make_unique<Program>();
    if (!load_bundle(o_.program_bundle, *candidate_, error)) {
      error = "the program to replay: " + error;
      return false;
    }
  }
  try {
    if (!store.get("meta/seed", seed_text).is_ok()) throw std::invalid_argument("no meta/seed");
    ro_.seed = std::stoull(seed_text);
    if (store.get("meta/slice_budget", budget_text).is_ok()) ro_.slice_budget = std::stoll(budget_text);
  } catch (const std::exception&) {
    error = "the data dir is damaged: meta/seed or meta/slice_budget";
    return false;
  }
  ro_.replay = &inputs_;
  begun_ = true;
  return true;
}

bool ReplaySession::advance(const Store& store, ReplayReport& report, std::string& error) {
  if (!begun_ && !begin(store, error)) return false;
  // The history again: a run followed as it goes may have been upgraded since.
  if (!history_.open(store, nullptr, error)) return false;
  const size_t epochs = history_.epochs().size();
  for (size_t k = recorded_.size(); k < epochs; ++k) {
    std::string bundle;
    const Program* program = history_.program(k, error);
    if (!program || !history_.bundle(k, bundle, error)) return false;
    recorded_.push_back(program);
    replayed_.push_back(program);
    bundles_.push_back(std::move(bundle));
  }
  if (candidate_ && o_.program_bundle != bundles_.back()) {
    replayed_.back() = candidate_.get();
    bundles_.back() = o_.program_bundle;
  }
  // The journal past what was replayed, by tick.
  std::map<int64_t, std::vector<std::string>> journal;
  if (!scan_journal(*recorded_.back(), store, last_tick_ + 1, kLastTick, [&](int64_t tick, std::string_view record) {
        journal[tick].emplace_back(record);
        return true;
      }, error))
    return false;
  for (const auto& [tick, lines] : journal) {
    const size_t k = history_.epoch_at(tick);
    if (!collect_inputs(*recorded_[k], *replayed_[k], tick, lines, inputs_, error)) return false;
  }
  if (!runtime_) {
    runtime_ = std::make_unique<Runtime>(*replayed_[0], bundles_[0], ro_, o_.trace);
    runtime_->start_in_memory();
  }
  for (const auto& [tick, lines] : journal) {
    if (o_.to > 0 && tick > o_.to) break;
    std::vector<std::string> produced;
    if (history_.is_upgrade(tick)) {
      // The upgrade is redone on the replayed run, as `vedvm upgrade` did it on the
      // stored one, and the replay goes on with the next program.
      const size_t next = history_.epoch_at(tick);
      LoadedRun run;
      runtime_->release_run(run);
      UpgradeResult result;
      std::string why;
      if (!upgrade_run(*replayed_[epoch_], *replayed_[next], std::move(run), ro_.slice_budget, result, why)) {
        report.diverged = true;
        report.tick = tick;
        report.explanation = "replay diverged at tick " + std::to_string(tick) + ": the run was upgraded there, and the "
                             "replayed run could not be: " + why;
        return true;
      }
      if (!render_journal(*replayed_[next], upgrade_tick_record(*replayed_[epoch_], *replayed_[next], result), produced,
                          error))
        return false;
      epoch_ = next;
      runtime_ = std::make_unique<Runtime>(*replayed_[epoch_], bundles_[epoch_], ro_, o_.trace);
      if (!runtime_->start_from(std::move(result.run), error)) return false;
    } else if (tick > 0) {
      // Tick 0 holds only what `vedvm resume` appended before the first tick ran.
      if (!runtime_->step(error, tick)) return false;
      produced = runtime_->last_journal();
    }
    // `vedvm resume` between runs appends `resume` (and the state it wrote) to a tick.
    for (size_t k = produced.size(); k < lines.size() && lines[k].rfind("resume\t", 0) == 0;) {
      Record r;
      split(lines[k], r);
      if (!runtime_->resume(r.instance, error)) {
        error.clear();
        break;
      }
      const auto& more = runtime_->last_journal();
      produced.insert(produced.end(), more.begin(), more.end());
      k = produced.size();
    }
    last_tick_ = tick;
    if (tick < o_.from) continue;
    ++report.ticks;
    if (produced != lines) {
      explain(*replayed_[epoch_], tick, lines, produced, report);
      return true;
    }
  }
  return true;
}

bool replay_run(const Store& store, const ReplayOptions& options, ReplayReport& report, std::string& error) {
  ReplaySession session(options);
  return session.advance(store, report, error);
}

}  // namespace ved::vm
