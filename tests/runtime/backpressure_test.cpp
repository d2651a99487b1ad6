// Backpressure (runtime.md §2): a send to a full mailbox waits in the sender's outbox, the
// sender is not scheduled until it drains, and outboxes drain in instance order. Held-back
// senders sleep, filed under their target (docs/runtime.md "Held-back senders"): these
// cases check that the order of what arrives is the one the rule gives.
#include <doctest/doctest.h>

#include "runtime_support.h"

using namespace ved::rt;

namespace {

// Four producers send 4,000 messages each to one sink in the same tick: the first 10,000
// (the mailbox's capacity) arrive, Producer[2]'s last 2,000 and all of Producer[3]'s wait
// in their outboxes. The sink takes one a tick, so one held-back message drains a tick:
// Producer[2]'s first (instance order), then Producer[3]'s.
const char* kProducers = R"(
domain Starter {
    state { started: bool }
    goal Go { predicate: started  strategy: Start }
    transition Start() {
        for i in 0..4 { send Producer[i] Begin(me: i) }
        started = true
    }
}
domain Producer {
    state { sent: int }
    transition Begin(me: int) {
        for k in 0..4000 { send Sink.Take(from: me, seq: k) }
        sent = 4000
    }
}
domain Sink {
    state { got: int  last_from: int  last_seq: int  switches: int  disorder: int }
    transition Take(from: int, seq: int) {
        if got > 0 && from != last_from { switches = switches + 1 }
        if got > 0 && from == last_from && seq != last_seq + 1 { disorder = disorder + 1 }
        last_from = from
        last_seq = seq
        got = got + 1
    }
}
)";

std::string inspect(const std::string& dir) { return vedvm_run({"inspect", dir, "--json"}).out; }

}  // namespace

TEST_CASE("backpressure: held-back senders drain in instance order, one message per free slot, nothing lost") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, kProducers);
  Result r = vedvm_run({bundle, "--data-dir", tmp / "d", "--sync=none", "--quiet"});
  REQUIRE_MESSAGE(r.exit_code == 0, (r.out + r.err));
  const auto instances = inspected_instances(inspect(tmp / "d"));
  const auto& sink = instances.at("Sink").fields;
  CHECK(sink.at("got") == "16000");
  // Producer 0, then 1, then 2 (its first 2,000 in the full tick, its last 2,000 drained
  // one a tick), then 3: three changes of sender, and each sender's messages in order.
  CHECK(sink.at("switches") == "3");
  CHECK(sink.at("disorder") == "0");
  CHECK(sink.at("last_from") == "3");
  CHECK(sink.at("last_seq") == "3999");
  // Every held message was journaled as such once: 2,000 of Producer[2], 4,000 of Producer[3].
  const Result stats = vedvm_run({"stats", tmp / "d"});
  CHECK_MESSAGE(stats.out.find("backpressure: 6000") != std::string::npos, stats.out);
  // The same run again, and one stopped while senders are held back and resumed, end the same.
  REQUIRE(vedvm_run({bundle, "--data-dir", tmp / "again", "--sync=none", "--quiet"}).exit_code == 0);
  CHECK(inspect(tmp / "again") == inspect(tmp / "d"));
  vedvm_run({bundle, "--data-dir", tmp / "cut", "--sync=none", "--quiet", "--max-ticks", "3000"});
  REQUIRE(vedvm_run({bundle, "--data-dir", tmp / "cut", "--sync=none", "--quiet"}).exit_code == 0);
  CHECK(inspect(tmp / "cut") == inspect(tmp / "d"));
}

TEST_CASE("group commit: the size of the groups changes nothing a run computes or journals") {
  TempDir tmp;
  const std::string bundle = compile_source(tmp, kProducers);
  std::string reference_inspect, reference_stats, reference_tick;
  for (const char* group_ms : {"0", "5", "10000"}) {
    INFO("--group-ms " << group_ms);
    const std::string dir = tmp / (std::string("g") + group_ms);
    Result r = vedvm_run({bundle, "--data-dir", dir, "--sync=tick", "--quiet", "--group-ms", group_ms});
    REQUIRE_MESSAGE(r.exit_code == 0, (r.out + r.err));
    const std::string stats = vedvm_run({"stats", dir}).out;
    const std::string json = inspect(dir);
    // A tick in the middle of the drain, as the journal has it.
    const std::string tick = vedvm_run({"inspect", dir, "--tick", "5000"}).out;
    CHECK(vedvm_run({"replay", dir}).exit_code == 0);
    if (reference_inspect.empty()) {
      reference_inspect = json;
      reference_stats = stats.substr(0, stats.find("slice time"));
      reference_tick = tick;
      CHECK(!tick.empty());
      continue;
    }
    CHECK(json == reference_inspect);
    CHECK(stats.substr(0, stats.find("slice time")) == reference_stats);
    CHECK(tick == reference_tick);
  }
}
