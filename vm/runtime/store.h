// Durable storage for one VM: a LevelDB database (runtime.md §5). The runtime decides
// what the keys and values are; the store reads them and writes each tick's changes as
// one atomic WriteBatch.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace leveldb {
class DB;
}

namespace ved::vm {

class Store {
 public:
  ~Store();

  // Opens the database in `dir`, creating it when `create` (tools that only read a data
  // dir pass false). With `fresh`, anything there is destroyed first. Returns nullptr
  // with `error` naming the problem (a damaged database, a directory that is not a
  // database, no permission).
  static std::unique_ptr<Store> open(const std::string& dir, bool fresh, std::string& error, bool create = true);

  bool get(std::string_view key, std::string& value, std::string& error) const;
  // Calls `visit` for every key starting with `prefix`, in key order; stops early when
  // it returns false.
  bool scan(std::string_view prefix, const std::function<bool(std::string_view, std::string_view)>& visit,
            std::string& error) const;

  struct Batch {
    std::vector<std::pair<std::string, std::string>> puts;
    std::vector<std::string> deletes;
    bool empty() const { return puts.empty() && deletes.empty(); }
  };
  // Writes the batch atomically; with `sync`, durably (fsync) before returning.
  bool commit(const Batch& batch, bool sync, std::string& error);

 private:
  explicit Store(leveldb::DB* db) : db_(db) {}
  struct CloseDb {
    void operator()(leveldb::DB* db) const;
  };
  std::unique_ptr<leveldb::DB, CloseDb> db_;
};

// Order-preserving encodings for keys: a big-endian fixed-width hex number sorts as the
// number does.
std::string hex_u64(uint64_t v);
// Reads what hex_u64 wrote: exactly 16 lowercase hex digits. False otherwise.
bool parse_hex_u64(std::string_view text, uint64_t& out);
// Bytes as lowercase hex (binary inside text records and keys), and back: false unless
// `text` is an even number of lowercase hex digits.
std::string hex_bytes(std::string_view bytes);
bool parse_hex_bytes(std::string_view text, std::string& out);

}  // namespace ved::vm
