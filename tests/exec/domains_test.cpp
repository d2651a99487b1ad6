// Domains through vm::TestDriver: initial state from field defaults, transitions slice
// by slice (a faulting slice, or one after which an invariant is false, is rolled back
// and ends the run; the slices before it stay committed), locals across `yield`, what a
// transition sends and emits, rand() and tick(), goal predicates and invariants.
#include <doctest/doctest.h>

#include <algorithm>

#include "exec_support.h"

using namespace ved::exec;
using ved::vm::SliceResult;

namespace {

// Line numbers matter: fault positions below refer to them.
const char* const kCounter = R"(effect Audit.Record(what: string, n: int) : local
domain Other {
    state { got: int }
    transition Take(n: int, who: string) { got = got + n }
}
domain Counter {
    state {
        n: int = 0
        label: string = "c"
        log: list<string>
        draws: list<int>
        t: int
    }
    invariant NonNegative { n >= 0 }
    goal Three { predicate: n >= 3 }
    goal Labelled { predicate: label != "c" && len(log) > 0 }
    transition Inc() { n = n + 1 }
    transition Add(k: int) { n = n + k }
    transition Two() {
        let saved = n * 10
        n = n + 1
        yield
        log = append(log, str(saved))
        n = n + saved
    }
    transition Sliced() {
        slice first { n = n + 1  log = append(log, "first") }
        slice second { log = append(log, "second")  n = n - 100 }
    }
    transition Boom() {
        slice a { n = n + 5 }
        slice b { fail "second slice fails" }
    }
    transition Triple() {
        n = n + 1
        yield
        log = append(log, "two")
        yield
        n = n / (n - 2)
        log = append(log, "three")
    }
    transition Talk() {
        send Other.Take(n: n, who: label)
        send Other.Take(4, "y")
        emit Audit.Record(what: "talked", n: n)
    }
    transition TalkThenFail() {
        slice first { send Other.Take(1, "kept")  emit Audit.Record(what: "kept", n: 1) }
        slice second { send Other.Take(2, "dropped")  assert n > 0, "n must be positive" }
    }
    transition Draw(bound: int) {
        draws = append(draws, rand(bound))
        draws = append(draws, rand(bound))
        draws = append(draws, rand(bound))
        draws = append(draws, rand(bound))
        t = tick()
    }
    transition Spin() { n = n + 1  while true { } }
    transition Label(s: string) { label = state.label + s  self.n = self.n + len(s) }
}
)";

const char* const kInitial = "Counter.State(n: 0, label: \"c\", log: [], draws: [], t: 0)";

struct TransitionCase {
  std::string transition;
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> set;  // fields changed from the initial state
  std::string slices;  // one letter per slice run: F finished, Y yielded, X faulted
  std::string state;   // after the last committed slice
  std::string fault;   // "" or "fault KIND at LINE:COL"
  std::string message = {};
  int64_t fuel = 1'000'000;
  int64_t tick = 1;
  uint64_t seed = 0;
};

std::string letters(const std::vector<SliceResult::Status>& slices) {
  std::string out;
  for (auto s : slices)
    out += s == SliceResult::Status::Finished ? 'F' : s == SliceResult::Status::Yielded ? 'Y' : 'X';
  return out;
}

std::string run_summary(const ved::vm::Program& p, const ved::vm::TransitionRun& run) {
  return letters(run.slices) + " " + show(p, run.state) + " " +
         (run.faulted ? "fault " + std::string(ved::bytecode::fault_kind_name(run.fault.kind)) + " at " +
                            line_col(run.fault)
                      : "");
}

struct Fixture {
  Compiled compiled;
  Value initial;
  uint32_t domain = 0;
};

Fixture load(const std::string& source, const std::string& domain) {
  Fixture f{compile(source), {}, 0};
  REQUIRE_MESSAGE(f.compiled.ok(), f.compiled.describe());
  ved::vm::TestDriver driver(*f.compiled.program);
  auto init = driver.initial_state(domain);
  REQUIRE(init.ok);
  f.initial = init.value;
  f.domain = *driver.domain_index(domain);
  return f;
}

}  // namespace

