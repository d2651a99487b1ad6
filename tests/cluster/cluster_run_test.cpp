// Programs running on a cluster (docs/cluster.md "Running a program"), with real `vedvm
// node` processes on loopback (process_cluster.h): a program submitted with --follow
// exits as the same program run by one `vedvm` does, and `inspect --join` prints the
// same document as `vedvm inspect` of that local run — for every example program, and
// for the shared corpus. An owner killed with kill -9 mid-run, or paused past the failure
// timeout, loses nothing: another node takes the program over from the committed frames,
// the paused owner's late ticks are fenced, and the end is the local run's.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "cluster/client.h"
#include "cluster/wire_message.h"
#include "process_cluster.h"
#include "vm/runtime/record_log.h"

using namespace ved::cluster::test;
using nlohmann::json;

namespace {

// The programs of a folder, in name order.
std::vector<std::string> programs_in(const std::string& dir, const std::vector<std::string>& extensions) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (std::find(extensions.begin(), extensions.end(), entry.path().extension().string()) != extensions.end())
      out.push_back(entry.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The program entry of `status --json` for program `id` (null if none).
json program_status(ProcessCluster& c, int asked, const std::string& id) {
  auto s = c.status(asked);
  if (s.is_null()) return nullptr;
  for (const auto& p : s["programs"])
    if (std::to_string(p["id"].get<uint64_t>()) == id) return p;
  return nullptr;
}

// The program id `vedvm --join ... --follow` printed on stderr ("submitted NAME as program ID").
std::string submitted_id(const CommandResult& r) {
  const std::string mark = " as program ";
  const size_t at = r.err.find(mark);
  if (at == std::string::npos) return "";
  const size_t end = r.err.find(';', at);
  return r.err.substr(at + mark.size(), end - at - mark.size());
}

// Runs `program` locally and on the cluster; checks the exit codes and the inspect
// documents are equal.
void run_both_ways(ProcessCluster& c, const std::string& program, int via) {
  CAPTURE(program);
  const std::string base = std::filesystem::path(program).filename().string();
  const std::string local_dir = c.dir() / ("local-" + base), fs_root = c.dir() / ("files-" + base);
  std::filesystem::create_directories(fs_root);
  const std::vector<std::string> none;
  auto local = c.vedvm({program, "--data-dir", local_dir, "--fs-root", fs_root}, 60000, &none);
  REQUIRE(local.exit_code >= 0);
  auto remote = c.vedvm({"--join", c.address(via), program, "--follow"}, 60000);
  CHECK_MESSAGE(remote.exit_code == local.exit_code, "local:\n" << local.out << local.err << "cluster:\n" << remote.out << remote.err);
  if (local.exit_code == 1) return;  // it does not compile: nothing ran either way
  // The summary lines, but the local run's first line (which counts this process's
  // slices) and its engine line.
  CHECK(remote.out.find("stopped at tick") != std::string::npos);
  const std::string id = submitted_id(remote);
  REQUIRE(!id.empty());
  auto local_doc = c.vedvm({"inspect", local_dir, "--json"}, 20000, &none);
  auto remote_doc = c.vedvm({"inspect", "--join", c.address(1), "--program", id, "--json"}, 30000);
  REQUIRE_MESSAGE(remote_doc.exit_code == 0, remote_doc.err);
  CHECK(remote_doc.out == local_doc.out);
}

}  // namespace

TEST_CASE("3 nodes: every example program runs on the cluster, exits and inspects as one vedvm does") {
  ProcessCluster c(VED_VEDVM);
  form(c, 3);
  std::vector<std::string> programs = programs_in(std::string(VED_EXAMPLES_DIR) + "/guide", {".ved"});
  programs.push_back(std::string(VED_EXAMPLES_DIR) + "/hello.ved");
  REQUIRE(programs.size() > 20);
  int via = 1;
  for (const auto& program : programs) run_both_ways(c, program, via = via % 3 + 1);
  // Each ran on the node that owns it; every member lists every program as finished.
  auto s = c.status(2);
  REQUIRE(!s.is_null());
  size_t finished = 0;
  for (const auto& p : s["programs"]) finished += p["status"] == "finished" ? 1 : 0;
  CHECK(finished + 5 >= programs.size());  // those that do not compile are not submitted
  CHECK(s["fenced"] == 0);
  // A program the cluster does not have, and an inspect that names none: said plainly.
  auto unknown = c.vedvm({"inspect", "--join", c.address(2), "--program", "nosuch", "--json"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("the cluster has no program `nosuch` (vedvm status lists them)") != std::string::npos);
  auto unnamed = c.vedvm({"inspect", "--join", c.address(2)});
  CHECK(unnamed.exit_code == 64);
  CHECK(unnamed.err.find("inspect --join HOST:PORT takes --program NAME") != std::string::npos);
}

TEST_CASE("1, 3 and 5 nodes: every corpus program runs on the cluster, exits and inspects as one vedvm does" *
          doctest::test_suite("corpus")) {
  std::vector<std::string> programs = programs_in(std::string(VED_CORPUS_DIR) + "/docs", {".ved"});
  for (const auto& p : programs_in(std::string(VED_CORPUS_DIR) + "/upstream", {".lxm", ".ved"})) programs.push_back(p);
  REQUIRE(programs.size() >= 10);
  for (int nodes : {1, 3, 5}) {
    CAPTURE(nodes);
    ProcessCluster c(VED_VEDVM);
    form(c, nodes);
    int via = 1;
    for (const auto& program : programs) run_both_ways(c, program, via = via % nodes + 1);
  }
}

namespace {

// A token ring long enough to be caught mid-run (bench/runtime/ring.ved's shape).
std::string write_ring(const ScratchDir& dir, int nodes, int hops) {
  std::ifstream in(std::string(VED_SOURCE_DIR) + "/bench/runtime/ring.ved");
  std::stringstream text;
  text << in.rdbuf();
  std::string program = text.str();
  for (auto [mark, value] : {std::pair{std::string("@N@"), nodes}, std::pair{std::string("@M@"), hops}})
    for (size_t at; (at = program.find(mark)) != std::string::npos;) program.replace(at, mark.size(), std::to_string(value));
  const std::string path = dir / "ring.ved";
  std::ofstream(path) << program;
  return path;
}

// The node (index) whose log says it runs program `id`, the latest to say so; -1 if none.
int runner_of(ProcessCluster& c, const std::string& id, const std::vector<int>& nodes) {
  const json p = program_status(c, nodes.front(), id);
  if (p.is_null() || p["owner"].is_null()) return -1;
  for (int i : nodes) {
    const std::string log = read_file(c.node(i).log);
    if (log.find("vedvm node " + std::to_string(p["owner"].get<uint64_t>()) + ":") != std::string::npos) return i;
  }
  return -1;
}

// A ring submitted with --follow through node 1, caught running on its owner.
struct FollowedRing {
  std::string source, id;
  int owner = -1;
  std::vector<int> rest;  // the other nodes
  CommandResult follow;
  std::thread client;
  // A check that failed on the way leaves the client running: it ends with the run (or
  // its own time limit), before the cluster goes.
  ~FollowedRing() {
    if (client.joinable()) client.join();
  }
};

void start_ring(ProcessCluster& c, int hops, FollowedRing& r) {
  r.source = write_ring(c.dir(), 50, hops);
  r.client = std::thread([&c, &r] { r.follow = c.vedvm({"--join", c.address(1), r.source, "--follow"}, 170000); });
  // Until it has committed some ticks, and its owner is known.
  const bool running = ProcessCluster::wait_until([&] {
    if (r.id.empty()) {
      auto s = c.status(1);
      if (!s.is_null() && !s["programs"].empty()) r.id = std::to_string(s["programs"][0]["id"].get<uint64_t>());
    }
    if (r.id.empty()) return false;
    const json p = program_status(c, 1, r.id);
    return !p.is_null() && p["status"] == "running" && p["frames"].get<uint64_t>() > 2000 &&
           (r.owner = runner_of(c, r.id, {1, 2, 3})) > 0;
  }, 30000);
  REQUIRE(running);
  for (int i = 1; i <= 3; ++i)
    if (i != r.owner) r.rest.push_back(i);
}

// The follower ends as one vedvm's run of the ring does: exit 0, the same inspect document.
void check_ends_as_local(ProcessCluster& c, FollowedRing& r) {
  if (r.client.joinable()) r.client.join();
  CHECK_MESSAGE(r.follow.exit_code == 0, r.follow.out << r.follow.err);
  const std::vector<std::string> none;
  const std::string local_dir = c.dir() / "local-ring";
  REQUIRE(c.vedvm({r.source, "--data-dir", local_dir, "--sync=none"}, 60000, &none).exit_code == 0);
  auto local_doc = c.vedvm({"inspect", local_dir, "--json"}, 20000, &none);
  auto remote_doc = c.vedvm({"inspect", "--join", c.address(r.rest.front()), "--program", r.id, "--json"}, 60000);
  REQUIRE_MESSAGE(remote_doc.exit_code == 0, remote_doc.err);
  CHECK(remote_doc.out == local_doc.out);
}

}  // namespace

TEST_CASE("3 nodes: the owner killed with kill -9 mid-run, another node finishes the program as one vedvm does") {
  ProcessCluster c(VED_VEDVM);
  form(c, 3);
  FollowedRing r;
  start_ring(c, 200000, r);
  c.kill9(r.owner);
  check_ends_as_local(c, r);
  // Another node took it over from what was committed, and ran it to the end.
  const json end = program_status(c, r.rest.front(), r.id);
  REQUIRE(!end.is_null());
  CHECK(end["status"] == "finished");
  int finisher = -1;
  for (int i : r.rest)
    if (read_file(c.node(i).log).find("program " + r.id + ": finished") != std::string::npos) finisher = i;
  REQUIRE_MESSAGE(finisher > 0, read_file(c.node(r.rest[0]).log) << read_file(c.node(r.rest[1]).log));
  CHECK(read_file(c.node(finisher).log).find("from its committed frame") != std::string::npos);
  // Its run dir holds the whole journal: it replays offline.
  const std::vector<std::string> none;
  auto replayed = c.vedvm({"replay", c.node(finisher).data_dir + "/runs/" + r.id}, 120000, &none);
  CHECK_MESSAGE(replayed.exit_code == 0, replayed.out << replayed.err);
}

TEST_CASE("3 nodes: an owner paused past the failure timeout has its late ticks fenced, and the end is unchanged") {
  ProcessCluster c(VED_VEDVM);
  form(c, 3);
  FollowedRing r;
  start_ring(c, 200000, r);
  kill(c.node(r.owner).pid, SIGSTOP);
  // The others move the program away (a new epoch) and go on with it (possibly to its
  // end before the status is read: a finished program has no owner).
  const bool moved = ProcessCluster::wait_until([&] {
    const json p = program_status(c, r.rest.front(), r.id);
    if (p.is_null()) return false;
    if (!p["owner"].is_null()) return runner_of(c, r.id, r.rest) > 0;
    for (int i : r.rest)
      if (read_file(c.node(i).log).find("program " + r.id + ": finished") != std::string::npos) return true;
    return false;
  }, 20000);
  kill(c.node(r.owner).pid, SIGCONT);
  CHECK_MESSAGE(moved, read_file(c.node(r.rest[0]).log) << read_file(c.node(r.rest[1]).log));
  check_ends_as_local(c, r);
  // The resumed owner's group in flight, if it reached the journal, was fenced: counted.
  // (Whether one reached it depends on where the pause caught the owner.)
  const json s = c.status(r.rest.front());
  REQUIRE(!s.is_null());
  MESSAGE("fenced entries after the pause: " << s["fenced"]);
}

// The dispatch lease (docs/cluster.md "Running a program"): the owner is stopped (SIGSTOP,
// by the testing-only VED_TEST_STOP_BEFORE_DISPATCH) after the tick that emitted a file
// write is committed and before it releases it; the program moves on to another node,
// which writes the file; the old owner, resumed, finds its lease expired, is refused a new
// one, and writes nothing. The same run with the lease switched off (the testing-only
// VED_TEST_NO_DISPATCH_LEASE) writes the file twice: the lease is what prevents it.
namespace {

const char* kReporter = R"(domain Reporter {
    state { written: bool }
    goal Reported {
        predicate: written
        strategy: Write
    }
    transition Write() {
        emit System.WriteFile(path: "report.txt", content: "written")
        written = true
    }
}
)";

bool process_stopped(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'T';
}

// Which nodes' --fs-root holds report.txt after the run, and the node that was stopped.
struct LeaseTrial {
  std::set<int> wrote;
  int stopped = -1;
};

LeaseTrial stopped_before_release(bool lease) {
  ProcessCluster c(VED_VEDVM);
  const std::string marker = c.dir() / "stopped-once";
  setenv("VED_TEST_STOP_BEFORE_DISPATCH", marker.c_str(), 1);  // inherited by the nodes started now
  if (!lease) setenv("VED_TEST_NO_DISPATCH_LEASE", "1", 1);
  struct Unset {
    ~Unset() {
      unsetenv("VED_TEST_STOP_BEFORE_DISPATCH");
      unsetenv("VED_TEST_NO_DISPATCH_LEASE");
    }
  } unset;
  auto files = [&](int i) { return c.dir() / ("files" + std::to_string(i)); };
  for (int i : {1, 2, 3}) std::filesystem::create_directories(files(i));
  c.start(1, {"--bootstrap", "--fs-root", files(1)});
  REQUIRE(ProcessCluster::wait_until([&] { return voters_are(c, 1, 1); }, 15000));
  for (int i : {2, 3}) {
    c.start(i, {"--join", c.address(1), "--fs-root", files(i)});
    REQUIRE(ProcessCluster::wait_until([&] { return voters_are(c, 1, static_cast<size_t>(i)); }, 30000));
  }
  const std::string source = c.dir() / "reporter.ved";
  std::ofstream(source) << kReporter;
  auto submitted = c.vedvm({"--join", c.address(1), source});
  REQUIRE_MESSAGE(submitted.exit_code == 0, submitted.err);
  LeaseTrial t;
  REQUIRE(ProcessCluster::wait_until([&] {
    for (int i : {1, 2, 3})
      if (process_stopped(c.node(i).pid)) t.stopped = i;
    return t.stopped > 0;
  }, 20000));
  std::vector<int> rest;
  for (int i : {1, 2, 3})
    if (i != t.stopped) rest.push_back(i);
  // Another node takes the program over, dispatches the intent again, and ends the run.
  const bool finished = ProcessCluster::wait_until([&] {
    auto s = c.status(rest[0]);
    return !s.is_null() && !s["programs"].empty() && s["programs"][0]["status"] == "finished";
  }, 30000);
  CHECK_MESSAGE(finished, read_file(c.node(rest[0]).log) << read_file(c.node(rest[1]).log));
  kill(c.node(t.stopped).pid, SIGCONT);
  // Whatever the resumed owner does, it does within a few seconds (it asks for its lease,
  // or, without one, releases at once).
  ProcessCluster::wait_until([&] {
    return read_file(c.node(t.stopped).log).find("program ") != std::string::npos &&
           read_file(c.node(t.stopped).log).find("stopped") != std::string::npos;
  }, 10000);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (int i : {1, 2, 3})
    if (std::filesystem::exists(files(i) + "/report.txt")) t.wrote.insert(i);
  return t;
}

}  // namespace

