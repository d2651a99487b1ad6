// What `vedvm` prints as JSON (docs/json.md): `inspect --json`, `inspect --tick T --json`
// and `--trace=json` of real runs, validated against the schemas of docs/json/ — the
// documented ones, read from there — by python3's jsonschema (tests/runtime/check_json.py),
// and checked value by value where the shape matters: ints beyond 2^53, maps with int
// keys, records and their type names, floats JSON cannot write, a fault's position. The
// validator must also reject documents that are wrong, or these tests could not fail.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "runtime_support.h"

using namespace ved::rt;
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

const std::string kDocs = VED_DOCS_DIR;


Result validate(const TempDir& tmp, const std::string& schema, const std::string& text, bool lines = false) {
  REQUIRE_MESSAGE(!python_with_jsonschema().empty(),
                  "no python3 with the jsonschema module: apt-get install python3-jsonschema");
  return validate_json(tmp, schema, text, lines);
}

void check_valid(const TempDir& tmp, const std::string& schema, const std::string& text, bool lines = false) {
  Result r = validate(tmp, schema, text, lines);
  CHECK_MESSAGE(r.exit_code == 0, schema << ": " << describe(r) << "\n" << r.out << r.err << "\n" << text.substr(0, 4000));
}

// The JSON lines of a --trace=json run (the summary that follows them is text).
std::vector<Json> trace_events(const std::string& out) {
  std::vector<Json> events;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty() && line[0] == '{') events.push_back(Json::parse(line));
  return events;
}

const Json& instance_in(const Json& inspect, const std::string& name) {
  for (const auto& in : inspect["instances"])
    if (in["instance"] == name) return in;
  FAIL("no instance " << name << " in " << inspect.dump());
  static const Json none;
  return none;
}

std::vector<Json> events_of(const std::vector<Json>& events, const std::string& instance, const std::string& kind) {
  std::vector<Json> out;
  for (const auto& e : events)
    if (e["instance"] == instance && e["kind"] == kind) out.push_back(e);
  return out;
}

// `inspect --tick T --json` for each tick that has records, each validated, and checked
// against the text form: each event's detail is the text's. Returns all their events.
std::vector<Json> journal(const TempDir& tmp, const std::string& data, int64_t last_tick) {
  std::vector<Json> all;
  for (int64_t t = 1; t <= last_tick; ++t) {
    Result text = vedvm_run({"inspect", data, "--tick", std::to_string(t)});
    Result json = vedvm_run({"inspect", data, "--tick", std::to_string(t), "--json"});
    CHECK(json.exit_code == text.exit_code);
    if (text.exit_code != 0) continue;  // nothing committed at tick t
    check_valid(tmp, "journal.schema.json", json.out);
    const Json doc = Json::parse(json.out);
    CHECK(doc["tick"] == t);
    std::string lines;
    for (const auto& e : doc["events"]) {
      const std::string detail = e["detail"];
      lines += "tick=" + std::to_string(t) + " " + e["instance"].get<std::string>() + " " + e["kind"].get<std::string>() +
               (detail.empty() ? "" : " " + detail) + "\n";
      all.push_back(e);
    }
    CHECK(lines == text.out);
  }
  return all;
}

// Every text trace line `tick=T INSTANCE KIND ...` has its JSON event, in the same order.
void check_same_events(const std::string& text_trace, const std::vector<Json>& events) {
  std::vector<std::string> lines;
  std::istringstream in(text_trace);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("tick=", 0) == 0) lines.push_back(line);
  REQUIRE(lines.size() == events.size());
  for (size_t k = 0; k < lines.size(); ++k) {
    const std::string head = "tick=" + (events[k]["tick"].is_object() ? events[k]["tick"]["$int"].get<std::string>()
                                                                      : std::to_string(events[k]["tick"].get<int64_t>())) +
                             " " + events[k]["instance"].get<std::string>() + " " + events[k]["kind"].get<std::string>();
    CHECK_MESSAGE((lines[k] == head || lines[k].rfind(head + " ", 0) == 0), lines[k] << " vs " << events[k].dump());
  }
}

