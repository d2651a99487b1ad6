#include "vm/runtime/store.h"

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <filesystem>

namespace ved::vm {

Store::~Store() = default;

void Store::CloseDb::operator()(leveldb::DB* db) const { delete db; }

std::unique_ptr<Store> Store::open(const std::string& dir, bool fresh, std::string& error) {
  namespace fs = std::filesystem;
  leveldb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;  // a damaged file is an error, not silently skipped
  std::error_code ec;
  if (fresh) {
    leveldb::Status s = leveldb::DestroyDB(dir, options);
    if (!s.ok()) {
      error = "cannot clear data dir `" + dir + "`: " + s.ToString();
      return nullptr;
    }
  }
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    error = "data dir `" + dir + "` is a file, not a directory";
    return nullptr;
  }
  if (fs::is_directory(dir, ec) && !fs::is_empty(dir, ec) && !fs::exists(fs::path(dir) / "CURRENT", ec)) {
    error = "data dir `" + dir + "` is not empty and holds no Ved database (no CURRENT file); refusing to use it";
    return nullptr;
  }
  fs::create_directories(dir, ec);
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, dir, &db);
  if (!s.ok()) {
    error = "cannot open data dir `" + dir + "`: " + s.ToString();
    return nullptr;
  }
  return std::unique_ptr<Store>(new Store(db));
}

bool Store::get(std::string_view key, std::string& value, std::string& error) const {
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  leveldb::Status s = db_->Get(ro, leveldb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) error = s.ToString();
  return s.ok();
}

bool Store::scan(std::string_view prefix, const std::function<bool(std::string_view, std::string_view)>& visit,
                 std::string& error) const {
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(leveldb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
  if (!it->status().ok()) {
    error = it->status().ToString();
    return false;
  }
  return true;
}

bool Store::commit(const Batch& batch, bool sync, std::string& error) {
  leveldb::WriteBatch wb;
  for (const auto& k : batch.deletes) wb.Delete(k);
  for (const auto& [k, v] : batch.puts) wb.Put(k, v);
  leveldb::WriteOptions wo;
  wo.sync = sync;
  leveldb::Status s = db_->Write(wo, &wb);
  if (!s.ok()) error = s.ToString();
  return s.ok();
}

std::string hex_u64(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<size_t>(i)] = digits[v & 15];
  return out;
}

}  // namespace ved::vm
