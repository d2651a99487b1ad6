// The cluster commands of vedvm (cli.md, cluster.md §3), one file each: node_command.cpp,
// submit_command.cpp, status_command.cpp, leave_command.cpp, keygen_command.cpp. They
// parse nothing themselves (main.cpp does) and call into cluster/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cluster/curve_keys.h"

namespace ved::cluster {
class ClusterClient;
}

namespace vedvm {

// --key DIR --trust DIR | --insecure, as every participant takes them.
struct SecurityFlags {
  std::string key_dir;
  std::string trust_dir;
  bool insecure = false;
};
// Reads the keys; false after printing what is wrong (a mix of --insecure and keys, a
// missing half, an unreadable or malformed key).
bool read_security(const SecurityFlags& flags, ved::cluster::Security& out);

struct NodeCommandOptions {
  std::string listen, data_dir, join, group, fs_root;
  bool bootstrap = false;
  unsigned failure_timeout_ms = 1000;
  unsigned rebalance_after_ms = 5000;
  std::vector<std::string> adapters;
  unsigned election_timeout_ms = 1000;
  unsigned snapshot_threshold = 8192;
  bool no_sync = false;
  std::string partition_file;  // testing only (docs/cluster.md, "Partitions")
  SecurityFlags security;
};
int node(const NodeCommandOptions& options);

struct SubmitOptions {
  std::string join, program;
  uint64_t seed = 0;
  unsigned timeout_ms = 10000;
  bool follow = false;  // wait for the run to end, print its summary, exit with its code
  bool upgrade = false;  // a new build of the submitted program of its name (docs/cluster.md "Upgrades")
  std::string trace;     // with follow: "text" or "json", the run's events as they commit
  SecurityFlags security;
};
int submit(const SubmitOptions& options);
// --follow: waits for program `id`'s run to end; prints its summary; returns its exit code.
int follow_program(const SubmitOptions& options, ved::cluster::ClusterClient& client, const std::string& id);

// `vedvm inspect --join HOST:PORT --program NAME [--json] [--instance I]`.
struct InspectClusterOptions {
  std::string join, program, instance;
  bool json = false;
  // Per part of the journal: a leader that is taking a snapshot answers late, and a
  // read may wait (docs/cluster.md, "Not yet").
  unsigned timeout_ms = 60000;
  SecurityFlags security;
};
int inspect_cluster(const InspectClusterOptions& options);

struct StatusOptions {
  std::string join;
  bool json = false;
  unsigned timeout_ms = 3000;
  SecurityFlags security;
};
int status(const StatusOptions& options);

struct LeaveOptions {
  std::string join;
  uint64_t node = 0;
  unsigned timeout_ms = 10000;
  SecurityFlags security;
};
int leave(const LeaveOptions& options);

int keygen(const std::string& out_dir);

}  // namespace vedvm
