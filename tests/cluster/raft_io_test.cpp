// Conformance of our raft_io (cluster/raft_io.h) with libraft's contract, against a
// real LevelDB in a scratch directory: what is written survives a restart (term, vote,
// entries, snapshots), truncation and snapshots remove exactly what they must, requests
// complete in order and never from inside the call that made them, and a crash — a torn
// last write, or kill -9 in the middle of appends — leaves a contiguous, readable log
// that holds at least every acknowledged entry.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <thread>

#include "cluster/raft_log_store.h"
#include "cluster_test_support.h"

using namespace ved::cluster;
using namespace ved::cluster::test;

namespace {

// One node's storage opened on a directory, as a restart would open it.
struct Storage {
  explicit Storage(const std::string& dir, bool sync = true) : db(open_db(dir)), store(db.get(), sync), io(store, transport, clock, 1) {}
  std::unique_ptr<leveldb::DB> db;
  RaftLogStore store;
  RecordingTransport transport;
  ManualClock clock;
  RaftIo io;
  struct raft_io* raw() { return io.io(); }
};

struct Loaded {
  uint64_t term = 0, vote = 0, start_index = 0;
  std::vector<StoredEntry> entries;
  bool has_snapshot = false;
  uint64_t snapshot_index = 0, snapshot_term = 0;
  std::string snapshot_data;
  std::vector<uint64_t> snapshot_servers;
};

Loaded load(Storage& s) {
  raft_term term = 0;
  raft_id vote = 0;
  struct raft_snapshot* snapshot = nullptr;
  raft_index start = 0;
  struct raft_entry* entries = nullptr;
  size_t n = 0;
  const int rv = s.raw()->load(s.raw(), &term, &vote, &snapshot, &start, &entries, &n);
  REQUIRE_MESSAGE(rv == 0, s.raw()->errmsg);
  Loaded out;
  out.term = term;
  out.vote = vote;
  out.start_index = start;
  for (size_t i = 0; i < n; ++i)
    out.entries.push_back({entries[i].term, entries[i].type,
                           std::string(static_cast<const char*>(entries[i].buf.base), entries[i].buf.len)});
  if (n > 0) {
    // One batch holds every entry's data (libraft frees it once).
    for (size_t i = 0; i < n; ++i) CHECK(entries[i].batch == entries[0].batch);
    raft_free(entries[0].batch);
    raft_free(entries);
  }
  if (snapshot) {
    out.has_snapshot = true;
    out.snapshot_index = snapshot->index;
    out.snapshot_term = snapshot->term;
    REQUIRE(snapshot->n_bufs == 1);
    out.snapshot_data.assign(static_cast<const char*>(snapshot->bufs[0].base), snapshot->bufs[0].len);
    for (unsigned i = 0; i < snapshot->configuration.n; ++i) out.snapshot_servers.push_back(snapshot->configuration.servers[i].id);
    raft_configuration_close(&snapshot->configuration);
    raft_free(snapshot->bufs[0].base);
    raft_free(snapshot->bufs);
    raft_free(snapshot);
  }
  return out;
}

std::vector<int> g_completed;  // request tags in completion order

struct AppendRequest {
  AppendRequest(int tag, uint64_t term, std::vector<std::string> payloads) : tag(tag), data(std::move(payloads)) {
    for (auto& d : data) entries.push_back({term, RAFT_COMMAND, {d.data(), d.size()}, nullptr});
    req.data = this;
  }
  int tag;
  std::vector<std::string> data;
  std::vector<struct raft_entry> entries;
  struct raft_io_append req {};
  int status = -1;
};

void append(Storage& s, AppendRequest& a) {
  const int rv = s.raw()->append(s.raw(), &a.req, a.entries.data(), static_cast<unsigned>(a.entries.size()),
                                 [](struct raft_io_append* req, int status) {
                                   auto* self = static_cast<AppendRequest*>(req->data);
                                   self->status = status;
                                   g_completed.push_back(self->tag);
                                 });
  REQUIRE(rv == 0);
}

std::vector<std::string> payloads(const Loaded& l) {
  std::vector<std::string> out;
  for (const auto& e : l.entries) out.push_back(e.data);
  return out;
}

struct raft_snapshot make_snapshot(uint64_t index, uint64_t term, std::string& data) {
  struct raft_snapshot s {};
  s.index = index;
  s.term = term;
  raft_configuration_init(&s.configuration);
  raft_configuration_add(&s.configuration, 1, "127.0.0.1:7001", RAFT_VOTER);
  raft_configuration_add(&s.configuration, 2, "127.0.0.1:7002", RAFT_VOTER);
  s.configuration_index = 1;
  s.bufs = static_cast<struct raft_buffer*>(raft_malloc(sizeof(struct raft_buffer)));
  s.bufs[0] = {data.data(), data.size()};
  s.n_bufs = 1;
  return s;
}

void put_snapshot(Storage& s, struct raft_snapshot& snapshot, unsigned trailing, int& status) {
  static struct raft_io_snapshot_put req;
  req.data = &status;
  REQUIRE(s.raw()->snapshot_put(s.raw(), trailing, &req, &snapshot, [](struct raft_io_snapshot_put* r, int st) {
    *static_cast<int*>(r->data) = st;
  }) == 0);
}

void release(struct raft_snapshot& s) {
  raft_configuration_close(&s.configuration);
  raft_free(s.bufs);
}

std::vector<std::string> numbered(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back("entry-" + std::to_string(i));
  return out;
}

}  // namespace

