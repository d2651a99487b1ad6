// What the cluster tests share: scratch directories they create and remove, LevelDB
// opened there, a clock stepped by hand, and a transport that records what Raft sends.
#pragma once

#include <leveldb/db.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cluster/raft_io.h"

namespace ved::cluster::test {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ved-cluster-test.XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::unique_ptr<leveldb::DB> open_db(const std::string& dir) {
  leveldb::Options options;
  options.create_if_missing = true;
  leveldb::DB* db = nullptr;
  const leveldb::Status s = leveldb::DB::Open(options, dir, &db);
  if (!s.ok()) throw std::runtime_error("cannot open LevelDB at " + dir + ": " + s.ToString());
  return std::unique_ptr<leveldb::DB>(db);
}

class ManualClock : public Clock {
 public:
  uint64_t now_ms() override { return now; }
  uint64_t now = 1000;
};

class RecordingTransport : public RaftTransport {
 public:
  bool send_raft(uint64_t to, const std::string& address, const RaftRpc& rpc) override {
    sent.push_back({to, address, rpc});
    return reachable;
  }
  struct Sent {
    uint64_t to;
    std::string address;
    RaftRpc rpc;
  };
  std::vector<Sent> sent;
  bool reachable = true;
};

}  // namespace ved::cluster::test
