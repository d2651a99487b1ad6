// Network partitions of real `vedvm node` processes on loopback (process_cluster.h). Each
// node runs with the testing-only --partition-file (cluster/partition_filter.h): the test
// writes, per node, the addresses whose Raft traffic that node drops both ways, which
// cuts the cluster into sides while every process stays alive and every client can still
// ask any member. Checked: a majority side keeps committing and a minority side commits
// nothing and says so (no leader, status exit 2, a submission fails with the quorum
// message within its --timeout); an isolated leader steps down (libraft 0.15's leader
// check: an election timeout without hearing from a majority of voters converts it to
// follower); after healing, every node has the same commit index, applied index, digest
// and programs; flapping partitions under continuous submissions lose nothing that was
// acknowledged; a malformed partition file is reported and the previous list kept.
// Every wait is bounded; nothing asserts how fast anything happens.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "process_cluster.h"

using namespace ved::cluster;
using namespace ved::cluster::test;
using nlohmann::json;

namespace {

const std::string kProgram = std::string(VED_EXAMPLES_DIR) + "/hello.ved";

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// How many partition lists node i has put in force (one log line each).
size_t lists_applied(ProcessCluster& c, int i) {
  return count_of(read_file(c.node(i).log), "partition (testing): dropping ");
}

// Writes every node's partition file so that each of `sides` talks only among itself
// (nodes of `all` on no side are cut off from everyone), and waits until every node
// logged the new list.
void split(ProcessCluster& c, const std::vector<int>& all, const std::vector<std::vector<int>>& sides) {
  std::map<int, size_t> before;
  for (int i : all) before[i] = lists_applied(c, i);
  for (int i : all) {
    std::vector<int> mine;
    for (const auto& side : sides)
      if (std::find(side.begin(), side.end(), i) != side.end()) mine = side;
    std::string text = "# written by partition_test\n";
    for (int j : all)
      if (j != i && std::find(mine.begin(), mine.end(), j) == mine.end()) text += c.address(j) + "\n";
    c.write_partition_file(i, text);
  }
  for (int i : all)
    REQUIRE_MESSAGE(ProcessCluster::wait_until([&] { return lists_applied(c, i) > before[i]; }, 5000),
                    "node " << i << " did not take up its partition file; its log:\n" << read_file(c.node(i).log));
}

void heal(ProcessCluster& c, const std::vector<int>& all) { split(c, all, {all}); }

// The program ids member i lists (empty if it does not answer).
std::set<uint64_t> program_ids(ProcessCluster& c, int i) {
  std::set<uint64_t> ids;
  auto s = c.status(i);
  if (s.is_null()) return ids;
  for (const auto& p : s["programs"]) ids.insert(p["id"].get<uint64_t>());
  return ids;
}

// The program id in `vedvm --join`'s answer ("submitted NAME as program ID ...").
uint64_t submitted_id(const CommandResult& r) {
  const std::string marker = " as program ";
  const size_t at = r.out.find(marker);
  return at == std::string::npos ? 0 : std::stoull(r.out.substr(at + marker.size()));
}

// Whether member `asked` has no quorum: it knows no leader, and `vedvm status` says so
// with exit 2.
bool has_no_quorum(ProcessCluster& c, int asked) {
  auto r = c.vedvm({"status", "--join", c.address(asked)}, 10000);
  if (r.exit_code != 2 || r.out.find("has no quorum") == std::string::npos) return false;
  auto s = c.status(asked);
  return !s.is_null() && s["leader"].is_null() && !s["asked"]["quorum"].get<bool>();
}

// Every member answers (as `asked` sees it) with the same commit index, applied index and
// digest, and every member lists exactly `programs`.
bool converged(ProcessCluster& c, const std::vector<int>& all, int asked, const std::set<uint64_t>& programs,
               std::string& view) {
  auto s = c.status(asked);
  if (s.is_null()) return false;
  view = s.dump();
  std::set<std::string> states;
  for (const auto& m : s["members"]) {
    if (!m["reachable"].get<bool>() || m["applied_index"].is_null()) return false;
    states.insert(m["commit_index"].dump() + "/" + m["applied_index"].dump() + "/" + m["digest"].dump());
  }
  if (states.size() != 1 || s["members"].size() != all.size()) return false;
  for (int i : all)
    if (program_ids(c, i) != programs) return false;
  return true;
}

std::string logs(ProcessCluster& c, const std::vector<int>& all) {
  std::string out;
  for (int i : all) out += "--- node " + std::to_string(i) + " log:\n" + read_file(c.node(i).log);
  return out;
}

}  // namespace