// 1-based line and column of the first `needle` in `source` (ASCII).
std::pair<int, int> position_of(const std::string& source, const std::string& needle) {
  const size_t at = source.find(needle);
  REQUIRE(at != std::string::npos);
  const size_t line_start = source.rfind('\n', at) == std::string::npos ? 0 : source.rfind('\n', at) + 1;
  return {static_cast<int>(std::count(source.begin(), source.begin() + static_cast<std::ptrdiff_t>(at), '\n')) + 1,
          static_cast<int>(at - line_start) + 1};
}

const std::string kValues = R"(type Point { x: int, y: float, label: string, tag: string? }
effect Infra.Remove(name: string) : infrastructure

domain Values {
    state {
        big: int
        edge: int
        over: int
        low: int
        ratios: list<float>
        names: map<int, string>
        counts: map<string, int>
        maybe: int?
        nothing: int?
        point: Point
        done: bool
    }
    goal Filled {
        predicate: done
        strategy: Fill
    }
    transition Fill() {
        big = 9007199254740993
        edge = 9007199254740991
        over = 9007199254740992
        low = -9223372036854775808
        ratios = [2.5, float("nan"), float("inf"), float("-inf"), 1e300, -0.0, 3.0]
        names = {3: "three", 1: "one", 9007199254740993: "big"}
        counts = {"b": 2, "a": 1}
        maybe = 7
        point = Point(x = 1, y = 0.5, label = "tab\there \"q\"")
        done = true
        schedule Later(5) after 100 ticks
    }
    transition Later(n: int) { big = big + n }
}

domain Broken {
    state { n: int  d: int }
    goal Divided {
        predicate: n == 1
        strategy: Divide
    }
    transition Divide() {
        n = 10 / d
    }
}

@privilege infrastructure
domain Cleaner {
    state { tried: bool }
    goal Tried {
        predicate: tried
        strategy: Try
    }
    transition Try() {
        emit Infra.Remove(name: "old")
        tried = true
    }
}

domain Sender {
    state { sent: bool }
    goal Sent {
        predicate: sent
        strategy: Blast
    }
    transition Blast() {
        send Sink.Take(n: 1)
        send Sink.Take(n: 2)
        send high Sink.Urgent(n: 3)
        send high Sink.Urgent(n: 4)
        sent = true
    }
}

domain Sink {
    state { total: int }
    transition Take(n: int) { total = total + n }
    transition Urgent(n: int) { total = total + 10 * n }
}

domain Slow {
    state { a: int }
    goal Walked {
        predicate: a == 3
        strategy: Walk
    }
    transition Walk() {
        slice first { a = 1 }
        slice second { a = 2 }
        slice third { a = 3 }
    }
}
)";

const std::string kEffects = R"(effect Infra.Provision(size: string) -> string : infrastructure

@privilege infrastructure
domain Pool {
    state { want: int = 2  have: int  last: string }
    goal Capacity {
        predicate: have >= want
        strategy: Grow
        terminate_after: 5 attempts
    }
    transition Grow() {
        emit Infra.Provision(size: "small", idempotency_key: format("pool-{}", have))
        send Worker["eu"] Work(n: have)
    }
    transition Provisioned(id: string) on Infra.Provision.ok {
        have = have + 1
        last = id
    }
    transition Done(n: int) { want = want }
}

domain Worker {
    state { done: int }
    transition Work(n: int) {
        done = done + 1
        reply Done(n: n)
    }
}

domain Watch {
    state { writes: int }
    goal Present {
        predicate: System.file_exists("flag.txt")
        strategy: Write
    }
    transition Write() {
        emit System.WriteFile(path: "flag.txt", content: "x")
        writes = writes + 1
    }
}
)";

}  // namespace

