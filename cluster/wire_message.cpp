#include "cluster/wire_message.h"

#include <msgpack.hpp>

#include "cluster/journal_entry.h"
#include "cluster/strict_msgpack.h"

namespace ved::cluster {

namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;
enum BodyKind : uint32_t { kRaft = 1, kRequest = 2, kReply = 3 };

void pack_bin(Packer& p, std::string_view bytes) {
  p.pack_bin(static_cast<uint32_t>(bytes.size()));
  p.pack_bin_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
}
void pack_str(Packer& p, std::string_view text) {
  p.pack_str(static_cast<uint32_t>(text.size()));
  p.pack_str_body(text.data(), static_cast<uint32_t>(text.size()));
}
void pack_bool(Packer& p, bool b) {
  if (b) p.pack_true(); else p.pack_false();
}

void pack_raft(Packer& p, const RaftRpc& m) {
  switch (m.type) {
    case RaftRpc::AppendEntries:
      p.pack_array(6);
      p.pack_uint32(m.type);
      p.pack_uint64(m.term);
      p.pack_uint64(m.prev_log_index);
      p.pack_uint64(m.prev_log_term);
      p.pack_uint64(m.leader_commit);
      p.pack_array(static_cast<uint32_t>(m.entries.size()));
      for (const auto& e : m.entries) {
        p.pack_array(3);
        p.pack_uint64(e.term);
        p.pack_uint32(e.type);
        pack_bin(p, e.data);
      }
      return;
    case RaftRpc::AppendEntriesResult:
      p.pack_array(4);
      p.pack_uint32(m.type);
      p.pack_uint64(m.term);
      p.pack_uint64(m.rejected);
      p.pack_uint64(m.last_log_index);
      return;
    case RaftRpc::RequestVote:
      p.pack_array(7);
      p.pack_uint32(m.type);
      p.pack_uint64(m.term);
      p.pack_uint64(m.candidate_id);
      p.pack_uint64(m.last_log_index);
      p.pack_uint64(m.last_log_term);
      pack_bool(p, m.disrupt_leader);
      pack_bool(p, m.pre_vote);
      return;
    case RaftRpc::RequestVoteResult:
      p.pack_array(4);
      p.pack_uint32(m.type);
      p.pack_uint64(m.term);
      pack_bool(p, m.vote_granted);
      p.pack_uint32(m.pre_vote_result);
      return;
    case RaftRpc::InstallSnapshot:
      p.pack_array(7);
      p.pack_uint32(m.type);
      p.pack_uint64(m.term);
      p.pack_uint64(m.last_index);
      p.pack_uint64(m.snapshot_last_term);
      p.pack_array(static_cast<uint32_t>(m.configuration.size()));
      for (const auto& s : m.configuration) {
        p.pack_array(3);
        p.pack_uint64(s.id);
        pack_str(p, s.address);
        p.pack_uint32(s.role);
      }
      p.pack_uint64(m.conf_index);
      pack_bin(p, m.snapshot_data);
      return;
    case RaftRpc::TimeoutNow:
      p.pack_array(4);
      p.pack_uint32(m.type);
      p.pack_uint64(m.term);
      p.pack_uint64(m.last_log_index);
      p.pack_uint64(m.last_log_term);
      return;
  }
  p.pack_array(1);  // an unknown type is encoded so that the receiver refuses it
  p.pack_uint32(m.type);
}

void pack_request(Packer& p, const ClientRequest& r) {
  p.pack_array(10);
  p.pack_uint32(r.kind);
  p.pack_uint64(r.sequence);
  pack_bin(p, r.request_id);
  pack_str(p, r.program_name);
  pack_bin(p, r.bundle);
  p.pack_uint64(r.seed);
  p.pack_uint64(r.node_id);
  pack_str(p, r.address);
  pack_str(p, r.group);
  pack_str(p, r.public_key);
  // `entry` travels in `bundle`'s place for Propose: one bin field serves both.
}

void pack_reply(Packer& p, const ClientReply& r) {
  p.pack_array(5);
  p.pack_uint32(r.status);
  p.pack_uint64(r.sequence);
  pack_str(p, r.message);
  pack_str(p, r.leader_address);
  pack_bin(p, r.payload);
}

using namespace strict;

uint32_t u32(const msgpack::object& o, const char* what) {
  const uint64_t v = u64(o, what);
  if (v > UINT32_MAX) throw DecodeError(std::string(what) + ": " + std::to_string(v) + " is out of range");
  return static_cast<uint32_t>(v);
}

RaftRpc read_raft(const msgpack::object& body) {
  if (body.type != msgpack::type::ARRAY || body.via.array.size == 0)
    throw DecodeError("Raft message: expected a non-empty array");
  RaftRpc m;
  m.type = u32(body.via.array.ptr[0], "Raft message type");
  switch (m.type) {
    case RaftRpc::AppendEntries: {
      const auto* f = array(body, 6, "AppendEntries");
      m.term = u64(f[1], "AppendEntries.term");
      m.prev_log_index = u64(f[2], "AppendEntries.prev_log_index");
      m.prev_log_term = u64(f[3], "AppendEntries.prev_log_term");
      m.leader_commit = u64(f[4], "AppendEntries.leader_commit");
      uint32_t n = 0;
      const auto* items = list(f[5], kMaxListItems, n, "AppendEntries.entries");
      for (uint32_t i = 0; i < n; ++i) {
        const auto* e = array(items[i], 3, "AppendEntries.entries[]");
        RaftRpc::Entry entry;
        entry.term = u64(e[0], "AppendEntries.entries[].term");
        entry.type = u32(e[1], "AppendEntries.entries[].type");
        if (entry.type < 1 || entry.type > 3)
          throw DecodeError("AppendEntries.entries[].type: unknown entry type " + std::to_string(entry.type));
        entry.data = bin(e[2], kMaxEntryBytes, "AppendEntries.entries[].data");
        m.entries.push_back(std::move(entry));
      }
      return m;
    }
    case RaftRpc::AppendEntriesResult: {
      const auto* f = array(body, 4, "AppendEntriesResult");
      m.term = u64(f[1], "AppendEntriesResult.term");
      m.rejected = u64(f[2], "AppendEntriesResult.rejected");
      m.last_log_index = u64(f[3], "AppendEntriesResult.last_log_index");
      return m;
    }
    case RaftRpc::RequestVote: {
      const auto* f = array(body, 7, "RequestVote");
      m.term = u64(f[1], "RequestVote.term");
      m.candidate_id = u64(f[2], "RequestVote.candidate_id");
      m.last_log_index = u64(f[3], "RequestVote.last_log_index");
      m.last_log_term = u64(f[4], "RequestVote.last_log_term");
      m.disrupt_leader = boolean(f[5], "RequestVote.disrupt_leader");
      m.pre_vote = boolean(f[6], "RequestVote.pre_vote");
      return m;
    }
    case RaftRpc::RequestVoteResult: {
      const auto* f = array(body, 4, "RequestVoteResult");
      m.term = u64(f[1], "RequestVoteResult.term");
      m.vote_granted = boolean(f[2], "RequestVoteResult.vote_granted");
      m.pre_vote_result = u32(f[3], "RequestVoteResult.pre_vote");
      if (m.pre_vote_result > 2) throw DecodeError("RequestVoteResult.pre_vote: not 0, 1 or 2");
      return m;
    }
    case RaftRpc::InstallSnapshot: {
      const auto* f = array(body, 7, "InstallSnapshot");
      m.term = u64(f[1], "InstallSnapshot.term");
      m.last_index = u64(f[2], "InstallSnapshot.last_index");
      m.snapshot_last_term = u64(f[3], "InstallSnapshot.last_term");
      uint32_t n = 0;
      const auto* servers = list(f[4], 1024, n, "InstallSnapshot.configuration");
      for (uint32_t i = 0; i < n; ++i) {
        const auto* s = array(servers[i], 3, "InstallSnapshot.configuration[]");
        RaftRpc::Server server;
        server.id = u64(s[0], "InstallSnapshot.configuration[].id");
        server.address = str(s[1], kMaxNameBytes, "InstallSnapshot.configuration[].address");
        server.role = u32(s[2], "InstallSnapshot.configuration[].role");
        if (server.id == 0 || server.role > 2)
          throw DecodeError("InstallSnapshot.configuration[]: id 0 or unknown role");
        m.configuration.push_back(std::move(server));
      }
      m.conf_index = u64(f[5], "InstallSnapshot.conf_index");
      m.snapshot_data = bin(f[6], kMaxWireBytes, "InstallSnapshot.data");
      return m;
    }
    case RaftRpc::TimeoutNow: {
      const auto* f = array(body, 4, "TimeoutNow");
      m.term = u64(f[1], "TimeoutNow.term");
      m.last_log_index = u64(f[2], "TimeoutNow.last_log_index");
      m.last_log_term = u64(f[3], "TimeoutNow.last_log_term");
      return m;
    }
  }
  throw DecodeError("Raft message of unknown type " + std::to_string(m.type));
}

ClientRequest read_request(const msgpack::object& body) {
  const auto* f = array(body, 10, "client request");
  ClientRequest r;
  r.kind = u32(f[0], "client request kind");
  if (r.kind < ClientRequest::Submit || r.kind > ClientRequest::UpgradeVerdict)
    throw DecodeError("client request of unknown kind " + std::to_string(r.kind));
  r.sequence = u64(f[1], "client request sequence");
  r.request_id = bin(f[2], 16, "client request id");
  r.program_name = str(f[3], kMaxNameBytes, "client request program name");
  r.bundle = bin(f[4], kMaxEntryBytes, "client request bundle");
  r.seed = u64(f[5], "client request seed");
  r.node_id = u64(f[6], "client request node id");
  r.address = str(f[7], kMaxNameBytes, "client request address");
  r.group = str(f[8], kMaxNameBytes, "client request group");
  r.public_key = str(f[9], 40, "client request public key");
  if (r.kind == ClientRequest::Propose) r.entry = std::move(r.bundle);
  return r;
}

ClientReply read_reply(const msgpack::object& body) {
  const auto* f = array(body, 5, "client reply");
  ClientReply r;
  r.status = u32(f[0], "client reply status");
  if (r.status > ClientReply::Failed) throw DecodeError("client reply of unknown status " + std::to_string(r.status));
  r.sequence = u64(f[1], "client reply sequence");
  r.message = str(f[2], 1u << 16, "client reply message");
  r.leader_address = str(f[3], kMaxNameBytes, "client reply leader address");
  r.payload = bin(f[4], kMaxWireBytes, "client reply payload");
  return r;
}

}  // namespace

