// An external adapter, a separate program (examples/adapter/example_adapter.cpp), serves
// an effect and an observation to the real `vedvm` over ZeroMQ on loopback
// (`--adapter NAME=tcp://127.0.0.1:PORT`): examples/adapter/provision.ved provisions its
// three machines through it, the same in two runs (the adapter deduplicates by
// idempotency key), and the run replays from its journal without the adapter.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "runtime_support.h"

using namespace ved::rt;

namespace {

// A port nothing listens on right now (the kernel's choice for port 0).
int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t n = sizeof a;
  REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &n) == 0);
  ::close(s);
  return ntohs(a.sin_port);
}

std::string provision() { return std::string(VED_EXAMPLES_DIR) + "/adapter/provision.ved"; }

}  // namespace

TEST_CASE("external adapter: examples/adapter/provision.ved served by ved-example-adapter") {
  TempDir tmp;
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
  Process adapter({VED_EXAMPLE_ADAPTER, "--bind", endpoint, "--log", tmp / "adapter.log"});
  auto run_vm = [&](const std::string& dir) {
    return vedvm_run({provision(), "--data-dir", tmp / dir, "--sync=none", "--adapter",
                      "Infra.Provision=" + endpoint, "--adapter", "Infra.capacity=" + endpoint});
  };
  Result first = run_vm("a");
  CHECK_MESSAGE(first.exit_code == 0, describe(first) << "\n" << first.out << first.err);
  const auto state = state_fields(summary_instances(first.out)["Pool"]);
  CHECK(state.at("have") == "3");
  CHECK(state.at("machines") == "[\"vm-1\", \"vm-2\", \"vm-3\"]");
  // One execution per machine, each with its idempotency key.
  const std::string log = read_file(tmp.path() / "adapter.log");
  CHECK(contains(log, "pool-0"));
  CHECK(contains(log, "pool-2"));
  CHECK(std::count(log.begin(), log.end(), '\n') == 3);
  // Again in a fresh data dir: the same keys, answered from the adapter's memory.
  Result second = run_vm("b");
  CHECK(second.exit_code == 0);
  CHECK(summary_instances(second.out) == summary_instances(first.out));
  CHECK(read_file(tmp.path() / "adapter.log") == log);
  // The run replays from its journal alone (the adapter is not asked again).
  adapter.send(SIGTERM);
  CHECK(adapter.wait(std::chrono::seconds(10)).exit_code == 0);
  Result replay = vedvm_run({"replay", tmp / "a"});
  CHECK_MESSAGE(replay.exit_code == 0, replay.out << replay.err);
}

TEST_CASE("external adapter: nothing listening, or a name it does not serve, is refused at startup") {
  TempDir tmp;
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
  Result none = vedvm_run({provision(), "--data-dir", tmp / "a", "--adapter", "Infra.Provision=" + endpoint});
  CHECK(none.exit_code == 1);
  CHECK_MESSAGE(contains(none.err, "--adapter Infra.Provision=" + endpoint), none.err);
  CHECK(none.seconds < 60);
  Process adapter({VED_EXAMPLE_ADAPTER, "--bind", endpoint});
  Result undeclared = vedvm_run({provision(), "--data-dir", tmp / "b", "--adapter", "Infra.Decommission=" + endpoint});
  CHECK(undeclared.exit_code == 64);
  CHECK_MESSAGE(contains(undeclared.err, "the program has no effect or observation `Infra.Decommission`"), undeclared.err);
  Result unserved = vedvm_run({provision(), "--data-dir", tmp / "b", "--adapter", "Log.Info=" + endpoint});
  CHECK(unserved.exit_code == 64);
  CHECK_MESSAGE(contains(unserved.err, "does not serve `Log.Info`"), unserved.err);
  Result bad = vedvm_run({provision(), "--data-dir", tmp / "c", "--adapter", "Infra.Provision"});
  CHECK(bad.exit_code == 64);
  CHECK(contains(bad.err, "expected NAME=tcp://HOST:PORT"));
}
