// Text helpers shared by the built-in adapters: what they put into Ved strings and into
// failure messages.
#pragma once

#include <string>
#include <string_view>

namespace ved::vm {

// `bytes` as valid UTF-8: every byte that does not start a valid sequence becomes U+FFFD.
// Ved strings must be valid UTF-8 (value.h), and files, process output and HTTP bodies
// need not be; replacing is deterministic and keeps the rest of the text usable.
std::string repair_utf8(std::string_view bytes);

// The text of an errno value, thread-safe (adapters off the core run on a worker pool).
std::string errno_text(int error);

// `text` on one line: backslash, CR, LF, tab and other control characters escaped the way
// a Ved string literal writes them (\\ \n \r \t \u{1b}), so nothing in it can start a new
// line or drive a terminal. Invalid UTF-8 is repaired first (repair_utf8), so the result
// can go into a Ved string (failure messages do).
std::string escape_line(std::string_view text);

// At most `limit` bytes of `text`, cut at a code-point boundary, with "..." when cut: for
// quoting process output and HTTP bodies in failure messages.
std::string head_of(std::string_view text, size_t limit);

}  // namespace ved::vm
