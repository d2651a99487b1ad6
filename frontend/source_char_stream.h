// The character stream the Ved lexer reads: ANTLR's ANTLRInputStream, filled from a
// source text already checked to be valid UTF-8.
//
// ANTLRInputStream converts UTF-8 through std::wstring_convert, whose result keeps the
// converter's worst-case capacity: 20 bytes for every byte of source, about 73 MB for a
// 100,000-line file and a third of `vedc --check`'s peak memory. This stream holds the
// same code points (a leading byte-order mark dropped, as ANTLRInputStream::load drops
// it) in a buffer of exactly their size. Only parser.cpp includes it.
#pragma once

#include <string_view>

#include "antlr4-runtime.h"

namespace ved::parse_detail {

class SourceCharStream : public antlr4::ANTLRInputStream {
 public:
  // `utf8` must be valid UTF-8 (find_invalid_utf8 has found nothing).
  explicit SourceCharStream(std::string_view utf8);

  // Every code point, for a lexer that scans them directly (token_source.h).
  std::u32string_view code_points() const { return _data; }
};

}  // namespace ved::parse_detail