TEST_CASE("domain: initial state from defaults and zero values") {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {kCounter, kInitial},
      // A record field without a default is "a record of zero values" (spec §3): P's own
      // default for y is not used.
      {"type P { x: int, y: int = 7 }\n"
       "domain D { state { p: P  o: string?  m: map<string, int> = {\"b\": 2, \"a\": 1}  ok: bool  "
       "q: int? = 4  f: float = 0.5 } }",
       "D.State(p: P(x: 0, y: 0), o: none, m: {\"a\": 1, \"b\": 2}, ok: false, q: 4, f: 0.5)"},
      // Records that hold themselves through an optional, a list or a map: `none` and
      // empty collections end their zero values (plain record fields may not, V-TYP-019).
      {"type Node { v: int, next: Node? }\ntype Tree { kids: list<Tree>, by: map<string, Tree> }\n"
       "type Ping { pong: Pong? }\ntype Pong { ping: Ping }\n"
       "domain D { state { n: Node  t: Tree  p: Pong } }",
       "D.State(n: Node(v: 0, next: none), t: Tree(kids: [], by: {}), p: Pong(ping: Ping(pong: none)))"},
      {"state { greeting: String = \"hi\" + \"!\"  count: Int }\ntransition T() { count = count + 1 }",
       "Main.State(greeting: \"hi!\", count: 0)"},  // script mode: the implicit domain Main
  };
  for (const auto& [source, expected] : rows) {
    CAPTURE(source);
    Compiled c = compile(source);
    REQUIRE_MESSAGE(c.ok(), c.describe());
    ved::vm::TestDriver driver(*c.program);
    auto domain = c.program->domains.back().name;
    auto init = driver.initial_state(domain);
    REQUIRE(init.ok);
    CHECK(show(*c.program, init.value) == expected);
    CHECK(driver.initial_state(domain).value.as_record().fields.size() == init.value.as_record().fields.size());
  }
}

TEST_CASE("domain: a float state field starts at 0.0") {
  // The zero value 0.0 is an integral float constant: it must stay a float in the bundle.
  Compiled c = compile("domain D { state { f: float } transition T() { f = f + 0.5 } }");
  REQUIRE_MESSAGE(c.ok(), c.describe());
  ved::vm::TestDriver driver(*c.program);
  auto init = driver.initial_state("D");
  REQUIRE(init.ok);
  CHECK(show(*c.program, init.value) == "D.State(f: 0.0)");
}