TEST_CASE("a fresh store loads as empty: term 0, no vote, no entries, start index 1") {
  ScratchDir dir;
  Storage s(dir.path());
  const Loaded l = load(s);
  CHECK(l.term == 0);
  CHECK(l.vote == 0);
  CHECK(l.start_index == 1);
  CHECK(l.entries.empty());
  CHECK_FALSE(l.has_snapshot);
}

TEST_CASE("term and vote survive a restart, a new term clears the vote") {
  ScratchDir dir;
  {
    Storage s(dir.path());
    REQUIRE(s.raw()->set_term(s.raw(), 3) == 0);
    REQUIRE(s.raw()->set_vote(s.raw(), 2) == 0);
  }
  {
    Storage s(dir.path());
    const Loaded l = load(s);
    CHECK(l.term == 3);
    CHECK(l.vote == 2);
    REQUIRE(s.raw()->set_term(s.raw(), 4) == 0);
  }
  Storage s(dir.path());
  const Loaded l = load(s);
  CHECK(l.term == 4);
  CHECK(l.vote == 0);
}

TEST_CASE("bootstrap writes the configuration as entry 1 at term 1, a second bootstrap is refused") {
  ScratchDir dir;
  struct raft_configuration conf;
  raft_configuration_init(&conf);
  raft_configuration_add(&conf, 1, "127.0.0.1:7001", RAFT_VOTER);
  {
    Storage s(dir.path());
    REQUIRE(s.raw()->bootstrap(s.raw(), &conf) == 0);
  }
  Storage s(dir.path());
  const Loaded l = load(s);
  CHECK(l.term == 1);
  REQUIRE(l.entries.size() == 1);
  CHECK(l.entries[0].type == RAFT_CHANGE);
  CHECK(l.entries[0].term == 1);
  CHECK(s.raw()->bootstrap(s.raw(), &conf) == RAFT_CANTBOOTSTRAP);
  raft_configuration_close(&conf);
}

TEST_CASE("appends complete only in run(), in the order they were made, and survive a restart in that order") {
  ScratchDir dir;
  {
    Storage s(dir.path());
    load(s);
    g_completed.clear();
    AppendRequest a(1, 1, numbered(1, 3)), b(2, 1, numbered(4, 4)), c(3, 2, numbered(5, 6));
    append(s, a);
    append(s, b);
    append(s, c);
    CHECK(g_completed.empty());  // never from inside append()
    CHECK(s.io.next_deadline() == 0);  // work is queued: the loop must call run() now
    s.io.run();
    CHECK(g_completed == std::vector<int>{1, 2, 3});
    CHECK(a.status == 0);
    CHECK(c.status == 0);
  }
  Storage s(dir.path());
  const Loaded l = load(s);
  CHECK(payloads(l) == numbered(1, 6));
  CHECK(l.start_index == 1);
  CHECK(l.entries[4].term == 2);
  CHECK(l.entries[3].term == 1);
}