std::string encode_fetched_run(const FetchedRun& run) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_array(10);
  p.pack_uint64(run.id);
  pack_str(p, run.name);
  p.pack_uint64(run.seed);
  p.pack_array(static_cast<uint32_t>(run.builds.size()));
  for (const auto& b : run.builds) {
    p.pack_array(3);
    p.pack_uint64(b.first_frame);
    p.pack_uint64(b.record_digest);
    pack_bin(p, b.bundle);
  }
  p.pack_uint64(run.frame_count);
  p.pack_uint64(run.first_frame);
  pack_bin(p, run.frames);
  if (run.finished) p.pack_true(); else p.pack_false();
  p.pack_uint32(run.exit_code);
  p.pack_array(static_cast<uint32_t>(run.summary.size()));
  for (const auto& line : run.summary) pack_str(p, line);
  return std::string(buffer.data(), buffer.size());
}

bool decode_fetched_run(std::string_view bytes, FetchedRun& out, std::string& error) {
  try {
    auto handle = unpack_one(bytes, "fetched run");
    const auto* f = array(handle.get(), 10, "fetched run");
    out.id = u64(f[0], "fetched run id");
    out.name = str(f[1], kMaxNameBytes, "fetched run name");
    out.seed = u64(f[2], "fetched run seed");
    uint32_t builds = 0;
    const auto* items = list(f[3], 1u << 16, builds, "fetched run builds");
    out.builds.clear();
    for (uint32_t i = 0; i < builds; ++i) {
      const auto* b = array(items[i], 3, "fetched run build");
      out.builds.push_back(CommittedBuild{u64(b[0], "fetched run build first frame"),
                                          bin(b[2], kMaxWireBytes, "fetched run build bundle"),
                                          u64(b[1], "fetched run build digest")});
    }
    out.frame_count = u64(f[4], "fetched run frame count");
    out.first_frame = u64(f[5], "fetched run first frame");
    out.frames = bin(f[6], kMaxWireBytes, "fetched run frames");
    out.finished = boolean(f[7], "fetched run finished");
    out.exit_code = u32(f[8], "fetched run exit code");
    uint32_t n = 0;
    const auto* lines = list(f[9], 1u << 16, n, "fetched run summary");
    out.summary.clear();
    for (uint32_t i = 0; i < n; ++i) out.summary.push_back(str(lines[i], 1u << 16, "fetched run summary line"));
    return true;
  } catch (const DecodeError& e) {
    error = e.what();
    return false;
  }
}

