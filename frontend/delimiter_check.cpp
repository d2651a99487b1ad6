#include "frontend/delimiter_check.h"

#include <algorithm>
#include <optional>
#include <string>

namespace ved {

namespace {

char closer_for(char open) {
  switch (open) {
    case '{': return '}';
    case '(': return ')';
    default: return ']';
  }
}

bool is_opener(char ch) { return ch == '{' || ch == '(' || ch == '['; }

std::string quoted(char ch) { return std::string("`") + ch + "`"; }

struct Open {
  char ch;
  Span span;
  uint32_t line;
  uint32_t indent;
  size_t id;  // index into `history`, for suspects of blocks already popped
};

struct Suspect {
  Span open;       // the `{` that probably lost its `}`
  Span dedent;     // the first line that left the block without closing it
  bool reported = false;
};

}  // namespace

bool check_delimiters(const std::vector<DelimiterToken>& delimiters, const std::vector<LineStart>& line_starts,
                      DiagnosticSink& sink) {
  std::vector<Open> stack;
  std::vector<std::optional<Suspect>> history;  // per opened `{`, its suspect if any
  bool ok = true;
  size_t next_line = 0;

  auto note_line_starts_before = [&](uint32_t offset) {
    while (next_line < line_starts.size() && line_starts[next_line].span.begin <= offset) {
      const LineStart& ls = line_starts[next_line++];
      if (ls.is_closer) continue;
      for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
        if (it->ch != '{' || ls.line <= it->line || ls.indent > it->indent) break;
        if (!history[it->id]) history[it->id] = Suspect{it->span, ls.span};
      }
    }
  };

  for (const DelimiterToken& t : delimiters) {
    note_line_starts_before(t.span.begin);
    if (is_opener(t.ch)) {
      history.emplace_back();
      stack.push_back(Open{t.ch, t.span, t.line, t.indent, history.size() - 1});
      continue;
    }
    if (stack.empty()) {
      ok = false;
      sink.error("V-SYN-018", t.span, "unexpected closing delimiter " + quoted(t.ch))
          .label("nothing is open here")
          .help("remove this " + quoted(t.ch) + ", or add the opening delimiter it was meant to close");
      continue;
    }
    if (closer_for(stack.back().ch) == t.ch) {
      // A block closed at (or deeper than) its own indentation was closed where it was
      // meant to be: its dedented line was just unusual formatting, not a lost `}`.
      auto& suspect = history[stack.back().id];
      if (suspect && t.indent >= stack.back().indent) suspect.reset();
      stack.pop_back();
      continue;
    }
    // Mismatch: does it close something further out?
    auto match = std::find_if(stack.rbegin(), stack.rend(), [&](const Open& o) { return closer_for(o.ch) == t.ch; });
    ok = false;
    if (match == stack.rend()) {
      sink.error("V-SYN-018", t.span, "mismatched closing delimiter " + quoted(t.ch))
          .label("expected " + quoted(closer_for(stack.back().ch)) + " here")
          .secondary(stack.back().span, "this " + quoted(stack.back().ch) + " is still open")
          .help("close the " + quoted(stack.back().ch) + " with " + quoted(closer_for(stack.back().ch)) +
                " before this " + quoted(t.ch));
      continue;
    }
    // Everything above the match is unclosed; report the innermost one.
    const Open& unclosed = stack.back();
    sink.error("V-SYN-001", unclosed.span, "unclosed delimiter " + quoted(unclosed.ch))
        .label("this " + quoted(unclosed.ch) + " is never closed")
        .secondary(t.span, "this " + quoted(t.ch) + " closes an outer " + quoted(match->ch))
        .help("add " + quoted(closer_for(unclosed.ch)) + " before the " + quoted(t.ch));
    stack.erase(match.base() - 1, stack.end());
  }
  note_line_starts_before(UINT32_MAX);

  if (stack.empty()) return ok;

  // `stack.size()` delimiters are missing. Blame indentation suspects first (in
  // source order), then the innermost unclosed delimiters.
  size_t missing = stack.size();
  for (auto& s : history) {
    if (missing == 0) break;
    if (!s) continue;
    sink.error("V-SYN-001", s->open, "unclosed delimiter `{`")
        .label("this `{` is never closed")
        .secondary(s->dedent, "the block seems to end before this line")
        .help("add `}` before the marked line");
    s->reported = true;
    --missing;
  }
  for (auto it = stack.rbegin(); it != stack.rend() && missing > 0; ++it) {
    if (history[it->id] && history[it->id]->reported) continue;
    --missing;
    sink.error("V-SYN-001", it->span, "unclosed delimiter " + quoted(it->ch))
        .label("this " + quoted(it->ch) + " is never closed")
        .help("add " + quoted(closer_for(it->ch)) + " at the end of the construct it opens");
  }
  return false;
}

}  // namespace ved