TEST_CASE("truncation removes the entry at the index and every later one, appends continue there") {
  ScratchDir dir;
  {
    Storage s(dir.path());
    load(s);
    AppendRequest a(1, 1, numbered(1, 5));
    append(s, a);
    s.io.run();
    REQUIRE(s.raw()->truncate(s.raw(), 3) == 0);
    AppendRequest b(2, 2, {"replacement-3"});
    append(s, b);
    s.io.run();
    CHECK(b.status == 0);
  }
  {
    Storage s(dir.path());
    const Loaded l = load(s);
    CHECK(payloads(l) == std::vector<std::string>{"entry-1", "entry-2", "replacement-3"});
    // A truncation queued behind an append in the same run() removes that append too.
    AppendRequest c(3, 2, {"entry-4", "entry-5"});
    append(s, c);
    REQUIRE(s.raw()->truncate(s.raw(), 4) == 0);
    AppendRequest d(4, 3, {"new-4"});
    append(s, d);
    s.io.run();
  }
  Storage s(dir.path());
  CHECK(payloads(load(s)) == std::vector<std::string>{"entry-1", "entry-2", "replacement-3", "new-4"});
}

TEST_CASE("a snapshot with trailing entries keeps the trailing ones, load returns it and where the log starts") {
  ScratchDir dir;
  std::string data = "state at 8";
  {
    Storage s(dir.path());
    load(s);
    AppendRequest a(1, 1, numbered(1, 10));
    append(s, a);
    s.io.run();
    struct raft_snapshot snapshot = make_snapshot(8, 1, data);
    int status = -1;
    put_snapshot(s, snapshot, 3, status);
    CHECK(status == -1);
    s.io.run();
    CHECK(status == 0);
    release(snapshot);
    AppendRequest b(2, 2, {"entry-11"});
    append(s, b);
    s.io.run();
  }
  Storage s(dir.path());
  const Loaded l = load(s);
  REQUIRE(l.has_snapshot);
  CHECK(l.snapshot_index == 8);
  CHECK(l.snapshot_term == 1);
  CHECK(l.snapshot_data == "state at 8");
  CHECK(l.snapshot_servers == std::vector<uint64_t>{1, 2});
  // Entries after 8 - 3 = 5 are kept: 6..11.
  CHECK(l.start_index == 6);
  CHECK(payloads(l) == numbered(6, 11));
}

TEST_CASE("an installed snapshot (no trailing entries) replaces the whole log, appends go after it") {
  ScratchDir dir;
  std::string data = "leader's state at 50";
  {
    Storage s(dir.path());
    load(s);
    AppendRequest a(1, 1, numbered(1, 4));
    append(s, a);
    s.io.run();
    struct raft_snapshot snapshot = make_snapshot(50, 3, data);
    int status = -1;
    put_snapshot(s, snapshot, 0, status);
    s.io.run();
    CHECK(status == 0);
    release(snapshot);
    AppendRequest b(2, 3, {"entry-51"});
    append(s, b);
    s.io.run();
  }
  Storage s(dir.path());
  const Loaded l = load(s);
  CHECK(l.snapshot_index == 50);
  CHECK(l.start_index == 51);
  CHECK(payloads(l) == std::vector<std::string>{"entry-51"});
}

