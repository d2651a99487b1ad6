// Real `vedvm node` processes on loopback (tests/cluster/process_cluster.h): 3- and 5-node
// clusters formed with --bootstrap and --join; submission; kill -9 of the leader and a
// restart that catches up; quorum loss reported within the client's timeout; a paused
// (SIGSTOP) leader replaced and stepping down after SIGCONT; a graceful leave of the
// leader; CURVE with an untrusted key and with --insecure mixed in. Hostile traffic is in
// hostile_traffic_test.cpp, status --json against its schema in status_json_test.cpp.
#include <doctest/doctest.h>

#include <set>

#include "cluster/wire_message.h"
#include "process_cluster.h"

using namespace ved::cluster;
using namespace ved::cluster::test;
using nlohmann::json;

namespace {

const std::string kProgram = std::string(VED_EXAMPLES_DIR) + "/hello.ved";

}  // namespace

TEST_CASE("3 nodes: submit, kill -9 the leader, a new leader, the program everywhere, the restarted node catches up") {
  ProcessCluster c(VED_VEDVM);
  form(c, 3);
  auto submitted = c.vedvm({"--join", c.address(2), kProgram});
  REQUIRE_MESSAGE(submitted.exit_code == 0, submitted.err);
  CHECK(submitted.out.find("submitted hello as program ") == 0);
  for (int i = 1; i <= 3; ++i) CHECK(ProcessCluster::wait_until([&] { return programs_on(c, i) == 1; }, 10000));

  const int old_leader = leader_of(c, {1, 2, 3});
  REQUIRE(old_leader > 0);
  c.kill9(old_leader);
  std::vector<int> rest;
  for (int i = 1; i <= 3; ++i)
    if (i != old_leader) rest.push_back(i);
  int new_leader = -1;
  REQUIRE(ProcessCluster::wait_until([&] { return (new_leader = leader_of(c, rest)) > 0; }, 15000));
  CHECK(new_leader != old_leader);
  for (int i : rest) CHECK(programs_on(c, i) == 1);
  auto again = c.vedvm({"--join", c.address(rest[0]), kProgram});
  REQUIRE_MESSAGE(again.exit_code == 0, again.err);

  c.start(old_leader, {});  // same data dir, no --bootstrap/--join: rejoins as itself
  const bool caught_up = ProcessCluster::wait_until(
      [&] {
        std::set<std::string> views;
        for (int i = 1; i <= 3; ++i) {
          auto row = c.self_row(i);
          if (row.is_null() || row["applied_index"].is_null()) return false;
          views.insert(row["commit_index"].dump() + "/" + row["applied_index"].dump() + "/" + row["digest"].dump());
        }
        return views.size() == 1 && programs_on(c, old_leader) == 2;
      },
      20000);
  CHECK_MESSAGE(caught_up, "restarted node log:\n" << read_file(c.node(old_leader).log));
}

TEST_CASE("5 nodes: with 2 killed commits continue, with 3 killed a submission fails with the quorum message in time") {
  ProcessCluster c(VED_VEDVM);
  form(c, 5);
  const int leader = leader_of(c, {1, 2, 3, 4, 5});
  REQUIRE(leader > 0);
  std::vector<int> followers;
  for (int i = 1; i <= 5; ++i)
    if (i != leader) followers.push_back(i);
  c.kill9(followers[0]);
  c.kill9(followers[1]);
  auto ok = c.vedvm({"--join", c.address(leader), kProgram});
  CHECK_MESSAGE(ok.exit_code == 0, ok.err);
  c.kill9(leader);
  auto fails = c.vedvm({"--join", c.address(followers[2]), kProgram, "--timeout", "3000"}, 15000);
  CHECK(fails.exit_code == 1);
  CHECK(fails.err.find("no quorum answered within 3 s") != std::string::npos);
  CHECK(fails.elapsed_ms < 3000 + 2500);  // the timeout, plus starting a process
  // The member asked says it has no quorum.
  auto status = c.vedvm({"status", "--join", c.address(followers[3])});
  CHECK(status.exit_code == 2);
  CHECK(status.out.find("has no quorum") != std::string::npos);
}

