#include "cluster/raft_io.h"

#include <cstring>

namespace ved::cluster {

namespace {

void* checked_malloc(size_t n) { return raft_malloc(n == 0 ? 1 : n); }

StoredSnapshot stored_from_raft(const struct raft_snapshot& s) {
  StoredSnapshot out;
  out.index = s.index;
  out.term = s.term;
  out.configuration_index = s.configuration_index;
  for (unsigned i = 0; i < s.configuration.n; ++i) {
    const auto& server = s.configuration.servers[i];
    out.configuration.push_back({server.id, server.address, server.role});
  }
  for (unsigned i = 0; i < s.n_bufs; ++i) out.data.append(static_cast<const char*>(s.bufs[i].base), s.bufs[i].len);
  return out;
}

// A raft_snapshot in libraft's memory (which takes ownership of it); nullptr if out of memory.
struct raft_snapshot* raft_from_stored(const StoredSnapshot& s) {
  auto* out = static_cast<struct raft_snapshot*>(raft_calloc(1, sizeof(struct raft_snapshot)));
  if (!out) return nullptr;
  out->index = s.index;
  out->term = s.term;
  out->configuration_index = s.configuration_index;
  raft_configuration_init(&out->configuration);
  for (const auto& server : s.configuration)
    if (raft_configuration_add(&out->configuration, server.id, server.address.c_str(), server.role) != 0) {
      raft_configuration_close(&out->configuration);
      raft_free(out);
      return nullptr;
    }
  out->bufs = static_cast<struct raft_buffer*>(raft_malloc(sizeof(struct raft_buffer)));
  void* data = checked_malloc(s.data.size());
  if (!out->bufs || !data) {
    raft_free(out->bufs);
    raft_free(data);
    raft_configuration_close(&out->configuration);
    raft_free(out);
    return nullptr;
  }
  std::memcpy(data, s.data.data(), s.data.size());
  out->bufs[0] = {data, s.data.size()};
  out->n_bufs = 1;
  return out;
}

void free_raft_snapshot(struct raft_snapshot* s) {
  raft_configuration_close(&s->configuration);
  for (unsigned i = 0; i < s->n_bufs; ++i) raft_free(s->bufs[i].base);
  raft_free(s->bufs);
  raft_free(s);
}

// Entries in libraft's memory: one array and one batch holding every entry's data.
struct raft_entry* raft_entries(const std::vector<StoredEntry>& entries) {
  size_t total = 0;
  for (const auto& e : entries) total += e.data.size();
  auto* out = static_cast<struct raft_entry*>(raft_calloc(entries.size(), sizeof(struct raft_entry)));
  char* batch = static_cast<char*>(checked_malloc(total));
  if (!out || !batch) {
    raft_free(out);
    raft_free(batch);
    return nullptr;
  }
  char* cursor = batch;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::memcpy(cursor, entries[i].data.data(), entries[i].data.size());
    out[i].term = entries[i].term;
    out[i].type = entries[i].type;
    out[i].buf = {cursor, entries[i].data.size()};
    out[i].batch = batch;
    cursor += entries[i].data.size();
  }
  return out;
}

}  // namespace

