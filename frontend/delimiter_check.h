// Matches `{}`, `()` and `[]` over the token stream before parsing.
//
// An unbalanced file would make the parser report a cascade of confusing errors far
// from the real mistake. This pass finds the mistake itself: an unexpected closing
// delimiter, or an unclosed opening one. For an unclosed `{` it uses indentation to
// guess which block lost its `}`: the first block that is followed by a line indented
// no deeper than the block's own line (and that line is not a closing delimiter).
#pragma once

#include <vector>

#include "frontend/diagnostic.h"

namespace ved {

struct DelimiterToken {
  char ch;         // one of { } ( ) [ ]
  Span span;
  uint32_t line;   // 1-based
  uint32_t indent; // display columns of the line's leading whitespace
};

struct LineStart {
  Span span;        // the first token of a line
  uint32_t line;
  uint32_t indent;
  bool is_closer;   // the token is `}`, `)` or `]`
};

// Reports V-SYN-001 / V-SYN-018. Returns true when every delimiter matched.
// `delimiters` and `line_starts` are in source order.
bool check_delimiters(const std::vector<DelimiterToken>& delimiters, const std::vector<LineStart>& line_starts,
                      DiagnosticSink& sink);

}  // namespace ved
