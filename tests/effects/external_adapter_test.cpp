// External adapters against the real example adapter process (examples/adapter/): hello,
// concurrent requests matched to their own replies, deduplication by idempotency key,
// observations, a killed and restarted adapter, and an endpoint where nothing listens.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "effects_support.h"
#include "external_support.h"
#include "vm/effects/external_adapter.h"

namespace ved::effects_test {
namespace {

using vm::Value;

const char* kProgram = R"(
effect Infra.Provision(size: string) -> string : infrastructure
observe Infra.capacity() -> int
@privilege infrastructure
domain D {
    state { n: int }
    transition Step() { n = n + 1 }
}
)";

vm::EffectRequest provision(const vm::Program& p, const std::string& intent, std::optional<std::string> key,
                            const std::string& size = "small", uint32_t attempt = 1) {
  vm::EffectRequest r = request_for(p, "Infra.Provision", {Value::string(size)});
  r.intent_id = intent;
  r.idempotency_key = std::move(key);
  r.attempt = attempt;
  return r;
}

std::string describe(const vm::EffectOutcome& o) {
  if (!o.ok) return "failed " + o.code + (o.retryable ? " (retryable)" : "") + ": " + o.message;
  return o.value.tag() == vm::Tag::String ? "ok " + o.value.as_string() : "ok ?";
}

// The log's lines as (intent, key, effect).
std::vector<std::vector<std::string>> log_entries(const std::string& path) {
  std::vector<std::vector<std::string>> out;
  for (const auto& line : read_lines(path)) {
    std::istringstream in(line);
    std::vector<std::string> fields;
    std::string field;
    while (in >> field) fields.push_back(field);
    out.push_back(fields);
  }
  return out;
}

TEST_CASE("the example adapter: hello, concurrent requests, deduplication, observation, clean exit") {
  auto p = compile_program(kProgram);
  ScratchDir dir;
  const std::string log = (dir.path() / "adapter.log").string();
  AdapterProcess process({"--bind", "tcp://127.0.0.1:0", "--log", log, "--capacity", "100"});
  REQUIRE(process.endpoint().rfind("tcp://127.0.0.1:", 0) == 0);

  std::string error;
  auto adapter = vm::connect_external_adapter(*p, process.endpoint(), 5000, error);
  REQUIRE_MESSAGE(adapter, error);
  CHECK(adapter->effects() == std::vector<std::string>{"Infra.Provision"});
  CHECK(adapter->observations() == std::vector<std::string>{"Infra.capacity"});
  CHECK(adapter->adapter_name() == "ved-example-adapter");
  CHECK_FALSE(adapter->between_ticks());

  // 8 threads, 6 intents each, all in flight together: every reply must reach the request
  // it answers. The adapter numbers machines in the order it executes them and logs that
  // order, so the n-th log line's intent must have been answered "vm-n".
  constexpr int kThreads = 8, kEach = 6;
  std::vector<std::vector<vm::EffectOutcome>> outcomes(kThreads);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          const std::string intent = std::to_string(t) + "-" + std::to_string(i);
          outcomes[static_cast<size_t>(t)].push_back(adapter->execute(provision(*p, intent, "key-" + intent)));
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  auto entries = log_entries(log);
  REQUIRE(entries.size() == kThreads * kEach);
  std::map<std::string, int> line_of_intent;
  for (size_t n = 0; n < entries.size(); ++n) {
    REQUIRE(entries[n].size() == 3);
    CHECK(entries[n][1] == "key-" + entries[n][0]);
    CHECK(entries[n][2] == "Infra.Provision");
    line_of_intent[entries[n][0]] = static_cast<int>(n) + 1;
  }
  std::set<std::string> answers;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      const auto& o = outcomes[static_cast<size_t>(t)][static_cast<size_t>(i)];
      const std::string intent = std::to_string(t) + "-" + std::to_string(i);
      REQUIRE_MESSAGE(o.ok, describe(o));
      CHECK(o.value.as_string() == "vm-" + std::to_string(line_of_intent[intent]));
      answers.insert(o.value.as_string());
    }
  }
  CHECK(answers.size() == kThreads * kEach);

  // The same key: the same answer, executed once, also when the VM re-sends the intent
  // after a crash (same intent id, attempt 2), and when four threads race with it.
  const auto first = adapter->execute(provision(*p, "100-1", "once"));
  REQUIRE(first.ok);
  CHECK(first.value.as_string() == "vm-49");
  CHECK(describe(adapter->execute(provision(*p, "100-1", "once", "small", 2))) == "ok vm-49");
  {
    std::vector<std::thread> racers;
    std::vector<std::string> seen(4);
    for (size_t t = 0; t < 4; ++t)
      racers.emplace_back([&, t] { seen[t] = describe(adapter->execute(provision(*p, "101-" + std::to_string(t), "race"))); });
    for (auto& th : racers) th.join();
    for (const auto& s : seen) CHECK(s == "ok vm-50");
  }
  entries = log_entries(log);
  int once = 0, race = 0;
  for (const auto& e : entries) {
    once += e[1] == "once";
    race += e[1] == "race";
  }
  CHECK(once == 1);
  CHECK(race == 1);
  CHECK(entries.size() == 50);

  // No key: every intent executes.
  CHECK(describe(adapter->execute(provision(*p, "102-1", std::nullopt))) == "ok vm-51");
  CHECK(describe(adapter->execute(provision(*p, "102-2", std::nullopt))) == "ok vm-52");
  CHECK(log_entries(log).back() == std::vector<std::string>{"102-2", "-", "Infra.Provision"});

  // The adapter's own failures come through with its code, message and retryable flag.
  CHECK(describe(adapter->execute(provision(*p, "103-1", "bad", "huge"))) ==
        "failed invalid_size: size must be small, medium or large, not `huge`");

  // The observation: 100 machines, 52 provisioned.
  Value capacity;
  REQUIRE_MESSAGE(adapter->sample("Infra.capacity", {}, p->observations[0].result, capacity, error), error);
  REQUIRE(capacity.tag() == vm::Tag::Int);
  CHECK(capacity.as_int() == 48);

  // SIGTERM: a clean exit.
  adapter.reset();
  CHECK(process.terminate() == 0);
}

