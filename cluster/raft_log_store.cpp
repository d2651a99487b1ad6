#include "cluster/raft_log_store.h"

#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <msgpack.hpp>

#include <memory>

#include "cluster/strict_msgpack.h"

namespace ved::cluster {

namespace {

void put_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string encode_u64(uint64_t v) {
  std::string out;
  put_u64(out, v);
  return out;
}

std::string encode_stored_entry(const StoredEntry& e) {
  std::string out;
  out.reserve(10 + e.data.size());
  put_u64(out, e.term);
  out.push_back(static_cast<char>(e.type >> 8));
  out.push_back(static_cast<char>(e.type & 0xff));
  out += e.data;
  return out;
}

std::string encode_snapshot_meta(const StoredSnapshot& s) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  p.pack_array(4);
  p.pack_uint64(s.index);
  p.pack_uint64(s.term);
  p.pack_array(static_cast<uint32_t>(s.configuration.size()));
  for (const auto& server : s.configuration) {
    p.pack_array(3);
    p.pack_uint64(server.id);
    p.pack_str(static_cast<uint32_t>(server.address.size()));
    p.pack_str_body(server.address.data(), static_cast<uint32_t>(server.address.size()));
    p.pack_uint32(static_cast<uint32_t>(server.role));
  }
  p.pack_uint64(s.configuration_index);
  return std::string(buffer.data(), buffer.size());
}

void decode_snapshot_meta(const std::string& bytes, StoredSnapshot& s) {
  using namespace strict;
  auto handle = unpack_one(bytes, raft_keys::kSnapshotMeta);
  const auto* f = array(handle.get(), 4, raft_keys::kSnapshotMeta);
  s.index = u64(f[0], "snapshot index");
  s.term = u64(f[1], "snapshot term");
  uint32_t n = 0;
  const auto* servers = list(f[2], 1024, n, "snapshot configuration");
  for (uint32_t i = 0; i < n; ++i) {
    const auto* g = array(servers[i], 3, "snapshot configuration server");
    s.configuration.push_back({u64(g[0], "server id"), str(g[1], 1024, "server address"),
                               static_cast<int>(u64(g[2], "server role"))});
  }
  s.configuration_index = u64(f[3], "snapshot configuration index");
}

const std::string kEntryPrefix = raft_keys::kEntryPrefix;

bool is_entry_key(const leveldb::Slice& key) {
  return key.size() == kEntryPrefix.size() + 8 && key.starts_with(kEntryPrefix);
}

}  // namespace

std::string raft_keys::entry_key(uint64_t index) { return kEntryPrefix + encode_u64(index); }

RaftLogStore::RaftLogStore(leveldb::DB* db, bool sync) : db_(db), sync_(sync) {}

bool RaftLogStore::write(leveldb::WriteBatch& batch, std::string& error) {
  leveldb::WriteOptions options;
  options.sync = sync_;
  const leveldb::Status s = db_->Write(options, &batch);
  if (!s.ok()) {
    error = "cannot write the Raft log: " + s.ToString();
    return false;
  }
  return true;
}

bool RaftLogStore::has_state() {
  std::string ignored;
  LoadedRaftState state;
  if (!load(state, ignored)) return true;  // damaged is not empty
  return state.term != 0 || state.voted_for != 0 || state.snapshot || !state.entries.empty();
}

bool RaftLogStore::read_snapshot(std::optional<StoredSnapshot>& out, std::string& error) {
  out.reset();
  std::string meta, data;
  leveldb::Status s = db_->Get(leveldb::ReadOptions(), raft_keys::kSnapshotMeta, &meta);
  if (s.IsNotFound()) return true;
  if (s.ok()) s = db_->Get(leveldb::ReadOptions(), raft_keys::kSnapshotData, &data);
  if (!s.ok()) {
    error = "cannot read the Raft snapshot: " + s.ToString();
    return false;
  }
  StoredSnapshot snapshot;
  try {
    decode_snapshot_meta(meta, snapshot);
  } catch (const strict::DecodeError& e) {
    error = std::string("damaged Raft snapshot: ") + e.what();
    return false;
  }
  snapshot.data = std::move(data);
  out = std::move(snapshot);
  return true;
}

