#include "cluster/node.h"

#include <fcntl.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <signal.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "cluster/client.h"
#include "cluster/frame_catch_up.h"
#include "cluster/member_address.h"
#include "cluster/partition_filter.h"
#include "cluster/program_placement.h"
#include "cluster/program_runner.h"
#include "cluster/raft_io.h"
#include "cluster/raft_log_store.h"
#include "cluster/state_machine.h"
#include "cluster/zmq_util.h"
#include "vm/effects/builtin_adapters.h"
#include "vm/effects/external_bindings.h"
#include "vm/runtime/runtime.h"

namespace ved::cluster {

namespace {

using Json = nlohmann::ordered_json;

uint64_t steady_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

class SteadyClock : public Clock {
 public:
  uint64_t now_ms() override { return steady_ms(); }
};

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}
uint64_t from_be64(const std::string& s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

// HOST:PORT of a member address (HOST:PORT[,key=...]).
std::string host_port_of(const std::string& address) { return address.substr(0, address.find(',')); }

// How long an owner's entry may take to commit before its run stops: past it the node
// has probably lost its quorum (and goes DEGRADED), or the program.
constexpr int kCommitTimeoutMs = 5000;

// How long a run waits for an external adapter to answer (connecting, and each request).
constexpr int kAdapterTimeoutMs = 10'000;

// An entry of a program's owner, through this node to the leader; "" once it is committed
// and applied, else why not (fenced entries are refused with the reason).
std::string commit_entry(ClusterClient& client, const std::string& address, const JournalEntry& entry) {
  ClientRequest request;
  request.kind = ClientRequest::Propose;
  request.entry = encode_entry(entry);
  ClientReply reply;
  std::string error;
  if (!client.call_leader(address, request, kCommitTimeoutMs, reply, error))
    return "the cluster did not answer within " + std::to_string(kCommitTimeoutMs) + " ms (" + error + ")";
  if (reply.status != ClientReply::Ok) return reply.message.empty() ? "not committed" : reply.message;
  return "";
}

// Testing only (VED_TEST_STOP_BEFORE_DISPATCH=FILE, docs/cluster.md "Running a program"):
// the first runner of the cluster to get to its first release creates FILE and stops its
// whole process (SIGSTOP), to be deposed while paused; a runner finding FILE there goes on.
std::function<void()> stop_once_before_dispatch(const std::string& path) {
  auto asked = std::make_shared<bool>(false);
  return [path, asked] {
    if (*asked) return;
    *asked = true;
    const int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0) return;
    close(fd);
    raise(SIGSTOP);
  };
}

// Identity keys: this node's own facts, beside raft/ and fsm/ in its LevelDB.
constexpr const char* kIdKey = "node/id";
constexpr const char* kClusterKey = "node/cluster-id";
constexpr const char* kJoinedKey = "node/joined";
constexpr const char* kListenKey = "node/listen";
constexpr const char* kLeftKey = "node/left";

// Outgoing Raft traffic: one DEALER per peer address, created on first use. Sends never
// block: a peer that is not connected (ZMQ_IMMEDIATE) or whose queue is full loses the
// message, which Raft tolerates and retries.
class PeerSockets : public RaftTransport {
 public:
  PeerSockets(void* context, const Security& security) : context_(context), security_(security) {}
  ~PeerSockets() override { close_all(); }
  // Before the context is terminated: zmq_ctx_term waits for every socket to close.
  void close_all() {
    for (auto& [address, socket] : sockets_) zmq_close(socket);
    sockets_.clear();
  }
  void set_sender(uint64_t id, std::string address, std::string cluster_id) {
    id_ = id;
    address_ = std::move(address);
    cluster_id_ = std::move(cluster_id);
  }
  // Testing only (--partition-file): the members whose traffic is dropped.
  void set_partition(const PartitionList* partition) { partition_ = partition; }
  bool send_raft(uint64_t to, const std::string& address, const RaftRpc& rpc) override {
    if (partition_ && !partition_->empty() && partition_->blocks(to, host_port_of(address)))
      return true;  // lost in the (simulated) network, as far as the sender can tell
    void* socket = socket_for(address);
    if (!socket) return false;
    const std::string bytes = encode_wire(WireMessage{cluster_id_, id_, address_, rpc});
    return zmq_send(socket, bytes.data(), bytes.size(), ZMQ_DONTWAIT) >= 0;
  }

