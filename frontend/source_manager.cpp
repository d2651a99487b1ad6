#include "frontend/source_manager.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ved {

SourceFile::SourceFile(FileId id, std::string name, std::string text)
    : id_(id), name_(std::move(name)), text_(std::move(text)) {
  line_starts_.push_back(0);
  bool ascii = true;
  for (uint32_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
    if (static_cast<unsigned char>(text_[i]) >= 0x80) ascii = false;
  }
  if (!ascii) {
    uint32_t count = 0;
    for (uint32_t i = 0; i < text_.size(); ++i) {
      if (i % kCheckpoint == 0) code_point_checkpoints_.push_back(count);
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++count;
    }
    // The end of the file is a valid offset too (a span may end there); when the
    // length is a multiple of kCheckpoint it opens a block of its own.
    if (text_.size() % kCheckpoint == 0) code_point_checkpoints_.push_back(count);
  }
}

uint32_t SourceFile::code_points_before(uint32_t offset) const {
  if (code_point_checkpoints_.empty()) return offset;
  uint32_t block = offset / kCheckpoint;
  uint32_t base = block * kCheckpoint;
  return code_point_checkpoints_[block] + count_code_points(std::string_view(text_.data() + base, offset - base));
}

LineColumn SourceFile::locate(uint32_t byte_offset) const {
  byte_offset = std::min<uint32_t>(byte_offset, static_cast<uint32_t>(text_.size()));
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), byte_offset);
  uint32_t line_index = static_cast<uint32_t>(it - line_starts_.begin()) - 1;
  uint32_t start = line_starts_[line_index];
  return LineColumn{line_index + 1, code_points_before(byte_offset) - code_points_before(start) + 1};
}

std::string_view SourceFile::line_text(uint32_t line) const {
  if (line == 0 || line > line_starts_.size()) return {};
  uint32_t start = line_starts_[line - 1];
  uint32_t end = line < line_starts_.size() ? line_starts_[line] : static_cast<uint32_t>(text_.size());
  while (end > start && (text_[end - 1] == '\n' || text_[end - 1] == '\r')) --end;
  return std::string_view(text_.data() + start, end - start);
}

FileId SourceManager::add(std::string name, std::string text) {
  FileId id = static_cast<FileId>(files_.size());
  files_.emplace_back(id, std::move(name), std::move(text));
  return id;
}

bool SourceManager::add_from_disk(const std::string& path, FileId& id, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read `" + path + "`: no such file or not readable";
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    error = "cannot read `" + path + "`: I/O error";
    return false;
  }
  std::string text = buffer.str();
  // Spans are 32-bit byte offsets; refuse what they cannot address.
  if (text.size() >= UINT32_MAX) {
    error = "`" + path + "` is too large (4 GiB or more)";
    return false;
  }
  id = add(path, std::move(text));
  return true;
}

size_t find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

uint32_t count_code_points(std::string_view s) {
  uint32_t count = 0;
  for (char ch : s) {
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++count;
  }
  return count;
}

}  // namespace ved