TEST_CASE("json: the schemas are valid, the examples of docs/json.md match them, wrong documents are rejected") {
  TempDir tmp;
  REQUIRE_MESSAGE(!python_with_jsonschema().empty(),
                  "no python3 with the jsonschema module: apt-get install python3-jsonschema");
  Result examples = run({python_with_jsonschema(), VED_CHECK_JSON, kDocs + "/json", "--examples", kDocs + "/json.md"});
  CHECK_MESSAGE(examples.exit_code == 0, describe(examples) << "\n" << examples.out << examples.err);

  // A real document, then the same with one thing wrong at a time.
  const std::string bundle = compile_source(tmp, kValues);
  vedvm_run({bundle, "--data-dir", tmp / "d", "--sync=none", "--max-ticks", "2", "--effect", "Infra.Remove=fail:quota"});
  const Result inspected = vedvm_run({"inspect", tmp / "d", "--json"});
  REQUIRE(inspected.exit_code == 0);
  check_valid(tmp, "inspect.schema.json", inspected.out);
  const Json good = Json::parse(inspected.out);

  auto rejected = [&](const std::string& what, const std::string& schema, const std::string& text, const std::string& path,
                      bool lines = false) {
    INFO(what);
    Result r = validate(tmp, schema, text, lines);
    CHECK_MESSAGE(r.exit_code == 1, describe(r) << "\n" << r.out << r.err);  // 1: invalid (2 would be a broken check)
    CHECK_MESSAGE(contains(r.out, path), r.out);
  };
  size_t broken = 0;
  while (broken < good["instances"].size() && good["instances"][broken]["instance"] != "Broken") ++broken;
  REQUIRE(broken < good["instances"].size());
  const std::string at_broken = "at /instances/" + std::to_string(broken);
  Json old = good;
  old["instances"][broken]["state"] = "Broken.State(n: 0, d: 0)";  // the shape before docs/json.md
  rejected("a state as rendered text", "inspect.schema.json", old.dump(), at_broken + "/state");
  Json plain_map = good;
  for (auto& in : plain_map["instances"])
    if (in["instance"] == "Values") in["state"]["counts"] = Json{{"a", 1}, {"b", 2}};
  rejected("a map as a plain object", "inspect.schema.json", plain_map.dump(), "at /instances/");
  Json big_tick = good;
  big_tick["tick"] = int64_t{9007199254740993};
  rejected("an int beyond 2^53 as a number", "inspect.schema.json", big_tick.dump(), "at /tick");
  Json no_status = good;
  no_status["instances"][broken].erase("status");
  rejected("an instance without its status", "inspect.schema.json", no_status.dump(), at_broken);
  Json fault_kind = good;
  fault_kind["instances"][broken]["fault"]["kind"] = "oops";
  rejected("a fault of no known kind", "inspect.schema.json", fault_kind.dump(), at_broken + "/fault");
  rejected("a trace event with a detail string",
           "trace.schema.json", R"({"tick":1,"instance":"Counter","kind":"slice","detail":"Increment value=1"})", "'detail'", true);
  rejected("a goal event with a part of another event", "trace.schema.json",
           R"({"tick":1,"instance":"C","kind":"goal","goal":"G","event":"satisfied","attempt":1})",
           "is not valid under any of the given schemas", true);
  rejected("a journal record of no known kind", "journal.schema.json",
           R"({"program":"p","tick":1,"events":[{"tick":1,"instance":"C","kind":"teleport","detail":""}]})", "at /events/0");
  rejected("not JSON", "trace.schema.json", "{\"tick\":1,", "not JSON", true);
}