TEST_CASE("partition: 5 nodes split 2|3 with the leader in the 2: the 3 elect and commit, the 2 have no quorum, healed all converge") {
  ProcessCluster c(VED_VEDVM);
  c.use_partition_files();
  const std::vector<int> all = {1, 2, 3, 4, 5};
  form(c, 5);
  auto first = c.vedvm({"--join", c.address(1), kProgram});
  REQUIRE_MESSAGE(first.exit_code == 0, first.err);
  std::set<uint64_t> programs = {submitted_id(first)};
  const int old_leader = leader_of(c, all);
  REQUIRE(old_leader > 0);
  // The minority: the leader and one follower.
  std::vector<int> minority = {old_leader}, majority;
  for (int i : all)
    if (i != old_leader) (minority.size() < 2 ? minority : majority).push_back(i);
  REQUIRE(ProcessCluster::wait_until([&] { return program_ids(c, minority[1]) == programs; }, 10000));

  split(c, all, {minority, majority});
  int new_leader = -1;
  REQUIRE_MESSAGE(ProcessCluster::wait_until([&] { return (new_leader = leader_of(c, majority)) > 0; }, 20000),
                  logs(c, all));
  CHECK(std::find(majority.begin(), majority.end(), new_leader) != majority.end());
  // The minority: no leader (the old one stepped down), status exit 2, DEGRADED.
  for (int i : minority) {
    CHECK_MESSAGE(ProcessCluster::wait_until([&] { return has_no_quorum(c, i); }, 20000), logs(c, all));
    CHECK(c.self_row(i)["state"] == "DEGRADED");
  }
  CHECK(c.self_row(old_leader)["raft_state"] != "leader");
  // The majority commits, asked through any of its members.
  for (int i : {majority[0], majority[2]}) {
    auto ok = c.vedvm({"--join", c.address(i), kProgram});
    REQUIRE_MESSAGE(ok.exit_code == 0, ok.err);
    programs.insert(submitted_id(ok));
  }
  CHECK(programs.size() == 3);
  // A submission through the minority fails with the quorum message, within its timeout.
  auto refused = c.vedvm({"--join", c.address(minority[1]), kProgram, "--timeout", "3000"}, 15000);
  CHECK(refused.exit_code == 1);
  CHECK_MESSAGE(refused.err.find("no quorum answered within 3 s") != std::string::npos, refused.err);
  CHECK(refused.elapsed_ms < 3000 + 2500);  // the timeout, plus starting a process: no hang
  for (int i : minority) {
    CHECK(program_ids(c, i).size() == 1);  // the minority committed nothing new
    CHECK(has_no_quorum(c, i));
  }

  heal(c, all);
  std::string view;
  CHECK_MESSAGE(ProcessCluster::wait_until([&] { return converged(c, all, majority[0], programs, view); }, 30000),
                view << "\n" << logs(c, all));
  // The healed minority is a full member again: a submission through it commits.
  auto after = c.vedvm({"--join", c.address(minority[0]), kProgram});
  CHECK_MESSAGE(after.exit_code == 0, after.err);
}

