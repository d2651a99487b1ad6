// Our `struct raft_io` (libraft's I/O interface, raft.h): the log, term, vote and
// snapshots in the node's LevelDB through RaftLogStore, the transport through a
// RaftTransport, time through a Clock. The contract followed is canonical/raft's stub and
// libuv backends (src/fixture.c, src/uv*.c), summarised in docs/cluster.md.
//
// Nothing here blocks on a socket or reads a clock itself: the owner (a node's event
// loop, or a test stepping time by hand) calls run() whenever next_deadline() has passed
// or after delivering messages with receive(). run() fires the tick callback when due and
// then completes every queued request: all appends, truncations and snapshot writes
// queued since the last run() go to LevelDB in ONE durable write (group commit), and
// then their callbacks fire in the order the requests were made. Callbacks never fire
// from inside the call that queued them, as libraft expects.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "cluster/raft_c.h"
#include "cluster/raft_log_store.h"
#include "cluster/wire_message.h"

namespace ved::cluster {

class RaftTransport {
 public:
  virtual ~RaftTransport() = default;
  // Queues one Raft RPC for server `to` at `address`. False when it cannot (no route,
  // queue full): the message is lost, which Raft tolerates (it retries).
  virtual bool send_raft(uint64_t to, const std::string& address, const RaftRpc& rpc) = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t now_ms() = 0;  // monotonic milliseconds
};

class RaftIo {
 public:
  RaftIo(RaftLogStore& store, RaftTransport& transport, Clock& clock, uint64_t random_seed);
  RaftIo(const RaftIo&) = delete;
  RaftIo& operator=(const RaftIo&) = delete;

  struct raft_io* io() { return &io_; }

  // When run() next has something to do: the next tick, or now when requests are queued.
  uint64_t next_deadline() const;
  void run();
  // Hands a received RPC to Raft (after start, before close; dropped otherwise).
  void receive(uint64_t from_id, const std::string& from_address, const RaftRpc& rpc);

  bool started() const { return tick_cb_ != nullptr; }
  // The last storage failure, for the node's log ("" if none).
  const std::string& storage_error() const { return storage_error_; }

 private:
  struct Request {
    enum Kind { Append, Truncate, SnapshotPut, SnapshotGet, Send } kind;
    struct raft_io_append* append = nullptr;
    const struct raft_entry* entries = nullptr;
    unsigned n = 0;
    uint64_t truncate_from = 0;
    struct raft_io_snapshot_put* snapshot_put = nullptr;
    const struct raft_snapshot* snapshot = nullptr;
    unsigned trailing = 0;
    struct raft_io_snapshot_get* snapshot_get = nullptr;
    struct raft_io_send* send = nullptr;
    int send_status = 0;
  };

  static RaftIo* self(struct raft_io* io) { return static_cast<RaftIo*>(io->impl); }
  static int m_init(struct raft_io*, raft_id, const char*);
  static void m_close(struct raft_io*, raft_io_close_cb);
  static int m_load(struct raft_io*, raft_term*, raft_id*, struct raft_snapshot**, raft_index*, struct raft_entry**,
                    size_t*);
  static int m_start(struct raft_io*, unsigned, raft_io_tick_cb, raft_io_recv_cb);
  static int m_bootstrap(struct raft_io*, const struct raft_configuration*);
  static int m_recover(struct raft_io*, const struct raft_configuration*);
  static int m_set_term(struct raft_io*, raft_term);
  static int m_set_vote(struct raft_io*, raft_id);
  static int m_send(struct raft_io*, struct raft_io_send*, const struct raft_message*, raft_io_send_cb);
  static int m_append(struct raft_io*, struct raft_io_append*, const struct raft_entry[], unsigned, raft_io_append_cb);
  static int m_truncate(struct raft_io*, raft_index);
  static int m_snapshot_put(struct raft_io*, unsigned, struct raft_io_snapshot_put*, const struct raft_snapshot*,
                            raft_io_snapshot_put_cb);
  static int m_snapshot_get(struct raft_io*, struct raft_io_snapshot_get*, raft_io_snapshot_get_cb);
  static raft_time m_time(struct raft_io*);
  static int m_random(struct raft_io*, int, int);

  int fail(int code, const std::string& message);
  void complete_requests();

  struct raft_io io_ {};
  RaftLogStore& store_;
  RaftTransport& transport_;
  Clock& clock_;
  std::mt19937_64 random_;
  uint64_t id_ = 0;
  std::string address_;
  unsigned tick_interval_ = 0;
  uint64_t next_tick_ = 0;
  raft_io_tick_cb tick_cb_ = nullptr;
  raft_io_recv_cb recv_cb_ = nullptr;
  raft_io_close_cb close_cb_ = nullptr;
  bool closing_ = false;
  bool closed_ = false;
  std::deque<Request> requests_;
  std::string storage_error_;
  // While an AppendEntries is being delivered: the last index it covers (prev + its
  // entries), 0 otherwise. See m_send.
  uint64_t delivering_append_up_to_ = 0;
};

// Conversions between libraft's messages and ours (exposed for tests).
RaftRpc rpc_from_raft(const struct raft_message& m);
// Builds a raft_message whose memory (entries and their batch, the configuration, the
// snapshot data) is raft_malloc'd: libraft's recv takes ownership of it.
bool raft_from_rpc(const RaftRpc& rpc, uint64_t from_id, const char* from_address, struct raft_message& out);

}  // namespace ved::cluster
