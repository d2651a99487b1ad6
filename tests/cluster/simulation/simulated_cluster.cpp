#include "simulated_cluster.h"

#include <leveldb/db.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <iostream>
#include <stdexcept>

#include "cluster/frame_catch_up.h"
#include "cluster/journal_entry.h"
#include "cluster/raft_c.h"
extern "C" {
#include <raft/fixture.h>
}
#include "cluster/program_placement.h"
#include "cluster/program_runner.h"
#include "cluster/run_dir.h"
#include "cluster/state_machine.h"
#include "fault_env.h"
#include "vm/bundle_loader.h"
#include "vm/effects/adapter.h"
#include "vm/runtime/record_log.h"
#include "vm/runtime/run_store.h"
#include "vm/runtime/instance_codec.h"
#include "vm/runtime/intent.h"
#include "vm/runtime/runtime.h"
#include "vm/runtime/tick_record.h"
#include "vm/runtime/store.h"

namespace ved::cluster::sim {

namespace {

// The timeouts of a node started with the defaults of docs/cluster.md, in simulated ms.
constexpr uint64_t kElectionTimeoutMs = 1000;
constexpr uint64_t kFailureTimeoutMs = 2000;
constexpr uint64_t kRebalanceAfterMs = 2500;
constexpr uint64_t kLeaseMs = kFailureTimeoutMs / 2;  // as node.cpp gives its runners
constexpr uint64_t kCommitTimeoutMs = 5000;           // as node.cpp's runners wait
constexpr uint64_t kHousekeepingMs = 100;
constexpr uint64_t kRetryMs = 1000;  // a run that stopped is started again no sooner

// ---- the service the program provisions through: it honours idempotency keys

// What the outside world saw: every dispatch, by idempotency key. Each dispatch is
// checked against the cluster as it stands at that moment (set by the simulation).
struct Service {
  std::map<std::string, unsigned> dispatched;  // key -> times
  std::function<void(unsigned node, const vm::EffectRequest&)> on_dispatch;
};

// `Infra.Provision`: completes between ticks, never repeatable (an outcome is stored the
// moment it arrives), and answers a key with the same value every time, as a service
// that honours keys does.
class ProvisionAdapter : public vm::EffectAdapter {
 public:
  ProvisionAdapter(Service& service, unsigned node) : service_(service), node_(node) {}
  bool between_ticks() const override { return true; }
  vm::EffectOutcome execute(const vm::EffectRequest& request) override {
    const std::string key = request.idempotency_key.value_or(request.intent_id);
    if (service_.on_dispatch) service_.on_dispatch(node_, request);
    ++service_.dispatched[key];
    return vm::EffectOutcome::success(vm::Value::string("vm-" + key));
  }

 private:
  Service& service_;
  unsigned node_;
};

// The program loaded, and the options a run of it takes with `service` as its adapter
// (the reference run's and the rebuilt run's: node 0's adapter, which dispatches nothing).
void configure_runtime(Service& service, unsigned node, vm::RuntimeOptions& options);
void load_for_reading(const SimProgram& p, Service& service, vm::Program& program, vm::RuntimeOptions& options) {
  std::string error;
  if (!vm::load_bundle(p.bundle, program, error)) throw std::runtime_error(error);
  configure_runtime(service, 0, options);
  options.seed = p.seed;
}

// The journal as scan_journal gives it, "tick line\n" a line.
bool journal_text(const vm::Store& store, std::string& out, std::string& error) {
  return vm::scan_journal(store, 0, INT64_MAX, [&](int64_t tick, std::string_view line) {
    out += std::to_string(tick) + " " + std::string(line) + "\n";
    return true;
  }, error);
}

void configure_runtime(Service& service, unsigned node, vm::RuntimeOptions& options) {
  options.adapters.bind_effect("Infra.Provision", std::make_shared<ProvisionAdapter>(service, node));
  options.sync = false;  // a simulated crash loses no page cache
  options.group_ms = 0;  // every tick its own group: group boundaries never depend on a clock
  options.workers = 1;
}

// ---- taking turns: a runner's thread and the simulation's

// Thrown into a runner whose node the seed crashed while it waited: the run unwinds as a
// killed process's would stop, writing nothing more to the cluster.
struct NodeKilled : std::runtime_error {
  NodeKilled() : std::runtime_error("the node was killed") {}
};

// A runner calls the cluster through its baton and waits; the simulation answers when
// the simulated cluster has, and waits in turn until the runner calls again or ends.
class Baton {
 public:
  enum class Kind { Commit, BeforeDispatch, Sleep };

  // The runner's side.
  std::string call(Kind kind, std::string entry) {
    std::unique_lock lock(mutex_);
    kind_ = kind;
    entry_ = std::move(entry);
    answered_ = false;
    parked_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return answered_; });
    if (killed_) throw NodeKilled();
    return answer_;
  }

  // The simulation's side: waits until the runner calls or `done()`.
  void wait(const std::function<bool()>& done) {
    std::unique_lock lock(mutex_);
    while (!parked_ && !done()) changed_.wait_for(lock, std::chrono::milliseconds(1));
  }
  bool parked() {
    std::lock_guard lock(mutex_);
    return parked_;
  }
  Kind kind() {
    std::lock_guard lock(mutex_);
    return kind_;
  }
  std::string entry() {
    std::lock_guard lock(mutex_);
    return entry_;
  }
  void answer(std::string answer, bool killed = false) {
    {
      std::lock_guard lock(mutex_);
      answer_ = std::move(answer);
      killed_ = killed;
      answered_ = true;
      parked_ = false;
    }
    changed_.notify_all();
  }

  // The simulation's bookkeeping of the call (its thread only).
  uint64_t ticket = 0;        // of the call in flight
  bool sent = false;          // the call has been acted on
  uint64_t expires_at = 0;    // a commit not answered by then times out; a sleep ends then
  std::optional<std::string> reply;  // the answer, once the cluster gave it

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  Kind kind_ = Kind::Commit;
  std::string entry_;
  std::string answer_;
  bool parked_ = false;
  bool answered_ = false;
  bool killed_ = false;
};

