// The Raft log, term, vote and latest snapshot of one node, in the node's LevelDB under
// the key prefix "raft/" (the state machine has its own prefix, "fsm/"; docs/cluster.md
// lists every key). This class knows nothing of libraft's memory conventions or
// callbacks: RaftIo (raft_io.h) adapts it. Every change is one LevelDB WriteBatch, so a
// crash (kill -9, power loss) leaves either all of a change or none of it; LevelDB drops
// a torn last record when it reopens its log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace leveldb {
class DB;
class WriteBatch;
}  // namespace leveldb

namespace ved::cluster {

struct StoredEntry {
  uint64_t term = 0;
  uint16_t type = 0;  // RAFT_COMMAND, RAFT_BARRIER, RAFT_CHANGE
  std::string data;
  bool operator==(const StoredEntry&) const = default;
};

struct StoredServer {
  uint64_t id = 0;
  std::string address;
  int role = 0;
  bool operator==(const StoredServer&) const = default;
};

struct StoredSnapshot {
  uint64_t index = 0;
  uint64_t term = 0;
  std::vector<StoredServer> configuration;
  uint64_t configuration_index = 0;
  std::string data;
};

struct LoadedRaftState {
  uint64_t term = 0;
  uint64_t voted_for = 0;
  std::optional<StoredSnapshot> snapshot;
  uint64_t start_index = 1;  // index of entries[0]
  std::vector<StoredEntry> entries;
};

// One change to the log, applied in order within a batch.
struct LogChange {
  enum Kind { Append, Truncate, PutSnapshot, SetTerm } kind = Append;
  uint64_t term = 0;                  // SetTerm: the new term (the vote is cleared)
  std::vector<StoredEntry> entries;   // Append: stored at next_index(), next_index()+1, ...
  uint64_t truncate_from = 0;         // Truncate: delete this index and every later one
  StoredSnapshot snapshot;            // PutSnapshot
  uint64_t trailing = 0;              // PutSnapshot: keep entries after snapshot.index - trailing;
                                      // 0: delete every entry (an installed snapshot)
};

class RaftLogStore {
 public:
  // `db` outlives the store. `sync`: fsync every change (false only in tests that do not
  // crash, and in benchmarks that say so).
  RaftLogStore(leveldb::DB* db, bool sync = true);

  // Reads everything back, checking it: entries contiguous, after or overlapping the
  // snapshot, every record well formed. False with `error` naming the damage.
  bool load(LoadedRaftState& out, std::string& error);

  bool has_state();  // any term, vote, entry or snapshot: a bootstrap must refuse
  bool set_term(uint64_t term, std::string& error);  // and clears the vote
  bool set_vote(uint64_t server_id, std::string& error);
  // Applies `changes` in order in one atomic, durable write.
  bool apply(const std::vector<LogChange>& changes, std::string& error);
  bool read_snapshot(std::optional<StoredSnapshot>& out, std::string& error);

  // The index the next appended entry gets. Known after load() (or has_state()).
  uint64_t next_index() const { return next_index_; }

 private:
  bool write(leveldb::WriteBatch& batch, std::string& error);

  leveldb::DB* db_;
  bool sync_;
  uint64_t first_index_ = 0;  // 0: no entries
  uint64_t next_index_ = 1;
};

// The storage keys, for tests and docs.
namespace raft_keys {
inline constexpr const char* kTerm = "raft/term";
inline constexpr const char* kVote = "raft/vote";
inline constexpr const char* kEntryPrefix = "raft/entry/";  // + 8-byte big-endian index
inline constexpr const char* kSnapshotMeta = "raft/snapshot/meta";
inline constexpr const char* kSnapshotData = "raft/snapshot/data";
std::string entry_key(uint64_t index);
}  // namespace raft_keys

}  // namespace ved::cluster