TEST_CASE("domain: transitions, slices, rollback, invariants") {
  Fixture fx = load(kCounter, "Counter");
  const auto& p = *fx.compiled.program;
  const std::vector<TransitionCase> cases = {
      {"Inc", {}, {}, "F", "Counter.State(n: 1, label: \"c\", log: [], draws: [], t: 0)", ""},
      {"Add", {I(5)}, {{"n", I(2)}}, "F", "Counter.State(n: 7, label: \"c\", log: [], draws: [], t: 0)", ""},
      // An invariant false after the only slice: rolled back, FaultKind::Invariant.
      {"Add", {I(-5)}, {{"n", I(2)}}, "X", "Counter.State(n: 2, label: \"c\", log: [], draws: [], t: 0)",
       "fault invariant", "NonNegative"},
      {"Add", {I(-2)}, {{"n", I(2)}}, "F", "Counter.State(n: 0, label: \"c\", log: [], draws: [], t: 0)", ""},
      // A local lives across `yield`: saved = 20 is computed in slice 0, used in slice 1.
      {"Two", {}, {{"n", I(2)}}, "YF", "Counter.State(n: 23, label: \"c\", log: [\"20\"], draws: [], t: 0)", ""},
      // slice blocks: the second one breaks the invariant and is rolled back alone.
      {"Sliced", {}, {}, "YX", "Counter.State(n: 1, label: \"c\", log: [\"first\"], draws: [], t: 0)",
       "fault invariant", "after slice 1 (second)"},
      {"Sliced", {}, {{"n", I(200)}}, "YF",
       "Counter.State(n: 101, label: \"c\", log: [\"first\", \"second\"], draws: [], t: 0)", ""},
      {"Boom", {}, {}, "YX", "Counter.State(n: 5, label: \"c\", log: [], draws: [], t: 0)", "fault fail at 32:19",
       "second slice fails"},
      // Three slices; the third divides by zero when n == 2 after the first: state after two.
      {"Triple", {}, {{"n", I(1)}}, "YYX", "Counter.State(n: 2, label: \"c\", log: [\"two\"], draws: [], t: 0)",
       "fault division by zero at 39:15"},
      {"Triple", {}, {{"n", I(3)}}, "YYF",
       "Counter.State(n: 2, label: \"c\", log: [\"two\", \"three\"], draws: [], t: 0)", ""},  // 4 / 2
      // Out of fuel: the slice's own changes (n + 1) are rolled back.
      {"Spin", {}, {}, "X", kInitial, "fault budget", "", 10'000},
      // tick() is the tick given; rand(1) is always 0; a bound below 1 is a Conversion fault.
      {"Draw", {I(1)}, {}, "F", "Counter.State(n: 0, label: \"c\", log: [], draws: [0, 0, 0, 0], t: 42)", "", "",
       1'000'000, 42},
      {"Draw", {I(0)}, {}, "X", kInitial, "fault conversion at 52:31", "bound"},
      {"Draw", {I(-3)}, {}, "X", kInitial, "fault conversion at 52:31", "bound"},
      // state.f and self.f are the field f.
      {"Label", {S("xyz")}, {}, "F", "Counter.State(n: 3, label: \"cxyz\", log: [], draws: [], t: 0)", ""},
  };
  ved::vm::TestDriver driver(p);
  size_t checked = 0;
  for (size_t row = 0; row < cases.size(); ++row) {
    const auto& c = cases[row];
    INFO("row " << row << ": " << c.transition);
    Value state = fx.initial;
    for (const auto& [field, v] : c.set) state = with_field(p, fx.domain, state, field, v);
    auto run = driver.run_transition("Counter", c.transition, c.args, state, c.fuel, c.tick, c.seed);
    INFO("fault message: " << run.fault.message);
    std::string got = run_summary(p, run);
    std::string expected = c.slices + " " + c.state + " " + c.fault;
    if (c.fault.find(" at ") == std::string::npos && !c.fault.empty()) got = got.substr(0, got.rfind(" at "));
    CHECK(got == expected);
    if (run.faulted) CHECK(run.fault.message.find(c.message) != std::string::npos);
    // Deterministic: the same run again gives the same everything, fuel included.
    auto again = driver.run_transition("Counter", c.transition, c.args, state, c.fuel, c.tick, c.seed);
    CHECK(run_summary(p, again) == run_summary(p, run));
    CHECK(again.fuel_used == run.fuel_used);
    CHECK(again.fault.pc == run.fault.pc);
    ++checked;
  }
  CHECK(checked == cases.size());
  // The state given is not changed by a run (copy-on-write).
  CHECK(show(p, fx.initial) == kInitial);
}

TEST_CASE("domain: a yield after `assert false` compiles, and the slice it would start never runs") {
  // Found by the JIT's differential fuzzer: vedc kept the unreachable slice's code, which
  // reads a local no path had written, and the verifier refused the bundle.
  Fixture fx = load(R"(domain D {
    state { out: string }
    transition Go(n: int) {
        let v0: int = (n % 5)
        assert false, "a"
        yield
        out = str(v0)
    }
})", "D");
  ved::vm::TestDriver driver(*fx.compiled.program);
  auto run = driver.run_transition("D", "Go", {I(7)}, fx.initial, 1'000'000, 0, 0);
  CHECK(run.faulted);
  CHECK(run.fault.kind == FaultKind::Assert);
  CHECK(line_col(run.fault) == "5:9");
  CHECK(run.fault.message.find("a") != std::string::npos);
}

TEST_CASE("domain: an invariant fault names the invariant's line") {
  Fixture fx = load(kCounter, "Counter");
  ved::vm::TestDriver driver(*fx.compiled.program);
  auto run = driver.run_transition("Counter", "Add", {I(-1)}, fx.initial, 1'000'000);
  REQUIRE(run.faulted);
  CHECK(run.fault.kind == FaultKind::Invariant);
  CHECK(run.fault.position.line == 14);
  CHECK(run.fault.message.find("NonNegative") != std::string::npos);
}

