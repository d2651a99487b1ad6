// The wire format (cluster/wire_message.h): every Raft RPC and client message survives a
// round trip; garbage, other versions and wrong shapes are refused with a reason.
#include <doctest/doctest.h>

#include "cluster/wire_message.h"

using namespace ved::cluster;

namespace {

WireMessage from_node(RaftRpc rpc) {
  return WireMessage{std::string(16, 'c'), 2, "127.0.0.1:7002", std::move(rpc)};
}

std::vector<WireMessage> samples() {
  std::vector<WireMessage> out;
  RaftRpc append;
  append.type = RaftRpc::AppendEntries;
  append.term = 3;
  append.prev_log_index = 10;
  append.prev_log_term = 2;
  append.leader_commit = 9;
  append.entries = {{3, 1, "abc"}, {3, 2, ""}, {3, 3, std::string(1000, 'x')}};
  out.push_back(from_node(append));
  RaftRpc result;
  result.type = RaftRpc::AppendEntriesResult;
  result.term = 3;
  result.rejected = 11;
  result.last_log_index = 10;
  out.push_back(from_node(result));
  RaftRpc vote;
  vote.type = RaftRpc::RequestVote;
  vote.term = 4;
  vote.candidate_id = 2;
  vote.last_log_index = 12;
  vote.last_log_term = 3;
  vote.pre_vote = true;
  out.push_back(from_node(vote));
  RaftRpc vote_result;
  vote_result.type = RaftRpc::RequestVoteResult;
  vote_result.term = 4;
  vote_result.vote_granted = true;
  vote_result.pre_vote_result = 1;
  out.push_back(from_node(vote_result));
  RaftRpc snapshot;
  snapshot.type = RaftRpc::InstallSnapshot;
  snapshot.term = 5;
  snapshot.last_index = 100;
  snapshot.snapshot_last_term = 4;
  snapshot.configuration = {{1, "127.0.0.1:7001", 1}, {2, "127.0.0.1:7002", 0}};
  snapshot.conf_index = 90;
  snapshot.snapshot_data = "state";
  out.push_back(from_node(snapshot));
  RaftRpc timeout;
  timeout.type = RaftRpc::TimeoutNow;
  timeout.term = 5;
  timeout.last_log_index = 100;
  timeout.last_log_term = 5;
  out.push_back(from_node(timeout));
  ClientRequest submit;
  submit.kind = ClientRequest::Submit;
  submit.sequence = 7;
  submit.request_id = std::string(16, 'r');
  submit.program_name = "hello";
  submit.bundle = "VEDB";
  submit.seed = 3;
  out.push_back(WireMessage{"", 0, "", submit});
  ClientRequest propose;
  propose.kind = ClientRequest::Propose;
  propose.entry = "entry bytes";
  out.push_back(WireMessage{"", 0, "", propose});
  ClientReply reply;
  reply.status = ClientReply::NotLeader;
  reply.sequence = 7;
  reply.message = "not the leader";
  reply.leader_address = "127.0.0.1:7001";
  reply.payload = "\x90";
  out.push_back(WireMessage{std::string(16, 'c'), 1, "127.0.0.1:7001", reply});
  return out;
}

std::string refusal(std::string_view bytes) {
  WireMessage m;
  std::string error;
  CHECK_FALSE(decode_wire(bytes, m, error));
  CHECK_FALSE(error.empty());
  return error;
}

}  // namespace

TEST_CASE("every wire message round-trips to the same bytes") {
  for (const auto& m : samples()) {
    const std::string bytes = encode_wire(m);
    WireMessage back;
    std::string error;
    REQUIRE_MESSAGE(decode_wire(bytes, back, error), error);
    CHECK(back.body.index() == m.body.index());
    CHECK(back.sender_id == m.sender_id);
    CHECK(back.sender_address == m.sender_address);
    CHECK(back.cluster_id == m.cluster_id);
    CHECK(encode_wire(back) == bytes);
  }
}

TEST_CASE("a decoded AppendEntries carries its entries and a Propose its entry") {
  const auto all = samples();
  WireMessage back;
  std::string error;
  REQUIRE(decode_wire(encode_wire(all[0]), back, error));
  const auto& rpc = std::get<RaftRpc>(back.body);
  REQUIRE(rpc.entries.size() == 3);
  CHECK(rpc.entries[0].data == "abc");
  CHECK(rpc.entries[2].data.size() == 1000);
  CHECK(rpc.prev_log_index == 10);
  REQUIRE(decode_wire(encode_wire(all[7]), back, error));
  CHECK(std::get<ClientRequest>(back.body).entry == "entry bytes");
}

TEST_CASE("garbage, cut and padded messages are refused") {
  CHECK(refusal("").find("not a msgpack document") != std::string::npos);
  CHECK(refusal("\xc1").find("not a msgpack document") != std::string::npos);
  CHECK(refusal("hello").find("message") == 0);
  for (const auto& m : samples()) {
    const std::string bytes = encode_wire(m);
    for (size_t n = 0; n < bytes.size(); n += 1 + n / 64) refusal(std::string_view(bytes).substr(0, n));
    CHECK(refusal(bytes + "x").find("trailing bytes") != std::string::npos);
  }
}

TEST_CASE("a Raft message must name its sender and a known type") {
  auto m = samples()[1];
  m.sender_id = 0;
  CHECK(refusal(encode_wire(m)) == "Raft message from sender id 0");
  auto n = samples()[1];
  std::get<RaftRpc>(n.body).type = 9;
  CHECK(refusal(encode_wire(n)) == "Raft message of unknown type 9");
}

TEST_CASE("an entry type libraft does not know is refused") {
  auto m = samples()[0];
  std::get<RaftRpc>(m.body).entries[0].type = 7;
  CHECK(refusal(encode_wire(m)) == "AppendEntries.entries[].type: unknown entry type 7");
}

TEST_CASE("a cluster id must be 16 bytes or absent") {
  auto m = samples()[1];
  m.cluster_id = "short";
  CHECK(refusal(encode_wire(m)).find("message cluster id: expected 0 or 16 bytes") == 0);
}