TEST_CASE("3 nodes: a leader paused past the failure timeout is replaced and reported DOWN, resumed, it steps down") {
  ProcessCluster c(VED_VEDVM);
  form(c, 3);
  const int leader = leader_of(c, {1, 2, 3});
  REQUIRE(leader > 0);
  std::vector<int> rest;
  for (int i = 1; i <= 3; ++i)
    if (i != leader) rest.push_back(i);
  kill(c.node(leader).pid, SIGSTOP);
  int new_leader = -1;
  REQUIRE(ProcessCluster::wait_until([&] { return (new_leader = leader_of(c, rest)) > 0; }, 15000));
  // The new leader reports the paused one DOWN once --failure-timeout (1 s) has passed.
  CHECK(ProcessCluster::wait_until(
      [&] {
        auto s = c.status(new_leader);
        if (s.is_null()) return false;
        for (const auto& m : s["members"])
          if (m["address"] == c.address(leader)) return m["state"] == "DOWN";
        return false;
      },
      10000));
  kill(c.node(leader).pid, SIGCONT);
  CHECK_MESSAGE(ProcessCluster::wait_until(
      [&] {
        auto row = c.self_row(leader);
        auto other = c.self_row(new_leader);
        return !row.is_null() && !other.is_null() && row["raft_state"] == "follower" && row["term"] == other["term"] &&
               row["state"] == "ACTIVE";
      },
      15000),
      "resumed node: " << c.self_row(leader).dump() << "\nnew leader: " << c.self_row(new_leader).dump()
                       << "\nits log:\n" << read_file(c.node(leader).log) << "\nnew leader log:\n" << read_file(c.node(new_leader).log));
}

TEST_CASE("3 nodes: the leader leaves gracefully, the two others go on") {
  ProcessCluster c(VED_VEDVM);
  form(c, 3);
  const int leader = leader_of(c, {1, 2, 3});
  REQUIRE(leader > 0);
  const int other = leader == 1 ? 2 : 1;
  const auto leader_id = c.self_row(leader)["node"].get<uint64_t>();
  auto left = c.vedvm({"leave", "--join", c.address(other), std::to_string(leader_id)});
  REQUIRE_MESSAGE(left.exit_code == 0, left.err << read_file(c.node(leader).log));
  CHECK(c.wait_exit(leader, 10000) == 0);
  CHECK(ProcessCluster::wait_until([&] { return voters_are(c, other, 2); }, 10000));
  auto ok = c.vedvm({"--join", c.address(other), kProgram});
  CHECK_MESSAGE(ok.exit_code == 0, ok.err);
}