TEST_CASE("3 nodes: an owner stopped between committing an effect and releasing it does not release it once deposed") {
  const LeaseTrial with_lease = stopped_before_release(true);
  CHECK(with_lease.wrote.size() == 1);
  CHECK_FALSE(with_lease.wrote.count(with_lease.stopped));
  // Without the lease (and the other release guards the switch turns off) the deposed
  // owner writes it too: they are what keeps it to one.
  const LeaseTrial without = stopped_before_release(false);
  CHECK(without.wrote.count(without.stopped) == 1);
  CHECK(without.wrote.size() == 2);
}

// Snapshots leave the frames out (docs/cluster.md, "Storage"): a node that was down while
// the cluster committed a whole run and compacted its log gets the state by a snapshot
// when it comes back, without the frames; it fetches them from its peers (FetchFrames)
// and then holds and serves exactly the frames the others do.
namespace {

// The frames member `i` holds of `program`, all of them, fetched in parts as a peer does.
std::string frames_held_by(ProcessCluster& c, int i, const std::string& program) {
  ved::cluster::ClusterClient client(ved::cluster::Security{true, {}, {}});
  std::string all;
  for (;;) {
    ved::cluster::ClientRequest request;
    request.kind = ved::cluster::ClientRequest::FetchFrames;
    request.program_name = program;
    std::string error;
    uint64_t from = 0;
    ved::vm::read_log_frames(all, 0, [&](uint64_t number, int64_t, std::string_view) { from = number + 1; }, error);
    request.node_id = from;
    ved::cluster::ClientReply reply;
    if (!client.call(c.address(i), request, 5000, reply, error) || reply.status != ved::cluster::ClientReply::Ok) return "failed: " + error + reply.message;
    ved::cluster::FetchedRun part;
    if (!ved::cluster::decode_fetched_run(reply.payload, part, error)) return "failed: " + error;
    if (part.frames.empty()) return all;
    all += part.frames;
  }
}

}  // namespace

