// The runtime's public face (runtime.h): instance naming and ordering, and the calls
// that drive a run, each handed to the parts in runtime_impl.h.
#include "vm/runtime/runtime.h"

#include <algorithm>

#include "vm/runtime/runtime_impl.h"
#include "vm/value_codec.h"

namespace ved::vm {

int compare_ids(const Value& a, const Value& b) {
  auto rank = [](const Value& v) { return v.tag() == Tag::Int ? 1 : v.tag() == Tag::String ? 2 : 0; };
  if (rank(a) != rank(b)) return rank(a) < rank(b) ? -1 : 1;
  if (a.tag() == Tag::Int) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
  if (a.tag() == Tag::String) return a.as_string().compare(b.as_string()) < 0 ? -1 : a.as_string() == b.as_string() ? 0 : 1;
  return 0;
}

bool same_instance(const InstanceKey& a, const InstanceKey& b) {
  return a.domain == b.domain && compare_ids(a.id, b.id) == 0;
}

std::string describe_instance(const Program& p, const InstanceKey& key) {
  std::string name;
  append_instance_name(p, key, name);
  return name;
}

void append_instance_name(const Program& p, const InstanceKey& key, std::string& out) {
  out += p.domains[key.domain].name;
  if (key.id.tag() == Tag::Int) {
    out += '[';
    append_int(key.id.as_int(), out);
    out += ']';
  } else if (key.id.tag() == Tag::String) {
    // Quoted and escaped, so that an id cannot break a trace line or a journal record.
    out += '[';
    out += quote_string(key.id.as_string());
    out += ']';
  }
}

TraceField fault_field(const std::string& name, const std::string& text, const FaultInfo* parts_of) {
  TraceFields parts{{"text", Value::string(text)}};
  if (parts_of) {
    const FaultInfo& info = *parts_of;
    parts.emplace_back("kind", Value::string(info.kind));
    parts.emplace_back("message", Value::string(info.message));
    parts.emplace_back("where", Value::string(info.where));
    parts.emplace_back("function", Value::string(info.function));
    if (info.line == 0) {
      parts.emplace_back("position", Value::none());
    } else {
      parts.emplace_back("position", TraceFields{{"file", Value::string(info.file)},
                                                 {"line", Value::integer(info.line)},
                                                 {"column", Value::integer(info.column)}});
    }
  }
  return TraceField(name, std::move(parts));
}

Runtime::Impl::Impl(const Program& program, std::string bytes, RuntimeOptions options, TraceSink sink)
    : p(program),
      bundle(std::move(bytes)),
      o(options),
      clock(o.clock ? *o.clock : Clock::system()),
      trace(std::move(sink)),
      interp(program) {
  for (size_t r = 0; r < p.records.size(); ++r)
    if (p.records[r].name == "EffectError") effect_error_record = static_cast<uint32_t>(r);
  // Functions that read the tick or the outside world, directly or through calls.
  std::vector<bool> reads_time(p.functions.size(), false);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t f = 0; f < p.functions.size(); ++f) {
      if (reads_time[f]) continue;
      for (const Instr& i : p.functions[f].code) {
        if (i.op == Op::TICK || i.op == Op::OBSERVE || (i.op == Op::CALL && reads_time[i.d])) {
          reads_time[f] = changed = true;
          break;
        }
      }
    }
  }
  for (const DomainInfo& d : p.domains)
    always_awake.push_back(std::any_of(d.goals.begin(), d.goals.end(), [&](const GoalInfo& g) { return reads_time[g.predicate]; }));
  std::vector<uint32_t> by_name(p.domains.size());
  for (uint32_t d = 0; d < by_name.size(); ++d) by_name[d] = d;
  std::sort(by_name.begin(), by_name.end(), [&](uint32_t a, uint32_t b) { return p.domains[a].name < p.domains[b].name; });
  domain_rank.resize(p.domains.size());
  for (uint32_t r = 0; r < by_name.size(); ++r) domain_rank[by_name[r]] = r;
}


Runtime::Runtime(const Program& program, std::string bundle_bytes, RuntimeOptions options, TraceSink trace)
    : impl_(std::make_unique<Impl>(program, std::move(bundle_bytes), options, std::move(trace))) {}
Runtime::~Runtime() = default;

bool Runtime::attach(Store& store, bool& resumed, std::string& error) {
  try {
    return impl_->attach(store, resumed, error);
  } catch (const ValueTooDeep& e) {  // a field default nested too deeply to be stored
    error = std::string("the initial state: ") + e.what();
    return false;
  }
}

bool Runtime::run(RunSummary& summary, std::string& error, const std::function<bool()>& stop) {
  return impl_->run(summary, error, stop);
}

void Runtime::start_in_memory() { impl_->start_in_memory(); }
void Runtime::release_run(LoadedRun& out) { impl_->release_run(out); }
bool Runtime::start_from(LoadedRun run, std::string& error) { return impl_->adopt(std::move(run), error); }
bool Runtime::step(std::string& error, int64_t number) { return impl_->step_to(number, error); }
const std::vector<std::string>& Runtime::last_journal() const { return impl_->rendered; }
Instance& Runtime::instance_for_setup(const InstanceKey& key) {
  return impl_->instances[impl_->find_or_activate(key)];
}
void Runtime::submit(const InstanceKey& target, uint32_t transition, std::vector<Value> args) {
  Message m;
  m.transition = transition;
  m.args = std::move(args);
  impl_->submitted.push_back(Delivery{target, std::move(m)});
}
bool Runtime::all_quiescent() const { return impl_->all_quiescent(); }
int64_t Runtime::skip_idle(int64_t most) { return impl_->skip_idle(most); }
const Instance* Runtime::find_instance(const InstanceKey& key) const {
  auto i = impl_->find(key);
  return i ? &impl_->instances[*i] : nullptr;
}
void Runtime::summarize(RunSummary& summary) const { impl_->summarize(summary); }

int64_t Runtime::tick() const { return impl_->tick; }
uint64_t Runtime::seed() const { return impl_->o.seed; }
int64_t Runtime::slice_budget() const { return impl_->o.slice_budget; }
int64_t Runtime::slices() const { return impl_->slices_run; }
EngineStats Runtime::engine_stats() const { return impl_->interp.engine_stats(); }
const std::deque<Instance>& Runtime::instances() const { return impl_->instances; }
std::vector<const Intent*> Runtime::open_intents() const {
  std::vector<const Intent*> out;
  for (const auto& [key, intent] : impl_->open_intents) out.push_back(&intent);
  return out;
}

bool Runtime::resume(const std::string& instance, std::string& error) {
  for (size_t i = 0; i < impl_->instances.size(); ++i) {
    if (impl_->name(i) != instance) continue;
    Instance& in = impl_->instances[i];
    if (!in.faulted) {
      error = instance + " is not FAULTED";
      return false;
    }
    in.faulted = false;
    in.continuation.reset();  // the faulted transition's remaining slices are abandoned
    impl_->mark(i);
    impl_->journal.clear();
    impl_->journal.push_back("resume\t" + instance + "\t");
    return impl_->commit(error, /*append=*/true) && (!impl_->storage || impl_->storage->sync_committed(error));
  }
  error = "no instance " + instance + " in the data dir";
  return false;
}

std::vector<std::string> Runtime::describe_instances() const {
  RunSummary s;
  impl_->summarize(s);
  return s.lines;
}

}  // namespace ved::vm