 private:
  void* socket_for(const std::string& address) {
    if (auto it = sockets_.find(address); it != sockets_.end()) return it->second;
    MemberAddress parsed;
    std::string error;
    if (!parse_member_address(address, parsed, error)) return nullptr;
    if (!security_.insecure && parsed.public_key.empty()) return nullptr;  // never plaintext by accident
    void* socket = zmq_socket(context_, ZMQ_DEALER);
    zmq_util::common_options(socket);
    int one = 1, hwm = 10000, reconnect = 100;
    zmq_setsockopt(socket, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt(socket, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(socket, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect);
    if (!zmq_util::curve_client(socket, security_, parsed.public_key, error) ||
        zmq_connect(socket, parsed.endpoint().c_str()) != 0) {
      zmq_close(socket);
      return nullptr;
    }
    sockets_[address] = socket;
    return socket;
  }
  void* context_;
  const Security& security_;
  uint64_t id_ = 0;
  std::string address_, cluster_id_;
  std::map<std::string, void*> sockets_;
  const PartitionList* partition_ = nullptr;
};

class Node;

struct PendingApply {
  struct raft_apply req;
  Node* node = nullptr;
  enum Kind { Submit, Upgrade, Propose, Internal } kind = Internal;
  std::string routing;
  uint64_t sequence = 0;
  std::string request_id;
  std::string program_name;
  std::function<void(int status)> done;  // Internal: what to do next
};

struct PendingChange {
  struct raft_change req;
  Node* node = nullptr;
  std::function<void(int status)> done;
};

class Node {
 public:
  Node(const NodeOptions& options, const std::atomic<bool>& stop)
      : options_(options), stop_(stop), context_(zmq_ctx_new()), peers_(context_, options_.security) {}
  ~Node() {
    if (monitor_) {
      zmq_socket_monitor(router_, nullptr, 0);
      zmq_close(monitor_);
    }
    if (router_) zmq_close(router_);
    if (zap_) zmq_close(zap_);
    peers_.close_all();
    catch_up_.reset();
    sm_.reset();
    io_.reset();
    store_.reset();
    db_.reset();
    zmq_ctx_term(context_);
  }

  int run();

  // Callbacks from libraft land here.
  void on_applied(PendingApply* p, int status);
  void on_changed(PendingChange* c, int status) {
    auto done = std::move(c->done);
    delete c;
    if (done) done(status);
  }

 private:
  void log(const std::string& line) { std::cerr << "vedvm node " << id_ << ": " << line << std::endl; }
  void log_dropped(const std::string& why);
  bool fail(const std::string& message) {
    std::cerr << "vedvm node: error: " << message << "\n";
    return false;
  }

  bool open_storage();
  bool establish_identity();
  bool start_listening();
  void loop();
  void handle_router();
  void handle_zap();
  void handle_monitor();
  void handle_raft(const WireMessage& m, const std::string& user_id);
  void handle_request(const std::string& routing, const ClientRequest& r);
  void reply(const std::string& routing, uint64_t sequence, uint32_t status, const std::string& message,
             const std::string& payload = "");
  bool reply_unless_leader(const std::string& routing, uint64_t sequence);
  bool apply_entry(const std::string& bytes, PendingApply* p);
  void propose_internal(const JournalEntry& entry, std::function<void(int)> done);
  void change(std::function<int(struct raft_change*)> start, std::function<void(int)> done);
  void handle_join(const std::string& routing, const ClientRequest& r);
  void handle_leave(const std::string& routing, const ClientRequest& r);
  void housekeeping();
  void refresh_partition();
  bool in_configuration(uint64_t id) const;
  std::string health();
  std::string status_json();
  // Programs (docs/cluster.md "Running a program"): the leader places them; every node
  // runs those it owns while it is ACTIVE, and stops the others.
  void place_programs();
  void run_owned_programs();
  void start_runner(const ProgramRecord& program);
  void handle_fetch_frames(const std::string& routing, const ClientRequest& r);
  void stop_programs();  // at shutdown: lets every runner finish its tick, serving it meanwhile
  void handle_fetch_run(const std::string& routing, const ClientRequest& r);

  NodeOptions options_;
  const std::atomic<bool>& stop_;
  void* context_;
  void* router_ = nullptr;
  void* zap_ = nullptr;
  void* monitor_ = nullptr;
  PeerSockets peers_;
  std::unique_ptr<PartitionFile> partition_;  // testing only: --partition-file
  uint64_t partition_dropped_ = 0;            // messages dropped since the last change
  SteadyClock clock_;
  std::unique_ptr<leveldb::DB> db_;
  std::unique_ptr<RaftLogStore> store_;
  std::unique_ptr<RaftIo> io_;
  std::unique_ptr<StateMachine> sm_;
  std::unique_ptr<FrameCatchUp> catch_up_;  // fills this replica's gaps after a snapshot
  struct raft raft_ {};
  bool raft_initialised_ = false;

  uint64_t id_ = 0;
  std::string cluster_id_;
  std::string address_;  // as in Raft's configuration: HOST:PORT[,key=...]
  bool joined_ = false;
  std::atomic<bool> join_done_{false};
  std::atomic<bool> join_failed_{false};
  std::string join_error_;
  std::thread join_thread_;

  std::map<uint64_t, uint64_t> last_contact_;  // node id -> steady ms of its last message
  bool was_leader_ = false;
  uint64_t previous_leader_ = 0;  // the last leader this node followed
  std::set<uint64_t> liveness_pending_;
  bool membership_pending_ = false;
  bool change_in_progress_ = false;
  bool shutdown_requested_ = false;
  int exit_code_ = 0;
  uint64_t dropped_window_start_ = 0;
  unsigned dropped_in_window_ = 0;

  std::map<uint64_t, std::unique_ptr<ProgramRunner>> runners_;  // by program id
  std::vector<std::unique_ptr<ProgramRunner>> retiring_;          // stopping; destroyed once done
  std::map<uint64_t, uint64_t> retry_at_;  // program -> steady ms before which it is not started again
  EligibilityTimer eligibility_;  // as leader (--rebalance-after)
  TakeoverWaits takeover_waits_;
  bool placement_pending_ = false;
  uint64_t programs_checked_at_ = 0;
  bool was_active_ = true;
};

void apply_cb(struct raft_apply* req, int status, void*) {
  auto* p = static_cast<PendingApply*>(req->data);
  p->node->on_applied(p, status);
}

void change_cb(struct raft_change* req, int status) {
  auto* c = static_cast<PendingChange*>(req->data);
  c->node->on_changed(c, status);
}

void Node::log_dropped(const std::string& why) {
  // Hostile or broken traffic is logged, but a flood cannot flood the log.
  const uint64_t now = steady_ms();
  if (now - dropped_window_start_ > 10000) {
    if (dropped_in_window_ > 20) log("... and " + std::to_string(dropped_in_window_ - 20) + " more dropped messages");
    dropped_window_start_ = now;
    dropped_in_window_ = 0;
  }
  if (++dropped_in_window_ <= 20) log("dropped a message: " + why);
}

bool Node::open_storage() {
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) return fail("cannot create the data dir `" + options_.data_dir + "`: " + ec.message());
  leveldb::Options options;
  options.create_if_missing = true;
  leveldb::DB* db = nullptr;
  const std::string path = options_.data_dir + "/db";
  const leveldb::Status s = leveldb::DB::Open(options, path, &db);
  if (!s.ok()) {
    if (s.ToString().find("lock") != std::string::npos)
      return fail("the data dir `" + options_.data_dir + "` is in use by another node (" + s.ToString() + ")");
    return fail("cannot open the node's database in `" + path + "`: " + s.ToString());
  }
  db_.reset(db);
  store_ = std::make_unique<RaftLogStore>(db_.get(), options_.sync);
  io_ = std::make_unique<RaftIo>(*store_, peers_, clock_, std::random_device{}());
  sm_ = std::make_unique<StateMachine>(db_.get());
  return true;
}

bool Node::establish_identity() {
  std::string value;
  leveldb::ReadOptions read;
  if (db_->Get(read, kLeftKey, &value).ok())
    return fail("the data dir `" + options_.data_dir + "` belongs to a node that left its cluster (vedvm leave); "
                "use a new data dir to join again");
  const bool known = db_->Get(read, kIdKey, &value).ok();
  const auto& sec = options_.security;
  if (known) {
    id_ = from_be64(value);
    db_->Get(read, kClusterKey, &cluster_id_);
    joined_ = db_->Get(read, kJoinedKey, &value).ok();
    std::string listen;
    if (db_->Get(read, kListenKey, &listen).ok() && listen != options_.listen)
      return fail("this node was created listening at " + listen + "; restart it with --listen " + listen +
                  " (its address is part of the cluster's configuration)");
    if (options_.bootstrap) log("already a member of cluster " + hex(cluster_id_) + "; --bootstrap ignored");
  } else {
    if (!options_.bootstrap && options_.join.empty())
      return fail("`" + options_.data_dir + "` holds no node yet: start it with --bootstrap (a new cluster) or "
                  "--join HOST:PORT (an existing one)");
    std::random_device rd;
    std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ steady_ms());
    id_ = 1 + rng() % ((uint64_t{1} << 53) - 2);  // exact in JSON (docs/json.md's int rule)
    if (options_.bootstrap) {
      cluster_id_.resize(kClusterIdBytes);
      for (auto& c : cluster_id_) c = static_cast<char>(rng() & 0xff);
    } else {
      // Learn the cluster's id (and that the member answers, with matching security).
      ClusterClient client(sec);
      ClientRequest status;
      status.kind = ClientRequest::Status;
      ClientReply reply;
      std::string error;
      const uint64_t deadline = steady_ms() + 30000;
      bool ok = false;
      while (!stop_ && steady_ms() < deadline) {
        if (client.call(options_.join, status, 2000, reply, error) && reply.status == ClientReply::Ok) {
          ok = true;
          break;
        }
        if (error.find("refused") != std::string::npos) break;
      }
      if (!ok) return fail("cannot join through " + options_.join + ": " + (error.empty() ? reply.message : error));
      try {
        const Json j = Json::parse(reply.payload);
        const std::string cluster = j.at("cluster").get<std::string>();
        if (cluster.size() != 2 * kClusterIdBytes) throw std::runtime_error("bad cluster id");
        cluster_id_.clear();
        for (size_t i = 0; i < cluster.size(); i += 2)
          cluster_id_.push_back(static_cast<char>(std::stoi(cluster.substr(i, 2), nullptr, 16)));
      } catch (const std::exception& e) {
        return fail("the member at " + options_.join + " sent a status this node cannot read: " + e.what());
      }
    }
    leveldb::WriteBatch batch;
    batch.Put(kIdKey, be64(id_));
    batch.Put(kClusterKey, cluster_id_);
    batch.Put(kListenKey, options_.listen);
    if (options_.bootstrap) batch.Put(kJoinedKey, "1");
    leveldb::WriteOptions sync;
    sync.sync = true;
    if (!db_->Write(sync, &batch).ok()) return fail("cannot write the node's identity");
    joined_ = options_.bootstrap;
  }
  address_ = sec.insecure ? options_.listen : options_.listen + ",key=" + sec.own.public_key;
  peers_.set_sender(id_, address_, cluster_id_);
  return true;
}

bool Node::start_listening() {
  const auto& sec = options_.security;
  std::string error;
  if (!sec.insecure) {
    // The ZAP handler must be bound before the first connection is accepted.
    zap_ = zmq_socket(context_, ZMQ_REP);
    zmq_util::common_options(zap_);
    if (zmq_bind(zap_, "inproc://zeromq.zap.01") != 0)
      return fail(std::string("cannot start the authentication handler: ") + zmq_strerror(zmq_errno()));
  }
  router_ = zmq_socket(context_, ZMQ_ROUTER);
  zmq_util::common_options(router_);
  const int64_t cap = static_cast<int64_t>(kMaxTransportBytes);  // see wire_message.h
  zmq_setsockopt(router_, ZMQ_MAXMSGSIZE, &cap, sizeof cap);
  int hwm = 100000;
  zmq_setsockopt(router_, ZMQ_RCVHWM, &hwm, sizeof hwm);
  zmq_setsockopt(router_, ZMQ_SNDHWM, &hwm, sizeof hwm);
  if (!zmq_util::curve_server(router_, sec, error)) return fail(error);
  monitor_ = zmq_util::monitor_handshakes(context_, router_, "node-" + std::to_string(id_));
  if (zmq_bind(router_, ("tcp://" + options_.listen).c_str()) != 0)
    return fail("cannot listen on " + options_.listen + ": " + zmq_strerror(zmq_errno()));
  return true;
}

void Node::handle_zap() {
  std::vector<std::string> frames;
  while (zmq_util::receive(zap_, frames)) {
    // ZAP 1.0 (rfc.zeromq.org/spec/27): version, request id, domain, address, identity,
    // mechanism, credentials...
    if (frames.size() < 6) continue;
    std::string status = "400", text = "not trusted", user;
    if (frames[5] == "CURVE" && frames.size() >= 7 && frames[6].size() == 32) {
      char z85[41];
      zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(frames[6].data()), 32);
      // A node trusts itself: the programs it runs commit their ticks through it.
      if (options_.security.trusted.count(z85) || options_.security.own.public_key == z85) {
        status = "200";
        text = "OK";
        user = z85;
      } else {
        log("refused a connection from " + frames[3] + ": key " + z85 + " is not in --trust");
      }
    } else {
      log("refused a connection from " + frames[3] + ": mechanism " + frames[5] + " (this node requires CURVE)");
    }
    zmq_util::send(zap_, {"1.0", frames[1], status, text, user, ""}, false);
  }
}