TEST_CASE("json: inspect, journal and trace of values, faults, timers, mailboxes and slices") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, kValues);
  const std::vector<std::string> flags{"--sync=none", "--max-ticks", "2", "--effect", "Infra.Remove=fail:quota"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), flags.begin(), flags.end());
    return vedvm_run(args);
  };
  const Result traced = with({bundle, "--data-dir", tmp / "d", "--trace=json"});
  REQUIRE_MESSAGE(traced.exit_code == 3, describe(traced) << "\n" << traced.out << traced.err);
  check_valid(tmp, "trace.schema.json", traced.out, /*lines=*/true);
  const std::vector<Json> trace = trace_events(traced.out);
  // The same run traced as text: the same events, one for one.
  const Result text = with({bundle, "--data-dir", tmp / "t", "--trace"});
  check_same_events(text.out, trace);

  const Result inspected = vedvm_run({"inspect", tmp / "d", "--json"});
  REQUIRE(inspected.exit_code == 0);
  check_valid(tmp, "inspect.schema.json", inspected.out);
  const Json doc = Json::parse(inspected.out);
  CHECK(doc["program"] == "p");
  CHECK(doc["tick"] == 2);

  // Values: ints exact (beyond 2^53 - 1 as {"$int"}), maps as [key, value] pairs in key
  // order, records with their type's name, floats JSON cannot write tagged.
  const Json& values = instance_in(doc, "Values");
  const Json& s = values["state"];
  CHECK(s["$record"] == "Values.State");
  CHECK(s.begin().key() == "$record");
  CHECK(s["big"] == Json{{"$int", "9007199254740993"}});
  CHECK(s["edge"] == 9007199254740991);
  CHECK(s["edge"].is_number_integer());
  CHECK(s["over"] == Json{{"$int", "9007199254740992"}});
  CHECK(s["low"] == Json{{"$int", "-9223372036854775808"}});
  CHECK(s["names"] == Json::parse(R"({"$map":[[1,"one"],[3,"three"],[{"$int":"9007199254740993"},"big"]]})"));
  CHECK(s["counts"] == Json::parse(R"({"$map":[["a",1],["b",2]]})"));
  const Json& ratios = s["ratios"];
  REQUIRE(ratios.size() == 7);
  CHECK(ratios[0] == 2.5);
  CHECK(ratios[1] == Json{{"$float", "NaN"}});
  CHECK(ratios[2] == Json{{"$float", "Infinity"}});
  CHECK(ratios[3] == Json{{"$float", "-Infinity"}});
  CHECK(ratios[4].get<double>() == 1e300);
  CHECK(ratios[5].is_number_float());
  CHECK(std::signbit(ratios[5].get<double>()));
  CHECK(ratios[6].is_number_float());  // 3.0, not 3: a float stays a float
  CHECK(contains(inspected.out, R"("ratios":[2.5,{"$float":"NaN"},{"$float":"Infinity"},{"$float":"-Infinity"},1e+300,-0.0,3.0])"));
  CHECK(s["maybe"] == 7);
  CHECK(s["nothing"].is_null());
  CHECK(s["point"] == Json::parse(R"({"$record":"Point","x":1,"y":0.5,"label":"tab\there \"q\"","tag":null})"));
  CHECK(s["done"] == true);
  CHECK(values["domain"] == "Values");
  CHECK(values["id"].is_null());
  CHECK(values["status"] == "active");
  CHECK(values["fault"].is_null());
  CHECK(values["timers"] == Json::parse(R"([{"due":101,"transition":"Later","args":[5]}])"));
  CHECK(values["goals"] == Json::parse(R"([{"goal":"Filled","satisfied":true,"attempts":0,"terminated":false,"reason":null}])"));
  // The helper the other tests use reads the new shape back as the VM prints values.
  CHECK(inspected_instances(inspected.out)["Values"].fields["names"] == R"({1: "one", 3: "three", 9007199254740993: "big"})");
  CHECK(inspected_instances(inspected.out)["Values"].fields["ratios"] == "[2.5, nan, inf, -inf, 1e+300, -0.0, 3.0]");

  // A fault in parts, with its source position; the text is the summary's.
  const Json& broken = instance_in(doc, "Broken");
  CHECK(broken["status"] == "FAULTED");
  const Json& fault = broken["fault"];
  CHECK(fault["kind"] == "division by zero");
  CHECK(fault["message"] == "division by zero");
  CHECK(fault["where"] == "Divide slice 0 of message Divide()");
  CHECK(fault["function"] == "Broken.Divide");
  const auto [line, column] = position_of(kValues, "/ d");
  CHECK(fault["position"]["line"] == line);
  CHECK(fault["position"]["column"] == column);
  CHECK(fs::path(fault["position"]["file"].get<std::string>()).filename() == "p.ved");
  CHECK(contains(traced.out, "  fault: " + fault["text"].get<std::string>() + "\n"));
  CHECK(contains(fault["text"].get<std::string>(), ":" + std::to_string(line) + ":" + std::to_string(column) + ": "));

  // Mailboxes per lane (the sink took one high message of two, none of two normal ones),
  // a transition between its slices, dead letters and the last failed effect.
  const Json& sink = instance_in(doc, "Sink");
  CHECK(sink["mailbox"] == Json::parse(R"({"high":1,"normal":2})"));
  CHECK(sink["goals"].empty());
  CHECK(instance_in(doc, "Slow")["in_progress"] == Json::parse(R"({"transition":"Walk","next_slice":2})"));
  const Json& cleaner = instance_in(doc, "Cleaner");
  CHECK(cleaner["dead_letters"] == 1);
  CHECK(cleaner["last_failed_effect"] == "Infra.Remove (failed: quota)");
  CHECK(doc["open_intents"].empty());

  // The trace: the same fault in parts, the slice's changes as values, named slices.
  const auto faults = events_of(trace, "Broken", "fault");
  REQUIRE(faults.size() == 1);
  CHECK(faults[0]["fault"] == fault);
  const auto fills = events_of(trace, "Values", "slice");
  REQUIRE(fills.size() == 1);
  CHECK(fills[0]["changes"]["big"] == Json{{"$int", "9007199254740993"}});
  CHECK(fills[0]["changes"]["names"] == s["names"]);
  CHECK_FALSE(fills[0]["changes"].contains("nothing"));  // unchanged: not a change
  const auto walks = events_of(trace, "Slow", "slice");
  REQUIRE(walks.size() == 2);
  CHECK(walks[1]["slice"] == 1);
  CHECK(walks[1]["slice_name"] == "second");
  CHECK(walks[1]["yielded"] == true);
  const auto sends = events_of(trace, "Sender", "send");
  REQUIRE(sends.size() == 4);
  CHECK(sends[2] == Json::parse(R"({"tick":1,"instance":"Sender","kind":"send","to":"Sink","transition":"Urgent","args":[3],"lane":"high"})"));
  const auto dead = events_of(trace, "Cleaner", "dead_letter");
  REQUIRE(dead.size() == 1);
  CHECK(dead[0]["letter"] == "outcome");
  CHECK(dead[0]["effect"] == "Infra.Remove");
  CHECK(dead[0]["code"] == "failed");
  CHECK(dead[0]["reason"] == "no handler");
  for (const auto& e : trace) CHECK_FALSE(e.contains("detail"));

  // The journal: what it can say in parts, the same as the trace; the fault as text.
  const std::vector<Json> records = journal(tmp, tmp / "d", 2);
  std::set<std::string> seen;
  for (const auto& r : records) {
    if (r["kind"] == "fault") {
      CHECK(r["fault"] == Json{{"text", fault["text"]}});
      seen.insert("fault");
    } else if (r["kind"] == "dead_letter") {
      for (const char* part : {"letter", "effect", "code", "reason"}) CHECK(r[part] == dead[0][part]);
      seen.insert("dead_letter");
    } else if (r["kind"] == "slice" && r["instance"] == "Slow" && r["tick"] == 2) {
      CHECK(r["transition"] == "Walk");
      CHECK(r["slice"] == 1);
      CHECK(r["slice_name"] == "second");
      CHECK(r["yielded"] == true);
      CHECK_FALSE(r.contains("changes"));  // text only: see docs/json.md
      seen.insert("slice");
    } else if (r["kind"] == "state" && r["instance"] == "Values") {
      std::vector<std::string> names;
      for (const auto& [name, hash] : r["field_hashes"].items()) names.push_back(name);
      CHECK(names == std::vector<std::string>{"big", "edge", "over", "low", "ratios", "names", "counts", "maybe",
                                              "nothing", "point", "done"});
      CHECK(r["hash"].get<std::string>().size() == 16);
      seen.insert("state");
    } else if (r["kind"] == "goal" && r["instance"] == "Broken") {
      CHECK(r["goal"] == "Divided");
      CHECK(r["event"] == "attempt");
      CHECK(r["attempt"] == 1);
      seen.insert("goal");
    } else if (r["kind"] == "send" && r["instance"] == "Sender") {
      CHECK(r["to"] == "Sink");
      CHECK_FALSE(r.contains("args"));
      seen.insert("send");
    }
  }
  CHECK(seen == std::set<std::string>{"fault", "dead_letter", "slice", "state", "goal", "send"});

  // Deterministic: another run, another data dir, the same documents.
  const Result again = with({bundle, "--data-dir", tmp / "e", "--trace=json"});
  CHECK(again.out == traced.out);
  CHECK(vedvm_run({"inspect", tmp / "e", "--json"}).out == inspected.out);

  // `vedvm resume` clears FAULTED and keeps the last fault.
  REQUIRE(vedvm_run({"resume", tmp / "d", "Broken"}).exit_code == 0);
  const Json resumed = Json::parse(vedvm_run({"inspect", tmp / "d", "--json"}).out);
  CHECK(instance_in(resumed, "Broken")["status"] == "active");
  CHECK(instance_in(resumed, "Broken")["fault"] == fault);
}

