// Source files and positions.
//
// Every AST node and diagnostic carries a Span: a file id and a half-open range of
// byte offsets. The SourceManager owns the text of every file and turns offsets into
// 1-based line and column numbers (columns count Unicode code points, so a caret under
// `é` lines up the way a user reads it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ved {

using FileId = uint32_t;

struct Span {
  FileId file = 0;
  uint32_t begin = 0;  // byte offset of the first byte
  uint32_t end = 0;    // byte offset one past the last byte

  static Span join(const Span& a, const Span& b) {
    return Span{a.file, a.begin < b.begin ? a.begin : b.begin, a.end > b.end ? a.end : b.end};
  }
  bool operator==(const Span&) const = default;
};

struct LineColumn {
  uint32_t line = 1;    // 1-based
  uint32_t column = 1;  // 1-based, in code points
};

class SourceFile {
 public:
  SourceFile(FileId id, std::string name, std::string text);

  FileId id() const { return id_; }
  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }

  LineColumn locate(uint32_t byte_offset) const;
  uint32_t line_count() const { return static_cast<uint32_t>(line_starts_.size()); }
  // The text of a 1-based line, without its line terminator.
  std::string_view line_text(uint32_t line) const;

 private:
  // Code points before byte offset `offset`, counted from the start of the file.
  uint32_t code_points_before(uint32_t offset) const;

  FileId id_;
  std::string name_;
  std::string text_;
  std::vector<uint32_t> line_starts_;
  // For non-ASCII files: code points before every kCheckpoint-th byte, so that a column
  // costs O(kCheckpoint) however long the line (empty for ASCII files: columns are
  // byte differences).
  static constexpr uint32_t kCheckpoint = 256;
  std::vector<uint32_t> code_point_checkpoints_;
};

class SourceManager {
 public:
  // Adds a file with the given text (the caller has read it). Returns its id.
  FileId add(std::string name, std::string text);
  // Reads a file from disk. Returns false and sets `error` if it cannot be read.
  bool add_from_disk(const std::string& path, FileId& id, std::string& error);

  const SourceFile& file(FileId id) const { return files_.at(id); }
  size_t size() const { return files_.size(); }

  LineColumn locate(const Span& span) const { return file(span.file).locate(span.begin); }

 private:
  std::vector<SourceFile> files_;
};

// Returns the byte offset of the first invalid UTF-8 sequence, or npos if `text` is
// valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
size_t find_invalid_utf8(std::string_view text);

// Number of code points in `text`, which must be valid UTF-8.
uint32_t count_code_points(std::string_view text);

}  // namespace ved
