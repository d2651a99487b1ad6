// Hostile traffic sent to live `vedvm node` processes (tests/cluster/process_cluster.h):
// garbage, another cluster's id, a non-member, an oversized frame, a removed member and a
// stale term. Each is dropped with a log line that says what it was, and the node keeps
// serving: status answers, a submission commits, and no forged term moved the cluster's.
#include <doctest/doctest.h>

#include <zmq.h>

#include "cluster/wire_message.h"
#include "process_cluster.h"

using namespace ved::cluster;
using namespace ved::cluster::test;

namespace {

const std::string kProgram = std::string(VED_EXAMPLES_DIR) + "/hello.ved";

// The cluster id's bytes, from the hex that status prints.
std::string cluster_id_of(const nlohmann::json& status) {
  const std::string hex = status["cluster"];
  std::string id;
  for (size_t i = 0; i < hex.size(); i += 2) id.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return id;
}

// Sends each of `messages` as one frame to `address` from a fresh plaintext DEALER, and
// waits (the linger) until they have left: the node sees them in this order.
void send_frames(const std::string& address, const std::vector<std::string>& messages) {
  void* context = zmq_ctx_new();
  void* socket = zmq_socket(context, ZMQ_DEALER);
  int linger = 5000;
  zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
  REQUIRE(zmq_connect(socket, ("tcp://" + address).c_str()) == 0);
  for (const auto& bytes : messages) zmq_send(socket, bytes.data(), bytes.size(), 0);
  zmq_close(socket);
  zmq_ctx_term(context);
}

bool log_has(ProcessCluster& c, int i, const std::string& line) {
  return ProcessCluster::wait_until([&] { return read_file(c.node(i).log).find(line) != std::string::npos; }, 5000);
}

RaftRpc request_vote(uint64_t term, uint64_t candidate) {
  RaftRpc vote;
  vote.type = RaftRpc::RequestVote;
  vote.term = term;
  vote.candidate_id = candidate;
  return vote;
}

}  // namespace

TEST_CASE("hostile traffic: garbage, another cluster's id, a non-member: dropped with a log line, the node keeps serving") {
  ProcessCluster c(VED_VEDVM);
  form(c, 1);
  auto s = c.status(1);
  REQUIRE_FALSE(s.is_null());
  const std::string cluster_id = cluster_id_of(s);
  const RaftRpc vote = request_vote(1000, 77);
  send_frames(c.address(1), {"definitely not msgpack \xc1\xc1", std::string(1000, '\x92'),
                             encode_wire(WireMessage{std::string(16, 'x'), 77, "127.0.0.1:1", vote}),  // another cluster
                             encode_wire(WireMessage{cluster_id, 77, "127.0.0.1:1", vote})});         // not a member
  CHECK(log_has(c, 1, "dropped a message: message: not a msgpack document"));
  CHECK(log_has(c, 1, "of another cluster"));
  CHECK(log_has(c, 1, "which is not a member"));
  auto ok = c.vedvm({"--join", c.address(1), kProgram});
  CHECK_MESSAGE(ok.exit_code == 0, ok.err);
  auto after = c.status(1);
  REQUIRE_FALSE(after.is_null());
  CHECK(after["term"] == s["term"]);  // the forged vote with term 1000 changed nothing
}

TEST_CASE("hostile traffic: a frame over the node's message limit is dropped with a log line, the node keeps serving") {
  ProcessCluster c(VED_VEDVM);
  form(c, 1);
  // One byte over the limit: read, refused by the wire decoder, logged with its size.
  send_frames(c.address(1), {std::string(kMaxWireBytes + 1, '\x92')});
  CHECK(log_has(c, 1, "dropped a message: message of " + std::to_string(kMaxWireBytes + 1) + " bytes, over the limit of " +
                          std::to_string(kMaxWireBytes)));
  // Far over it (past the transport's cap): the connection is cut at the frame's header.
  send_frames(c.address(1), {std::string(kMaxWireBytes + (4u << 20), '\x92')});
  auto ok = c.vedvm({"--join", c.address(1), kProgram});
  CHECK_MESSAGE(ok.exit_code == 0, ok.err);
  auto s = c.status(1);
  REQUIRE_FALSE(s.is_null());
  CHECK(s["programs"].size() == 1);
}

TEST_CASE("hostile traffic: a removed member and a stale term are dropped with a log line, the cluster keeps serving") {
  ProcessCluster c(VED_VEDVM);
  form(c, 3);
  const int leader = leader_of(c, {1, 2, 3});
  REQUIRE(leader > 0);
  const int other = leader == 1 ? 2 : 1;
  const int third = 6 - leader - other;
  const auto removed = c.self_row(leader);
  REQUIRE_FALSE(removed.is_null());
  const uint64_t removed_id = removed["node"];
  const uint64_t old_term = removed["term"];
  const uint64_t third_id = c.self_row(third)["node"];
  // The leader leaves: leadership moves on, so the survivors are past its term.
  auto left = c.vedvm({"leave", "--join", c.address(other), std::to_string(removed_id)});
  REQUIRE_MESSAGE(left.exit_code == 0, left.err);
  REQUIRE(c.wait_exit(leader, 10000) == 0);
  REQUIRE(ProcessCluster::wait_until([&] { return voters_are(c, other, 2); }, 10000));
  auto before = c.status(other);
  REQUIRE_FALSE(before.is_null());
  REQUIRE(before["term"].get<uint64_t>() > old_term);
  const std::string cluster_id = cluster_id_of(before);

  // As the removed node (its id and address; --insecure, so no key to show): an append of
  // its old term and a vote far in the future. Then, as the remaining member `third`, a
  // vote request of the old term.
  RaftRpc append;
  append.type = RaftRpc::AppendEntries;
  append.term = old_term;
  append.leader_commit = 1;
  send_frames(c.address(other), {encode_wire(WireMessage{cluster_id, removed_id, c.address(leader), append}),
                                 encode_wire(WireMessage{cluster_id, removed_id, c.address(leader),
                                                         request_vote(old_term + 1000, removed_id)}),
                                 encode_wire(WireMessage{cluster_id, third_id, c.address(third),
                                                         request_vote(old_term, third_id)})});
  CHECK(log_has(c, other, "Raft message from node " + std::to_string(removed_id) + ", which is not a member (removed?)"));
  CHECK(log_has(c, other, "Raft request from node " + std::to_string(third_id) + " of stale term " + std::to_string(old_term)));

  auto ok = c.vedvm({"--join", c.address(other), kProgram});
  CHECK_MESSAGE(ok.exit_code == 0, ok.err);
  auto after = c.status(other);
  REQUIRE_FALSE(after.is_null());
  CHECK(after["term"] == before["term"]);  // neither the vote of term +1000 nor the stale one moved it
  CHECK(voters_are(c, other, 2));          // nor brought the removed node back
  CHECK(ProcessCluster::wait_until([&] { return programs_on(c, third) == 1; }, 10000));  // applied there too
}