struct Run {
  std::shared_ptr<Baton> baton;
  std::unique_ptr<ProgramRunner> runner;
  bool retiring = false;
};

struct SimNode {
  unsigned index = 0;
  uint64_t id = 0;
  std::string db_dir, runs_dir;
  std::unique_ptr<leveldb::DB> db;
  std::unique_ptr<StateMachine> sm;
  // Its disk as its runs see it: it dies with the node, may lose what was not synced
  // (a power cut) and may refuse writes for a while.
  storage_test::FaultEnv disk;
  std::optional<uint64_t> disk_heals_at;
  bool crashed = false, paused = false;
  uint64_t back_at = 0;  // when a crashed node restarts, a paused one resumes
  std::vector<Run> runs;
  uint64_t retry_at = 0;
  TakeoverWaits takeover_waits;
  // As a leader (node.cpp's housekeeping).
  bool was_leader = false;
  std::map<uint64_t, uint64_t> last_contact;
  bool membership_pending = false, placement_pending = false;
  std::set<uint64_t> liveness_pending;
  EligibilityTimer eligibility;  // as leader
  // As a follower: when it last heard its leader.
  uint64_t heard_leader_at = 0;
  // Since when it has not reached a majority (alive, not paused, linked both ways).
  std::optional<uint64_t> cut_off_since;
  // What it had applied at the last check (committed state never goes back), and how
  // many of the committed frames it holds have been checked against the single-node run.
  uint64_t applied = 0, frames = 0, checked = 0;
};

struct Proposal {
  unsigned from = 0;
  std::weak_ptr<Baton> baton;
  uint64_t ticket = 0;
  std::string bytes;
  uint64_t sent_at = 0;
  uint64_t deliver_at = 0;
};

class World;

struct Applying {
  struct raft_apply req {};
  World* world = nullptr;
  unsigned leader = 0;
  std::weak_ptr<Baton> baton;  // an owner's entry: its answer goes there
  uint64_t ticket = 0;
  std::string bytes;
  uint64_t sent_at = 0;
  std::function<void(int)> done;  // the leader's own entry
};

class World {
 public:
  World(const SimProgram& program, const Reference& reference, const SimOptions& options, const std::string& dir)
      : program_(program), reference_(reference), o_(options), dir_(dir), rng_(options.seed * 0x9e3779b97f4a7c15ull + 7) {}

  SimResult run();
  void on_applied(Applying* a, int status);

 private:
  uint64_t now() { return raft_fixture_time(&f_); }
  struct raft* raft_of(unsigned i) { return raft_fixture_get(&f_, i); }
  unsigned n() const { return static_cast<unsigned>(nodes_.size()); }
  uint64_t rand(uint64_t bound) { return bound ? rng_() % bound : 0; }
  void note(const std::string& line) {
    log_ += "[" + std::to_string(now()) + "] " + line + "\n";
    if (trace_) std::cerr << "[" << now() << "] " << line << std::endl;  // VED_SIM_TRACE: as it happens
  }
  void violation(const std::string& what) {
    if (result_.violations.size() < 20) result_.violations.push_back("at " + std::to_string(now()) + " ms: " + what);
    note("VIOLATION " + what);
  }

  bool up(unsigned i) const { return !nodes_[i]->crashed && !nodes_[i]->paused; }
  bool linked(unsigned a, unsigned b) const { return !cut_[a][b] && !cut_[b][a]; }
  // Whether a and b hear each other: both running, Raft on both still working, linked.
  bool reachable(unsigned a, unsigned b) { return up(a) && up(b) && !broken(a) && !broken(b) && linked(a, b); }
  // A node whose disk failed a write is out for good: libraft makes it unavailable
  // (a real node would stop, and come back only with a repaired disk).
  bool broken(unsigned i) { return raft_state(raft_of(i)) == RAFT_UNAVAILABLE; }
  unsigned down_count() {
    unsigned k = 0;
    for (unsigned i = 0; i < n(); ++i) k += up(i) && !broken(i) ? 0 : 1;
    return k;
  }
  unsigned minority() const { return (n() - 1) / 2; }

  void set_up();
  void propose(unsigned leader, const JournalEntry& entry, std::function<void(int)> done);
  void inject_faults();
  void crash(unsigned i, uint64_t for_ms);
  void pause(unsigned i, uint64_t for_ms);
  void bring_back_due(bool everything);
  void partition();
  void heal_partition();
  void housekeeping();
  void leader_housekeeping(SimNode& node);
  bool active(SimNode& node);
  void run_owned_programs(SimNode& node, bool active);
  void start_runner(SimNode& node, const ProgramRecord& program);
  void serve_runs();
  bool serve(SimNode& node, Run& run);
  void deliver_proposals();
  void track_cut_off();
  void check_committed();
  void on_dispatch(unsigned node, const vm::EffectRequest& request);
  bool finished_everywhere();
  void finish(SimResult& result);

  const SimProgram& program_;
  vm::Program program_code_;  // the bundle, loaded
  const Reference& reference_;
  const SimOptions o_;
  std::string dir_;
  std::mt19937_64 rng_;
  struct raft_fixture f_ {};
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::vector<std::vector<bool>> cut_;  // cut_[a][b]: a's messages do not reach b
  bool partitions_ = false;              // this seed partitions (and takes no snapshots)
  std::optional<uint64_t> heal_at_;
  uint64_t next_fault_at_ = 0;
  uint64_t next_housekeeping_ = 0;
  uint64_t next_ticket_ = 1;
  uint64_t program_id_ = 0;
  bool submitted_ = false, submit_pending_ = false;
  std::vector<Proposal> in_flight_;
  std::map<uint64_t, uint64_t> executor_of_epoch_;  // epoch -> the node whose ticks it committed
  std::map<uint64_t, uint64_t> lease_start_;        // node -> when it sent its latest accepted entry
  Service service_;
  SimResult result_;
  std::string log_;
  const bool trace_ = std::getenv("VED_SIM_TRACE") != nullptr;
};