std::string encode_upgrade_verdict(const UpgradeVerdict& v) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_array(5);
  p.pack_uint64(v.program);
  p.pack_uint64(v.upgrade);
  if (v.decided) p.pack_true(); else p.pack_false();
  if (v.ok) p.pack_true(); else p.pack_false();
  p.pack_array(static_cast<uint32_t>(v.lines.size()));
  for (const auto& line : v.lines) pack_str(p, line);
  return std::string(buffer.data(), buffer.size());
}

bool decode_upgrade_verdict(std::string_view bytes, UpgradeVerdict& out, std::string& error) {
  try {
    auto handle = unpack_one(bytes, "upgrade verdict");
    const auto* f = array(handle.get(), 5, "upgrade verdict");
    out.program = u64(f[0], "upgrade verdict program");
    out.upgrade = u64(f[1], "upgrade verdict upgrade");
    out.decided = boolean(f[2], "upgrade verdict decided");
    out.ok = boolean(f[3], "upgrade verdict ok");
    uint32_t n = 0;
    const auto* lines = list(f[4], 1u << 16, n, "upgrade verdict lines");
    out.lines.clear();
    for (uint32_t i = 0; i < n; ++i) out.lines.push_back(str(lines[i], 1u << 16, "upgrade verdict line"));
    return true;
  } catch (const DecodeError& e) {
    error = e.what();
    return false;
  }
}