void Node::handle_monitor() {
  zmq_util::MonitorEvent e;
  while (zmq_util::read_monitor_event(monitor_, e)) {
    // Refused keys are logged by the ZAP handler, with the key. A client that does not
    // know this node's key tries every key it trusts (client.h): those handshakes fail
    // by design and are not worth a line each. A security mismatch is.
    if (e.event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && e.value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
      log("refused a connection: " + zmq_util::describe_handshake_failure(e, options_.security.insecure));
  }
}

bool Node::in_configuration(uint64_t id) const {
  for (unsigned i = 0; i < raft_.configuration.n; ++i)
    if (raft_.configuration.servers[i].id == id) return true;
  return false;
}

void Node::handle_router() {
  std::vector<std::string> frames;
  std::string user_id;
  for (int n = 0; n < 1000 && zmq_util::receive(router_, frames, &user_id); ++n) {
    if (frames.size() != 2) {
      log_dropped(std::to_string(frames.size() - 1) + " frames where one is expected");
      continue;
    }
    WireMessage m;
    std::string error;
    if (!decode_wire(frames[1], m, error)) {
      log_dropped(error + (user_id.empty() ? "" : " (from key " + user_id + ")"));
      continue;
    }
    if (std::holds_alternative<RaftRpc>(m.body) && partition_ && !partition_->list().empty() &&
        partition_->list().blocks(m.sender_id, host_port_of(m.sender_address))) {
      ++partition_dropped_;  // cut off by --partition-file: never reaches Raft or the liveness view
      continue;
    }
    if (std::holds_alternative<RaftRpc>(m.body)) handle_raft(m, user_id);
    else if (const auto* r = std::get_if<ClientRequest>(&m.body)) handle_request(frames[0], *r);
    else log_dropped("a reply, which a node never expects");
  }
}

void Node::handle_raft(const WireMessage& m, const std::string& user_id) {
  if (m.cluster_id != cluster_id_) {
    log_dropped("Raft traffic from node " + std::to_string(m.sender_id) + " of another cluster (" + hex(m.cluster_id) +
                ", this is " + hex(cluster_id_) + ")");
    return;
  }
  MemberAddress sender;
  std::string error;
  if (!parse_member_address(m.sender_address, sender, error)) {
    log_dropped("Raft message with sender address " + error);
    return;
  }
  if (!options_.security.insecure && sender.public_key != user_id) {
    log_dropped("Raft message claiming to be node " + std::to_string(m.sender_id) + " at " + sender.host_port +
                " from a connection authenticated with another key");
    return;
  }
  if (raft_.configuration.n > 0 && !in_configuration(m.sender_id)) {
    log_dropped("Raft message from node " + std::to_string(m.sender_id) + ", which is not a member (removed?)");
    return;
  }
  last_contact_[m.sender_id] = steady_ms();
  const auto& rpc = std::get<RaftRpc>(m.body);
  // A request of an older term (a deposed leader, a delayed or replayed message) is
  // refused by libraft, which answers with the current term so that the sender steps
  // down; it still goes there for that answer, but it is hostile or stale traffic worth a
  // line. Results are left out: late results of a past term are routine after elections.
  const bool request = rpc.type == RaftRpc::AppendEntries || rpc.type == RaftRpc::RequestVote ||
                       rpc.type == RaftRpc::InstallSnapshot || rpc.type == RaftRpc::TimeoutNow;
  if (request && rpc.term < raft_.current_term)
    log_dropped("Raft request from node " + std::to_string(m.sender_id) + " of stale term " + std::to_string(rpc.term) +
                " (this node is at term " + std::to_string(raft_.current_term) +
                "): refused, answered with the current term");
  io_->receive(m.sender_id, m.sender_address, rpc);
}

void Node::reply(const std::string& routing, uint64_t sequence, uint32_t status, const std::string& message,
                 const std::string& payload) {
  raft_id leader_id = 0;
  const char* leader_address = nullptr;
  raft_leader(&raft_, &leader_id, &leader_address);
  ClientReply r{status, sequence, message, leader_address ? leader_address : "", payload};
  zmq_util::send(router_, {routing, encode_wire(WireMessage{cluster_id_, id_, address_, r})});
}

bool Node::reply_unless_leader(const std::string& routing, uint64_t sequence) {
  if (raft_state(&raft_) == RAFT_LEADER) return false;
  raft_id leader_id = 0;
  const char* leader_address = nullptr;
  raft_leader(&raft_, &leader_id, &leader_address);
  if (leader_id != 0)
    reply(routing, sequence, ClientReply::NotLeader, "not the leader; the leader is node " + std::to_string(leader_id));
  else
    reply(routing, sequence, ClientReply::NoQuorum,
          "the member asked (node " + std::to_string(id_) + ") knows no leader: it cannot reach a majority of the cluster");
  return true;
}

bool Node::apply_entry(const std::string& bytes, PendingApply* p) {
  struct raft_buffer buf;
  buf.len = bytes.size();
  buf.base = raft_malloc(buf.len);
  std::memcpy(buf.base, bytes.data(), buf.len);
  p->node = this;
  p->req.data = p;
  const int rv = raft_apply(&raft_, &p->req, &buf, 1, apply_cb);
  if (rv != 0) {
    raft_free(buf.base);
    return false;
  }
  return true;
}

void Node::propose_internal(const JournalEntry& entry, std::function<void(int)> done) {
  auto* p = new PendingApply{};
  p->kind = PendingApply::Internal;
  p->done = std::move(done);
  if (!apply_entry(encode_entry(entry), p)) {
    auto callback = std::move(p->done);
    delete p;
    if (callback) callback(RAFT_NOTLEADER);
  }
}

void Node::on_applied(PendingApply* p, int status) {
  std::unique_ptr<PendingApply> owned(p);
  if (p->kind == PendingApply::Internal) {
    if (p->done) p->done(status);
    return;
  }
  if (status != 0) {
    reply(p->routing, p->sequence, ClientReply::Failed,
          std::string("not committed: ") + raft_strerror(status) + " (retrying is safe: a retried submission is the same one)");
    return;
  }
  if (p->kind == PendingApply::Propose) {
    // Committed is not accepted: a fenced or refused entry changed nothing, and its
    // proposer (a program's owner) must know.
    std::string why;
    if (db_->Get(leveldb::ReadOptions(), fsm_keys::kFencedPrefix + be64(p->req.index), &why).ok())
      return reply(p->routing, p->sequence, ClientReply::Refused, "fenced: " + why);
    if (db_->Get(leveldb::ReadOptions(), fsm_keys::kRefusedPrefix + be64(p->req.index), &why).ok())
      return reply(p->routing, p->sequence, ClientReply::Refused, "refused: " + why);
    reply(p->routing, p->sequence, ClientReply::Ok, "", std::to_string(p->req.index));
    return;
  }
  if (p->kind == PendingApply::Upgrade) {
    // Read from the state, as a submission's id is: a retried request gets the first's.
    const std::optional<UpgradeVerdict> verdict = sm_->upgrade_verdict(p->request_id);
    if (!verdict) {
      auto refused = sm_->refused();
      auto it = refused.find(p->req.index);
      return reply(p->routing, p->sequence, ClientReply::Refused,
                   it != refused.end() ? it->second : "the upgrade was not recorded");
    }
    return reply(p->routing, p->sequence, ClientReply::Ok, "",
                 std::to_string(verdict->program) + " " + std::to_string(verdict->upgrade));
  }
  // The program id is read from the state: a retried submission gets the first one's id.
  std::string value;
  if (!db_->Get(leveldb::ReadOptions(), fsm_keys::kRequestPrefix + p->request_id, &value).ok()) {
    auto refused = sm_->refused();
    auto it = refused.find(p->req.index);
    reply(p->routing, p->sequence, ClientReply::Refused,
          it != refused.end() ? "the journal refused the submission: " + it->second : "the submission was not recorded");
    return;
  }
  reply(p->routing, p->sequence, ClientReply::Ok, "", std::to_string(from_be64(value)));
}

void Node::change(std::function<int(struct raft_change*)> start, std::function<void(int)> done) {
  auto* c = new PendingChange{};
  c->req.data = c;
  c->node = this;
  c->done = std::move(done);
  const int rv = start(&c->req);
  if (rv != 0) {
    auto callback = std::move(c->done);
    delete c;
    if (callback) callback(rv);
  }
}

void Node::handle_join(const std::string& routing, const ClientRequest& r) {
  if (reply_unless_leader(routing, r.sequence)) return;
  MemberAddress addr;
  std::string error;
  if (r.node_id == 0 || !parse_member_address(r.address, addr, error))
    return reply(routing, r.sequence, ClientReply::Refused, "a join needs a node id and HOST:PORT[,key=KEY]: " + error);
  const bool secure = !options_.security.insecure;
  if (secure && addr.public_key.empty())
    return reply(routing, r.sequence, ClientReply::Refused,
                 "this cluster runs CURVE: the joining node must run with --key and --trust, not --insecure");
  if (!secure && !addr.public_key.empty())
    return reply(routing, r.sequence, ClientReply::Refused,
                 "this cluster runs --insecure: the joining node must too (a mix is refused)");
  for (unsigned i = 0; i < raft_.configuration.n; ++i) {
    const auto& s = raft_.configuration.servers[i];
    if (s.id == r.node_id) {
      if (r.address == s.address && s.role == RAFT_VOTER)
        return reply(routing, r.sequence, ClientReply::Ok, "already a member", hex(cluster_id_));
      if (r.address != s.address)
        return reply(routing, r.sequence, ClientReply::Refused,
                     "node " + std::to_string(r.node_id) + " is a member at another address (" + s.address + ")");
    } else {
      MemberAddress other;
      if (parse_member_address(s.address, other, error) && other.host_port == addr.host_port)
        return reply(routing, r.sequence, ClientReply::Refused,
                     addr.host_port + " is already member " + std::to_string(s.id) +
                         "; remove it first (vedvm leave) or listen elsewhere");
    }
  }
  if (change_in_progress_)
    return reply(routing, r.sequence, ClientReply::Failed, "another membership change is in progress; retry");
  change_in_progress_ = true;
  // Membership entry (group, key) first, then libraft's add (as a spare) and assign
  // (voter, after the new node caught up): each step starts when the previous commits.
  const MemberInfo info{r.node_id, addr.host_port, r.group, addr.public_key};
  const uint64_t node = r.node_id;
  const std::string address = r.address, cluster = hex(cluster_id_);
  const uint64_t sequence = r.sequence;
  auto finish = [this, routing, sequence, cluster](int status, const std::string& what) {
    change_in_progress_ = false;
    if (status == 0) reply(routing, sequence, ClientReply::Ok, "", cluster);
    else reply(routing, sequence, ClientReply::Failed, what + ": " + raft_strerror(status) + "; retry");
  };
  propose_internal(MembershipEntry{{info}}, [this, node, address, finish](int status) {
    if (status != 0) return finish(status, "recording the member");
    const bool present = in_configuration(node);
    auto assign = [this, node, finish](int status) {
      if (status != 0) return finish(status, "adding the member");
      change([this, node](struct raft_change* req) { return raft_assign(&raft_, req, node, RAFT_VOTER, change_cb); },
             [finish](int status) { finish(status, "promoting the member to voter"); });
    };
    if (present) return assign(0);
    change([this, node, address](struct raft_change* req) { return raft_add(&raft_, req, node, address.c_str(), change_cb); },
           assign);
  });
}

void Node::handle_leave(const std::string& routing, const ClientRequest& r) {
  if (reply_unless_leader(routing, r.sequence)) return;
  if (!in_configuration(r.node_id))
    return reply(routing, r.sequence, ClientReply::Refused, "node " + std::to_string(r.node_id) + " is not a member");
  if (r.node_id == id_) {
    // The leader leaves: hand leadership to another voter first; the client retries
    // and reaches the new leader, which removes this node.
    auto* transfer = new (struct raft_transfer){};
    if (raft_transfer(&raft_, transfer, 0, [](struct raft_transfer* t) { delete t; }) != 0) {
      delete transfer;
      return reply(routing, r.sequence, ClientReply::Refused, "the leader cannot leave: no other voter to hand over to");
    }
    log("leaving: transferring leadership first");
    return reply(routing, r.sequence, ClientReply::Failed, "leadership is being transferred before the leader leaves; retry");
  }
  if (change_in_progress_)
    return reply(routing, r.sequence, ClientReply::Failed, "another membership change is in progress; retry");
  change_in_progress_ = true;
  const uint64_t node = r.node_id, sequence = r.sequence;
  change([this, node](struct raft_change* req) { return raft_remove(&raft_, req, node, change_cb); },
         [this, routing, sequence, node](int status) {
           change_in_progress_ = false;
           if (status == 0) {
             log("removed node " + std::to_string(node) + " from the cluster");
             reply(routing, sequence, ClientReply::Ok, "");
           } else {
             reply(routing, sequence, ClientReply::Failed, std::string("removing: ") + raft_strerror(status) + "; retry");
           }
         });
}

void Node::handle_request(const std::string& routing, const ClientRequest& r) {
  switch (r.kind) {
    case ClientRequest::Status:
      return reply(routing, r.sequence, ClientReply::Ok, "", status_json());
    case ClientRequest::Submit: {
      if (reply_unless_leader(routing, r.sequence)) return;
      auto* p = new PendingApply{};
      p->kind = PendingApply::Submit;
      p->routing = routing;
      p->sequence = r.sequence;
      p->request_id = r.request_id;
      SubmitEntry entry{r.request_id, r.program_name, r.bundle, r.seed};
      std::string error;
      JournalEntry check;
      const std::string bytes = encode_entry(entry);
      if (!decode_entry(bytes, check, error)) {  // never propose what every node would refuse
        delete p;
        return reply(routing, r.sequence, ClientReply::Refused, "refused the submission: " + error);
      }
      if (!apply_entry(bytes, p)) {
        delete p;
        return reply(routing, r.sequence, ClientReply::Failed, "not accepted by Raft; retry");
      }
      return;
    }
    case ClientRequest::Propose: {
      if (reply_unless_leader(routing, r.sequence)) return;
      auto* p = new PendingApply{};
      p->kind = PendingApply::Propose;
      p->routing = routing;
      p->sequence = r.sequence;
      JournalEntry check;
      std::string error;
      if (!decode_entry(r.entry, check, error)) {  // never propose what every node would refuse
        delete p;
        return reply(routing, r.sequence, ClientReply::Refused, "refused the entry: " + error);
      }
      if (!apply_entry(r.entry, p)) {
        delete p;
        return reply(routing, r.sequence, ClientReply::Failed, "not accepted by Raft; retry");
      }
      return;
    }
    case ClientRequest::Upgrade: {
      if (reply_unless_leader(routing, r.sequence)) return;
      auto* p = new PendingApply{};
      p->kind = PendingApply::Upgrade;
      p->routing = routing;
      p->sequence = r.sequence;
      p->request_id = r.request_id;
      std::string error;
      JournalEntry check;
      const std::string bytes = encode_entry(UpgradeEntry{r.request_id, r.program_name, r.bundle});
      if (!decode_entry(bytes, check, error)) {  // never propose what every node would refuse
        delete p;
        return reply(routing, r.sequence, ClientReply::Refused, "refused the upgrade: " + error);
      }
      if (!apply_entry(bytes, p)) {
        delete p;
        return reply(routing, r.sequence, ClientReply::Failed, "not accepted by Raft; retry");
      }
      return;
    }
    case ClientRequest::UpgradeVerdict: {
      // Any member answers from what it has applied; a client asks until it is decided.
      const std::optional<UpgradeVerdict> verdict = sm_->upgrade_verdict(r.request_id);
      if (!verdict)
        return reply(routing, r.sequence, ClientReply::Failed, "this member has not applied that upgrade (yet)");
      return reply(routing, r.sequence, ClientReply::Ok, "", encode_upgrade_verdict(*verdict));
    }
    case ClientRequest::FetchRun: return handle_fetch_run(routing, r);
    case ClientRequest::FetchFrames: return handle_fetch_frames(routing, r);
    case ClientRequest::Join: return handle_join(routing, r);
    case ClientRequest::Leave: return handle_leave(routing, r);
    case ClientRequest::Shutdown:
      if (raft_state(&raft_) == RAFT_LEADER)
        return reply(routing, r.sequence, ClientReply::Refused, "the leader does not shut down on request; leave first");
      reply(routing, r.sequence, ClientReply::Ok, "stopping");
      log("removed from the cluster (vedvm leave): stopping");
      {
        leveldb::WriteOptions sync;
        sync.sync = true;
        db_->Put(sync, kLeftKey, "1");
      }
      shutdown_requested_ = true;
      return;
  }
}

std::string Node::health() {
  const uint64_t now = steady_ms();
  const int state = raft_state(&raft_);
  if (state == RAFT_LEADER) {
    unsigned voters = 0, reached = 1;
    for (unsigned i = 0; i < raft_.configuration.n; ++i) {
      const auto& s = raft_.configuration.servers[i];
      if (s.role != RAFT_VOTER) continue;
      ++voters;
      if (s.id != id_ && last_contact_.count(s.id) && now - last_contact_[s.id] < options_.election_timeout_ms) ++reached;
    }
    return reached * 2 > voters ? "ACTIVE" : "DEGRADED";
  }
  raft_id leader = 0;
  const char* address = nullptr;
  raft_leader(&raft_, &leader, &address);
  if (state == RAFT_FOLLOWER && leader != 0 && last_contact_.count(leader) &&
      now - last_contact_[leader] < options_.election_timeout_ms)
    return "ACTIVE";
  return "DEGRADED";
}

std::string Node::status_json() {
  const uint64_t now = steady_ms();
  static const char* states[] = {"unavailable", "follower", "candidate", "leader"};
  raft_id leader = 0;
  const char* leader_address = nullptr;
  raft_leader(&raft_, &leader, &leader_address);
  Json j;
  j["node"] = id_;
  j["address"] = options_.listen;
  j["group"] = options_.group;
  j["cluster"] = hex(cluster_id_);
  j["state"] = states[raft_state(&raft_)];
  j["health"] = health();
  j["term"] = raft_.current_term;
  j["commit_index"] = raft_.commit_index;
  j["last_index"] = raft_last_index(&raft_);
  j["applied_index"] = raft_last_applied(&raft_);
  j["state_applied_index"] = sm_->applied_index();  // the last entry that reached the state machine
  j["digest"] = hex(be64(sm_->digest()));
  if (leader != 0) {
    MemberAddress a;
    std::string error;
    parse_member_address(leader_address, a, error);
    j["leader"] = Json{{"node", leader}, {"address", a.host_port}};
  } else {
    j["leader"] = nullptr;
  }
  const auto members = sm_->members();
  Json list = Json::array();
  for (unsigned i = 0; i < raft_.configuration.n; ++i) {
    const auto& s = raft_.configuration.servers[i];
    MemberAddress a;
    std::string error;
    parse_member_address(s.address, a, error);
    Json m;
    m["node"] = s.id;
    m["address"] = a.host_port;
    auto it = members.find(s.id);
    m["group"] = it != members.end() ? it->second.info.group : "";
    m["role"] = s.role == RAFT_VOTER ? "voter" : s.role == RAFT_STANDBY ? "standby" : "spare";
    m["liveness"] = it != members.end() && !it->second.up ? "DOWN" : "up";
    m["eligible"] = it == members.end() || (it->second.up && it->second.eligible);
    if (s.id == id_) m["last_contact_ms"] = 0;
    else if (last_contact_.count(s.id)) m["last_contact_ms"] = now - last_contact_[s.id];
    else m["last_contact_ms"] = nullptr;
    list.push_back(m);
  }
  j["members"] = list;
  Json programs = Json::array();
  // Why a program has no owner, as placement sees it now (a deploy group with no node up).
  const PlacementTable placement = program_placement(*sm_, [this](uint64_t id) { return in_configuration(id); });
  const std::set<std::string> groups = member_groups(*sm_, [this](uint64_t id) { return in_configuration(id); });
  for (const auto& p : sm_->programs()) {
    const RunRecord run = sm_->run(p.id);
    // A finished run is owned by nobody (its placement row goes at the next epoch); one
    // with an upgrade pending is placed again.
    const uint64_t owner = p.status == "finished" ? 0 : sm_->owner(program_unit(p.id));
    const uint64_t pending = sm_->pending_upgrade(p.id);
    programs.push_back({{"id", p.id},
                        {"name", p.name},
                        {"status", p.status},
                        {"seed", p.seed},
                        {"bundle_bytes", p.bundle_bytes},
                        {"owner", owner ? Json(owner) : Json(nullptr)},
                        {"frames", run.frames},
                        // Those this replica holds: fewer while it fetches a snapshot's gap.
                        {"frames_held", [&] {
                           const auto gap = sm_->run_gap(p.id);
                           return gap ? gap->from : run.frames;
                         }()},
                        {"exit_code", run.finished ? Json(run.exit_code) : Json(nullptr)},
                        {"builds", sm_->run_versions(p.id).size()},
                        {"upgrade_pending", pending ? Json(pending) : Json(nullptr)},
                        {"group", [&] {
                           const std::string group = placement_group(p.group, groups);
                           return group.empty() ? Json(nullptr) : Json(group);
                         }()},
                        {"waiting", [&] {
                           const auto it = placement.waiting.find(program_unit(p.id));
                           return p.status == "finished" || owner || it == placement.waiting.end() ? Json(nullptr)
                                                                                                   : Json(it->second);
                         }()}});
  }
  j["programs"] = programs;
  j["placement_epoch"] = sm_->placement_epoch();
  j["fenced"] = sm_->fenced_count();
  j["refused_entries"] = sm_->refused().size();
  return j.dump();
}

void Node::housekeeping() {
  const uint64_t now = steady_ms();
  const bool leader = raft_state(&raft_) == RAFT_LEADER;
  if (leader && !was_leader_) {
    log("leader for term " + std::to_string(raft_.current_term));
    eligibility_.reset();
    // Followers hear only from the leader, so what this node last heard of the others
    // says nothing: their silence is counted from now. The previous leader is the
    // exception: this node heard it until it went quiet (which is why there was an
    // election), so its silence already counts, and a dead leader's programs move on
    // after one failure timeout from its last word, not from this election.
    for (unsigned i = 0; i < raft_.configuration.n; ++i) {
      const uint64_t node = raft_.configuration.servers[i].id;
      if (node != previous_leader_ || !last_contact_.count(node)) last_contact_[node] = now;
    }
  }
  if (!leader) {
    raft_id known = 0;
    const char* address = nullptr;
    raft_leader(&raft_, &known, &address);
    if (known != 0) previous_leader_ = known;
  }
  was_leader_ = leader;
  if (join_done_ && !joined_) {
    joined_ = true;
    leveldb::WriteOptions sync;
    sync.sync = true;
    db_->Put(sync, kJoinedKey, "1");
    log("joined cluster " + hex(cluster_id_) + " as node " + std::to_string(id_));
  }
  if (now - programs_checked_at_ >= 100) {
    programs_checked_at_ = now;
    if (leader) place_programs();
    run_owned_programs();
  }
  if (!leader) return;
  const auto members = sm_->members();
  // The bootstrap node records itself (a joiner is recorded by the leader that adds it).
  if (!members.count(id_) && !membership_pending_) {
    membership_pending_ = true;
    propose_internal(MembershipEntry{{{id_, options_.listen, options_.group,
                                       options_.security.insecure ? "" : options_.security.own.public_key}}},
                     [this](int) { membership_pending_ = false; });
  }
  // Eligibility: a member up again receives programs once this leader has heard it for
  // --rebalance-after.
  for (const uint64_t node : eligibility_.due(members, now, options_.rebalance_after_ms, [&](uint64_t id) {
         return id == id_ || (last_contact_.count(id) && now - last_contact_[id] < options_.election_timeout_ms);
       })) {
    log("node " + std::to_string(node) + " has been up for " + std::to_string(options_.rebalance_after_ms) +
        " ms: it may receive programs again");
    propose_internal(EligibleEntry{node}, [this, node](int) { eligibility_.settled(node); });
  }
  // Liveness: a member silent for --failure-timeout is DOWN; one heard again is up.
  for (unsigned i = 0; i < raft_.configuration.n; ++i) {
    const uint64_t node = raft_.configuration.servers[i].id;
    auto it = members.find(node);
    if (node == id_ || it == members.end() || liveness_pending_.count(node)) continue;
    if (!last_contact_.count(node)) last_contact_[node] = now;  // just added: not silent yet
    const bool silent = now - last_contact_[node] > options_.failure_timeout_ms;
    if (silent == !it->second.up) continue;
    liveness_pending_.insert(node);
    log("node " + std::to_string(node) + (silent ? " is DOWN (silent for " : " is up again (heard within ") +
        std::to_string(options_.failure_timeout_ms) + " ms)");
    propose_internal(LivenessEntry{node, !silent}, [this, node](int) { liveness_pending_.erase(node); });
  }
}

void Node::place_programs() {
  if (placement_pending_) return;
  std::optional<PlacementEntry> entry = next_placement(*sm_, [this](uint64_t id) { return in_configuration(id); });
  if (!entry) return;
  placement_pending_ = true;
  propose_internal(*entry, [this](int) { placement_pending_ = false; });
}

void Node::start_runner(const ProgramRecord& program) {
  RunnerSetup setup;
  setup.program = program.id;
  setup.node = id_;
  setup.name = program.name;
  setup.seed = program.seed;
  setup.dir = options_.data_dir + "/runs/" + std::to_string(program.id);
  // The runner's entries go to this node, and on to the leader, as a client's do.
  auto client = std::make_shared<ClusterClient>(options_.security);
  setup.commit = [client, address = address_](const JournalEntry& entry) { return commit_entry(*client, address, entry); };
  setup.now_ms = steady_ms;
  setup.configure = [fs_root = options_.fs_root.empty() ? options_.data_dir + "/files" : options_.fs_root,
                     adapters = options_.adapters](const vm::Program& program, vm::RuntimeOptions& options) {
    std::error_code ec;
    std::filesystem::create_directories(fs_root, ec);
    vm::BuiltinAdapterOptions builtin;
    builtin.fs_root = std::filesystem::absolute(fs_root, ec);
    vm::bind_builtin_adapters(program, builtin, options.adapters);
    // Over the built-ins, as a local run binds them; one that cannot be reached stops the
    // run (the node says why and tries again a second later).
    bool unreachable = false;
    std::string error;
    if (!vm::bind_external_adapters(program, adapters, kAdapterTimeoutMs, options.adapters, unreachable, error))
      throw std::runtime_error(error);
  };
  setup.lease_ms = std::max(1u, options_.failure_timeout_ms / 2);
  setup.dispatch_not_before_ms = takeover_waits_.dispatch_not_before(*sm_, program.id, id_, steady_ms(), setup.lease_ms);
  setup.sleep_ms = [](uint64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  if (const char* path = std::getenv("VED_TEST_STOP_BEFORE_DISPATCH")) setup.before_dispatch = stop_once_before_dispatch(path);
  setup.test_no_lease = std::getenv("VED_TEST_NO_DISPATCH_LEASE") != nullptr;
  setup.log = [id = id_](const std::string& line) {
    std::cerr << "vedvm node " << id << ": " << line << std::endl;  // from the runner's thread: one write
  };
  read_state_machine(setup, sm_.get(), kFetchFrameBytes);
  const uint64_t frames = sm_->run(program.id).frames;
  log("running program " + std::to_string(program.id) + " (" + program.name + ")" +
      (frames ? " from its committed frame " + std::to_string(frames) : ""));
  runners_[program.id] = std::make_unique<ProgramRunner>(std::move(setup));
}

void Node::run_owned_programs() {
  // A run's outcome is logged once it has stopped, however it came to stop (its end
  // committed, a refusal, asked to stop).
  std::erase_if(retiring_, [this](const auto& r) {
    if (!r->done()) return false;
    log("program " + std::to_string(r->program()) + ": " + r->outcome());
    return true;
  });
  const bool active = health() == "ACTIVE";
  if (active != was_active_)
    log(active ? "ACTIVE again: running the programs it owns"
               : "DEGRADED (no quorum within the election timeout): running no program, dispatching nothing");
  was_active_ = active;
  const uint64_t now = steady_ms();
  // Runs that ended, however: finished, stopped by a refusal, or failed (retried later).
  for (auto it = runners_.begin(); it != runners_.end();) {
    if (!it->second->done()) {
      ++it;
      continue;
    }
    const std::string outcome = it->second->outcome();
    log("program " + std::to_string(it->first) + ": " + outcome);
    // A failed run is not retried in a tight loop; one that finished may start again at
    // once (an upgrade takes an ended run on).
    if (outcome == "finished") retry_at_.erase(it->first);
    else retry_at_[it->first] = now + 1000;
    it = runners_.erase(it);  // its thread has returned: nothing to wait for
  }
  std::set<uint64_t> owned, ended;
  for (const auto& p : sm_->programs()) {
    if (p.status == "finished") ended.insert(p.id);
    if (p.status == "finished" || !active || sm_->owner(program_unit(p.id)) != id_) continue;
    owned.insert(p.id);
    if (runners_.count(p.id)) continue;
    // Not before this replica holds every committed frame of it (FrameCatchUp).
    if (sm_->run_gap(p.id)) continue;
    // A run of it still stopping holds its run dir: the next starts once it has stopped.
    if (std::any_of(retiring_.begin(), retiring_.end(), [&](const auto& r) { return r->program() == p.id && !r->done(); }))
      continue;
    if (auto r = retry_at_.find(p.id); r != retry_at_.end() && now < r->second) continue;
    start_runner(p);
  }
  for (auto it = runners_.begin(); it != runners_.end();) {
    if (owned.count(it->first)) {
      ++it;
      continue;
    }
    // An ended run's runner is between committing the end and returning: not a stop.
    if (!ended.count(it->first))
      log("program " + std::to_string(it->first) + ": stopping (" +
          (active ? "no longer owned by this node" : "DEGRADED") + ")");
    it->second->request_stop();
    retiring_.push_back(std::move(it->second));
    it = runners_.erase(it);
  }
}

void Node::stop_programs() {
  for (auto& [id, runner] : runners_) {
    runner->request_stop();
    retiring_.push_back(std::move(runner));
  }
  runners_.clear();
  // A runner may be waiting for its last group to commit through this node: keep serving.
  const uint64_t deadline = steady_ms() + 6000;
  auto busy = [&] { return std::any_of(retiring_.begin(), retiring_.end(), [](const auto& r) { return !r->done(); }); };
  while (busy() && steady_ms() < deadline) {
    zmq_pollitem_t item{router_, 0, ZMQ_POLLIN, 0};
    zmq_poll(&item, 1, 10);
    if (item.revents & ZMQ_POLLIN) handle_router();
    io_->run();
  }
  retiring_.clear();
}

void Node::handle_fetch_run(const std::string& routing, const ClientRequest& r) {
  if (reply_unless_leader(routing, r.sequence)) return;
  std::optional<ProgramRecord> found;
  for (const auto& p : sm_->programs())
    if (p.name == r.program_name || std::to_string(p.id) == r.program_name) found = p;  // the latest of a name
  if (!found)
    return reply(routing, r.sequence, ClientReply::Refused,
                 "the cluster has no program `" + r.program_name + "` (vedvm status lists them)");
  // A bounded slice of the frames per request: the event loop must not stall on a long run.
  const RunRecord run = sm_->run(found->id);
  FetchedRun out{found->id, found->name, found->seed, sm_->run_builds(found->id), run.frames, r.node_id, "",
                 run.finished, run.exit_code, run.summary};
  if (const auto gap = sm_->run_gap(found->id); gap && r.node_id < run.frames && r.node_id >= gap->from)
    return reply(routing, r.sequence, ClientReply::Failed,
                 "the leader is still fetching frames " + std::to_string(gap->from) + " to " + std::to_string(gap->to - 1) +
                     " of program " + std::to_string(found->id) + " (committed before a snapshot it restored); retry shortly");
  if (r.node_id < run.frames) out.frames = sm_->run_frames(found->id, r.node_id, kFetchFrameBytes);
  reply(routing, r.sequence, ClientReply::Ok, "", encode_fetched_run(out));
}

// Any member, from the frames it holds (none past a gap): for a replica filling its own.
void Node::handle_fetch_frames(const std::string& routing, const ClientRequest& r) {
  uint64_t program = 0;
  try {
    program = std::stoull(r.program_name);
  } catch (const std::exception&) {
    return reply(routing, r.sequence, ClientReply::Refused, "FetchFrames names a program by its id, not `" + r.program_name + "`");
  }
  if (sm_->bundle(program).empty())
    return reply(routing, r.sequence, ClientReply::Refused, "the cluster has no program " + std::to_string(program));
  FetchedRun out;
  out.id = program;
  out.first_frame = r.node_id;
  out.frames = sm_->run_frames(program, r.node_id, kFetchFrameBytes);
  reply(routing, r.sequence, ClientReply::Ok, "", encode_fetched_run(out));
}

void Node::refresh_partition() {
  const uint64_t dropped = partition_dropped_;
  switch (partition_->refresh()) {
    case PartitionFile::Change::None: return;
    case PartitionFile::Change::Updated:
      partition_dropped_ = 0;
      log(std::string("partition (testing): ") +
          (partition_->list().empty() ? "dropping no traffic"
                                      : "dropping all Raft traffic with " + partition_->list().describe()) +
          " (from " + partition_->path() +
          (dropped ? "; " + std::to_string(dropped) + " incoming Raft messages dropped under the previous list" : "") +
          ")");
      return;
    case PartitionFile::Change::Rejected:
      log("partition (testing): error: " + partition_->error() + "; keeping the previous list (" +
          partition_->list().describe() + ")");
      return;
  }
}

void Node::loop() {
  while (!stop_ && !shutdown_requested_) {
    if (join_failed_) {
      std::cerr << "vedvm node: error: " << join_error_ << "\n";
      exit_code_ = 1;
      break;
    }
    if (partition_) refresh_partition();  // one stat() a turn
    const uint64_t now = steady_ms();
    const uint64_t deadline = io_->next_deadline();
    long timeout = deadline <= now ? 0 : static_cast<long>(std::min<uint64_t>(deadline - now, 50));
    zmq_pollitem_t items[3] = {{router_, 0, ZMQ_POLLIN, 0},
                               {zap_, 0, static_cast<short>(zap_ ? ZMQ_POLLIN : 0), 0},
                               {monitor_, 0, static_cast<short>(monitor_ ? ZMQ_POLLIN : 0), 0}};
    if (zmq_poll(items, 3, timeout) < 0 && zmq_errno() != EINTR) break;
    if (zap_ && (items[1].revents & ZMQ_POLLIN)) handle_zap();
    if (monitor_ && (items[2].revents & ZMQ_POLLIN)) handle_monitor();
    if (items[0].revents & ZMQ_POLLIN) handle_router();
    io_->run();
    housekeeping();
    if (!io_->storage_error().empty()) {
      std::cerr << "vedvm node: error: storage failed: " << io_->storage_error() << "\n";
      exit_code_ = 1;
      break;
    }
  }
}

int Node::run() {
  const auto& o = options_;
  if (!valid_host_port(o.listen)) return fail("--listen `" + o.listen + "` is not HOST:PORT"), 1;
  if (!o.join.empty() && !valid_host_port(o.join)) return fail("--join `" + o.join + "` is not HOST:PORT"), 1;
  if (o.bootstrap && !o.join.empty()) return fail("--bootstrap starts a new cluster, --join joins one: not both"), 1;
  if (!open_storage() || !establish_identity()) return 1;
  if (raft_init(&raft_, io_->io(), sm_->fsm(), id_, address_.c_str()) != 0)
    return fail(std::string("cannot start Raft: ") + raft_errmsg(&raft_)), 1;
  raft_initialised_ = true;
  sm_->attach(&raft_);
  raft_set_election_timeout(&raft_, o.election_timeout_ms);
  raft_set_heartbeat_timeout(&raft_, o.heartbeat_ms);
  raft_set_snapshot_threshold(&raft_, o.snapshot_threshold);
  raft_set_snapshot_trailing(&raft_, o.snapshot_trailing);
  raft_set_pre_vote(&raft_, true);  // a node back from a partition does not depose a healthy leader
  if (o.bootstrap && !store_->has_state()) {
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    raft_configuration_add(&conf, id_, address_.c_str(), RAFT_VOTER);
    const int rv = raft_bootstrap(&raft_, &conf);
    raft_configuration_close(&conf);
    if (rv != 0) return fail(std::string("cannot bootstrap: ") + raft_errmsg(&raft_)), 1;
    log("bootstrapped cluster " + hex(cluster_id_));
  }
  if (!o.partition_file.empty()) {
    partition_ = std::make_unique<PartitionFile>(o.partition_file);
    peers_.set_partition(&partition_->list());
    refresh_partition();  // in force before the first message
  }
  if (!start_listening()) return 1;
  if (raft_start(&raft_) != 0) return fail(std::string("cannot start Raft: ") + raft_errmsg(&raft_)), 1;
  catch_up_ = std::make_unique<FrameCatchUp>(*sm_, id_, options_.security, [id = id_](const std::string& line) {
    std::cerr << "vedvm node " << id << ": " << line << std::endl;  // from its thread: one write
  });
  log("listening on " + o.listen + (o.security.insecure ? " (plaintext: --insecure)" : " (CURVE)") +
      ", data dir " + o.data_dir);
  if (!joined_) {
    const std::string join_address = o.join;
    join_thread_ = std::thread([this, join_address] {
      ClusterClient client(options_.security);
      ClientRequest join;
      join.kind = ClientRequest::Join;
      join.node_id = id_;
      join.address = address_;
      join.group = options_.group;
      join.public_key = options_.security.insecure ? "" : options_.security.own.public_key;
      ClientReply reply;
      std::string error;
      const uint64_t deadline = steady_ms() + 60000;
      while (!stop_ && steady_ms() < deadline) {
        if (client.call_leader(join_address, join, 20000, reply, error) && reply.status == ClientReply::Ok) {
          join_done_ = true;
          return;
        }
        if (reply.status == ClientReply::Refused || error.find("refused") != std::string::npos) break;
      }
      join_error_ = "could not join through " + join_address + ": " + (reply.message.empty() ? error : reply.message);
      join_failed_ = true;
    });
  }
  loop();
  catch_up_.reset();
  stop_programs();
  if (join_thread_.joinable()) join_thread_.join();
  bool closed = false;
  raft_.data = &closed;
  raft_close(&raft_, [](struct raft* r) { *static_cast<bool*>(r->data) = true; });
  for (int i = 0; i < 1000 && !closed; ++i) io_->run();
  log("stopped");
  return exit_code_;
}

}  // namespace

int run_node(const NodeOptions& options, const std::atomic<bool>& stop) {
  Node node(options, stop);
  return node.run();
}

}  // namespace ved::cluster
