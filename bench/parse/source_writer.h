// Accumulates indented source text line by line and counts the lines, so that the
// generator reads like the program it writes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace ved::bench {

// Concatenates strings and integers: cat("Worker", 3, "[", i, "]").
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  auto append = [&out](const auto& part) {
    using T = std::decay_t<decltype(part)>;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, char> && !std::is_same_v<T, bool>) {
      out += std::to_string(part);
    } else {
      out += part;
    }
  };
  (append(parts), ...);
  return out;
}

class SourceWriter {
 public:
  // One line at the current indentation.
  void line(std::string_view text) {
    out_.append(indent_ * 4, ' ');
    out_ += text;
    out_ += '\n';
    ++lines_;
  }
  void blank() {
    out_ += '\n';
    ++lines_;
  }
  // `head {` and one level deeper.
  void open(std::string_view head) {
    line(cat(std::string(head), " {"));
    ++indent_;
  }
  void close() {
    --indent_;
    line("}");
  }
  // `} head {`: closes a block and opens the next one on the same line (`} else {`).
  void reopen(std::string_view head) {
    --indent_;
    line(cat("} ", std::string(head), " {"));
    ++indent_;
  }
  // Appends another writer's text verbatim (its indentation is kept as written).
  void append(const SourceWriter& other) {
    out_ += other.out_;
    lines_ += other.lines_;
  }

  size_t lines() const { return lines_; }
  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  size_t lines_ = 0;
  size_t indent_ = 0;
};

}  // namespace ved::bench