TEST_CASE("snapshot_get returns the stored snapshot, and not-found without one") {
  ScratchDir dir;
  Storage s(dir.path());
  load(s);
  struct Got {
    int status = -1;
    std::string data;
    uint64_t index = 0;
  } got;
  struct raft_io_snapshot_get req {};
  req.data = &got;
  auto cb = [](struct raft_io_snapshot_get* r, struct raft_snapshot* snapshot, int status) {
    auto* g = static_cast<Got*>(r->data);
    g->status = status;
    if (snapshot) {
      g->index = snapshot->index;
      g->data.assign(static_cast<const char*>(snapshot->bufs[0].base), snapshot->bufs[0].len);
      raft_configuration_close(&snapshot->configuration);
      raft_free(snapshot->bufs[0].base);
      raft_free(snapshot->bufs);
      raft_free(snapshot);
    }
  };
  REQUIRE(s.raw()->snapshot_get(s.raw(), &req, cb) == 0);
  s.io.run();
  CHECK(got.status == RAFT_NOTFOUND);
  std::string data = "snap";
  struct raft_snapshot snapshot = make_snapshot(5, 1, data);
  int status = -1;
  put_snapshot(s, snapshot, 0, status);
  REQUIRE(s.raw()->snapshot_get(s.raw(), &req, cb) == 0);  // queued behind the put: sees it
  s.io.run();
  release(snapshot);
  CHECK(got.status == 0);
  CHECK(got.index == 5);
  CHECK(got.data == "snap");
}

TEST_CASE("sends are handed to the transport at once and complete in run(), failed if unreachable") {
  ScratchDir dir;
  Storage s(dir.path());
  struct raft_message m {};
  m.type = RAFT_IO_REQUEST_VOTE;
  m.server_id = 2;
  m.server_address = "127.0.0.1:7002";
  m.request_vote.term = 7;
  m.request_vote.candidate_id = 1;
  int status = -1;
  struct raft_io_send req {};
  req.data = &status;
  s.transport.reachable = false;
  REQUIRE(s.raw()->send(s.raw(), &req, &m, [](struct raft_io_send* r, int st) { *static_cast<int*>(r->data) = st; }) == 0);
  REQUIRE(s.transport.sent.size() == 1);
  CHECK(s.transport.sent[0].to == 2);
  CHECK(s.transport.sent[0].rpc.term == 7);
  CHECK(status == -1);
  s.io.run();
  CHECK(status == RAFT_NOCONNECTION);
}

TEST_CASE("a torn last write is dropped on reopen: the log is a contiguous, readable prefix") {
  ScratchDir dir;
  {
    Storage s(dir.path());
    load(s);
    for (int i = 1; i <= 20; ++i) {
      AppendRequest a(i, 1, {std::string(100, 'a' + i % 26)});
      append(s, a);
      s.io.run();
    }
  }
  // LevelDB's write-ahead log is *.log; cut bytes off its end as a crash mid-write would.
  std::filesystem::path wal;
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    if (f.path().extension() == ".log" && f.path().filename().string() != "LOG") wal = f.path();
  REQUIRE_FALSE(wal.empty());
  const auto size = std::filesystem::file_size(wal);
  REQUIRE(size > 50);
  std::filesystem::resize_file(wal, size - 50);
  Storage s(dir.path());
  const Loaded l = load(s);
  CHECK(l.entries.size() < 20);
  CHECK(l.entries.size() >= 18);
  for (size_t i = 0; i < l.entries.size(); ++i) CHECK(l.entries[i].data == std::string(100, 'a' + (i + 1) % 26));
  // And the log goes on from there.
  AppendRequest next(99, 1, {"after the tear"});
  append(s, next);
  s.io.run();
  CHECK(next.status == 0);
}