std::string encode_wire(const WireMessage& message) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_array(6);
  p.pack_uint32(kWireFormatVersion);
  pack_bin(p, message.cluster_id);
  p.pack_uint64(message.sender_id);
  pack_str(p, message.sender_address);
  if (const auto* raft = std::get_if<RaftRpc>(&message.body)) {
    p.pack_uint32(kRaft);
    pack_raft(p, *raft);
  } else if (const auto* request = std::get_if<ClientRequest>(&message.body)) {
    p.pack_uint32(kRequest);
    if (request->kind == ClientRequest::Propose) {
      ClientRequest copy = *request;
      copy.bundle = copy.entry;
      pack_request(p, copy);
    } else {
      pack_request(p, *request);
    }
  } else {
    p.pack_uint32(kReply);
    pack_reply(p, std::get<ClientReply>(message.body));
  }
  return std::string(buffer.data(), buffer.size());
}

bool decode_wire(std::string_view bytes, WireMessage& out, std::string& error) {
  if (bytes.size() > kMaxWireBytes) {
    error = "message of " + std::to_string(bytes.size()) + " bytes, over the limit of " + std::to_string(kMaxWireBytes);
    return false;
  }
  try {
    auto handle = unpack_one(bytes, "message");
    const auto* f = array(handle.get(), 6, "message");
    const uint64_t version = u64(f[0], "message format version");
    if (version != kWireFormatVersion) {
      error = "message of wire format version " + std::to_string(version) + "; this build speaks only version " +
              std::to_string(kWireFormatVersion);
      return false;
    }
    out.cluster_id = bin(f[1], kClusterIdBytes, "message cluster id");
    if (!out.cluster_id.empty() && out.cluster_id.size() != kClusterIdBytes)
      throw DecodeError("message cluster id: expected 0 or 16 bytes, found " + std::to_string(out.cluster_id.size()));
    out.sender_id = u64(f[2], "message sender id");
    out.sender_address = str(f[3], kMaxNameBytes, "message sender address");
    const uint64_t kind = u64(f[4], "message kind");
    switch (kind) {
      case kRaft:
        if (out.sender_id == 0) throw DecodeError("Raft message from sender id 0");
        out.body = read_raft(f[5]);
        return true;
      case kRequest: out.body = read_request(f[5]); return true;
      case kReply: out.body = read_reply(f[5]); return true;
    }
    error = "message of unknown kind " + std::to_string(kind);
    return false;
  } catch (const DecodeError& e) {
    error = e.what();
    return false;
  }
}

}  // namespace ved::cluster