TEST_CASE("3 nodes: a node down while a run was committed and snapshotted fetches the frames from its peers") {
  ProcessCluster c(VED_VEDVM);
  const std::vector<std::string> small = {"--snapshot-threshold", "4"};
  form(c, 3, small);
  c.kill9(3);
  const std::string source = write_ring(c.dir(), 50, 20000);
  const auto followed = c.vedvm({"--join", c.address(1), source, "--follow"}, 120000);
  // More entries, so that the log node 3 missed is compacted away for certain.
  for (int i = 0; i < 8; ++i) c.vedvm({"--join", c.address(1), std::string(VED_EXAMPLES_DIR) + "/hello.ved"});
  c.start(3, small);
  REQUIRE_MESSAGE(followed.exit_code == 0, followed.out << followed.err);
  const std::string id = submitted_id(followed);
  REQUIRE(!id.empty());
  const bool caught_up = ProcessCluster::wait_until([&] {
    return read_file(c.node(3).log).find("program " + id + ": caught up its frames") != std::string::npos;
  }, 60000);
  REQUIRE_MESSAGE(caught_up, read_file(c.node(3).log) << c.status(3).dump() << c.status(1).dump());
  const std::string reference = frames_held_by(c, 1, id);
  REQUIRE(reference.size() > 100000);
  CHECK(frames_held_by(c, 2, id) == reference);
  CHECK(frames_held_by(c, 3, id) == reference);
}