TEST_CASE("json: effects in parts: emit, outcome, observe, send and reply, intents in flight") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, kEffects);
  fs::create_directory(tmp / "root");
  const Result traced = vedvm_run({bundle, "--data-dir", tmp / "d", "--sync=none", "--trace=json", "--fs-root",
                                   tmp / "root", "--effect", "Infra.Provision=ok:vm-1"});
  REQUIRE_MESSAGE(traced.exit_code == 0, describe(traced) << "\n" << traced.out << traced.err);
  check_valid(tmp, "trace.schema.json", traced.out, /*lines=*/true);
  const std::vector<Json> trace = trace_events(traced.out);

  const auto emits = events_of(trace, "Pool", "emit");
  REQUIRE(emits.size() == 2);
  CHECK(emits[0] == Json::parse(R"({"tick":1,"instance":"Pool","kind":"emit","intent":"1-0","effect":"Infra.Provision",)"
                                R"("args":{"size":"small"},"key":"pool-0","ordinal":0})"));
  CHECK(emits[1]["key"] == "pool-1");
  CHECK(emits[1]["ordinal"] == 1);
  const auto outcomes = events_of(trace, "Pool", "outcome");
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0] == Json::parse(R"({"tick":2,"instance":"Pool","kind":"outcome","intent":"1-0","effect":"Infra.Provision",)"
                                   R"("ok":true,"value":"vm-1","handled":true})"));
  const auto written = events_of(trace, "Watch", "outcome");
  REQUIRE(written.size() == 1);
  CHECK(written[0]["value"] == Json{{"$unit", true}});
  CHECK(written[0]["handled"] == false);
  const auto observed = events_of(trace, "Watch", "observe");
  REQUIRE(observed.size() == 2);
  CHECK(observed[0]["observation"] == "System.file_exists");
  CHECK(observed[0]["args"] == Json::array({"flag.txt"}));
  CHECK(observed[0]["value"] == false);
  CHECK(observed[1]["value"] == true);
  const auto sends = events_of(trace, "Pool", "send");
  REQUIRE_FALSE(sends.empty());
  CHECK(sends[0]["to"] == "Worker[\"eu\"]");
  CHECK(sends[0]["args"] == Json::array({0}));
  const auto replies = events_of(trace, "Worker[\"eu\"]", "send");
  REQUIRE_FALSE(replies.empty());
  CHECK(replies[0]["to"] == "Pool");
  CHECK(replies[0]["transition"] == "Done");
  CHECK(events_of(trace, "Worker[\"eu\"]", "activate").size() == 1);

  // The journal has the same parts (an emit's arguments from its intent record, an
  // outcome's and an observation's from their data), but not whether it was handled.
  const int64_t last = Json::parse(vedvm_run({"inspect", tmp / "d", "--json"}).out)["tick"].get<int64_t>();
  const std::vector<Json> records = journal(tmp, tmp / "d", last);
  size_t emits_seen = 0, outcomes_seen = 0, observed_seen = 0;
  for (const auto& r : records) {
    Json traced_as;
    for (const auto& e : trace)
      if (e["tick"] == r["tick"] && e["instance"] == r["instance"] && e["kind"] == r["kind"] &&
          e.value("intent", std::string()) == r.value("intent", std::string()) &&
          e.value("value", Json()) == r.value("value", Json()))
        traced_as = e;
    if (r["kind"] == "emit") {
      for (const char* part : {"intent", "effect", "args", "key", "ordinal"}) CHECK(r[part] == traced_as[part]);
      ++emits_seen;
    } else if (r["kind"] == "outcome") {
      for (const char* part : {"intent", "effect", "ok", "value"}) CHECK(r[part] == traced_as[part]);
      CHECK_FALSE(r.contains("handled"));
      ++outcomes_seen;
    } else if (r["kind"] == "observe") {
      for (const char* part : {"observation", "args", "value"}) CHECK(r[part] == traced_as[part]);
      ++observed_seen;
    }
  }
  CHECK(emits_seen == 3);
  CHECK(outcomes_seen == 3);
  CHECK(observed_seen == 2);

  const Json doc = Json::parse(vedvm_run({"inspect", tmp / "d", "--json"}).out);
  const Json& worker = instance_in(doc, "Worker[\"eu\"]");
  CHECK(worker["domain"] == "Worker");
  CHECK(worker["id"] == "eu");

  // Stopped after tick 1: the intents are open. The simulated adapter's answer is not
  // stored (asking again is harmless), the file write's is: it arrived, not journaled.
  fs::create_directory(tmp / "root2");  // the first run wrote flag.txt in its root
  const Result stopped = vedvm_run({bundle, "--data-dir", tmp / "s", "--sync=none", "--max-ticks", "1", "--fs-root",
                                    tmp / "root2", "--effect", "Infra.Provision=ok:vm-1"});
  REQUIRE_MESSAGE(stopped.exit_code == 2, describe(stopped) << "\n" << stopped.out << stopped.err);
  const Result open = vedvm_run({"inspect", tmp / "s", "--json"});
  check_valid(tmp, "inspect.schema.json", open.out);
  const Json intents = Json::parse(open.out)["open_intents"];
  REQUIRE(intents.size() == 2);
  CHECK(intents[0] == Json::parse(R"({"id":"1-0","instance":"Pool","effect":"Infra.Provision","dispatches":1,)"
                                  R"("outcome_arrived":false,"args":{"size":"small"},"key":"pool-0","ordinal":0,"outcome":null})"));
  CHECK(intents[1]["effect"] == "System.WriteFile");
  CHECK(intents[1]["args"] == Json::parse(R"({"path":"flag.txt","content":"x"})"));
  CHECK(intents[1]["outcome_arrived"] == true);
  CHECK(intents[1]["outcome"] == Json::parse(R"({"ok":true,"value":{"$unit":true}})"));
  CHECK(instance_in(Json::parse(open.out), "Pool")["effects_in_flight"] == 1);
}