TEST_CASE("domain: sends and emits are collected from committed slices only") {
  Fixture fx = load(kCounter, "Counter");
  const auto& p = *fx.compiled.program;
  ved::vm::TestDriver driver(p);
  // The arguments as a list prints them (strings quoted).
  auto args_of = [&](const std::vector<Value>& args) { return show(p, Value::list(args)); };

  Value state = with_field(p, fx.domain, with_field(p, fx.domain, fx.initial, "n", I(3)), "label", S("me"));
  auto talk = driver.run_transition("Counter", "Talk", {}, state, 1'000'000);
  CHECK_FALSE(talk.faulted);
  REQUIRE(talk.outputs.sends.size() == 2);
  CHECK(p.messages[talk.outputs.sends[0].message].name == "Take");
  CHECK(p.domains[p.messages[talk.outputs.sends[0].message].domain].name == "Other");
  CHECK(args_of(talk.outputs.sends[0].args) == "[3, \"me\"]");  // named arguments in parameter order
  CHECK(args_of(talk.outputs.sends[1].args) == "[4, \"y\"]");
  REQUIRE(talk.outputs.intents.size() == 1);
  CHECK(show(p, talk.outputs.intents[0]) == "<intent Audit.Record>");
  CHECK(args_of(talk.outputs.intents[0].as_intent().args) == "[\"talked\", 3]");
  CHECK(show(p, talk.state) == show(p, state));  // sending changes no state

  // The second slice faults: its send is dropped, the first slice's send and emit stay.
  auto partial = driver.run_transition("Counter", "TalkThenFail", {}, fx.initial, 1'000'000);
  CHECK(partial.faulted);
  CHECK(partial.fault.kind == FaultKind::Assert);
  CHECK(partial.fault.message == "n must be positive");
  CHECK(letters(partial.slices) == "YX");
  REQUIRE(partial.outputs.sends.size() == 1);
  CHECK(args_of(partial.outputs.sends[0].args) == "[1, \"kept\"]");
  CHECK(partial.outputs.intents.size() == 1);

  auto full = driver.run_transition("Counter", "TalkThenFail", {}, state, 1'000'000);
  CHECK_FALSE(full.faulted);
  CHECK(full.outputs.sends.size() == 2);
  CHECK(args_of(full.outputs.sends[1].args) == "[2, \"dropped\"]");
}

TEST_CASE("domain: an undeclared effect's intents carry the argument names of its first use") {
  // Pager.Page and Ops.Ping are not declared (V-WRN-004). The handler comes before the
  // transition that emits: it still handles the effect.
  Fixture fx = load(R"(domain Oncall {
    state { paged: int }
    transition Failed(e: EffectError) on Pager.Page.failed { paged = paged - 1 }
    transition Page() {
        emit Pager.Page(who: "oncall", level: paged)
        emit Pager.Page(level: 7, who = "backup")
        let later = Pager.Page("lead", 1, idempotency_key: "k")
        emit later
        emit Ops.Ping("up", 3)
        paged = paged + 1
    }
}
)",
                    "Oncall");
  const auto& p = *fx.compiled.program;
  auto effect_named = [&](const std::string& name) -> const ved::vm::ExternalInfo* {
    for (const auto& e : p.effects)
      if (e.name == name) return &e;
    return nullptr;
  };
  auto param_names = [](const ved::vm::ExternalInfo& e) {
    std::string out;
    for (const auto& f : e.params) out += (out.empty() ? "" : ", ") + f.name;
    return out;
  };
  const ved::vm::ExternalInfo* page = effect_named("Pager.Page");
  const ved::vm::ExternalInfo* ping = effect_named("Ops.Ping");
  REQUIRE(page != nullptr);
  REQUIRE(ping != nullptr);
  CHECK_FALSE(page->declared);
  CHECK(param_names(*page) == "who, level");  // named: the first use's names
  CHECK(param_names(*ping) == "arg0, arg1");  // positional: by position
  const uint32_t page_index = static_cast<uint32_t>(page - p.effects.data());
  const auto& transitions = p.domains[fx.domain].transitions;
  auto failed = std::find_if(transitions.begin(), transitions.end(), [](const auto& t) { return t.name == "Failed"; });
  REQUIRE(failed != transitions.end());
  CHECK(failed->on_effect == static_cast<int32_t>(page_index));
  CHECK_FALSE(failed->on_ok);

  ved::vm::TestDriver driver(p);
  Value state = with_field(p, fx.domain, fx.initial, "paged", I(5));
  auto run = driver.run_transition("Oncall", "Page", {}, state, 1'000'000);
  REQUIRE_FALSE(run.faulted);
  REQUIRE(run.outputs.intents.size() == 4);
  auto args_of = [&](const Value& intent) { return show(p, Value::list(intent.as_intent().args)); };
  for (size_t i = 0; i < 3; ++i) CHECK(run.outputs.intents[i].as_intent().effect == page_index);
  // Arguments in the order of the parameters, whatever order the use wrote them in.
  CHECK(args_of(run.outputs.intents[0]) == "[\"oncall\", 5]");
  CHECK(args_of(run.outputs.intents[1]) == "[\"backup\", 7]");
  CHECK(args_of(run.outputs.intents[2]) == "[\"lead\", 1]");
  CHECK(show(p, run.outputs.intents[2].as_intent().idempotency_key) == "k");
  CHECK(args_of(run.outputs.intents[3]) == "[\"up\", 3]");
}

