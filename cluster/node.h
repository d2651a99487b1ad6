// A cluster node (`vedvm node`, cluster.md §1-§3): libraft over our raft_io, the state
// machine, the ZeroMQ transport with CURVE, the client protocol, liveness — all driven by
// one event loop on one thread. Its identity (node id, cluster id, whether it has joined)
// lives in its data dir's LevelDB under "node/", so a restart with the same dir rejoins
// as the same member.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "cluster/curve_keys.h"

namespace ved::cluster {

struct NodeOptions {
  std::string listen;     // HOST:PORT: where peers and clients reach this node
  std::string data_dir;
  bool bootstrap = false;  // start a new cluster with this node as its only member
  std::string join;        // HOST:PORT of any member, to join its cluster
  std::string group;
  std::string fs_root;  // where the programs it runs write files ("": DATA/files)
  // External adapters for the programs it runs (`NAME=tcp://HOST:PORT`, as `vedvm
  // --adapter`): each node reaches the services from where it stands.
  std::vector<std::string> adapters;
  unsigned failure_timeout_ms = 1000;
  // A member back up (after DOWN) receives programs again only once the leader has heard
  // it for this long (docs/cluster.md "Placement"): a flapping node does not drag
  // programs back and forth.
  unsigned rebalance_after_ms = 5000;
  unsigned election_timeout_ms = 1000;
  unsigned heartbeat_ms = 100;
  // Entries between snapshots, and entries kept after one (for followers slightly
  // behind). A snapshot copies the whole state on the event loop, so it is not taken
  // often; the log stays bounded by their sum.
  unsigned snapshot_threshold = 8192;
  unsigned snapshot_trailing = 1024;
  bool sync = true;  // fsync the Raft log (only benchmarks that say so turn it off)
  // Testing only: a file listing the members whose Raft traffic this node drops, both
  // ways (cluster/partition_filter.h); re-read whenever it changes. "" for none.
  std::string partition_file;
  Security security;
};

// Runs the node until `stop` becomes true (SIGTERM, SIGINT) or the node is removed from
// its cluster. Returns the process exit code: 0 on a clean stop or after a graceful
// leave, 1 on an error (printed to stderr).
int run_node(const NodeOptions& options, const std::atomic<bool>& stop);

}  // namespace ved::cluster