RaftRpc rpc_from_raft(const struct raft_message& m) {
  RaftRpc r;
  r.type = m.type;
  switch (m.type) {
    case RAFT_IO_APPEND_ENTRIES: {
      const auto& a = m.append_entries;
      r.term = a.term;
      r.prev_log_index = a.prev_log_index;
      r.prev_log_term = a.prev_log_term;
      r.leader_commit = a.leader_commit;
      for (unsigned i = 0; i < a.n_entries; ++i)
        r.entries.push_back({a.entries[i].term, a.entries[i].type,
                             std::string(static_cast<const char*>(a.entries[i].buf.base), a.entries[i].buf.len)});
      break;
    }
    case RAFT_IO_APPEND_ENTRIES_RESULT:
      r.term = m.append_entries_result.term;
      r.rejected = m.append_entries_result.rejected;
      r.last_log_index = m.append_entries_result.last_log_index;
      break;
    case RAFT_IO_REQUEST_VOTE:
      r.term = m.request_vote.term;
      r.candidate_id = m.request_vote.candidate_id;
      r.last_log_index = m.request_vote.last_log_index;
      r.last_log_term = m.request_vote.last_log_term;
      r.disrupt_leader = m.request_vote.disrupt_leader;
      r.pre_vote = m.request_vote.pre_vote;
      break;
    case RAFT_IO_REQUEST_VOTE_RESULT:
      r.term = m.request_vote_result.term;
      r.vote_granted = m.request_vote_result.vote_granted;
      r.pre_vote_result = static_cast<uint32_t>(m.request_vote_result.pre_vote);
      break;
    case RAFT_IO_INSTALL_SNAPSHOT: {
      const auto& s = m.install_snapshot;
      r.term = s.term;
      r.last_index = s.last_index;
      r.snapshot_last_term = s.last_term;
      for (unsigned i = 0; i < s.conf.n; ++i)
        r.configuration.push_back({s.conf.servers[i].id, s.conf.servers[i].address,
                                   static_cast<uint32_t>(s.conf.servers[i].role)});
      r.conf_index = s.conf_index;
      r.snapshot_data.assign(static_cast<const char*>(s.data.base), s.data.len);
      break;
    }
    case RAFT_IO_TIMEOUT_NOW:
      r.term = m.timeout_now.term;
      r.last_log_index = m.timeout_now.last_log_index;
      r.last_log_term = m.timeout_now.last_log_term;
      break;
  }
  return r;
}

bool raft_from_rpc(const RaftRpc& r, uint64_t from_id, const char* from_address, struct raft_message& m) {
  std::memset(&m, 0, sizeof m);
  m.type = static_cast<unsigned short>(r.type);
  m.server_id = from_id;
  m.server_address = from_address;
  switch (r.type) {
    case RaftRpc::AppendEntries: {
      auto& a = m.append_entries;
      a.term = r.term;
      a.prev_log_index = r.prev_log_index;
      a.prev_log_term = r.prev_log_term;
      a.leader_commit = r.leader_commit;
      a.n_entries = static_cast<unsigned>(r.entries.size());
      if (!r.entries.empty()) {
        std::vector<StoredEntry> stored;
        stored.reserve(r.entries.size());
        for (const auto& e : r.entries) stored.push_back({e.term, static_cast<uint16_t>(e.type), e.data});
        a.entries = raft_entries(stored);
        if (!a.entries) return false;
      }
      return true;
    }
    case RaftRpc::AppendEntriesResult:
      m.append_entries_result.term = r.term;
      m.append_entries_result.rejected = r.rejected;
      m.append_entries_result.last_log_index = r.last_log_index;
      return true;
    case RaftRpc::RequestVote:
      m.request_vote.term = r.term;
      m.request_vote.candidate_id = r.candidate_id;
      m.request_vote.last_log_index = r.last_log_index;
      m.request_vote.last_log_term = r.last_log_term;
      m.request_vote.disrupt_leader = r.disrupt_leader;
      m.request_vote.pre_vote = r.pre_vote;
      return true;
    case RaftRpc::RequestVoteResult:
      m.request_vote_result.term = r.term;
      m.request_vote_result.vote_granted = r.vote_granted;
      m.request_vote_result.pre_vote = static_cast<raft_tribool>(r.pre_vote_result);
      return true;
    case RaftRpc::InstallSnapshot: {
      auto& s = m.install_snapshot;
      s.term = r.term;
      s.last_index = r.last_index;
      s.last_term = r.snapshot_last_term;
      s.conf_index = r.conf_index;
      raft_configuration_init(&s.conf);
      for (const auto& server : r.configuration)
        if (raft_configuration_add(&s.conf, server.id, server.address.c_str(), static_cast<int>(server.role)) != 0) {
          raft_configuration_close(&s.conf);
          return false;
        }
      s.data.base = checked_malloc(r.snapshot_data.size());
      if (!s.data.base) {
        raft_configuration_close(&s.conf);
        return false;
      }
      std::memcpy(s.data.base, r.snapshot_data.data(), r.snapshot_data.size());
      s.data.len = r.snapshot_data.size();
      return true;
    }
    case RaftRpc::TimeoutNow:
      m.timeout_now.term = r.term;
      m.timeout_now.last_log_index = r.last_log_index;
      m.timeout_now.last_log_term = r.last_log_term;
      return true;
  }
  return false;
}

