#include "vm/runtime/store.h"

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <filesystem>

namespace ved::vm {

Store::~Store() = default;

void Store::CloseDb::operator()(leveldb::DB* db) const { delete db; }

namespace {

// What LevelDB writes while it creates a database, before its CURRENT file: LOCK, LOG,
// the first MANIFEST, an empty log. A directory holding only these is a database whose
// creation was interrupted (a crash before anything was committed), which may be started
// again. Anything more (tables, a log with data, other files) without CURRENT is damage,
// or someone else's directory, and is refused.
bool is_creation_leftover(const std::filesystem::directory_entry& entry) {
  const std::string name = entry.path().filename().string();
  std::error_code ec;
  if (name == "LOCK" || name == "LOG" || name == "LOG.old" || name.rfind("MANIFEST-", 0) == 0 || name.ends_with(".dbtmp"))
    return true;
  return name.ends_with(".log") && entry.file_size(ec) == 0 && !ec;
}

}  // namespace

std::unique_ptr<Store> Store::open(const std::string& dir, bool fresh, std::string& error, bool create) {
  namespace fs = std::filesystem;
  leveldb::Options options;
  options.create_if_missing = create;
  options.paranoid_checks = true;  // a damaged file is an error, not silently skipped
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    error = "data dir `" + dir + "` is a file, not a directory";
    return nullptr;
  }
  if (!create && !fs::exists(fs::path(dir) / "CURRENT", ec)) {
    error = "`" + dir + "` holds no Ved program: it is not a data dir";
    return nullptr;
  }
  // DestroyDB removes LevelDB's own files only: a directory with others is refused below.
  auto destroy = [&] {
    leveldb::Status s = leveldb::DestroyDB(dir, options);
    if (!s.ok()) error = "cannot clear data dir `" + dir + "`: " + s.ToString();
    return s.ok();
  };
  if (fresh && !destroy()) return nullptr;
  if (fs::is_directory(dir, ec) && !fs::exists(fs::path(dir) / "CURRENT", ec)) {
    bool foreign = false, leftovers = false;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (is_creation_leftover(entry)) leftovers = true;
      else foreign = true;
    }
    if (foreign) {
      error = "data dir `" + dir + "` is not empty and holds no Ved database (no CURRENT file); refusing to use it";
      return nullptr;
    }
    // An interrupted creation: nothing was ever committed.
    if (leftovers && !destroy()) return nullptr;
  }
  fs::create_directories(dir, ec);
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, dir, &db);
  if (!s.ok()) {
    error = "cannot open data dir `" + dir + "` (damaged, or not readable): " + s.ToString() +
            "; --fresh starts over";
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

bool parse_hex_u64(std::string_view text, uint64_t& out) {
  if (text.size() != 16) return false;
  out = 0;
  for (char c : text) {
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return false;
    out = out * 16 + static_cast<uint64_t>(digit);
  }
  return true;
}

std::string hex_bytes(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

bool parse_hex_bytes(std::string_view text, std::string& out) {
  if (text.size() % 2) return false;
  auto digit = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  out.clear();
  out.reserve(text.size() / 2);
  for (size_t k = 0; k < text.size(); k += 2) {
    const int hi = digit(text[k]), lo = digit(text[k + 1]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
  }
  return true;
}

}  // namespace ved::vm