void apply_cb(struct raft_apply* req, int status, void*) {
  auto* a = static_cast<Applying*>(req->data);
  a->world->on_applied(a, status);
}

void World::set_up() {
  std::string error;
  if (!vm::load_bundle(program_.bundle, program_code_, error)) throw std::runtime_error(error);
  std::memset(&f_, 0, sizeof f_);
  if (raft_fixture_initialize(&f_) != 0) throw std::runtime_error("raft_fixture_initialize failed");
  partitions_ = o_.seed % 2 == 0;
  cut_.assign(o_.nodes, std::vector<bool>(o_.nodes, false));
  for (unsigned i = 0; i < o_.nodes; ++i) {
    auto node = std::make_unique<SimNode>();
    node->index = i;
    node->id = i + 1;
    node->db_dir = dir_ + "/node" + std::to_string(node->id) + "/db";
    node->runs_dir = dir_ + "/node" + std::to_string(node->id) + "/runs";
    std::filesystem::create_directories(node->db_dir);
    leveldb::Options options;
    options.create_if_missing = true;
    leveldb::DB* db = nullptr;
    const leveldb::Status s = leveldb::DB::Open(options, node->db_dir, &db);
    if (!s.ok()) throw std::runtime_error("cannot open " + node->db_dir + ": " + s.ToString());
    node->db.reset(db);
    node->sm = std::make_unique<StateMachine>(node->db.get());
    if (!o_.fencing) node->sm->disable_fencing_for_testing();
    if (raft_fixture_grow(&f_, node->sm->fsm()) != 0) throw std::runtime_error("raft_fixture_grow failed");
    struct raft* r = raft_of(i);
    node->sm->attach(r);
    // The fixture's stub I/O mishandles a truncation after an installed snapshot (see
    // state_machine_test.cpp), which partitions provoke: a seed partitions or snapshots.
    raft_set_snapshot_threshold(r, partitions_ ? (1u << 30) : 32 + rand(64));
    raft_set_snapshot_trailing(r, 4 + rand(8));
    raft_fixture_set_randomized_election_timeout(&f_, i, kElectionTimeoutMs + rand(kElectionTimeoutMs));
    raft_fixture_set_network_latency(&f_, i, 2 + rand(20));
    raft_fixture_set_disk_latency(&f_, i, 1 + rand(10));
    nodes_.push_back(std::move(node));
  }
  struct raft_configuration conf;
  if (raft_fixture_configuration(&f_, o_.nodes, &conf) != 0) throw std::runtime_error("raft_fixture_configuration failed");
  if (raft_fixture_bootstrap(&f_, &conf) != 0) throw std::runtime_error("raft_fixture_bootstrap failed");
  raft_configuration_close(&conf);
  if (raft_fixture_start(&f_) != 0) throw std::runtime_error("raft_fixture_start failed");
  service_.on_dispatch = [this](unsigned node, const vm::EffectRequest& r) { on_dispatch(node, r); };
  next_fault_at_ = 2000 + rand(2000);
}

// An entry of the leader's own (housekeeping, the submission).
void World::propose(unsigned leader, const JournalEntry& entry, std::function<void(int)> done) {
  auto* a = new Applying{};
  a->req.data = a;
  a->world = this;
  a->leader = leader;
  a->done = std::move(done);
  const std::string bytes = encode_entry(entry);
  struct raft_buffer buf;
  buf.len = bytes.size();
  buf.base = raft_malloc(buf.len);
  std::memcpy(buf.base, bytes.data(), buf.len);
  if (const int rv = raft_apply(raft_of(leader), &a->req, &buf, 1, apply_cb); rv != 0) {
    raft_free(buf.base);
    auto done_now = std::move(a->done);
    delete a;
    if (done_now) done_now(rv);
  }
}

void World::on_applied(Applying* a, int status) {
  std::unique_ptr<Applying> owned(a);
  if (a->done) return a->done(status);
  std::string reply;
  if (status != 0) {
    reply = std::string("not committed: ") + raft_strerror(status);
  } else {
    // Committed is not accepted: the node says which (node.cpp on_applied).
    StateMachine& sm = *nodes_[a->leader]->sm;
    const auto fenced = sm.fenced();
    const auto refused = sm.refused();
    if (auto it = fenced.find(a->req.index); it != fenced.end()) reply = "fenced: " + it->second;
    else if (auto r = refused.find(a->req.index); r != refused.end()) reply = "refused: " + r->second;
  }
  if (status == 0 && reply.empty()) {
    // One executor per epoch: the ticks accepted in an epoch are one node's (late ones too).
    JournalEntry entry;
    std::string error;
    if (decode_entry(a->bytes, entry, error)) {
      // The sender's lease runs from when it sent an accepted entry (program_runner.cpp).
      uint64_t holder = 0;
      if (const auto* ticks = std::get_if<RunTicksEntry>(&entry)) holder = ticks->node;
      if (const auto* lease = std::get_if<RunLeaseEntry>(&entry)) holder = lease->node;
      if (holder) lease_start_[holder] = std::max(lease_start_[holder], a->sent_at);
      if (const auto* ticks = std::get_if<RunTicksEntry>(&entry)) {
        const auto [it, first] = executor_of_epoch_.emplace(ticks->epoch, ticks->node);
        if (!first && it->second != ticks->node)
          violation("nodes " + std::to_string(it->second) + " and " + std::to_string(ticks->node) +
                    " both committed ticks at epoch " + std::to_string(ticks->epoch));
      }
    }
  }
  auto baton = a->baton.lock();
  note("entry " + std::to_string(a->req.index) + " of an owner: " + (reply.empty() ? "committed" : reply) +
       (baton && baton->ticket == a->ticket ? "" : " (nobody waits for it)"));
  if (baton && baton->ticket == a->ticket && baton->sent && !baton->reply) baton->reply = reply;
}