// An external adapter that honours idempotency keys (examples/adapter), serving a program
// that provisions thirty machines one after the other (50 ms each), with the owner killed with kill -9
// in the middle (docs/cluster.md "The dispatch lease"): every machine is provisioned
// exactly once, the adapter is asked again at most once per owner death (the intent the
// dead owner had released, re-dispatched by its successor with the same key), and the run
// ends with the machines a local run gets.
namespace {

const char* kPool = R"(effect Infra.Provision(size: string) -> string : infrastructure

@privilege infrastructure
domain Pool {
    state { want: int = 30  have: int  machines: list<string> }
    goal Capacity {
        predicate: have >= want
        strategy: Grow
    }
    transition Grow() {
        emit Infra.Provision(size: "small", idempotency_key: format("pool-{}", have))
    }
    transition Provisioned(id: string) on Infra.Provision.ok {
        have = have + 1
        machines = append(machines, id)
    }
}
)";

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("3 nodes: an external adapter with idempotency keys across a killed owner: each key acted on once") {
  ProcessCluster c(VED_VEDVM);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
  const std::string executed = c.dir() / "executed.log", requests = c.dir() / "requests.log";
  c.start_helper({VED_EXAMPLE_ADAPTER, "--bind", endpoint, "--log", executed, "--requests", requests, "--delay", "50"},
                 "adapter");
  form(c, 3, {"--adapter", "Infra.Provision=" + endpoint});
  const std::string source = c.dir() / "pool.ved";
  std::ofstream(source) << kPool;
  CommandResult followed;
  std::thread client([&] { followed = c.vedvm({"--join", c.address(1), source, "--follow"}, 120000); });
  // Kill the owner once a third of the machines are provisioned.
  int owner = -1;
  const bool under_way = ProcessCluster::wait_until([&] {
    if (lines_of(executed).size() < 10) return false;
    auto s = c.status(1);
    if (s.is_null() || s["programs"].empty()) return false;
    owner = runner_of(c, std::to_string(s["programs"][0]["id"].get<uint64_t>()), {1, 2, 3});
    return owner > 0;
  }, 60000);
  if (under_way && owner > 0 && lines_of(executed).size() < 30) c.kill9(owner);
  client.join();
  REQUIRE(under_way);
  CHECK_MESSAGE(followed.exit_code == 0, followed.out << followed.err);
  // Exactly once in effect: thirty executions, thirty keys.
  const auto done = lines_of(executed);
  std::set<std::string> keys;
  for (const auto& line : done) keys.insert(line.substr(line.find(' ') + 1));
  CHECK(done.size() == 30);
  CHECK(keys.size() == 30);
  // At least once in dispatch: a request again at most once (one owner died).
  const auto asked = lines_of(requests);
  CHECK(asked.size() >= 30);
  CHECK(asked.size() <= 31);
  MESSAGE("requests: " << asked.size() << " for 30 keys");
  // The machines, in order, as one vedvm gets them from a fresh adapter.
  std::string machines;
  for (int i = 1; i <= 30; ++i) machines += (i > 1 ? ", " : "") + std::string("\"vm-") + std::to_string(i) + "\"";
  CHECK_MESSAGE(followed.out.find("have: 30, machines: [" + machines + "]") != std::string::npos, followed.out);
}