RaftIo::RaftIo(RaftLogStore& store, RaftTransport& transport, Clock& clock, uint64_t random_seed)
    : store_(store), transport_(transport), clock_(clock), random_(random_seed) {
  io_.version = 1;
  io_.impl = this;
  io_.init = m_init;
  io_.close = m_close;
  io_.load = m_load;
  io_.start = m_start;
  io_.bootstrap = m_bootstrap;
  io_.recover = m_recover;
  io_.set_term = m_set_term;
  io_.set_vote = m_set_vote;
  io_.send = m_send;
  io_.append = m_append;
  io_.truncate = m_truncate;
  io_.snapshot_put = m_snapshot_put;
  io_.snapshot_get = m_snapshot_get;
  io_.time = m_time;
  io_.random = m_random;
}

int RaftIo::fail(int code, const std::string& message) {
  storage_error_ = message;
  std::snprintf(io_.errmsg, sizeof io_.errmsg, "%s", message.c_str());
  return code;
}

int RaftIo::m_init(struct raft_io* io, raft_id id, const char* address) {
  self(io)->id_ = id;
  self(io)->address_ = address;
  return 0;
}

void RaftIo::m_close(struct raft_io* io, raft_io_close_cb cb) {
  self(io)->closing_ = true;
  self(io)->close_cb_ = cb;
}

int RaftIo::m_load(struct raft_io* io, raft_term* term, raft_id* voted_for, struct raft_snapshot** snapshot,
                   raft_index* start_index, struct raft_entry** entries, size_t* n_entries) {
  RaftIo* s = self(io);
  LoadedRaftState state;
  std::string error;
  if (!s->store_.load(state, error)) return s->fail(RAFT_CORRUPT, error);
  *term = state.term;
  *voted_for = state.voted_for;
  *start_index = state.start_index;
  *snapshot = nullptr;
  *entries = nullptr;
  *n_entries = 0;
  if (state.snapshot) {
    *snapshot = raft_from_stored(*state.snapshot);
    if (!*snapshot) return s->fail(RAFT_NOMEM, "out of memory loading the snapshot");
  }
  if (!state.entries.empty()) {
    *entries = raft_entries(state.entries);
    if (!*entries) {
      if (*snapshot) free_raft_snapshot(*snapshot);
      *snapshot = nullptr;
      return s->fail(RAFT_NOMEM, "out of memory loading the log");
    }
    *n_entries = state.entries.size();
  }
  return 0;
}

int RaftIo::m_start(struct raft_io* io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv) {
  RaftIo* s = self(io);
  s->tick_interval_ = msecs;
  s->tick_cb_ = tick;
  s->recv_cb_ = recv;
  s->next_tick_ = s->clock_.now_ms() + msecs;
  return 0;
}

int RaftIo::m_bootstrap(struct raft_io* io, const struct raft_configuration* conf) {
  RaftIo* s = self(io);
  if (s->store_.has_state()) return s->fail(RAFT_CANTBOOTSTRAP, "this node already has Raft state");
  struct raft_buffer buf {};
  if (raft_configuration_encode(conf, &buf) != 0) return s->fail(RAFT_NOMEM, "cannot encode the configuration");
  LogChange term;
  term.kind = LogChange::SetTerm;
  term.term = 1;
  LogChange append;
  append.entries.push_back({1, RAFT_CHANGE, std::string(static_cast<const char*>(buf.base), buf.len)});
  raft_free(buf.base);
  std::string error;
  if (!s->store_.apply({term, append}, error)) return s->fail(RAFT_IOERR, error);
  return 0;
}