void World::crash(unsigned i, uint64_t for_ms) {
  SimNode& node = *nodes_[i];
  ++result_.counts.crashes;
  const bool power_cut = rand(2) == 0;
  note((power_cut ? "power cut on node " : "crash node ") + std::to_string(node.id) + " for " + std::to_string(for_ms) +
       " ms");
  node.disk.die();  // nothing its runs do from here on reaches its files
  // Its runs die where they wait: nothing more of them reaches the cluster or the world.
  for (Run& run : node.runs) {
    if (!run.runner->done()) {
      run.baton->answer("", /*killed=*/true);
      run.baton->wait([&] { return run.runner->done(); });
    }
    note("node " + std::to_string(node.id) + " run of program " + std::to_string(program_id_) + ": " +
         run.runner->outcome());
  }
  node.runs.clear();
  if (power_cut) node.disk.power_cut();
  raft_fixture_kill(&f_, i);
  node.crashed = true;
  node.back_at = now() + for_ms;
  node.was_leader = false;
}

void World::pause(unsigned i, uint64_t for_ms) {
  SimNode& node = *nodes_[i];
  ++result_.counts.pauses;
  note("pause node " + std::to_string(node.id) + " for " + std::to_string(for_ms) + " ms");
  raft_fixture_kill(&f_, i);
  node.paused = true;
  node.back_at = now() + for_ms;
}

void World::bring_back_due(bool everything) {
  for (unsigned i = 0; i < n(); ++i) {
    SimNode& node = *nodes_[i];
    if (up(i) || (!everything && now() < node.back_at)) continue;
    note((node.crashed ? "restart node " : "resume node ") + std::to_string(node.id));
    if (node.crashed) node.disk.revive();
    raft_fixture_revive(&f_, i);
    node.crashed = node.paused = false;
    // What a restarted node knows of its peers starts now.
    node.heard_leader_at = now();
    node.last_contact.clear();
    node.was_leader = false;
  }
  if (heal_at_ && (everything || now() >= *heal_at_)) heal_partition();
  for (auto& node : nodes_)
    if (node->disk_heals_at && (everything || now() >= *node->disk_heals_at)) {
      node->disk.fail_log_syncs_from(-1);
      node->disk_heals_at.reset();
      note("node " + std::to_string(node->id) + ": its disk syncs again");
    }
}