TEST_CASE("partition: 3 nodes, the leader isolated alone: the two elect a new leader and commit, the old one steps down, healed it has the new entries") {
  ProcessCluster c(VED_VEDVM);
  c.use_partition_files();
  const std::vector<int> all = {1, 2, 3};
  form(c, 3);
  const int old_leader = leader_of(c, all);
  REQUIRE(old_leader > 0);
  const uint64_t old_term = c.self_row(old_leader)["term"].get<uint64_t>();
  std::vector<int> rest;
  for (int i : all)
    if (i != old_leader) rest.push_back(i);

  split(c, all, {{old_leader}, rest});
  int new_leader = -1;
  REQUIRE_MESSAGE(ProcessCluster::wait_until([&] { return (new_leader = leader_of(c, rest)) > 0; }, 20000),
                  logs(c, all));
  CHECK(new_leader != old_leader);
  auto ok = c.vedvm({"--join", c.address(rest[0]), kProgram});
  REQUIRE_MESSAGE(ok.exit_code == 0, ok.err);
  const std::set<uint64_t> programs = {submitted_id(ok)};
  // libraft 0.15 (tickLeader): a leader that has not heard from a majority of voters for
  // an election timeout converts to follower. Pre-vote keeps its term where it was: an
  // isolated node's pre-votes are never granted, so it never starts a real election.
  CHECK_MESSAGE(ProcessCluster::wait_until(
                    [&] {
                      auto row = c.self_row(old_leader);
                      return !row.is_null() && row["raft_state"] != "leader";
                    },
                    10000),
                c.self_row(old_leader).dump() << "\n" << read_file(c.node(old_leader).log));
  CHECK(ProcessCluster::wait_until([&] { return has_no_quorum(c, old_leader); }, 10000));
  CHECK(c.self_row(old_leader)["term"].get<uint64_t>() == old_term);
  CHECK(program_ids(c, old_leader).empty());

  heal(c, all);
  std::string view;
  CHECK_MESSAGE(ProcessCluster::wait_until([&] { return converged(c, all, old_leader, programs, view); }, 30000),
                view << "\n" << logs(c, all));
  // Back as a follower of the new leader (pre-vote: its return did not depose anyone).
  CHECK(ProcessCluster::wait_until(
      [&] {
        auto row = c.self_row(old_leader);
        return !row.is_null() && row["raft_state"] == "follower" && leader_of(c, all) == new_leader;
      },
      10000));
}