int RaftIo::m_recover(struct raft_io* io, const struct raft_configuration* conf) {
  RaftIo* s = self(io);
  LoadedRaftState state;
  std::string error;
  if (!s->store_.load(state, error)) return s->fail(RAFT_CORRUPT, error);
  struct raft_buffer buf {};
  if (raft_configuration_encode(conf, &buf) != 0) return s->fail(RAFT_NOMEM, "cannot encode the configuration");
  LogChange append;
  append.entries.push_back({state.term == 0 ? 1 : state.term, RAFT_CHANGE,
                            std::string(static_cast<const char*>(buf.base), buf.len)});
  raft_free(buf.base);
  if (!s->store_.apply({append}, error)) return s->fail(RAFT_IOERR, error);
  return 0;
}

int RaftIo::m_set_term(struct raft_io* io, raft_term term) {
  std::string error;
  return self(io)->store_.set_term(term, error) ? 0 : self(io)->fail(RAFT_IOERR, error);
}

int RaftIo::m_set_vote(struct raft_io* io, raft_id server_id) {
  std::string error;
  return self(io)->store_.set_vote(server_id, error) ? 0 : self(io)->fail(RAFT_IOERR, error);
}

int RaftIo::m_send(struct raft_io* io, struct raft_io_send* req, const struct raft_message* message,
                   raft_io_send_cb cb) {
  RaftIo* s = self(io);
  req->cb = cb;
  Request r{Request::Send};
  r.send = req;
  RaftRpc rpc = rpc_from_raft(*message);
  // libraft 0.15 answers an AppendEntries it accepts without writing (a heartbeat, or
  // entries it already has) with its own last stored index, and its leader takes that as
  // the follower's match index. A follower whose log runs on past the leader's with
  // entries of an older term (an ex-leader back from a pause) thus makes the leader
  // believe entries match that do not: the leader stops sending them and the follower
  // rejects every later AppendEntries, forever; and the leader could count that follower
  // toward a commit. An acceptance only vouches for what the AppendEntries covered, so
  // the reply is capped there (a lower match index is always safe: the leader resends).
  if (rpc.type == RaftRpc::AppendEntriesResult && rpc.rejected == 0 && s->delivering_append_up_to_ != 0 &&
      rpc.last_log_index > s->delivering_append_up_to_)
    rpc.last_log_index = s->delivering_append_up_to_;
  const bool sent = s->transport_.send_raft(message->server_id, message->server_address, rpc);
  r.send_status = sent ? 0 : RAFT_NOCONNECTION;
  s->requests_.push_back(r);
  return 0;
}

int RaftIo::m_append(struct raft_io* io, struct raft_io_append* req, const struct raft_entry entries[], unsigned n,
                     raft_io_append_cb cb) {
  req->cb = cb;
  Request r{Request::Append};
  r.append = req;
  r.entries = entries;
  r.n = n;
  self(io)->requests_.push_back(r);
  return 0;
}

int RaftIo::m_truncate(struct raft_io* io, raft_index index) {
  Request r{Request::Truncate};
  r.truncate_from = index;
  self(io)->requests_.push_back(r);
  return 0;
}

int RaftIo::m_snapshot_put(struct raft_io* io, unsigned trailing, struct raft_io_snapshot_put* req,
                           const struct raft_snapshot* snapshot, raft_io_snapshot_put_cb cb) {
  req->cb = cb;
  Request r{Request::SnapshotPut};
  r.snapshot_put = req;
  r.snapshot = snapshot;
  r.trailing = trailing;
  self(io)->requests_.push_back(r);
  return 0;
}

int RaftIo::m_snapshot_get(struct raft_io* io, struct raft_io_snapshot_get* req, raft_io_snapshot_get_cb cb) {
  req->cb = cb;
  Request r{Request::SnapshotGet};
  r.snapshot_get = req;
  self(io)->requests_.push_back(r);
  return 0;
}

