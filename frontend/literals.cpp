#include "frontend/literals.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace ved {

std::optional<int64_t> decode_int_literal(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  uint64_t value = 0;
  bool any_digit = false;
  for (char ch : text) {
    if (ch == '_') continue;
    int digit;
    if (ch >= '0' && ch <= '9') digit = ch - '0';
    else if (ch >= 'a' && ch <= 'f') digit = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F') digit = ch - 'A' + 10;
    else return std::nullopt;
    if (digit >= base) return std::nullopt;
    any_digit = true;
    if (value > (static_cast<uint64_t>(INT64_MAX) - static_cast<uint64_t>(digit)) / static_cast<uint64_t>(base)) {
      return std::nullopt;
    }
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
  }
  if (!any_digit) return std::nullopt;
  return static_cast<int64_t>(value);
}

std::optional<double> decode_float_literal(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char ch : text) {
    if (ch != '_') clean.push_back(ch);
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), value);
  if (ec != std::errc() || ptr != clean.data() + clean.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::optional<std::string> decode_string_literal(std::string_view token, StringDecodeError& error) {
  // The lexer guarantees the surrounding quotes.
  std::string out;
  out.reserve(token.size());
  size_t i = 1;
  const size_t end = token.size() - 1;
  while (i < end) {
    char ch = token[i];
    if (ch != '\\') {
      out.push_back(ch);
      ++i;
      continue;
    }
    char e = i + 1 < token.size() ? token[i + 1] : '\0';
    switch (e) {
      case 'n': out.push_back('\n'); i += 2; continue;
      case 't': out.push_back('\t'); i += 2; continue;
      case 'r': out.push_back('\r'); i += 2; continue;
      case '0': out.push_back('\0'); i += 2; continue;
      case '"': out.push_back('"'); i += 2; continue;
      case '\\': out.push_back('\\'); i += 2; continue;
      case 'u': {
        size_t j = i + 2;
        if (j >= end || token[j] != '{') {
          error = {i, 2, "`\\u` must be followed by `{hex digits}`, as in `\\u{e9}`"};
          return std::nullopt;
        }
        ++j;
        uint32_t cp = 0;
        size_t digits = 0;
        while (j < end && token[j] != '}' && digits <= 6) {
          char h = token[j];
          int v;
          if (h >= '0' && h <= '9') v = h - '0';
          else if (h >= 'a' && h <= 'f') v = h - 'a' + 10;
          else if (h >= 'A' && h <= 'F') v = h - 'A' + 10;
          else break;
          cp = cp * 16 + static_cast<uint32_t>(v);
          ++digits;
          ++j;
        }
        if (j >= end || token[j] != '}' || digits == 0 || digits > 6) {
          size_t len = (j < end ? j + 1 : end) - i;
          error = {i, len, "a Unicode escape is `\\u{` then 1 to 6 hex digits then `}`"};
          return std::nullopt;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          error = {i, j + 1 - i, "`\\u{...}` must name a Unicode scalar value (not a surrogate, at most 10FFFF)"};
          return std::nullopt;
        }
        append_utf8(out, cp);
        i = j + 1;
        continue;
      }
      default: {
        // Report the whole escaped character, which may be multi-byte UTF-8.
        size_t len = 2;
        while (i + len < token.size() && (static_cast<unsigned char>(token[i + len]) & 0xC0) == 0x80) ++len;
        error = {i, len, "unknown escape `" + std::string(token.substr(i, len)) + "`"};
        return std::nullopt;
      }
    }
  }
  return out;
}

}  // namespace ved