bool RaftLogStore::load(LoadedRaftState& out, std::string& error) {
  out = LoadedRaftState{};
  auto read_u64 = [&](const char* key, uint64_t& value) {
    std::string bytes;
    const leveldb::Status s = db_->Get(leveldb::ReadOptions(), key, &bytes);
    if (s.IsNotFound()) return true;
    if (!s.ok() || bytes.size() != 8) {
      error = std::string("damaged Raft state: `") + key + "` " + (s.ok() ? "is not 8 bytes" : s.ToString());
      return false;
    }
    value = get_u64(bytes.data());
    return true;
  };
  if (!read_u64(raft_keys::kTerm, out.term) || !read_u64(raft_keys::kVote, out.voted_for)) return false;
  if (!read_snapshot(out.snapshot, error)) return false;

  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  uint64_t expected = 0;
  for (it->Seek(kEntryPrefix); it->Valid() && it->key().starts_with(kEntryPrefix); it->Next()) {
    if (!is_entry_key(it->key())) {
      error = "damaged Raft log: a key under `raft/entry/` that is not an entry key";
      return false;
    }
    const uint64_t index = get_u64(it->key().data() + kEntryPrefix.size());
    if (expected == 0) {
      out.start_index = index;
    } else if (index != expected) {
      error = "damaged Raft log: entry " + std::to_string(expected) + " is missing (the next is " +
              std::to_string(index) + ")";
      return false;
    }
    expected = index + 1;
    const leveldb::Slice v = it->value();
    if (v.size() < 10) {
      error = "damaged Raft log: entry " + std::to_string(index) + " is " + std::to_string(v.size()) +
              " bytes, shorter than its header";
      return false;
    }
    StoredEntry e;
    e.term = get_u64(v.data());
    e.type = static_cast<uint16_t>((static_cast<unsigned char>(v[8]) << 8) | static_cast<unsigned char>(v[9]));
    if (e.type < 1 || e.type > 3 || e.term == 0) {
      error = "damaged Raft log: entry " + std::to_string(index) + " has type " + std::to_string(e.type) +
              " and term " + std::to_string(e.term);
      return false;
    }
    e.data.assign(v.data() + 10, v.size() - 10);
    out.entries.push_back(std::move(e));
  }
  if (!it->status().ok()) {
    error = "cannot read the Raft log: " + it->status().ToString();
    return false;
  }
  if (out.snapshot) {
    if (out.entries.empty()) {
      out.start_index = out.snapshot->index + 1;
    } else if (out.start_index > out.snapshot->index + 1) {
      error = "damaged Raft log: the snapshot ends at entry " + std::to_string(out.snapshot->index) +
              " but the log starts at entry " + std::to_string(out.start_index);
      return false;
    }
  } else if (!out.entries.empty() && out.start_index != 1) {
    error = "damaged Raft log: no snapshot, yet the log starts at entry " + std::to_string(out.start_index);
    return false;
  }
  first_index_ = out.entries.empty() ? 0 : out.start_index;
  next_index_ = out.entries.empty() ? out.start_index : out.start_index + out.entries.size();
  if (out.snapshot && next_index_ <= out.snapshot->index) next_index_ = out.snapshot->index + 1;
  return true;
}

bool RaftLogStore::set_term(uint64_t term, std::string& error) {
  leveldb::WriteBatch batch;
  batch.Put(raft_keys::kTerm, encode_u64(term));
  batch.Delete(raft_keys::kVote);
  return write(batch, error);
}

bool RaftLogStore::set_vote(uint64_t server_id, std::string& error) {
  leveldb::WriteBatch batch;
  batch.Put(raft_keys::kVote, encode_u64(server_id));
  return write(batch, error);
}

bool RaftLogStore::apply(const std::vector<LogChange>& changes, std::string& error) {
  // The entries on disk are exactly [first, next) (load() checks that they are
  // contiguous), so deletions name their keys instead of iterating: an iterator would
  // walk over every tombstone left by earlier deletions until LevelDB compacts them,
  // which made each snapshot slower than the last.
  leveldb::WriteBatch batch;
  uint64_t next = next_index_;
  uint64_t first = first_index_;  // 0: no entries
  auto erase = [&](uint64_t from, uint64_t to) {  // [from, to)
    for (uint64_t i = from; i < to; ++i) batch.Delete(raft_keys::entry_key(i));
  };
  for (const auto& change : changes) {
    switch (change.kind) {
      case LogChange::Append:
        if (first == 0) first = next;
        for (const auto& e : change.entries) batch.Put(raft_keys::entry_key(next++), encode_stored_entry(e));
        break;
      case LogChange::Truncate:
        if (first != 0 && change.truncate_from < next) {
          erase(std::max(first, change.truncate_from), next);
          if (change.truncate_from <= first) first = 0;
        }
        if (change.truncate_from < next) next = change.truncate_from;
        break;
      case LogChange::SetTerm:
        batch.Put(raft_keys::kTerm, encode_u64(change.term));
        batch.Delete(raft_keys::kVote);
        break;
      case LogChange::PutSnapshot: {
        batch.Put(raft_keys::kSnapshotMeta, encode_snapshot_meta(change.snapshot));
        batch.Put(raft_keys::kSnapshotData, change.snapshot.data);
        const uint64_t index = change.snapshot.index;
        if (change.trailing == 0) {  // an installed snapshot replaces the whole log
          if (first != 0) erase(first, next);
          first = 0;
          next = index + 1;
        } else if (index > change.trailing && first != 0) {
          const uint64_t keep_from = index - change.trailing + 1;  // keep entries after index - trailing
          if (first < keep_from) {
            erase(first, std::min(keep_from, next));
            first = keep_from < next ? keep_from : 0;
          }
        }
        break;
      }
    }
  }
  if (!write(batch, error)) return false;
  next_index_ = next;
  first_index_ = first;
  return true;
}

}  // namespace ved::cluster