// --rebalance-after (docs/cluster.md "Failures"): a member back from DOWN is up but not
// eligible — it receives no program — until the leader has heard it that long; status says
// so, in JSON and in text.
TEST_CASE("3 nodes: a member back from DOWN is not eligible for programs until it has stayed up for --rebalance-after") {
  ProcessCluster c(VED_VEDVM);
  const std::vector<std::string> rebalance = {"--rebalance-after", "2000"};
  form(c, 3, rebalance);
  auto member = [&](int asked, uint64_t node) -> json {
    auto s = c.status(asked);
    if (s.is_null()) return nullptr;
    for (const auto& m : s["members"])
      if (m["node"] == node) return m;
    return nullptr;
  };
  const uint64_t third = c.status(3)["asked"]["node"].get<uint64_t>();
  c.kill9(3);
  REQUIRE(ProcessCluster::wait_until([&] {
    const json m = member(1, third);
    return !m.is_null() && m["state"] == "DOWN" && m["eligible"] == false;
  }, 15000));
  c.start(3, rebalance);
  REQUIRE(ProcessCluster::wait_until([&] {
    const json m = member(1, third);
    return !m.is_null() && m["state"] == "ACTIVE";
  }, 15000));
  // Up, and not yet eligible (unless the leader already counted the full 2 s).
  const json back = member(1, third);
  const auto text = c.vedvm({"status", "--join", c.address(1)});
  if (back["eligible"] == false) CHECK(text.out.find("is back from DOWN") != std::string::npos);
  REQUIRE(ProcessCluster::wait_until([&] {
    const json m = member(1, third);
    return !m.is_null() && m["eligible"] == true;
  }, 15000));
  const std::string leader_log = read_file(c.node(1).log) + read_file(c.node(2).log);
  CHECK(leader_log.find("node " + std::to_string(third) + " has been up for 2000 ms: it may receive programs again") !=
        std::string::npos);
}

namespace {

// Builds of a program named `name` (a program is named after its file), each in a folder
// of its own under the cluster's scratch dir.
std::string write_build(const ScratchDir& dir, const std::string& build, const std::string& name, const std::string& text) {
  const std::filesystem::path folder = dir / build;
  std::filesystem::create_directories(folder);
  const std::string path = folder / (name + ".ved");
  std::ofstream(path) << text;
  return path;
}

// Counter counts one a tick; each tick does enough arithmetic that a run of thousands of
// ticks lasts a second or more (so that an upgrade is caught mid-run). v2 adds `label`
// (the migration writes the value it found) and asks for more; the refused one is v1 again
// (its instances are stored at version 2 by then).
std::string counter_build(int version, int goal, int loop) {
  const std::string fields = version >= 2 ? "value: int  acc: int  label: string" : "value: int  acc: int";
  std::string text = std::string(version >= 2 ? "@version 2\n" : "") + "domain Counter {\n    state { " + fields +
                     " }\n    goal Reached {\n        predicate: value >= " + std::to_string(goal) +
                     "\n        strategy: Increment\n        terminate_after: never\n    }\n"
                     "    transition Increment() {\n        budget: 10000000\n        let a = acc\n"
                     "        for i in 0.." + std::to_string(loop) + " { a = (a * 31 + i) % 1000003 }\n"
                     "        acc = a\n        value = value + 1\n    }\n}\n";
  if (version >= 2)
    text += "\nmigration add_label {\n    from: Counter.State@1\n    to: Counter.State@2\n"
            "    return Counter.State@2(value = from.value, acc = from.acc, label = \"was \" + str(from.value))\n}\n";
  return text;
}

const char* kOlderBuild = R"(domain Counter {
    state { value: int  acc: int }
    transition Increment() { acc = acc + 1 }
}
)";