TEST_CASE("json: ticks beyond 2^53 are {\"$int\": ...} in the trace, inspect and the journal") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, R"(
domain Far {
    state { fired: int }
    transition Start() on start { schedule Fire() after 4611686018427387000 ticks }
    transition Fire() { fired = fired + 1 }
}
)");
  const Result traced = vedvm_run({bundle, "--data-dir", tmp / "d", "--sync=none", "--trace=json"});
  REQUIRE_MESSAGE(traced.exit_code == 0, describe(traced) << "\n" << traced.out << traced.err);
  check_valid(tmp, "trace.schema.json", traced.out, /*lines=*/true);
  const std::vector<Json> trace = trace_events(traced.out);
  REQUIRE_FALSE(trace.empty());
  CHECK(trace.back()["tick"] == Json{{"$int", "4611686018427387001"}});
  CHECK(trace.back()["changes"]["fired"] == 1);
  const Result inspected = vedvm_run({"inspect", tmp / "d", "--json"});
  check_valid(tmp, "inspect.schema.json", inspected.out);
  CHECK(Json::parse(inspected.out)["tick"] == Json{{"$int", "4611686018427387001"}});
  const Result journal = vedvm_run({"inspect", tmp / "d", "--tick", "4611686018427387001", "--json"});
  REQUIRE(journal.exit_code == 0);
  check_valid(tmp, "journal.schema.json", journal.out);
  const Json doc = Json::parse(journal.out);
  CHECK(doc["tick"] == Json{{"$int", "4611686018427387001"}});
  CHECK(doc["events"][0]["tick"] == Json{{"$int", "4611686018427387001"}});
  // Before the jump: a timer due far away.
  const Result early = vedvm_run({bundle, "--data-dir", tmp / "e", "--sync=none", "--max-ticks", "1"});
  CHECK(early.exit_code == 2);
  const Json timers = instance_in(Json::parse(vedvm_run({"inspect", tmp / "e", "--json"}).out), "Far")["timers"];
  CHECK(timers == Json::parse(R"([{"due":{"$int":"4611686018427387001"},"transition":"Fire","args":[]}])"));
}
