// A testing-only network partition (docs/cluster.md, "Partitions"): `vedvm node
// --partition-file PATH` names a file listing the members this node cannot talk to. The
// node drops its Raft traffic with them in both directions — messages to them are not
// sent (as if lost in the network), messages from them are dropped before they reach Raft
// or the liveness bookkeeping — so a test can cut a live cluster into sides without root,
// network namespaces or firewall rules. Client requests (vedvm --join, status, leave) are
// not filtered: a client can still ask a member on either side.
//
// The file holds member ids (decimal) and addresses (HOST:PORT), separated by blanks,
// commas or newlines; `#` starts a comment to the end of the line. An empty or missing
// file drops nothing. The node stats the file every turn of its event loop and re-reads
// it when it changed (inode, size or modification time); a file that does not parse is
// reported and the previous list stays in force. Writers replace it atomically (write a
// temporary file, rename it over).
//
// Parsing is pure (parse_partition_list); PartitionFile only adds the stat and the read.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace ved::cluster {

struct PartitionList {
  std::set<uint64_t> ids;
  std::set<std::string> addresses;  // HOST:PORT
  bool empty() const { return ids.empty() && addresses.empty(); }
  // Whether traffic with member `id` listening at `host_port` is dropped.
  bool blocks(uint64_t id, const std::string& host_port) const {
    return ids.count(id) != 0 || addresses.count(host_port) != 0;
  }
  // "node 12, 127.0.0.1:7002" (ids first, each set in order), or "nobody".
  std::string describe() const;
  bool operator==(const PartitionList& other) const { return ids == other.ids && addresses == other.addresses; }
  bool operator!=(const PartitionList& other) const { return !(*this == other); }
};

// Parses a partition file's text. False with `error` naming the line and the word that is
// neither a node id (1 .. 2^53-1) nor HOST:PORT; `out` is then untouched.
bool parse_partition_list(std::string_view text, PartitionList& out, std::string& error);

class PartitionFile {
 public:
  explicit PartitionFile(std::string path) : path_(std::move(path)) {}

  enum class Change {
    None,      // the file is as it was at the last refresh (or its list did not change)
    Updated,   // list() is a new list (or the same one, read again after a rejected file)
    Rejected,  // the file changed but cannot be used: error() says why; list() is kept
  };
  // Stats the file; reads and parses it only when it changed since the last call.
  Change refresh();

  const std::string& path() const { return path_; }
  const PartitionList& list() const { return list_; }
  const std::string& error() const { return error_; }

 private:
  struct Stamp {
    bool exists = false;
    uint64_t inode = 0, size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp& o) const {
      return exists == o.exists && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
    }
  };
  std::string path_;
  bool first_ = true;
  Stamp stamp_;
  PartitionList list_;
  std::string error_;
};

}  // namespace ved::cluster