void World::partition() {
  // A minority, cut off both ways from everyone else.
  std::vector<unsigned> order(n());
  for (unsigned i = 0; i < n(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng_);
  const unsigned size = 1 + static_cast<unsigned>(rand(minority()));
  std::set<unsigned> side(order.begin(), order.begin() + size);
  std::string names;
  for (unsigned i : side) names += " " + std::to_string(nodes_[i]->id);
  note("partition: nodes" + names + " cut off");
  ++result_.counts.partitions;
  for (unsigned a = 0; a < n(); ++a)
    for (unsigned b = 0; b < n(); ++b)
      if (side.count(a) != side.count(b)) {
        cut_[a][b] = true;
        raft_fixture_disconnect(&f_, a, b);
      }
  heal_at_ = now() + 500 + rand(6000);
}

void World::heal_partition() {
  note("heal the partition");
  for (unsigned a = 0; a < n(); ++a)
    for (unsigned b = 0; b < n(); ++b)
      if (cut_[a][b]) {
        cut_[a][b] = false;
        raft_fixture_reconnect(&f_, a, b);
      }
  heal_at_.reset();
}

void World::inject_faults() {
  if (now() >= o_.fault_ms || now() < next_fault_at_) return;
  next_fault_at_ = now() + 300 + rand(2500);
  // The program's owner, if any node knows one: the most interesting node to hurt.
  unsigned owner = n();
  for (unsigned i = 0; i < n(); ++i)
    if (program_id_ && nodes_[i]->sm->owner(program_unit(program_id_)) == nodes_[i]->id) owner = i;
  const uint64_t roll = rand(100);
  const bool room = down_count() < minority();
  if (roll < 30 && room) {
    crash(owner < n() && rand(3) != 0 ? owner : static_cast<unsigned>(rand(n())), 300 + rand(6000));
  } else if (roll < 45 && room) {
    const unsigned victim = static_cast<unsigned>(rand(n()));
    if (up(victim)) pause(victim, 300 + rand(5000));
  } else if (roll < 65 && partitions_ && !heal_at_) {
    partition();
  } else if (roll < 75) {
    // Its run dir's disk refuses to sync for a while. (Not the Raft log's: libraft 0.15's
    // fixture double-frees after a failed write of its stub I/O.)
    SimNode& victim = *nodes_[rand(n())];
    if (up(victim.index) && !victim.disk_heals_at) {
      ++result_.counts.disk_faults;
      victim.disk.fail_log_syncs_from(victim.disk.log_syncs() + static_cast<int64_t>(rand(3)));
      victim.disk_heals_at = now() + 300 + rand(3000);
      note("node " + std::to_string(victim.id) + ": its disk refuses syncs");
    }
  } else if (roll < 85) {
    const unsigned victim = static_cast<unsigned>(rand(n()));
    raft_fixture_set_network_latency(&f_, victim, 2 + rand(rand(2) ? 300 : 20));
  }
}

// node.cpp health(): a leader that heard a majority within the election timeout, or a
// follower that heard its leader within it, is ACTIVE; anything else is DEGRADED.
bool World::active(SimNode& node) {
  struct raft* r = raft_of(node.index);
  if (raft_state(r) == RAFT_LEADER) {
    unsigned reached = 1;
    for (const auto& other : nodes_)
      if (other->id != node.id && node.last_contact.count(other->id) &&
          now() - node.last_contact[other->id] < kElectionTimeoutMs)
        ++reached;
    return reached * 2 > n();
  }
  raft_id leader = 0;
  const char* address = nullptr;
  raft_leader(r, &leader, &address);
  return raft_state(r) == RAFT_FOLLOWER && leader != 0 && now() - node.heard_leader_at < kElectionTimeoutMs;
}

void World::leader_housekeeping(SimNode& node) {
  const unsigned i = node.index;
  if (!node.was_leader) {
    note("node " + std::to_string(node.id) + " leads (term " + std::to_string(raft_of(i)->current_term) + ")");
    for (const auto& other : nodes_) node.last_contact[other->id] = now();
    node.eligibility.reset();
  }
  for (const auto& other : nodes_)
    if (other->index != i && reachable(i, other->index)) node.last_contact[other->id] = now();
  StateMachine& sm = *node.sm;
  const auto members = sm.members();
  if (members.size() < n() && !node.membership_pending) {
    MembershipEntry entry;
    for (const auto& other : nodes_) entry.nodes.push_back({other->id, "sim:" + std::to_string(other->id), "", ""});
    node.membership_pending = true;
    propose(i, entry, [&node](int) { node.membership_pending = false; });
    return;
  }
  if (members.size() < n()) return;
  if (!submitted_ && !submit_pending_) {
    submit_pending_ = true;
    SubmitEntry submit{std::string(16, 's'), program_.name, program_.bundle, program_.seed};
    propose(i, submit, [this, &node](int status) {
      submit_pending_ = false;
      if (status != 0) return;
      const auto programs = node.sm->programs();
      if (programs.empty()) return;
      program_id_ = programs.front().id;
      submitted_ = true;
      note("program " + std::to_string(program_id_) + " submitted");
    });
  }
  // Eligibility (node.cpp housekeeping): a member back from DOWN may receive programs
  // once this leader has heard it for --rebalance-after.
  for (const uint64_t id : node.eligibility.due(members, now(), kRebalanceAfterMs, [&](uint64_t m) {
         return m == node.id || now() - node.last_contact[m] < kElectionTimeoutMs;
       })) {
    note("node " + std::to_string(node.id) + " says node " + std::to_string(id) + " may receive programs again");
    propose(i, EligibleEntry{id}, [&node, id](int) { node.eligibility.settled(id); });
  }
  // Liveness (node.cpp housekeeping): silent for the failure timeout is DOWN.
  for (const auto& [id, member] : members) {
    if (id == node.id || node.liveness_pending.count(id)) continue;
    const bool silent = now() - node.last_contact[id] > kFailureTimeoutMs;
    if (silent == !member.up) continue;
    node.liveness_pending.insert(id);
    note("node " + std::to_string(node.id) + " says node " + std::to_string(id) + (silent ? " is DOWN" : " is up"));
    propose(i, LivenessEntry{id, !silent}, [&node, id](int) { node.liveness_pending.erase(id); });
  }
  if (!node.placement_pending)
    if (auto entry = next_placement(sm, [](uint64_t) { return true; })) {
      node.placement_pending = true;
      std::string table;
      for (const auto& a : entry->table) table += " " + a.instance + "->" + std::to_string(a.node);
      note("node " + std::to_string(node.id) + " proposes placement epoch " + std::to_string(entry->epoch) + table);
      propose(i, *entry, [&node](int) { node.placement_pending = false; });
    }
}

void World::start_runner(SimNode& node, const ProgramRecord& program) {
  ++result_.counts.runs_started;
  auto baton = std::make_shared<Baton>();
  RunnerSetup setup;
  setup.program = program.id;
  setup.node = node.id;
  setup.name = program.name;
  setup.seed = program.seed;
  StateMachine* sm = node.sm.get();
  setup.dir = node.runs_dir + "/" + std::to_string(program.id);
  setup.storage = &node.disk;
  read_state_machine(setup, sm, 1u << 20);
  setup.commit = [baton](const JournalEntry& entry) { return baton->call(Baton::Kind::Commit, encode_entry(entry)); };
  setup.now_ms = [this] { return now(); };
  setup.configure = [this, index = node.index](const vm::Program&, vm::RuntimeOptions& options) {
    configure_runtime(service_, index, options);
  };
  setup.log = [this, id = node.id](const std::string& line) { note("node " + std::to_string(id) + ": " + line); };
  setup.lease_ms = kLeaseMs;
  setup.before_dispatch = [baton] { baton->call(Baton::Kind::BeforeDispatch, ""); };
  setup.dispatch_not_before_ms = node.takeover_waits.dispatch_not_before(*sm, program.id, node.id, now(), kLeaseMs);
  setup.sleep_ms = [baton](uint64_t ms) { baton->call(Baton::Kind::Sleep, std::to_string(ms)); };
  setup.test_no_lease = !o_.lease;
  note("node " + std::to_string(node.id) + " starts program " + std::to_string(program.id) + " from frame " +
       std::to_string(sm->run(program.id).frames));
  Run run;
  run.baton = baton;
  run.runner = std::make_unique<ProgramRunner>(std::move(setup));
  node.runs.push_back(std::move(run));
  Run& started = node.runs.back();
  started.baton->wait([&] { return started.runner->done(); });
}

// node.cpp run_owned_programs.
void World::run_owned_programs(SimNode& node, bool is_active) {
  for (Run& run : node.runs) {
    const bool owned = is_active && program_id_ && node.sm->owner(program_unit(program_id_)) == node.id &&
                       !node.sm->run(program_id_).finished;
    if (!run.retiring && !owned) {
      note("node " + std::to_string(node.id) + " stops its run (" + (is_active ? "not the owner" : "DEGRADED") + ")");
      run.retiring = true;
      run.runner->request_stop();
    }
  }
  if (!is_active || !program_id_) return;
  for (const auto& p : node.sm->programs()) {
    if (p.status == "finished" || node.sm->owner(program_unit(p.id)) != node.id) continue;
    // One run of a program at a time on a node: a retiring one still holds the run dir.
    if (!node.runs.empty() || now() < node.retry_at) continue;
    if (node.sm->run_gap(p.id)) continue;  // not before it holds every committed frame
    start_runner(node, p);
  }
}

void World::housekeeping() {
  if (now() < next_housekeeping_) return;
  next_housekeeping_ = now() + kHousekeepingMs;
  if (now() / 5000 != (now() - kHousekeepingMs) / 5000) {
    std::string states;
    for (const auto& node : nodes_) {
      struct raft* r = raft_of(node->index);
      states += " node " + std::to_string(node->id) + ": " + std::to_string(raft_state(r)) + " term " +
                std::to_string(r->current_term) + " commit " + std::to_string(r->commit_index) + " applied " +
                std::to_string(node->sm->applied_index()) + (up(node->index) ? "" : " (down)") + ";";
    }
    note("states:" + states);
  }
  for (auto& owned : nodes_) {
    SimNode& node = *owned;
    if (!up(node.index)) continue;
    struct raft* r = raft_of(node.index);
    const bool leader = raft_state(r) == RAFT_LEADER;
    if (!leader) {
      raft_id known = 0;
      const char* address = nullptr;
      raft_leader(r, &known, &address);
      if (known != 0 && reachable(node.index, static_cast<unsigned>(known - 1))) node.heard_leader_at = now();
    }
    if (leader) leader_housekeeping(node);
    node.was_leader = leader;
    // FrameCatchUp: a replica that restored a snapshot fetches the frames it lacks from
    // the members it can reach (FetchFrames answers from the frames they hold).
    if (!node.sm->run_gaps().empty())
      result_.counts.frames_caught_up += fill_gaps_once(*node.sm, node.id, [&](const MemberRecord& member, uint64_t program, uint64_t from) {
        const unsigned other = static_cast<unsigned>(member.info.id - 1);
        if (other >= n() || !reachable(node.index, other)) return std::string();
        return nodes_[other]->sm->run_frames(program, from, 1u << 20);
      }, [&](const std::string& line) { note("node " + std::to_string(node.id) + ": " + line); });
    run_owned_programs(node, active(node));
  }
}

// One step of one run: answers it, or sends what it asked. True when something happened.
bool World::serve(SimNode& node, Run& run) {
  Baton& b = *run.baton;
  if (run.runner->done() || !b.parked()) return false;
  if (b.reply) {
    std::string reply = std::move(*b.reply);
    b.reply.reset();
    b.sent = false;
    b.answer(std::move(reply));
    b.wait([&] { return run.runner->done(); });
    return true;
  }
  if (!b.sent) {
    b.sent = true;
    b.ticket = next_ticket_++;
    if (b.kind() == Baton::Kind::Sleep) {
      b.expires_at = now() + std::stoull(b.entry());
      return true;
    }
    if (b.kind() == Baton::Kind::BeforeDispatch) {
      // The seed may stop the whole node here (SIGSTOP), to be deposed while paused.
      if (now() < o_.fault_ms && down_count() < minority() && rand(100) < 15) pause(node.index, 500 + rand(5000));
      b.reply = "";
      return true;
    }
    b.expires_at = now() + kCommitTimeoutMs;
    const uint64_t roll = rand(100);
    if (now() < o_.fault_ms && roll < 4) {
      ++result_.counts.proposals_lost;
      return true;  // it times out
    }
    Proposal p;
    p.from = node.index;
    p.baton = run.baton;
    p.ticket = b.ticket;
    p.bytes = b.entry();
    p.sent_at = now();
    p.deliver_at = now() + 1 + rand(30);
    if (now() < o_.fault_ms && roll < 10) {
      ++result_.counts.proposals_late;
      p.deliver_at = now() + 1000 + rand(8000);  // stuck in a queue: arrives after its sender gave up
    }
    in_flight_.push_back(std::move(p));
    return true;
  }
  if (b.kind() == Baton::Kind::Sleep && now() >= b.expires_at) {
    b.reply = "";
    return true;
  }
  if (b.kind() == Baton::Kind::Commit && now() >= b.expires_at) {
    b.reply = "the cluster did not answer within " + std::to_string(kCommitTimeoutMs) + " ms";
    return true;
  }
  return false;
}

void World::serve_runs() {
  for (bool progress = true; progress;) {
    progress = false;
    for (auto& owned : nodes_) {
      SimNode& node = *owned;
      if (!up(node.index)) continue;
      for (Run& run : node.runs) progress = serve(node, run) || progress;
      for (auto it = node.runs.begin(); it != node.runs.end();) {
        if (!it->runner->done()) {
          ++it;
          continue;
        }
        note("node " + std::to_string(node.id) + " run of program " + std::to_string(program_id_) + ": " +
             it->runner->outcome());
        node.retry_at = now() + kRetryMs;
        it = node.runs.erase(it);
        progress = true;
      }
    }
  }
}

void World::deliver_proposals() {
  // In order of arrival; those due now in the order they were sent.
  std::stable_sort(in_flight_.begin(), in_flight_.end(),
                   [](const Proposal& a, const Proposal& b) { return a.deliver_at < b.deliver_at; });
  while (!in_flight_.empty() && in_flight_.front().deliver_at <= now()) {
    Proposal p = std::move(in_flight_.front());
    in_flight_.erase(in_flight_.begin());
    // The node the sender believes leads; through it, as node.cpp forwards a Propose.
    unsigned leader = n();
    for (unsigned i = 0; i < n(); ++i)
      if (up(i) && raft_state(raft_of(i)) == RAFT_LEADER && linked(p.from, i)) leader = i;
    JournalEntry entry;
    std::string error;
    const std::string what = decode_entry(p.bytes, entry, error) ? entry_kind_name(kind_of(entry)) : "?";
    if (leader == n()) {
      note("node " + std::to_string(nodes_[p.from]->id) + "'s " + what + " finds no leader");
      continue;  // nobody to take it: the sender times out
    }
    note("node " + std::to_string(nodes_[p.from]->id) + "'s " + what + " reaches node " + std::to_string(nodes_[leader]->id));
    auto* a = new Applying{};
    a->req.data = a;
    a->world = this;
    a->leader = leader;
    a->baton = p.baton;
    a->ticket = p.ticket;
    a->bytes = p.bytes;
    a->sent_at = p.sent_at;
    struct raft_buffer buf;
    buf.len = p.bytes.size();
    buf.base = raft_malloc(buf.len);
    std::memcpy(buf.base, p.bytes.data(), buf.len);
    if (raft_apply(raft_of(leader), &a->req, &buf, 1, apply_cb) != 0) {
      raft_free(buf.base);
      delete a;
    }
  }
}

void World::track_cut_off() {
  for (unsigned i = 0; i < n(); ++i) {
    SimNode& node = *nodes_[i];
    unsigned reach = 1;
    for (unsigned j = 0; j < n(); ++j)
      if (j != i && reachable(i, j)) ++reach;
    const bool cut_off = !up(i) || reach * 2 <= n();
    if (!cut_off) node.cut_off_since.reset();
    else if (!node.cut_off_since) node.cut_off_since = now();
  }
}

// A tick record with the dispatch count of every intent in it cleared: a run that took a
// program over, or restarted, hands the intents it recovered to their adapter again and
// counts it (runtime.md §7), which is the one way its tick may differ from the
// single-node run's.
std::string without_dispatch_counts(const vm::Program& program, std::string_view payload) {
  vm::TickRecord record;
  std::string error;
  if (!vm::decode_tick_record(payload, record, error)) return "undecodable: " + error;
  for (auto& write : record.intents) {
    vm::Intent intent;
    if (!vm::decode_intent(program, write.value, intent, error)) return "undecodable intent: " + error;
    intent.dispatches = 0;
    write.value = vm::encode_intent(intent);
  }
  return vm::encode_tick_record(record);
}

// Committed state never goes back, and what is committed of the run is, frame by frame,
// the single-node run's.
void World::check_committed() {
  if (!program_id_) return;
  for (auto& owned : nodes_) {
    SimNode& node = *owned;
    const uint64_t applied = node.sm->applied_index();
    if (applied < node.applied)
      violation("node " + std::to_string(node.id) + "'s applied index went back from " + std::to_string(node.applied) +
                " to " + std::to_string(applied));
    node.applied = applied;
    const uint64_t frames = node.sm->run(program_id_).frames;
    if (frames < node.frames)
      violation("node " + std::to_string(node.id) + "'s committed frames went back from " + std::to_string(node.frames) +
                " to " + std::to_string(frames));
    node.frames = frames;
    // The frames it holds from the last checked one on (up to a gap, if it restored a
    // snapshot and has not fetched them yet): each the single-node run's.
    if (node.checked >= frames) continue;
    const std::string bytes = node.sm->run_frames(program_id_, node.checked);
    std::string error;
    uint64_t next = node.checked;
    const bool ok = vm::read_log_frames(bytes, node.checked, [&](uint64_t number, int64_t tick, std::string_view payload) {
      next = number + 1;
      if (number >= reference_.frames.size()) {
        violation("node " + std::to_string(node.id) + " committed frame " + std::to_string(number) +
                  ", and the single-node run has " + std::to_string(reference_.frames.size()));
      } else if (reference_.frames[number].first != tick ||
                 (reference_.frames[number].second != payload &&
                  without_dispatch_counts(program_code_, reference_.frames[number].second) !=
                      without_dispatch_counts(program_code_, payload))) {
        violation("node " + std::to_string(node.id) + "'s committed frame " + std::to_string(number) + " (tick " +
                  std::to_string(tick) + ") is not the single-node run's");
      }
    }, error);
    if (!ok) violation("node " + std::to_string(node.id) + "'s committed frames do not read: " + error);
    if (next > frames)
      violation("node " + std::to_string(node.id) + " says " + std::to_string(frames) + " frames are committed and holds " +
                std::to_string(next));
    const auto gap = node.sm->run_gap(program_id_);
    if (next < frames && !(gap && next == gap->from))
      violation("node " + std::to_string(node.id) + " says " + std::to_string(frames) + " frames are committed and holds " +
                std::to_string(next) + ", with no gap recorded there");
    node.checked = next;
  }
}

// Every release, against the cluster as it stands: no other node may still hold the
// dispatch lease (a deposed owner may go on releasing until its lease runs out, and its
// successor waits for that), and the releasing node is not DEGRADED (cut off from a
// majority, or its Raft broken, for longer than it takes to notice).
void World::on_dispatch(unsigned index, const vm::EffectRequest& request) {
  ++result_.counts.dispatches;
  SimNode& node = *nodes_[index];
  const std::string key = request.idempotency_key.value_or(request.intent_id);
  if (service_.dispatched.count(key)) ++result_.counts.duplicate_dispatches;
  note("node " + std::to_string(node.id) + " dispatches " + request.intent_id + " (" + key + ")");
  // Exclusive releases: while another node may still hold the dispatch lease (it sent an
  // entry that was accepted less than a lease ago), nobody else releases.
  for (const auto& [other, sent] : lease_start_)
    if (other != node.id && now() < sent + kLeaseMs)
      violation("node " + std::to_string(node.id) + " released " + request.intent_id + " while node " +
                std::to_string(other) + " may still hold the lease (its entry sent at " + std::to_string(sent) +
                " ms was accepted)");
  // DEGRADED (cut off for the election timeout, noticed at the next housekeeping) stops
  // every release.
  if (node.cut_off_since && now() - *node.cut_off_since > kElectionTimeoutMs + kHousekeepingMs)
    violation("node " + std::to_string(node.id) + " released " + request.intent_id + " " +
              std::to_string(now() - *node.cut_off_since) + " ms after it lost its majority");
}

bool World::finished_everywhere() {
  if (!program_id_) return false;
  for (auto& node : nodes_)
    if (!broken(node->index) && (!node->sm->run(program_id_).finished || !node->runs.empty())) return false;
  return true;
}

SimResult World::run() {
  set_up();
  bool healed = false;
  while (now() < o_.limit_ms) {
    if (!healed && now() >= o_.fault_ms) {
      healed = true;
      note("faults end: everything comes back");
    }
    bring_back_due(healed);
    inject_faults();
    track_cut_off();
    housekeeping();
    serve_runs();
    deliver_proposals();
    check_committed();
    if (healed && finished_everywhere()) break;
    raft_fixture_step(&f_);
  }
  SimResult result = std::move(result_);
  finish(result);
  result.counts.simulated_ms = now();
  // Stop whatever still runs (a seed that did not finish) before the fixture goes.
  for (auto& node : nodes_)
    for (Run& run : node->runs)
      if (!run.runner->done()) {
        run.baton->answer("", true);
        run.baton->wait([&] { return run.runner->done(); });
      }
  for (auto& node : nodes_) node->runs.clear();
  raft_fixture_close(&f_);
  result.log = std::move(log_);
  return result;
}

void World::finish(SimResult& result) {
  if (!finished_everywhere()) {
    result.violations.push_back("the program did not finish within " + std::to_string(o_.limit_ms) +
                                " ms of simulated time");
    return;
  }
  // Every replica applies the same entries: settle, then compare.
  unsigned leader = raft_fixture_leader_index(&f_);
  if (leader >= n() && raft_fixture_step_until_has_leader(&f_, 30000)) leader = raft_fixture_leader_index(&f_);
  if (leader < n()) {
    const raft_index last = raft_last_index(raft_of(leader));
    for (unsigned i = 0; i < n(); ++i)
      if (!broken(i)) raft_fixture_step_until_applied(&f_, i, last, 30000);
  }
  // Every node that can still apply (not broken by a disk fault) ends with node `first`'s state.
  unsigned first = 0;
  while (first + 1 < n() && broken(first)) ++first;
  for (unsigned i = first + 1; i < n(); ++i)
    if (!broken(i) && (nodes_[i]->sm->applied_index() != nodes_[first]->sm->applied_index() ||
                       nodes_[i]->sm->digest() != nodes_[first]->sm->digest()))
      result.violations.push_back("node " + std::to_string(nodes_[i]->id) + " applied up to " +
                                  std::to_string(nodes_[i]->sm->applied_index()) + " and node " +
                                  std::to_string(nodes_[first]->id) + " up to " +
                                  std::to_string(nodes_[first]->sm->applied_index()) + ", with other digests");
  StateMachine& sm = *nodes_[first]->sm;
  const RunRecord run = sm.run(program_id_);
  // Every replica holds every committed frame: its gaps after snapshots are filled.
  for (unsigned i = 0; i < n(); ++i) {
    if (broken(i)) continue;
    const std::string frames = nodes_[i]->sm->run_frames(program_id_, 0);
    uint64_t held = 0;
    std::string error;
    vm::read_log_frames(frames, 0, [&](uint64_t, int64_t, std::string_view) { ++held; }, error);
    if (held != run.frames || nodes_[i]->sm->run_gap(program_id_))
      result.violations.push_back("node " + std::to_string(nodes_[i]->id) + " holds " + std::to_string(held) + " of the " +
                                  std::to_string(run.frames) + " committed frames at the end");
  }
  result.finished = run.finished;
  result.exit_code = static_cast<int>(run.exit_code);
  result.counts.fenced = static_cast<unsigned>(sm.fenced_count());
  // The committed run, rebuilt on a data dir as `vedvm inspect --join` rebuilds it.
  vm::Program program;
  Service service;
  vm::RuntimeOptions options;
  load_for_reading(program_, service, program, options);
  std::string error;
  const std::string rebuilt = dir_ + "/rebuilt";
  auto store = open_committed_run(rebuilt, sm.run_builds(program_id_), options,
                                  [&](uint64_t from) { return sm.run_frames(program_id_, from, 1u << 20); }, error);
  if (!store) {
    result.violations.push_back("the committed run does not rebuild: " + error);
    return;
  }
  if (!journal_text(*store, result.journal, error))
    result.violations.push_back("the committed run's journal does not read: " + error);
  vm::Runtime runtime(program, program_.bundle, options);
  bool resumed = false;
  if (!runtime.attach(*store, resumed, error)) result.violations.push_back("the committed run does not open: " + error);
  else result.instances = runtime.describe_instances();
  // The outside world: every key acted on, none more often than owners were replaced.
  for (const auto& [key, times] : service_.dispatched)
    if (times > result.counts.runs_started)
      result.violations.push_back("key " + key + " was dispatched " + std::to_string(times) + " times by " +
                                  std::to_string(result.counts.runs_started) + " runs");
}

}  // namespace