// The tick of the run's upgrade into its second build, from an inspect document (0: none).
int64_t upgrade_tick(const std::string& inspect_json) {
  const json doc = json::parse(inspect_json, nullptr, false);
  if (doc.is_discarded() || !doc.contains("programs") || doc["programs"].size() < 2) return 0;
  return doc["programs"][1]["first_tick"].get<int64_t>();
}

}  // namespace

// Upgrades through the cluster (docs/cluster.md "Upgrades"): `--upgrade` commits a new
// build; the owner takes it at a tick boundary, migrations and all, or refuses it and says
// why. Each ends as the same upgrade on one vedvm: the ended run upgraded and run on, and
// a run upgraded mid-run (at the tick the cluster's journal says) whose owner is then
// killed with kill -9, so that another node rebuilds the run across the upgrade.
TEST_CASE("3 nodes: upgrades with a migration, after the run ended and mid-run, end as the same upgrades on one vedvm") {
  ProcessCluster c(VED_VEDVM);
  form(c, 3);
  const std::vector<std::string> none;
  auto inspect_cluster = [&](int via, const std::string& program) {
    auto doc = c.vedvm({"inspect", "--join", c.address(via), "--program", program, "--json"}, 60000);
    REQUIRE_MESSAGE(doc.exit_code == 0, doc.err);
    return doc.out;
  };

  SUBCASE("an ended run, upgraded, runs on; a refused upgrade changes nothing") {
    const std::string v1 = write_build(c.dir(), "v1", "app", counter_build(1, 5, 1));
    const std::string v2 = write_build(c.dir(), "v2", "app", counter_build(2, 14, 1));
    const std::string bad = write_build(c.dir(), "bad", "app", kOlderBuild);
    const std::string local = c.dir() / "local-app";
    REQUIRE(c.vedvm({v1, "--data-dir", local}, 60000, &none).exit_code == 0);
    REQUIRE(c.vedvm({"upgrade", local, v2}, 60000, &none).exit_code == 0);
    REQUIRE(c.vedvm({v2, "--data-dir", local}, 60000, &none).exit_code == 0);
    const std::string local_doc = c.vedvm({"inspect", local, "--json"}, 20000, &none).out;
    REQUIRE(upgrade_tick(local_doc) == 7);

    auto first = c.vedvm({"--join", c.address(1), v1, "--follow"}, 60000);
    REQUIRE_MESSAGE(first.exit_code == 0, first.out << first.err);
    auto upgraded = c.vedvm({"--join", c.address(2), v2, "--upgrade", "--follow"}, 60000);
    CHECK_MESSAGE(upgraded.exit_code == 0, upgraded.out << upgraded.err);
    CHECK(upgraded.err.find("upgraded from `app` (hash ") != std::string::npos);
    CHECK(upgraded.err.find("at tick 7: 1 instance, 1 migrated") != std::string::npos);
    CHECK(upgraded.out.find("label: \"was 5\"") != std::string::npos);
    const std::string cluster_doc = inspect_cluster(3, "app");
    CHECK(cluster_doc == local_doc);

    // Refused by the owner with the reason a local upgrade gives; the run is as it was.
    auto refused = c.vedvm({"--join", c.address(1), bad, "--upgrade"}, 60000);
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("was refused; the run goes on with the build it had") != std::string::npos);
    const std::string why = "domain `Counter` is at `@version 1`, and the data dir holds 1 stored instance at version 2";
    CHECK_MESSAGE(refused.err.find(why) != std::string::npos, refused.err);
    auto local_refusal = c.vedvm({"upgrade", local, bad}, 60000, &none);
    CHECK(local_refusal.exit_code == 1);
    CHECK(local_refusal.err.find(why) != std::string::npos);
    CHECK(inspect_cluster(2, "app") == cluster_doc);
    const json program = program_status(c, 1, submitted_id(first));
    REQUIRE(!program.is_null());
    CHECK(program["status"] == "finished");

    // Nothing to upgrade: refused by the leader, before anything is committed.
    const std::string other = write_build(c.dir(), "other", "other", counter_build(1, 5, 1));
    auto unknown = c.vedvm({"--join", c.address(1), other, "--upgrade"}, 60000);
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.find("the cluster has no program `other` to upgrade (submit it without --upgrade)") !=
          std::string::npos);
    auto same = c.vedvm({"--join", c.address(1), v2, "--upgrade"}, 60000);
    CHECK(same.exit_code == 1);
    CHECK(same.err.find("already: nothing to upgrade") != std::string::npos);
    // Each verdict was committed once: an owner that went on before its own replica had
    // applied its verdict took the upgrade a second time, and was fenced.
    CHECK(c.status(1)["fenced"] == 0);
  }

  SUBCASE("mid-run, then its owner killed: another node rebuilds the run across the upgrade") {
    const std::string v1 = write_build(c.dir(), "v1", "slow", counter_build(1, 4000, 100000));
    const std::string v2 = write_build(c.dir(), "v2", "slow", counter_build(2, 7000, 100000));
    auto submitted = c.vedvm({"--join", c.address(1), v1}, 60000);
    REQUIRE_MESSAGE(submitted.exit_code == 0, submitted.err);
    std::string id = submitted.out.substr(submitted.out.rfind(' ') + 1);
    id.erase(id.find_last_not_of("\n") + 1);
    REQUIRE(ProcessCluster::wait_until([&] {
      const json p = program_status(c, 1, id);
      return !p.is_null() && p["frames"].get<uint64_t>() > 20;
    }, 30000));
    auto upgraded = c.vedvm({"--join", c.address(2), v2, "--upgrade"}, 60000);
    REQUIRE_MESSAGE(upgraded.exit_code == 0, upgraded.out << upgraded.err);
    CHECK(upgraded.out.find("upgraded from `slow`") != std::string::npos);
    const int owner = runner_of(c, id, {1, 2, 3});
    REQUIRE(owner > 0);
    const json before = program_status(c, owner, id);
    CHECK_MESSAGE(before["status"] == "running", "the run ended before its owner could be killed: " << before.dump());
    c.kill9(owner);
    const int other = owner == 1 ? 2 : 1;
    REQUIRE(ProcessCluster::wait_until([&] {
      const json p = program_status(c, other, id);
      return !p.is_null() && p["status"] == "finished";
    }, 90000));
    const std::string cluster_doc = inspect_cluster(other, id);
    const int64_t tick = upgrade_tick(cluster_doc);
    CAPTURE(tick);
    CHECK(tick > 1);
    CHECK(tick <= 4000);  // v1's goal not yet reached: mid-run
    // One vedvm, upgraded at the same tick.
    const std::string local = c.dir() / "local-slow";
    c.vedvm({v1, "--data-dir", local, "--sync=none", "--max-ticks", std::to_string(tick - 1)}, 120000, &none);
    REQUIRE(c.vedvm({"upgrade", local, v2}, 60000, &none).exit_code == 0);
    REQUIRE(c.vedvm({v2, "--data-dir", local, "--sync=none"}, 120000, &none).exit_code == 0);
    CHECK(c.vedvm({"inspect", local, "--json"}, 20000, &none).out == cluster_doc);
    // The node that finished rebuilt its run dir across the upgrade: it replays offline.
    for (int i : {1, 2, 3}) {
      if (i == owner) continue;
      const std::string dir = c.node(i).data_dir + "/runs/" + id;
      if (!std::filesystem::exists(dir)) continue;
      auto replayed = c.vedvm({"replay", dir}, 120000, &none);
      CHECK_MESSAGE(replayed.exit_code == 0, replayed.out << replayed.err);
    }
  }
}

