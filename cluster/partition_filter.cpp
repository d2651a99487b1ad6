#include "cluster/partition_filter.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cluster/member_address.h"

namespace ved::cluster {

namespace {

constexpr uint64_t kMaxNodeId = (uint64_t{1} << 53) - 1;  // node ids stay below 2^53 (node.cpp)

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool is_separator(char c) { return c == ' ' || c == '\t' || c == '\r' || c == ','; }

bool printable(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  return true;
}

}  // namespace

std::string PartitionList::describe() const {
  if (empty()) return "nobody";
  std::string out;
  for (uint64_t id : ids) out += (out.empty() ? "node " : ", node ") + std::to_string(id);
  for (const auto& a : addresses) out += (out.empty() ? "" : ", ") + a;
  return out;
}

bool parse_partition_list(std::string_view text, PartitionList& out, std::string& error) {
  PartitionList list;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_separator(line[i])) ++i;
      size_t j = i;
      while (j < line.size() && !is_separator(line[j])) ++j;
      if (j == i) break;
      const std::string word(line.substr(i, j - i));
      i = j;
      if (all_digits(word)) {
        // At most 16 digits keeps stoull in range; the id range is checked after.
        const uint64_t id = word.size() <= 16 ? std::stoull(word) : 0;
        if (id == 0 || id > kMaxNodeId) {
          error = "line " + std::to_string(line_number) + ": `" + word + "` is not a node id (1 .. 2^53-1)";
          return false;
        }
        list.ids.insert(id);
      } else if (printable(word) && valid_host_port(word)) {
        list.addresses.insert(word);
      } else {
        std::string shown = word.size() > 60 ? word.substr(0, 60) + "..." : word;
        for (auto& c : shown)
          if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
        error = "line " + std::to_string(line_number) + ": `" + shown + "` is neither a node id nor HOST:PORT";
        return false;
      }
    }
  }
  out = std::move(list);
  return true;
}

PartitionFile::Change PartitionFile::refresh() {
  Stamp now;
  struct stat st {};
  if (stat(path_.c_str(), &st) == 0) {
    now.exists = true;
    now.inode = static_cast<uint64_t>(st.st_ino);
    now.size = static_cast<uint64_t>(st.st_size);
    now.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  } else if (errno != ENOENT) {
    // Unreadable metadata (a permission problem): treated like a file that does not parse.
    now.exists = true;
    now.size = UINT64_MAX;
  }
  if (!first_ && now == stamp_) return Change::None;
  const bool first = first_;
  first_ = false;
  stamp_ = now;
  PartitionList parsed;
  if (now.exists) {
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
      error_ = "cannot read " + path_ + ": " + std::strerror(errno);
      return Change::Rejected;
    }
    std::stringstream content;
    content << in.rdbuf();
    const std::string text = content.str();
    if (text.size() > (1u << 20)) {
      error_ = path_ + " is over 1 MiB";
      return Change::Rejected;
    }
    std::string why;
    if (!parse_partition_list(text, parsed, why)) {
      error_ = path_ + ": " + why;
      return Change::Rejected;
    }
  }
  const bool was_rejected = !error_.empty();
  error_.clear();
  if (!first && !was_rejected && parsed == list_) return Change::None;
  list_ = std::move(parsed);
  return Change::Updated;
}

}  // namespace ved::cluster
