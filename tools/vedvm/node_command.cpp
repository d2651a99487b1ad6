#include <csignal>
#include <iostream>

#include "cluster/node.h"
#include "tools/vedvm/cluster_commands.h"
#include "tools/vedvm/commands.h"

namespace vedvm {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void request_stop(int) { g_stop = true; }
}  // namespace

int node(const NodeCommandOptions& o) {
  ved::cluster::NodeOptions options;
  options.listen = o.listen;
  options.data_dir = o.data_dir;
  options.bootstrap = o.bootstrap;
  options.join = o.join;
  options.group = o.group;
  options.fs_root = o.fs_root;
  options.failure_timeout_ms = o.failure_timeout_ms;
  options.rebalance_after_ms = o.rebalance_after_ms;
  options.adapters = o.adapters;
  options.election_timeout_ms = o.election_timeout_ms;
  options.heartbeat_ms = std::max(10u, o.election_timeout_ms / 10);
  options.snapshot_threshold = o.snapshot_threshold;
  options.snapshot_trailing = std::max(1u, o.snapshot_threshold / 8);
  options.sync = !o.no_sync;
  options.partition_file = o.partition_file;
  if (!read_security(o.security, options.security)) return kExitUsage;
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return ved::cluster::run_node(options, g_stop);
}

}  // namespace vedvm