namespace {

// The lines of `text` before the first that starts with "-- " (a run's summary).
std::string before_summary(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line) && line.rfind("-- ", 0) != 0;) out += line + "\n";
  return out;
}

}  // namespace

// `--follow --trace` (docs/cluster.md "Following a run"): the events of a run on the
// cluster, rebuilt from the committed journal as it commits, are the lines one `vedvm
// --trace` prints for the same program, in text and in JSON; then the summary and the
// exit code, as without --trace.
TEST_CASE("3 nodes: --follow --trace prints the events one vedvm --trace prints, text and JSON") {
  ProcessCluster c(VED_VEDVM);
  form(c, 3);
  const std::vector<std::string> none;
  int via = 1, runs = 0;
  for (const std::string name : {"hello.ved", "guide/03-messaging.ved", "guide/05-fuel.ved", "guide/07-effects.ved",
                                 "guide/04-goals.ved", "guide/10-timers.ved"}) {
    const std::string program = std::string(VED_EXAMPLES_DIR) + "/" + name;
    for (const std::string format : {"--trace", "--trace=json"}) {
      CAPTURE(name);
      CAPTURE(format);
      const std::string local_dir = c.dir() / ("trace-" + std::to_string(++runs));
      auto local = c.vedvm({program, "--data-dir", local_dir, format}, 60000, &none);
      auto remote = c.vedvm({"--join", c.address(via = via % 3 + 1), program, "--follow", format}, 60000);
      CHECK_MESSAGE(remote.exit_code == local.exit_code, remote.err);
      const std::string events = before_summary(local.out);
      CHECK(!events.empty());
      CHECK(before_summary(remote.out) == events);
      CHECK(remote.out.find("stopped at tick") != std::string::npos);
    }
  }
  // --trace without --follow: the trace is streamed while following.
  auto alone = c.vedvm({"--join", c.address(1), std::string(VED_EXAMPLES_DIR) + "/hello.ved", "--trace"});
  CHECK(alone.exit_code == 64);
  CHECK(alone.err.find("--trace goes with --follow when submitting to a cluster") != std::string::npos);
}