TEST_CASE("CURVE: members and a trusted client work, an untrusted key is refused and logged, --insecure mixed in is refused") {
  ScratchDir keys;
  for (const char* who : {"n1", "n2", "client", "intruder"}) {
    ProcessCluster k(VED_VEDVM, {});
    auto r = k.vedvm({"keygen", "--out", keys / who}, 10000, nullptr);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }
  // The trust dir: one sub-folder per trusted participant (the intruder is not there).
  for (const char* who : {"n1", "n2", "client"}) {
    std::filesystem::create_directories(keys / (std::string("trust/") + who));
    std::filesystem::copy_file(keys / (std::string(who) + "/public.key"), keys / (std::string("trust/") + who + "/public.key"));
  }
  const std::string trust = keys / "trust";
  ProcessCluster c(VED_VEDVM, {"--key", keys / "client", "--trust", trust});
  c.start(1, {"--bootstrap"}, {"--key", keys / "n1", "--trust", trust});
  REQUIRE(ProcessCluster::wait_until([&] { return voters_are(c, 1, 1); }, 15000));
  c.start(2, {"--join", c.address(1)}, {"--key", keys / "n2", "--trust", trust});
  REQUIRE_MESSAGE(ProcessCluster::wait_until([&] { return voters_are(c, 1, 2); }, 30000), read_file(c.node(2).log));
  auto ok = c.vedvm({"--join", c.address(2), kProgram});
  CHECK_MESSAGE(ok.exit_code == 0, ok.err);

  const std::vector<std::string> intruder = {"--key", keys / "intruder", "--trust", trust};
  auto refused = c.vedvm({"status", "--join", c.address(1)}, 15000, &intruder);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("refused") != std::string::npos);
  CHECK(ProcessCluster::wait_until([&] {
    std::string intruder_key = read_file(keys / "intruder/public.key");
    intruder_key.pop_back();
    return read_file(c.node(1).log).find("key " + intruder_key + " is not in --trust") != std::string::npos;
  }, 5000));

  const std::vector<std::string> plaintext = {"--insecure"};
  auto mixed = c.vedvm({"status", "--join", c.address(1)}, 15000, &plaintext);
  CHECK(mixed.exit_code == 1);
  CHECK(mixed.err.find("--insecure on every participant") != std::string::npos);
  // A node started --insecure cannot join the CURVE cluster, and says why.
  c.start(3, {"--join", c.address(1)}, {"--insecure"});
  CHECK(c.wait_exit(3, 40000) == 1);
  CHECK(read_file(c.node(3).log).find("--insecure on every participant") != std::string::npos);
}

TEST_CASE("CURVE: a node whose key is not in the members' trust dirs cannot join, the refusal is logged with its key") {
  ScratchDir keys;
  for (const char* who : {"n1", "n2", "client", "rogue"}) {
    ProcessCluster k(VED_VEDVM, {});
    auto r = k.vedvm({"keygen", "--out", keys / who}, 10000, nullptr);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }
  // The members trust each other and the client; the rogue node trusts them all (so it
  // can authenticate the member it asks), but nobody trusts the rogue node.
  for (const char* who : {"n1", "n2", "client"}) {
    std::filesystem::create_directories(keys / (std::string("trust/") + who));
    std::filesystem::copy_file(keys / (std::string(who) + "/public.key"), keys / (std::string("trust/") + who + "/public.key"));
  }
  const std::string trust = keys / "trust";
  ProcessCluster c(VED_VEDVM, {"--key", keys / "client", "--trust", trust});
  c.start(1, {"--bootstrap"}, {"--key", keys / "n1", "--trust", trust});
  REQUIRE(ProcessCluster::wait_until([&] { return voters_are(c, 1, 1); }, 15000));
  c.start(2, {"--join", c.address(1)}, {"--key", keys / "n2", "--trust", trust});
  REQUIRE_MESSAGE(ProcessCluster::wait_until([&] { return voters_are(c, 1, 2); }, 30000), read_file(c.node(2).log));

  c.start(3, {"--join", c.address(2)}, {"--key", keys / "rogue", "--trust", trust});
  CHECK(c.wait_exit(3, 40000) == 1);
  const std::string rogue_log = read_file(c.node(3).log);
  CHECK_MESSAGE(rogue_log.find("cannot join through " + c.address(2)) != std::string::npos, rogue_log);
  CHECK_MESSAGE(rogue_log.find("refused") != std::string::npos, rogue_log);
  std::string rogue_key = read_file(keys / "rogue/public.key");
  rogue_key.pop_back();  // the trailing newline
  CHECK_MESSAGE(ProcessCluster::wait_until(
                    [&] { return read_file(c.node(2).log).find("key " + rogue_key + " is not in --trust") != std::string::npos; },
                    5000),
                read_file(c.node(2).log));
  // The cluster is as it was: two voters, the rogue node's address nowhere, still committing.
  auto s = c.status(1);
  REQUIRE_FALSE(s.is_null());
  CHECK(voters_are(c, 1, 2));
  CHECK(s["members"].size() == 2);
  for (const auto& m : s["members"]) CHECK(m["address"] != c.address(3));
  auto ok = c.vedvm({"--join", c.address(1), kProgram});
  CHECK_MESSAGE(ok.exit_code == 0, ok.err);
}
