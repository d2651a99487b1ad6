#include "frontend/source_char_stream.h"

#include "frontend/source_manager.h"

namespace ved::parse_detail {

SourceCharStream::SourceCharStream(std::string_view utf8) {
  if (utf8.substr(0, 3) == "\xEF\xBB\xBF") utf8.remove_prefix(3);
  _data.clear();
  _data.reserve(count_code_points(utf8));
  for (size_t i = 0; i < utf8.size();) {
    auto byte = static_cast<unsigned char>(utf8[i]);
    // The length of a sequence and the payload bits of its lead byte; the input is
    // valid, so every continuation byte is there and contributes its low six bits.
    size_t length = byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4;
    char32_t cp = length == 1 ? byte : length == 2 ? byte & 0x1F : length == 3 ? byte & 0x0F : byte & 0x07;
    for (size_t k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    _data.push_back(cp);
    i += length;
  }
  p = 0;
}

}  // namespace ved::parse_detail
