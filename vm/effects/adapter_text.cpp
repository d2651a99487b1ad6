#include "vm/effects/adapter_text.h"

#include "vm/runtime_library.h"

#include <cstdio>
#include <cstring>

#include "vm/value.h"

namespace ved::vm {

namespace {

// The length of the valid UTF-8 sequence at the start of `s`, or 0 if there is none.
size_t valid_sequence_length(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  size_t len;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
  } else {
    return 0;
  }
  if (len > s.size()) return 0;
  // One validator for the whole VM: a candidate sequence is valid iff is_valid_utf8 says so.
  return is_valid_utf8(s.substr(0, len)) ? len : 0;
}

}  // namespace

std::string repair_utf8(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + 16);
  size_t i = 0;
  while (i < bytes.size()) {
    const size_t len = valid_sequence_length(bytes.substr(i));
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(bytes.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string errno_text(int error) {
  char buffer[256];
  buffer[0] = '\0';
  // strerror_r comes in a GNU flavour (returns the text) and an XSI one (fills buffer);
  // the overloads pick whichever this libc has.
  struct Pick {
    static const char* text(char* returned, const char*) { return returned; }
    static const char* text(int, const char* filled) { return filled; }
  };
  const char* text = Pick::text(strerror_r(error, buffer, sizeof buffer), buffer);
  if (text == nullptr || *text == '\0') return "error " + std::to_string(error);
  return text;
}

std::string escape_line(std::string_view raw) { return escape_text(repair_utf8(raw)); }

std::string head_of(std::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  size_t cut = limit;
  // Back up over continuation bytes so the cut never splits a code point.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

}  // namespace ved::vm
