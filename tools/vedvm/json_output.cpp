// The JSON shapes of docs/json.md (schemas: docs/json/*.schema.json).
#include "tools/vedvm/json_output.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "vm/runtime/instance_codec.h"
#include "vm/runtime/store.h"

namespace vedvm {

namespace vm = ved::vm;

namespace {

constexpr int64_t kMaxExactInt = (int64_t{1} << 53) - 1;

Json object() { return Json::object(); }

// The domain of a journal record's instance (`Worker[3]` -> Worker); null when the
// program has none of that name.
const vm::DomainInfo* domain_of(const vm::Program& p, std::string_view instance) {
  const std::string_view name = instance.substr(0, instance.find('['));
  for (const auto& d : p.domains)
    if (d.name == name) return &d;
  return nullptr;
}

const vm::TransitionInfo* transition_named(const vm::DomainInfo* d, std::string_view name) {
  if (!d) return nullptr;
  for (const auto& t : d->transitions)
    if (t.name == name) return &t;
  return nullptr;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Json named_values(const vm::Program& p, const std::vector<vm::FieldInfo>& names, const std::vector<vm::Value>& values) {
  Json j = object();
  for (size_t k = 0; k < values.size(); ++k)
    j[k < names.size() ? names[k].name : "$" + std::to_string(k)] = value_json(p, values[k]);
  return j;
}

Json list_json(const vm::Program& p, const std::vector<vm::Value>& values) {
  Json j = Json::array();
  for (const auto& v : values) j.push_back(value_json(p, v));
  return j;
}

void add_parts(const vm::Program& p, const vm::TraceFields& parts, Json& into) {
  for (const vm::TraceField& f : parts) {
    if (f.object) {
      Json inner = object();
      add_parts(p, f.parts, inner);
      into[f.name] = std::move(inner);
    } else {
      into[f.name] = value_json(p, f.value);
    }
  }
}

Json outcome_parts(const vm::Program& p, const vm::EffectOutcome& out, Json j) {
  j["ok"] = out.ok;
  if (out.ok) {
    j["value"] = value_json(p, out.value);
  } else {
    j["code"] = out.code;
    j["message"] = out.message;
    j["retryable"] = out.retryable;
  }
  return j;
}

}  // namespace

Json int_json(int64_t n) {
  if (n >= -kMaxExactInt && n <= kMaxExactInt) return Json(n);
  Json j = object();
  j["$int"] = std::to_string(n);
  return j;
}

Json value_json(const vm::Program& p, const vm::Value& v) {
  switch (v.tag()) {
    case vm::Tag::Unit: {
      Json j = object();
      j["$unit"] = true;
      return j;
    }
    case vm::Tag::None: return Json(nullptr);
    case vm::Tag::Bool: return Json(v.as_bool());
    case vm::Tag::Int: return int_json(v.as_int());
    case vm::Tag::Float: {
      const double f = v.as_float();
      if (std::isfinite(f)) return Json(f);  // shortest text that reads back to f, with ".0" if integral
      Json j = object();
      j["$float"] = std::isnan(f) ? "NaN" : f > 0 ? "Infinity" : "-Infinity";
      return j;
    }
    case vm::Tag::String: return Json(v.as_string());
    case vm::Tag::List: return list_json(p, v.as_list());
    case vm::Tag::Map: {
      Json pairs = Json::array();
      for (const auto& [key, value] : v.as_map()) pairs.push_back(Json::array({value_json(p, key), value_json(p, value)}));
      Json j = object();
      j["$map"] = std::move(pairs);
      return j;
    }
    case vm::Tag::Record: {
      const vm::RecordObj& r = v.as_record();
      Json j = object();
      const vm::RecordLayout* layout = r.type < p.records.size() ? &p.records[r.type] : nullptr;
      j["$record"] = layout ? layout->name : "#" + std::to_string(r.type);
      for (size_t k = 0; k < r.fields.size(); ++k)
        j[layout && k < layout->fields.size() ? layout->fields[k] : "$" + std::to_string(k)] = value_json(p, r.fields[k]);
      return j;
    }
    case vm::Tag::Intent: {
      const vm::IntentObj& x = v.as_intent();
      Json j = object();
      const vm::ExternalInfo* e = x.effect < p.effects.size() ? &p.effects[x.effect] : nullptr;
      j["$intent"] = e ? e->name : "#" + std::to_string(x.effect);
      j["args"] = named_values(p, e ? e->params : std::vector<vm::FieldInfo>{}, x.args);
      j["key"] = x.idempotency_key.tag() == vm::Tag::String ? Json(x.idempotency_key.as_string()) : Json(nullptr);
      return j;
    }
  }
  return Json(nullptr);
}

Json trace_event_json(const vm::Program& p, const vm::TraceEvent& e) {
  Json j = object();
  j["tick"] = int_json(e.tick);
  j["instance"] = e.instance;
  j["kind"] = e.kind;
  add_parts(p, e.fields, j);
  return j;
}

Json instance_json(const vm::Program& p, const vm::Instance& in) {
  const vm::DomainInfo& d = p.domains[in.key.domain];
  Json j = object();
  j["instance"] = vm::describe_instance(p, in.key);
  j["domain"] = d.name;
  j["id"] = in.key.id.tag() == vm::Tag::Unit ? Json(nullptr) : value_json(p, in.key.id);
  j["status"] = in.faulted ? "FAULTED" : "active";
  j["state"] = value_json(p, in.state);
  Json mailbox = object();
  mailbox["high"] = in.high.size();
  mailbox["normal"] = in.normal.size();
  j["mailbox"] = std::move(mailbox);
  j["outbox"] = in.outbox.size();
  if (in.continuation) {
    Json c = object();
    c["transition"] = d.transitions[in.continuation->transition].name;
    c["next_slice"] = in.continuation->next_slice;
    j["in_progress"] = std::move(c);
  } else {
    j["in_progress"] = nullptr;
  }
  // Timers in the order they fall due (due tick, then the order they were set).
  std::vector<const vm::Timer*> timers;
  for (const auto& t : in.timers) timers.push_back(&t);
  std::stable_sort(timers.begin(), timers.end(), [](const vm::Timer* a, const vm::Timer* b) {
    return a->due != b->due ? a->due < b->due : a->sequence < b->sequence;
  });
  Json tj = Json::array();
  for (const vm::Timer* t : timers) {
    Json one = object();
    one["due"] = int_json(t->due);
    const vm::TransitionInfo& tr = d.transitions[t->message.transition];
    one["transition"] = tr.name;
    one["args"] = list_json(p, t->message.args);
    tj.push_back(std::move(one));
  }
  j["timers"] = std::move(tj);
  j["effects_in_flight"] = int_json(in.effects_in_flight);
  Json goals = Json::array();
  for (size_t g = 0; g < d.goals.size() && g < in.goals.size(); ++g) {
    const vm::GoalProgress& gp = in.goals[g];
    Json gj = object();
    gj["goal"] = d.goals[g].name;
    gj["satisfied"] = gp.satisfied;
    gj["attempts"] = int_json(gp.attempts);
    gj["terminated"] = gp.terminated;
    gj["reason"] = gp.terminated ? Json(gp.reason) : Json(nullptr);
    goals.push_back(std::move(gj));
  }
  j["goals"] = std::move(goals);
  if (in.last_fault.empty()) {
    j["fault"] = nullptr;
  } else {
    Json f = object();
    add_parts(p, vm::fault_field("fault", in.last_fault, in.last_fault_info.get()).parts, f);
    j["fault"] = std::move(f);
  }
  j["dead_letters"] = int_json(in.dead_letters);
  j["last_failed_effect"] = in.last_failed_effect.empty() ? Json(nullptr) : Json(in.last_failed_effect);
  return j;
}

Json open_intent_json(const vm::Program& p, const vm::Intent& x) {
  const vm::ExternalInfo& e = p.effects[x.effect];
  Json j = object();
  j["id"] = x.id();
  j["instance"] = vm::describe_instance(p, x.instance);
  j["effect"] = e.name;
  j["dispatches"] = x.dispatches;
  j["outcome_arrived"] = x.arrived;
  j["args"] = named_values(p, e.params, x.args);
  j["key"] = x.idempotency_key.tag() == vm::Tag::String ? Json(x.idempotency_key.as_string()) : Json(nullptr);
  j["ordinal"] = int_json(static_cast<int64_t>(x.ordinal));
  j["outcome"] = x.arrived ? outcome_parts(p, x.outcome, object()) : Json(nullptr);
  return j;
}

Json journal_record_json(const vm::Program& p, int64_t tick, std::string_view record,
                         const std::map<uint32_t, vm::Intent>& intents) {
  // kind TAB instance TAB detail [TAB data]
  const size_t a = record.find('\t'), b = a == std::string_view::npos ? a : record.find('\t', a + 1);
  const std::string_view kind = record.substr(0, a);
  const std::string_view instance = a == std::string_view::npos ? std::string_view() : record.substr(a + 1, b - a - 1);
  std::string_view detail, data;
  if (b != std::string_view::npos) {
    const size_t c = record.find('\t', b + 1);
    detail = record.substr(b + 1, c == std::string_view::npos ? std::string_view::npos : c - b - 1);
    if (c != std::string_view::npos) data = record.substr(c + 1);
  }
  Json j = object();
  j["tick"] = int_json(tick);
  j["instance"] = std::string(instance);
  j["kind"] = std::string(kind);
  j["detail"] = std::string(detail);
  const vm::DomainInfo* d = domain_of(p, instance);
  std::string bytes;
  const bool has_data = !data.empty() && vm::parse_hex_bytes(data, bytes);

  if (kind == "fault") {
    // The text only: its parts are not in the journal (inspect --json and --trace=json have them).
    Json f = object();
    f["text"] = std::string(detail);
    j["fault"] = std::move(f);
  } else if (kind == "goal" && d) {
    const size_t space = detail.find(' ');
    const std::string_view goal = detail.substr(0, space), rest = space == std::string_view::npos ? "" : detail.substr(space + 1);
    const bool known = std::any_of(d->goals.begin(), d->goals.end(), [&](const vm::GoalInfo& g) { return g.name == goal; });
    if (known && (rest == "satisfied" || rest == "unsatisfied")) {
      j["goal"] = std::string(goal);
      j["event"] = std::string(rest);
    } else if (known && starts_with(rest, "attempt ") && all_digits(rest.substr(8))) {
      j["goal"] = std::string(goal);
      j["event"] = "attempt";
      j["attempt"] = int_json(std::stoll(std::string(rest.substr(8))));
    } else if (known && starts_with(rest, "terminated: ")) {
      j["goal"] = std::string(goal);
      j["event"] = "terminated";
      j["reason"] = std::string(rest.substr(12));
    }
  } else if (kind == "slice" && d) {
    // T[#N][ (slice name)][ yield][ field=value...]: names are identifiers, and the slice
    // name is the one the program gives that slice. The changed values are text.
    const size_t end = std::min(detail.find('#'), detail.find(' '));
    const vm::TransitionInfo* t = transition_named(d, detail.substr(0, end));
    if (t) {
      const vm::FunctionInfo& f = p.functions[t->function];
      std::string_view rest = end == std::string_view::npos ? "" : detail.substr(end);
      int64_t slice = 0;
      bool ok = true;
      if (starts_with(rest, "#")) {
        const size_t stop = rest.find(' ');
        const std::string_view number = rest.substr(1, stop == std::string_view::npos ? std::string_view::npos : stop - 1);
        ok = all_digits(number);
        if (ok) slice = std::stoll(std::string(number));
        rest = stop == std::string_view::npos ? "" : rest.substr(stop);
      }
      ok = ok && slice >= 0 && static_cast<size_t>(slice) < f.slice_names.size();
      if (ok) {
        const std::string& slice_name = f.slice_names[static_cast<size_t>(slice)];
        if (!slice_name.empty()) {
          ok = starts_with(rest, " (" + slice_name + ")");
          rest = ok ? rest.substr(slice_name.size() + 3) : rest;
        }
        const bool yielded = rest == " yield" || starts_with(rest, " yield ");
        if (ok) {
          j["transition"] = t->name;
          j["slice"] = int_json(slice);
          j["slice_name"] = slice_name.empty() ? Json(nullptr) : Json(slice_name);
          j["yielded"] = yielded;
        }
      }
    }
  } else if (kind == "send") {
    const size_t dot = detail.rfind('.');
    if (dot != std::string_view::npos) {
      const std::string_view to = detail.substr(0, dot), transition = detail.substr(dot + 1);
      if (transition_named(domain_of(p, to), transition)) {
        j["to"] = std::string(to);
        j["transition"] = std::string(transition);
      }
    }
  } else if (kind == "input") {
    if (transition_named(d, detail)) j["transition"] = std::string(detail);
  } else if (kind == "escalation") {
    const size_t colon = detail.find(": ");
    if (colon != std::string_view::npos && transition_named(d, detail.substr(0, colon))) {
      j["transition"] = std::string(detail.substr(0, colon));
      j["escalation"] = std::string(detail.substr(colon + 2));
    }
  } else if (kind == "spawn") {
    constexpr std::string_view kExists = " exists already: nothing done";
    if (ends_with(detail, kExists)) {
      j["target"] = std::string(detail.substr(0, detail.size() - kExists.size()));
      j["existed"] = true;
    }
  } else if (kind == "dead_letter") {
    constexpr std::string_view kNoSender = " (the message being processed has no sender)";
    constexpr std::string_view kNoTransition = " (no such transition with these arguments)";
    constexpr std::string_view kNoHandler = "; no handler)";
    bool done = false;
    for (const auto& [suffix, reason] : {std::pair<std::string_view, const char*>{" (target faulted)", "target faulted"},
                                         {" (mailbox full)", "mailbox full"}}) {
      if (!done && ends_with(detail, suffix) && transition_named(d, detail.substr(0, detail.size() - suffix.size()))) {
        j["letter"] = "message";
        j["transition"] = std::string(detail.substr(0, detail.size() - suffix.size()));
        j["reason"] = reason;
        done = true;
      }
    }
    for (const auto& [suffix, reason] : {std::pair<std::string_view, const char*>{kNoSender, "no sender"},
                                         {kNoTransition, "no such transition"}}) {
      if (!done && starts_with(detail, "reply ") && ends_with(detail, suffix) && detail.size() > 6 + suffix.size()) {
        const std::string_view reply = detail.substr(6, detail.size() - 6 - suffix.size());
        if (reply.find(' ') == std::string_view::npos) {
          j["letter"] = "reply";
          j["reply"] = std::string(reply);
          j["reason"] = reason;
          done = true;
        }
      }
    }
    const size_t failed = detail.find(".failed (");
    if (!done && failed != std::string_view::npos && ends_with(detail, kNoHandler)) {
      const std::string_view effect = detail.substr(0, failed);
      const size_t from = failed + 9;
      const bool known = std::any_of(p.effects.begin(), p.effects.end(), [&](const vm::ExternalInfo& e) { return e.name == effect; });
      if (known && detail.size() >= from + kNoHandler.size()) {
        j["letter"] = "outcome";
        j["effect"] = std::string(effect);
        j["code"] = std::string(detail.substr(from, detail.size() - from - kNoHandler.size()));
        j["reason"] = "no handler";
      }
    }
  } else if (kind == "emit") {
    // `<tick>-<index> Effect(...)`: the intent's own record (fx/) holds its arguments.
    const size_t space = detail.find(' ');
    const std::string_view id = detail.substr(0, space);
    const size_t dash = id.find('-');
    if (dash != std::string_view::npos && all_digits(id.substr(dash + 1))) {
      auto it = intents.find(static_cast<uint32_t>(std::stoull(std::string(id.substr(dash + 1)))));
      if (it != intents.end() && it->second.id() == id) {
        const vm::Intent& x = it->second;
        const vm::ExternalInfo& e = p.effects[x.effect];
        j["intent"] = x.id();
        j["effect"] = e.name;
        j["args"] = named_values(p, e.params, x.args);
        j["key"] = x.idempotency_key.tag() == vm::Tag::String ? Json(x.idempotency_key.as_string()) : Json(nullptr);
        j["ordinal"] = int_json(static_cast<int64_t>(x.ordinal));
      }
    }
  } else if (kind == "outcome" && has_data) {
    uint32_t effect = 0;
    std::string intent, error;
    vm::EffectOutcome out;
    if (vm::decode_outcome(p, bytes, effect, intent, out, error)) {
      j["intent"] = intent;
      j["effect"] = p.effects[effect].name;
      j = outcome_parts(p, out, std::move(j));
    }
  } else if (kind == "observe" && has_data) {
    uint32_t observation = 0;
    std::vector<vm::Value> args;
    vm::Value value;
    std::string failure, error;
    if (vm::decode_observation(p, bytes, observation, args, value, failure, error)) {
      j["observation"] = p.observations[observation].name;
      j["args"] = list_json(p, args);
      if (failure.empty()) j["value"] = value_json(p, value);
      else j["failure"] = failure;
    }
  } else if (kind == "state" && d) {
    // `<state hash> <field hash> ...`: one 8-digit hash per field of the state.
    std::vector<std::string> words;
    for (size_t from = 0; from <= detail.size();) {
      const size_t space = std::min(detail.find(' ', from), detail.size());
      words.emplace_back(detail.substr(from, space - from));
      from = space + 1;
    }
    const auto& fields = p.records[d->state_record].fields;
    if (words.size() == fields.size() + 1) {
      j["hash"] = words[0];
      Json hashes = object();
      for (size_t k = 0; k < fields.size(); ++k) hashes[fields[k]] = words[k + 1];
      j["field_hashes"] = std::move(hashes);
    }
  }
  return j;
}

ved::vm::TraceSink trace_printer(const std::string& format, std::function<const ved::vm::Program&()> program) {
  if (format == "text")
    return [](const ved::vm::TraceEvent& e) {
      std::cout << "tick=" << e.tick << " " << e.instance << " " << e.kind << (e.detail.empty() ? "" : " " + e.detail)
                << "\n";
    };
  if (format == "json")
    return [program = std::move(program)](const ved::vm::TraceEvent& e) {
      std::cout << trace_event_json(program(), e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    };
  return nullptr;
}

}  // namespace vedvm