// Deploy groups (docs/cluster.md "Deploy groups"): a program whose domains are deployed
// to environment E runs only on nodes started with `--group E`; while none is up and
// eligible it waits, and status says why; a node of the group back, it runs there.
TEST_CASE("3 nodes, one of --group eu: a program deployed to eu runs there only, and waits while it is down") {
  ProcessCluster c(VED_VEDVM);
  c.start(1, {"--bootstrap"});
  REQUIRE(ProcessCluster::wait_until([&] { return voters_are(c, 1, 1); }, 15000));
  c.start(2, {"--join", c.address(1)});
  REQUIRE(ProcessCluster::wait_until([&] { return voters_are(c, 1, 2); }, 30000));
  const std::vector<std::string> eu = {"--group", "eu", "--rebalance-after", "1000"};
  std::vector<std::string> join_eu = {"--join", c.address(1)};
  join_eu.insert(join_eu.end(), eu.begin(), eu.end());
  c.start(3, join_eu);
  REQUIRE(ProcessCluster::wait_until([&] { return voters_are(c, 1, 3); }, 30000));
  auto program_json = [&](const std::string& id) { return program_status(c, 1, id); };
  const std::string deployed = write_build(c.dir(), "eu", "regional", R"(environment eu { scope { root } }
domain Counter {
    state { value: int }
    goal Reached {
        predicate: value >= 3
        strategy: Increment
    }
    transition Increment() { value = value + 1 }
}
deploy service Counter to eu
)");
  auto first = c.vedvm({"--join", c.address(1), deployed, "--follow"}, 60000);
  REQUIRE_MESSAGE(first.exit_code == 0, first.out << first.err);
  const std::string id = submitted_id(first);
  CHECK(program_json(id)["group"] == "eu");
  CHECK(read_file(c.node(3).log).find("running program " + id + " ") != std::string::npos);
  for (int i : {1, 2}) CHECK(read_file(c.node(i).log).find("running program " + id + " ") == std::string::npos);

  // The group's only node down: the next run waits, and says why.
  c.kill9(3);
  REQUIRE(ProcessCluster::wait_until([&] {
    auto s = c.status(1);
    if (s.is_null()) return false;
    for (const auto& m : s["members"])
      if (m["address"] == c.address(3)) return m["state"] == "DOWN";
    return false;
  }, 15000));
  auto second = c.vedvm({"--join", c.address(1), deployed}, 60000);
  REQUIRE_MESSAGE(second.exit_code == 0, second.err);
  std::string waiting_id = second.out.substr(second.out.rfind(' ') + 1);
  waiting_id.erase(waiting_id.find_last_not_of('\n') + 1);
  REQUIRE(ProcessCluster::wait_until([&] {
    const json p = program_json(waiting_id);
    return !p.is_null() && p["waiting"] == "no node of group `eu` is up and eligible";
  }, 15000));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(program_json(waiting_id)["frames"] == 0);
  CHECK(program_json(waiting_id)["owner"].is_null());
  auto text = c.vedvm({"status", "--join", c.address(2)});
  CHECK(text.out.find("group eu  waiting: no node of group `eu` is up and eligible") != std::string::npos);

  // Back (and eligible after --rebalance-after): it runs there, to its end.
  c.start(3, eu);
  REQUIRE(ProcessCluster::wait_until([&] {
    const json p = program_json(waiting_id);
    return !p.is_null() && p["status"] == "finished";
  }, 30000));
  CHECK(program_json(waiting_id)["exit_code"] == 0);
  CHECK(read_file(c.node(3).log).find("running program " + waiting_id + " ") != std::string::npos);

  // A hint the cluster can follow in part: of the environments a program names, the
  // first that some member has (here `eu`, `us` having none); one it cannot follow at
  // all: no member has the group, and the program runs anywhere.
  const std::string split = write_build(c.dir(), "split", "split", R"(environment us { scope { root } }
environment eu { scope { root } }
domain A {
    state { n: int }
    goal G {
        predicate: n >= 2
        strategy: Step
    }
    transition Step() { n = n + 1 }
}
domain B { state { n: int } }
deploy service A to us
deploy service B to eu
)");
  auto both = c.vedvm({"--join", c.address(1), split, "--follow"}, 60000);
  CHECK_MESSAGE(both.exit_code == 0, both.err);
  CHECK(program_json(submitted_id(both))["group"] == "eu");
  CHECK(read_file(c.node(3).log).find("running program " + submitted_id(both) + " ") != std::string::npos);
  const std::string elsewhere = write_build(c.dir(), "ap", "elsewhere", R"(environment ap { scope { root } }
domain A {
    state { n: int }
    goal G {
        predicate: n >= 2
        strategy: Step
    }
    transition Step() { n = n + 1 }
}
deploy A to ap
)");
  auto anywhere = c.vedvm({"--join", c.address(1), elsewhere, "--follow"}, 60000);
  CHECK_MESSAGE(anywhere.exit_code == 0, anywhere.err);
  CHECK(program_json(submitted_id(anywhere))["group"].is_null());
}