TEST_CASE("partition: flapping 2|3 splits under continuous submissions lose no acknowledged submission, digests agree") {
  ProcessCluster c(VED_VEDVM);
  c.use_partition_files();
  const std::vector<int> all = {1, 2, 3, 4, 5};
  form(c, 5);

  // Submissions, one after another, through each member in turn, until told to stop.
  std::atomic<bool> stop{false};
  std::vector<CommandResult> results;
  std::thread submitter([&] {
    for (int k = 0; !stop; ++k) {
      const int through = all[static_cast<size_t>(k) % all.size()];
      results.push_back(c.vedvm({"--join", c.address(through), kProgram, "--timeout", "3000"}, 15000));
    }
  });
  struct JoinOnExit {
    std::thread& t;
    std::atomic<bool>& stop;
    ~JoinOnExit() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join_on_exit{submitter, stop};

  // Four splits, each minority a different pair (the leader is in some of them), each
  // held until the majority has a leader and the minority knows it has none, each healed
  // until the whole cluster has a leader again.
  for (int round = 0; round < 4; ++round) {
    const std::vector<int> minority = {round + 1, round + 2};
    std::vector<int> majority;
    for (int i : all)
      if (i != minority[0] && i != minority[1]) majority.push_back(i);
    split(c, all, {minority, majority});
    CHECK_MESSAGE(ProcessCluster::wait_until([&] { return leader_of(c, majority) > 0; }, 20000), logs(c, all));
    for (int i : minority) CHECK(ProcessCluster::wait_until([&] { return has_no_quorum(c, i); }, 20000));
    heal(c, all);
    CHECK(ProcessCluster::wait_until([&] { return leader_of(c, all) > 0; }, 20000));
  }
  stop = true;
  submitter.join();

  std::set<uint64_t> acknowledged;
  size_t failed = 0;
  for (const auto& r : results) {
    if (r.exit_code == 0) {
      const uint64_t id = submitted_id(r);
      CHECK_MESSAGE(id > 0, r.out);
      acknowledged.insert(id);
    } else {
      ++failed;
      CHECK_MESSAGE(r.exit_code == 1, r.err);  // refused or timed out, never killed by the harness
    }
  }
  MESSAGE(results.size() << " submissions: " << acknowledged.size() << " acknowledged, " << failed << " failed");
  CHECK(!acknowledged.empty());
  // Every acknowledged submission is on every node; every node lists the same programs
  // (a submission that timed out may still have committed: then it is listed everywhere).
  std::string view;
  std::set<uint64_t> listed;
  CHECK_MESSAGE(ProcessCluster::wait_until(
                    [&] {
                      listed = program_ids(c, 1);
                      return converged(c, all, 1, listed, view);
                    },
                    30000),
                view << "\n" << logs(c, all));
  for (uint64_t id : acknowledged) CHECK_MESSAGE(listed.count(id) == 1, "program " << id << " acknowledged, not listed");
}

TEST_CASE("partition: a malformed partition file is reported and the previous list kept, the node keeps running") {
  ProcessCluster c(VED_VEDVM);
  c.use_partition_files();
  const std::vector<int> all = {1, 2, 3};
  form(c, 3);
  const int leader = leader_of(c, all);
  REQUIRE(leader > 0);
  const int cut = leader == 3 ? 2 : 3;  // a follower
  const int other = 6 - leader - cut;
  // Only `cut` drops anything: its isolation rests on its own list alone.
  const size_t applied = lists_applied(c, cut);
  c.write_partition_file(cut, c.address(leader) + ", " + c.address(other) + "\n");
  REQUIRE(ProcessCluster::wait_until([&] { return lists_applied(c, cut) > applied; }, 5000));
  REQUIRE(ProcessCluster::wait_until([&] { return has_no_quorum(c, cut); }, 20000));

  c.write_partition_file(cut, c.address(leader) + "\n127.0.0.1:notaport\n");
  const std::string expected = "partition (testing): error: " + c.partition_file(cut) +
                               ": line 2: `127.0.0.1:notaport` is neither a node id nor HOST:PORT; keeping the previous list";
  CHECK_MESSAGE(ProcessCluster::wait_until([&] { return read_file(c.node(cut).log).find(expected) != std::string::npos; },
                                           5000),
                read_file(c.node(cut).log));
  CHECK(lists_applied(c, cut) == applied + 1);  // no new list taken up
  // Still cut off (a cleared list would have let it back within an election timeout or
  // two), still serving its clients.
  auto ok = c.vedvm({"--join", c.address(other), kProgram});
  REQUIRE_MESSAGE(ok.exit_code == 0, ok.err);
  const std::set<uint64_t> programs = {submitted_id(ok)};
  for (int check = 0; check < 3; ++check) {
    CHECK(has_no_quorum(c, cut));
    CHECK(program_ids(c, cut).empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  CHECK(c.running(cut));

  // A node id that cannot be one is refused alike.
  c.write_partition_file(cut, "0\n");
  CHECK(ProcessCluster::wait_until(
      [&] { return read_file(c.node(cut).log).find(": line 1: `0` is not a node id") != std::string::npos; }, 5000));
  CHECK(c.running(cut));

  // A valid (empty) list heals it.
  c.write_partition_file(cut, "# nothing dropped\n");
  std::string view;
  CHECK_MESSAGE(ProcessCluster::wait_until([&] { return converged(c, all, leader, programs, view); }, 30000),
                view << "\n" << logs(c, all));
  CHECK(read_file(c.node(cut).log).find("partition (testing): dropping no traffic") != std::string::npos);
}

// A program's owner cut off from the other two (docs/cluster.md "Running a program",
// DEGRADED): it reports DEGRADED, stops the program and fires no effect while cut off
// (the program writes a file every 500 hops under each node's --fs-root: the cut-off
// node's count does not move); the two others take the program over and end it as one
// vedvm does; healed, the cut-off node has the same committed journal.
TEST_CASE("partition: a program's owner cut off goes DEGRADED and fires no effect, the majority finishes the program") {
  ProcessCluster c(VED_VEDVM);
  c.use_partition_files();
  const std::vector<int> all = {1, 2, 3};
  c.start(1, {"--bootstrap", "--fs-root", c.dir() / "files1"});
  REQUIRE(ProcessCluster::wait_until([&] { return voters_are(c, 1, 1); }, 15000));
  for (int i : {2, 3}) {
    c.start(i, {"--join", c.address(1), "--fs-root", c.dir() / ("files" + std::to_string(i))});
    REQUIRE(ProcessCluster::wait_until([&] { return voters_are(c, 1, static_cast<size_t>(i)); }, 30000));
  }
  // A ring whose hops write a file every 500 hops.
  std::string program;
  {
    std::ifstream in(std::string(VED_SOURCE_DIR) + "/bench/runtime/ring.ved");
    std::stringstream text;
    text << in.rdbuf();
    program = text.str();
  }
  for (auto [mark, value] : {std::pair{std::string("@N@"), std::string("50")}, std::pair{std::string("@M@"), std::string("300000")}})
    for (size_t at; (at = program.find(mark)) != std::string::npos;) program.replace(at, mark.size(), value);
  const std::string step = "        seen = seen + 1\n";
  REQUIRE(program.find(step) != std::string::npos);
  program.replace(program.find(step), step.size(),
                  step + "        if hops % 500 == 0 {\n"
                         "            emit System.WriteFile(path: \"hop-\" + str(hops) + \".txt\", content: \"x\")\n"
                         "        }\n");
  const std::string source = c.dir() / "writer.ved";
  std::ofstream(source) << program;
  for (int i : all) std::filesystem::create_directories(c.dir() / ("files" + std::to_string(i)));
  auto files_on = [&](int i) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& f : std::filesystem::directory_iterator(c.dir() / ("files" + std::to_string(i)))) ++n;
    return n;
  };

  auto submitted = c.vedvm({"--join", c.address(1), source});
  REQUIRE_MESSAGE(submitted.exit_code == 0, submitted.err);
  const std::string id = std::to_string(submitted_id(submitted));
  // Its owner, once it has written a few files.
  int owner = -1;
  REQUIRE(ProcessCluster::wait_until([&] {
    auto s = c.status(1);
    if (s.is_null()) return false;
    for (const auto& p : s["programs"])
      if (std::to_string(p["id"].get<uint64_t>()) == id && !p["owner"].is_null())
        for (int i : all)
          if (read_file(c.node(i).log).find("vedvm node " + std::to_string(p["owner"].get<uint64_t>()) + ":") !=
              std::string::npos)
            owner = i;
    return owner > 0 && files_on(owner) >= 3;
  }, 30000));
  std::vector<int> rest;
  for (int i : all)
    if (i != owner) rest.push_back(i);

  split(c, all, {{owner}, rest});
  CHECK_MESSAGE(ProcessCluster::wait_until([&] { return has_no_quorum(c, owner); }, 10000), logs(c, all));
  CHECK(ProcessCluster::wait_until(
      [&] { return read_file(c.node(owner).log).find("DEGRADED (no quorum") != std::string::npos; }, 10000));
  const size_t cut_off_files = files_on(owner);
  // The majority takes the program over and finishes it, writing the rest of the files.
  bool finished = false;
  CHECK_MESSAGE(ProcessCluster::wait_until([&] {
    auto s = c.status(rest[0]);
    if (s.is_null()) return false;
    for (const auto& p : s["programs"])
      if (std::to_string(p["id"].get<uint64_t>()) == id) finished = p["status"] == "finished" && p["exit_code"] == 0;
    return finished;
  }, 120000), logs(c, all));
  CHECK(files_on(owner) == cut_off_files);  // nothing fired on the cut-off side
  CHECK(files_on(rest[0]) + files_on(rest[1]) > 0);
  // Every hop's file was written somewhere (a re-dispatched one may be written twice).
  std::set<std::string> written;
  for (int i : all)
    for (const auto& f : std::filesystem::directory_iterator(c.dir() / ("files" + std::to_string(i))))
      written.insert(f.path().filename().string());
  CHECK(written.size() == 300000 / 500);

  heal(c, all);
  std::string view;
  CHECK_MESSAGE(ProcessCluster::wait_until(
                    [&] { return converged(c, all, owner, {std::stoull(id)}, view); }, 30000),
                view << "\n" << logs(c, all));
  // The end is one vedvm's.
  const std::vector<std::string> none;
  const std::string local_dir = c.dir() / "local", local_files = c.dir() / "local-files";
  std::filesystem::create_directories(local_files);
  REQUIRE(c.vedvm({source, "--data-dir", local_dir, "--sync=none", "--fs-root", local_files}, 60000, &none).exit_code == 0);
  auto local_doc = c.vedvm({"inspect", local_dir, "--json"}, 20000, &none);
  auto remote_doc = c.vedvm({"inspect", "--join", c.address(owner), "--program", id, "--json"}, 60000);
  REQUIRE_MESSAGE(remote_doc.exit_code == 0, remote_doc.err);
  CHECK(remote_doc.out == local_doc.out);
}