TEST_CASE("a killed adapter fails requests within the timeout, retryably, a restarted one is found again") {
  auto p = compile_program(kProgram);
  ScratchDir dir;
  const std::string log = (dir.path() / "adapter.log").string();
  auto process = std::make_unique<AdapterProcess>(std::vector<std::string>{"--bind", "tcp://127.0.0.1:0", "--log", log});
  const std::string endpoint = process->endpoint();
  std::string error;
  auto adapter = vm::connect_external_adapter(*p, endpoint, 1000, error);
  REQUIRE_MESSAGE(adapter, error);
  CHECK(describe(adapter->execute(provision(*p, "1-0", "k1"))) == "ok vm-1");

  process->kill();
  for (int i = 0; i < 2; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto o = adapter->execute(provision(*p, "2-" + std::to_string(i), "k2"));
    const auto took = elapsed_ms(start);
    CHECK_FALSE(o.ok);
    CHECK(o.retryable);
    CHECK_MESSAGE((o.code == "adapter" || o.code == "timeout"), describe(o));
    CHECK(took < 1000 + 500);
  }
  Value v;
  CHECK_FALSE(adapter->sample("Infra.capacity", {}, p->observations[0].result, v, error));
  CHECK(error.find(endpoint) != std::string::npos);

  // Back on the same port, with the same log: the connection comes back by itself, and
  // the key answered before the crash is answered the same without executing again.
  process = std::make_unique<AdapterProcess>(std::vector<std::string>{"--bind", endpoint, "--log", log});
  adapter->set_request_timeout_ms(5000);
  CHECK(describe(adapter->execute(provision(*p, "1-0", "k1", "small", 2))) == "ok vm-1");
  CHECK(describe(adapter->execute(provision(*p, "3-0", "k3"))) == "ok vm-2");
  CHECK(read_lines(log).size() == 2);
  adapter.reset();
  CHECK(process->terminate() == 0);
}

TEST_CASE("connecting where nothing listens fails at connect, clearly and within the timeout") {
  auto p = compile_program(kProgram);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  auto adapter = vm::connect_external_adapter(*p, endpoint, 500, error);
  CHECK(adapter == nullptr);
  CHECK(elapsed_ms(start) < 500 + 500);
  CHECK(error == "cannot reach the adapter at " + endpoint +
                     ": no connection within 500 ms (is it running and listening there?)");

  CHECK(vm::connect_external_adapter(*p, "http://127.0.0.1:80", 500, error) == nullptr);
  CHECK(error == "`http://127.0.0.1:80` is not an adapter endpoint (tcp://HOST:PORT or ipc://PATH)");
  CHECK(vm::connect_external_adapter(*p, "tcp://127.0.0.1:notaport", 500, error) == nullptr);
  CHECK(error.find("cannot connect to `tcp://127.0.0.1:notaport`") == 0);
}

TEST_CASE("the example program compiles and declares what the example adapter serves") {
  std::ifstream in(std::string(VED_SOURCE_ROOT) + "/examples/adapter/provision.ved");
  REQUIRE(in);
  std::stringstream source;
  source << in.rdbuf();
  auto p = compile_program(source.str());
  const auto& e = p->effects[effect_index(*p, "Infra.Provision")];
  CHECK(e.privilege == 3);  // infrastructure
  CHECK(p->types[e.result].kind == vm::TypeKind::String);
  bool capacity = false;
  for (const auto& o : p->observations) capacity = capacity || (o.name == "Infra.capacity" && p->types[o.result].kind == vm::TypeKind::Int);
  CHECK(capacity);
}

}  // namespace
}  // namespace ved::effects_test