TEST_CASE("kill -9 in the middle of appends: every acknowledged entry is there, in order, and nothing torn") {
  ScratchDir dir;
  int acks[2];
  REQUIRE(pipe(acks) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(acks[0]);
    Storage s(dir.path());
    load(s);
    for (uint32_t i = 1;; ++i) {
      AppendRequest a(static_cast<int>(i), 1, {"entry-" + std::to_string(i) + std::string(i % 500, '.')});
      append(s, a);
      s.io.run();
      if (a.status != 0) _exit(3);
      // Acknowledged (durable): tell the parent.
      if (write(acks[1], &i, sizeof i) != sizeof i) _exit(4);
    }
  }
  close(acks[1]);
  uint32_t acknowledged = 0, value = 0;
  // Wait for some acknowledgements, then kill without warning.
  while (acknowledged < 300 && read(acks[0], &value, sizeof value) == sizeof value) acknowledged = value;
  kill(child, SIGKILL);
  while (read(acks[0], &value, sizeof value) == sizeof value) acknowledged = value;  // drain what it sent
  int status = 0;
  waitpid(child, &status, 0);
  close(acks[0]);
  REQUIRE(WIFSIGNALED(status));
  Storage s(dir.path());
  const Loaded l = load(s);
  CHECK(l.start_index == 1);
  CHECK(l.entries.size() >= acknowledged);
  for (size_t i = 0; i < l.entries.size(); ++i) {
    const uint32_t n = static_cast<uint32_t>(i + 1);
    REQUIRE(l.entries[i].data == "entry-" + std::to_string(n) + std::string(n % 500, '.'));
  }
}

namespace {
struct NullFsm {
  static int apply(struct raft_fsm*, const struct raft_buffer*, void** result) {
    *result = nullptr;
    return 0;
  }
  static int snapshot(struct raft_fsm*, struct raft_buffer**, unsigned*) { return RAFT_NOTFOUND; }
  static int restore(struct raft_fsm*, struct raft_buffer*) { return 0; }
};
}  // namespace

TEST_CASE("an accepted AppendEntries is answered with the index it covered, not the follower's whole log") {
  // A follower (node 2) whose log runs past what the leader's AppendEntries covers, with
  // entries of an older term: it must not tell the leader it matches them.
  ScratchDir dir;
  Storage s(dir.path());
  struct raft_fsm fsm {};
  fsm.version = 1;
  fsm.apply = NullFsm::apply;
  fsm.snapshot = NullFsm::snapshot;
  fsm.restore = NullFsm::restore;
  struct raft raft {};
  REQUIRE(raft_init(&raft, s.raw(), &fsm, 2, "127.0.0.1:2") == 0);
  struct raft_configuration conf;
  raft_configuration_init(&conf);
  raft_configuration_add(&conf, 1, "127.0.0.1:1", RAFT_VOTER);
  raft_configuration_add(&conf, 2, "127.0.0.1:2", RAFT_VOTER);
  REQUIRE(raft_bootstrap(&raft, &conf) == 0);
  raft_configuration_close(&conf);
  REQUIRE(raft_start(&raft) == 0);
  // Leader 1, term 1: entries 2..5.
  RaftRpc append;
  append.type = RaftRpc::AppendEntries;
  append.term = 1;
  append.prev_log_index = 1;
  append.prev_log_term = 1;
  append.leader_commit = 1;
  for (int i = 2; i <= 5; ++i) append.entries.push_back({1, RAFT_COMMAND, "e" + std::to_string(i)});
  s.io.receive(1, "127.0.0.1:1", append);
  s.io.run();
  REQUIRE(raft_last_index(&raft) == 5);
  // A new leader of term 2 whose log ends at 2 sends a heartbeat: prev 2, nothing else.
  s.transport.sent.clear();
  RaftRpc heartbeat;
  heartbeat.type = RaftRpc::AppendEntries;
  heartbeat.term = 2;
  heartbeat.prev_log_index = 2;
  heartbeat.prev_log_term = 1;
  heartbeat.leader_commit = 2;
  s.io.receive(1, "127.0.0.1:1", heartbeat);
  s.io.run();
  bool answered = false;
  for (const auto& sent : s.transport.sent)
    if (sent.rpc.type == RaftRpc::AppendEntriesResult) {
      answered = true;
      CHECK(sent.rpc.rejected == 0);
      CHECK(sent.rpc.last_log_index == 2);  // libraft alone would say 5
    }
  CHECK(answered);
  bool closed = false;
  raft.data = &closed;
  raft_close(&raft, [](struct raft* r) { *static_cast<bool*>(r->data) = true; });
  for (int i = 0; i < 10 && !closed; ++i) s.io.run();
  CHECK(closed);
}