Reference run_reference(const SimProgram& p, const std::string& scratch_dir) {
  Reference ref;
  vm::Program program;
  Service service;
  vm::RuntimeOptions options;
  load_for_reading(p, service, program, options);
  std::string error;
  vm::Status status;
  auto store = vm::Store::open(scratch_dir + "/reference", vm::StoreMode::Run, status);
  if (!store) throw std::runtime_error(status.message());
  vm::Runtime runtime(program, p.bundle, options);
  bool resumed = false;
  if (!runtime.attach(*store, resumed, error)) throw std::runtime_error(error);
  vm::RunSummary summary;
  if (!runtime.run(summary, error)) throw std::runtime_error(error);
  ref.exit_code = summary.exit_code;
  ref.instances = runtime.describe_instances();
  vm::LogEnd end;
  if (const vm::Status s = store->scan_log(0, [&](uint64_t number, int64_t tick, std::string_view payload) {
        if (number != ref.frames.size()) throw std::runtime_error("the reference's log skips a frame");
        ref.frames.emplace_back(tick, std::string(payload));
        return true;
      }, end);
      !s.is_ok())
    throw std::runtime_error(s.message());
  if (!journal_text(*store, ref.journal, error)) throw std::runtime_error(error);
  return ref;
}

SimResult simulate(const SimProgram& program, const Reference& reference, const SimOptions& options) {
  const std::string dir = (std::filesystem::temp_directory_path() / "ved-sim-XXXXXX").string();
  std::string pattern = dir;
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  SimResult result;
  try {
    World world(program, reference, options, pattern);
    result = world.run();
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(pattern, ec);
    throw;
  }
  std::error_code ec;
  std::filesystem::remove_all(pattern, ec);
  return result;
}

}  // namespace ved::cluster::sim
