// The wire protocol between nodes and from clients (docs/cluster.md, "Wire protocol").
// Every ZeroMQ message is one frame holding a msgpack array:
//
//   [format_version, cluster_id, sender_id, sender_address, kind, body]
//
// `cluster_id` is 16 random bytes chosen when the cluster is bootstrapped; a node drops
// Raft traffic that carries another cluster's id (a client, which does not know the id,
// sends an empty one). `kind` is Raft (one Raft RPC: body is the message's fields) or a
// client request/reply. Decoding is pure and strict (see strict_msgpack.h): the fuzz
// target tests/fuzz/fuzz_cluster_wire.cpp feeds it arbitrary bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cluster/run_builds.h"

namespace ved::cluster {

inline constexpr uint32_t kWireFormatVersion = 1;
// A frame larger than this is refused before decoding, with a log line on a node.
inline constexpr size_t kMaxWireBytes = 80u << 20;
// The transport's cap (ZMQ_MAXMSGSIZE) on a node's listening socket, a little above the
// limit: a frame just over kMaxWireBytes still reaches the decoder, which refuses it and
// logs its size (libzmq drops a frame over its cap by closing the connection, silently:
// it reports an ordinary disconnect). Past this, memory stays bounded all the same.
inline constexpr size_t kMaxTransportBytes = kMaxWireBytes + (1u << 20);
inline constexpr size_t kClusterIdBytes = 16;

// One Raft RPC, owning its memory (the Raft I/O layer turns it into a raft_message).
// Field meanings are libraft's (raft.h): only those of `type` are used.
struct RaftRpc {
  enum Type : uint32_t {
    AppendEntries = 1,
    AppendEntriesResult = 2,
    RequestVote = 3,
    RequestVoteResult = 4,
    InstallSnapshot = 5,
    TimeoutNow = 6,
  };
  uint32_t type = 0;
  uint64_t term = 0;
  // AppendEntries
  uint64_t prev_log_index = 0, prev_log_term = 0, leader_commit = 0;
  struct Entry {
    uint64_t term = 0;
    uint32_t type = 0;  // RAFT_COMMAND, RAFT_BARRIER, RAFT_CHANGE
    std::string data;
  };
  std::vector<Entry> entries;
  // AppendEntriesResult
  uint64_t rejected = 0;
  // AppendEntriesResult, RequestVote, TimeoutNow
  uint64_t last_log_index = 0;
  // RequestVote, TimeoutNow
  uint64_t candidate_id = 0, last_log_term = 0;
  bool disrupt_leader = false, pre_vote = false;
  // RequestVoteResult
  bool vote_granted = false;
  uint32_t pre_vote_result = 0;  // raft_tribool
  // InstallSnapshot
  uint64_t last_index = 0, snapshot_last_term = 0, conf_index = 0;
  struct Server {
    uint64_t id = 0;
    std::string address;
    uint32_t role = 0;
  };
  std::vector<Server> configuration;
  std::string snapshot_data;
};

// Requests a client (vedvm --join, status, leave) or a joining node sends to a member.
struct ClientRequest {
  // Shutdown: sent by `vedvm leave` to the node it has just had removed (a removed node
  // is no longer sent the configuration that removes it, so it is told).
  // FetchRun: a program's committed run (`program_name`: its name or id), answered by the
  // leader with a FetchedRun holding its frames from frame `node_id` on, as many whole
  // frames as kFetchFrameBytes holds (none when `node_id` is past the last).
  // FetchFrames: the same from any member, of the frames *it* holds (`program_name`: the
  // program's id): how a replica that restored a snapshot fills its gap.
  // Upgrade: a new build of a submitted program (`request_id`, `program_name`, `bundle`:
  // the Upgrade entry's fields), answered once committed with "<program> <upgrade>".
  // UpgradeVerdict: how the upgrade of request `request_id` went (encode_upgrade_verdict).
  enum Kind : uint32_t {
    Submit = 1, Status = 2, Join = 3, Leave = 4, Propose = 5, Shutdown = 6, FetchRun = 7, FetchFrames = 8,
    Upgrade = 9, UpgradeVerdict = 10
  };
  uint32_t kind = 0;
  uint64_t sequence = 0;  // echoed in the reply
  // Submit: the journal entry's fields; Propose: an encoded journal entry (a node's
  // program runner, and tests).
  std::string request_id, program_name, bundle, entry;
  uint64_t seed = 0;
  // Join / Leave
  uint64_t node_id = 0;
  std::string address, group, public_key;
};

struct ClientReply {
  enum Status : uint32_t {
    Ok = 0,
    NotLeader = 1,   // `leader_address` says where to go ("" if unknown)
    NoQuorum = 2,    // this member knows no leader: it cannot reach a majority
    Refused = 3,     // the request is wrong; `message` says why
    Failed = 4,      // tried and failed (leadership lost...); retrying may work
  };
  uint32_t status = 0;
  uint64_t sequence = 0;
  std::string message;
  std::string leader_address;
  std::string payload;  // per request: msgpack (Submit: [program_id, name]; Status: the status document)
};

// A FetchRun reply's payload: a program's committed run, as a client rebuilds it locally
// (vedvm inspect --join).
inline constexpr size_t kFetchFrameBytes = 4u << 20;
struct FetchedRun {
  uint64_t id = 0;
  std::string name;
  uint64_t seed = 0;
  std::vector<CommittedBuild> builds;  // the submitted one first, then each upgrade taken
  uint64_t frame_count = 0;  // how many frames the run has committed
  uint64_t first_frame = 0;  // the first of `frames`
  std::string frames;        // tick-record frames (vm/runtime/record_log.h), whole, in order
  bool finished = false;
  uint32_t exit_code = 0;
  std::vector<std::string> summary;
};
std::string encode_fetched_run(const FetchedRun& run);
bool decode_fetched_run(std::string_view bytes, FetchedRun& out, std::string& error);

// An UpgradeVerdict reply's payload.
std::string encode_upgrade_verdict(const UpgradeVerdict& verdict);
bool decode_upgrade_verdict(std::string_view bytes, UpgradeVerdict& out, std::string& error);

struct WireMessage {
  std::string cluster_id;  // empty from clients
  uint64_t sender_id = 0;  // 0 from clients
  std::string sender_address;
  std::variant<RaftRpc, ClientRequest, ClientReply> body;
};

std::string encode_wire(const WireMessage& message);
// False with `error` (naming what is wrong) when `bytes` is not one well-formed message.
bool decode_wire(std::string_view bytes, WireMessage& out, std::string& error);

}  // namespace ved::cluster