TEST_CASE("domain: rand() is a deterministic function of the seed, tick() is the tick") {
  Fixture fx = load(kCounter, "Counter");
  const auto& p = *fx.compiled.program;
  ved::vm::TestDriver driver(p);
  auto draws = [&](uint64_t seed, int64_t tick) {
    auto run = driver.run_transition("Counter", "Draw", {I(1000)}, fx.initial, 1'000'000, tick, seed);
    REQUIRE_FALSE(run.faulted);
    CHECK(field_of(p, fx.domain, run.state, "t").as_int() == tick);
    return field_of(p, fx.domain, run.state, "draws");
  };
  Value a = draws(0, 1), b = draws(0, 99), c = draws(7, 1), d = draws(7, 1);
  CHECK(show(p, a) == show(p, b));  // the tick does not feed the generator
  CHECK(show(p, c) == show(p, d));
  CHECK(show(p, a) != show(p, c));
  for (const Value* v : {&a, &c}) {
    REQUIRE(v->as_list().size() == 4);
    for (const auto& x : v->as_list()) CHECK((x.as_int() >= 0 && x.as_int() < 1000));
  }
  // A second compilation of the program draws the same numbers.
  Fixture again = load(kCounter, "Counter");
  ved::vm::TestDriver driver2(*again.compiled.program);
  auto run = driver2.run_transition("Counter", "Draw", {I(1000)}, again.initial, 1'000'000, 1, 7);
  CHECK(show(p, field_of(p, fx.domain, run.state, "draws")) == show(p, c));
}

TEST_CASE("domain: goal predicates and invariants against given states") {
  Fixture fx = load(kCounter, "Counter");
  const auto& p = *fx.compiled.program;
  ved::vm::TestDriver driver(p);
  struct Row {
    std::string name;
    std::vector<std::pair<std::string, Value>> set;
    std::string expect;
  };
  const std::vector<Row> rows = {
      {"Three", {}, "false"},
      {"Three", {{"n", I(2)}}, "false"},
      {"Three", {{"n", I(3)}}, "true"},
      {"Three", {{"n", I(1000)}}, "true"},
      {"Labelled", {{"label", S("x")}}, "false"},
      {"Labelled", {{"log", L({S("a")})}}, "false"},
      {"Labelled", {{"label", S("x")}, {"log", L({S("a")})}}, "true"},
      {"NonNegative", {}, "true"},
      {"NonNegative", {{"n", I(-1)}}, "false"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    Value state = fx.initial;
    for (const auto& [field, v] : row.set) state = with_field(p, fx.domain, state, field, v);
    auto r = driver.evaluate("Counter", row.name, state, 1'000'000);
    REQUIRE(r.ok);
    CHECK(show(p, r.value) == row.expect);
  }
}

TEST_CASE("domain: goals over collections and observations-free helpers") {
  const char* source = R"(fn total(xs: list<int>) -> int { let s = 0 for x in xs { s += x } return s }
domain Pool {
    state { sizes: list<int>  cap: map<string, int> = {"max": 10} }
    goal Full { predicate: total(sizes) >= cap["max"] }
    goal Sane { predicate: cap["min"] <= total(sizes) }
    transition Grow() { sizes = append(sizes, len(sizes) + 1) }
}
)";
  Fixture fx = load(source, "Pool");
  const auto& p = *fx.compiled.program;
  ved::vm::TestDriver driver(p);
  Value state = fx.initial;
  std::vector<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    auto goal = driver.evaluate("Pool", "Full", state, 1'000'000);
    REQUIRE(goal.ok);
    seen.push_back(show(p, goal.value));
    auto run = driver.run_transition("Pool", "Grow", {}, state, 1'000'000);
    REQUIRE_FALSE(run.faulted);
    state = run.state;
  }
  // sizes: [] 0, [1] 1, [1,2] 3, [1,2,3] 6, [1,2,3,4] 10 >= 10
  CHECK(seen == std::vector<std::string>{"false", "false", "false", "false", "true"});
  CHECK(show(p, field_of(p, fx.domain, state, "sizes")) == "[1, 2, 3, 4, 5]");
  // A predicate can fault like any code: a missing key.
  auto sane = driver.evaluate("Pool", "Sane", state, 1'000'000);
  CHECK_FALSE(sane.ok);
  CHECK(sane.fault.kind == FaultKind::MissingKey);
  CHECK(line_col(sane.fault) == "5:28");
}