raft_time RaftIo::m_time(struct raft_io* io) { return self(io)->clock_.now_ms(); }

int RaftIo::m_random(struct raft_io* io, int min, int max) {
  if (max <= min) return min;
  return min + static_cast<int>(self(io)->random_() % static_cast<uint64_t>(max - min));
}

uint64_t RaftIo::next_deadline() const {
  if (closed_) return UINT64_MAX;
  if (!requests_.empty() || closing_) return 0;
  return tick_cb_ ? next_tick_ : UINT64_MAX;
}

void RaftIo::receive(uint64_t from_id, const std::string& from_address, const RaftRpc& rpc) {
  if (!recv_cb_ || closing_ || closed_) return;
  struct raft_message m;
  if (!raft_from_rpc(rpc, from_id, from_address.c_str(), m)) return;  // out of memory: as if lost
  if (rpc.type == RaftRpc::AppendEntries) delivering_append_up_to_ = rpc.prev_log_index + rpc.entries.size();
  recv_cb_(&io_, &m);
  delivering_append_up_to_ = 0;
}

void RaftIo::complete_requests() {
  // Callbacks may queue more requests; those are completed in the next round, and a
  // bounded number of rounds keeps run() from starving the event loop.
  for (int round = 0; round < 8 && !requests_.empty(); ++round) {
    std::deque<Request> batch;
    batch.swap(requests_);
    std::vector<LogChange> changes;
    for (const auto& r : batch) {
      if (r.kind == Request::Append) {
        LogChange c;
        c.entries.reserve(r.n);
        for (unsigned i = 0; i < r.n; ++i)
          c.entries.push_back({r.entries[i].term, r.entries[i].type,
                               std::string(static_cast<const char*>(r.entries[i].buf.base), r.entries[i].buf.len)});
        changes.push_back(std::move(c));
      } else if (r.kind == Request::Truncate) {
        LogChange c;
        c.kind = LogChange::Truncate;
        c.truncate_from = r.truncate_from;
        changes.push_back(std::move(c));
      } else if (r.kind == Request::SnapshotPut) {
        LogChange c;
        c.kind = LogChange::PutSnapshot;
        c.snapshot = stored_from_raft(*r.snapshot);
        c.trailing = r.trailing;
        changes.push_back(std::move(c));
      }
    }
    int status = 0;
    if (!changes.empty()) {
      std::string error;
      if (!store_.apply(changes, error)) status = fail(RAFT_IOERR, error);
    }
    for (const auto& r : batch) {
      switch (r.kind) {
        case Request::Append:
          if (r.append->cb) r.append->cb(r.append, status);
          break;
        case Request::Truncate: break;
        case Request::SnapshotPut:
          if (r.snapshot_put->cb) r.snapshot_put->cb(r.snapshot_put, status);
          break;
        case Request::SnapshotGet: {
          std::optional<StoredSnapshot> stored;
          std::string error;
          struct raft_snapshot* snapshot = nullptr;
          int get_status = 0;
          if (!store_.read_snapshot(stored, error)) get_status = fail(RAFT_IOERR, error);
          else if (!stored) get_status = fail(RAFT_NOTFOUND, "no snapshot stored");
          else if (!(snapshot = raft_from_stored(*stored))) get_status = RAFT_NOMEM;
          r.snapshot_get->cb(r.snapshot_get, snapshot, get_status);
          break;
        }
        case Request::Send:
          if (r.send->cb) r.send->cb(r.send, r.send_status);
          break;
      }
    }
  }
}

void RaftIo::run() {
  if (closed_) return;
  if (tick_cb_ && !closing_ && clock_.now_ms() >= next_tick_) {
    next_tick_ = clock_.now_ms() + tick_interval_;
    tick_cb_(&io_);
  }
  complete_requests();
  if (closing_) {
    while (!requests_.empty()) complete_requests();
    closed_ = true;
    tick_cb_ = nullptr;
    recv_cb_ = nullptr;
    if (close_cb_) close_cb_(&io_);
  }
}

}  // namespace ved::cluster
