#include "frontend/diagnostic_render.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace ved {

namespace {

// Plain ANSI escapes: five fixed styles do not justify a terminal library.
struct Palette {
  bool on;
  std::string wrap(const char* code, const std::string& text) const {
    return on ? std::string("\x1b[") + code + "m" + text + "\x1b[0m" : text;
  }
  std::string severity(Severity s, const std::string& text) const {
    switch (s) {
      case Severity::Error: return wrap("1;31", text);
      case Severity::Warning: return wrap("1;33", text);
      case Severity::Note: return wrap("1;36", text);
    }
    return text;
  }
  std::string gutter(const std::string& text) const { return wrap("1;34", text); }
  std::string bold(const std::string& text) const { return wrap("1", text); }
};

constexpr int kTabWidth = 4;
constexpr size_t kMaxExcerpt = 200;  // bytes of a source line shown in an excerpt
constexpr size_t kExcerptLead = 60;  // bytes shown before the label in a long line

// Expands tabs so that caret columns line up with what a terminal shows.
std::string expand_tabs(std::string_view line) {
  std::string out;
  int col = 0;
  for (char ch : line) {
    if (ch == '\t') {
      int n = kTabWidth - (col % kTabWidth);
      out.append(static_cast<size_t>(n), ' ');
      col += n;
    } else {
      out.push_back(ch);
      if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++col;
    }
  }
  return out;
}

// Display column (0-based) of a byte offset within its line, with tabs expanded.
int display_column(std::string_view line, size_t byte_in_line) {
  int col = 0;
  for (size_t i = 0; i < byte_in_line && i < line.size(); ++i) {
    char ch = line[i];
    if (ch == '\t') {
      col += kTabWidth - (col % kTabWidth);
    } else if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) {
      ++col;
    }
  }
  return col;
}

struct LabelRef {
  const Label* label;
  bool primary;
};

std::string location(const SourceManager& sources, const Span& span) {
  const SourceFile& f = sources.file(span.file);
  LineColumn lc = f.locate(span.begin);
  return f.name() + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.column);
}

}  // namespace

std::string render_human(const Diagnostic& d, const SourceManager& sources, const RenderOptions& options) {
  Palette p{options.color};
  std::string out;
  out += p.severity(d.severity, std::string(severity_name(d.severity)) + "[" + d.code + "]");
  out += p.bold(": " + d.message) + "\n";

  // Group labels by file, then by line; the primary label's file comes first.
  std::vector<LabelRef> labels{{&d.primary, true}};
  for (const auto& l : d.secondary) labels.push_back({&l, false});

  std::vector<FileId> file_order{d.primary.span.file};
  for (const auto& l : d.secondary) {
    if (std::find(file_order.begin(), file_order.end(), l.span.file) == file_order.end()) {
      file_order.push_back(l.span.file);
    }
  }

  // Gutter width: digits of the largest line number shown.
  uint32_t max_line = 1;
  for (const auto& ref : labels) {
    max_line = std::max(max_line, sources.file(ref.label->span.file).locate(ref.label->span.begin).line);
  }
  const std::string pad(std::to_string(max_line).size(), ' ');

  for (size_t fi = 0; fi < file_order.size(); ++fi) {
    FileId file = file_order[fi];
    const SourceFile& src = sources.file(file);
    const Span& anchor = fi == 0 ? d.primary.span : [&]() -> const Span& {
      for (const auto& l : d.secondary)
        if (l.span.file == file) return l.span;
      return d.primary.span;
    }();
    out += pad + p.gutter(fi == 0 ? "--> " : "::: ") + location(sources, anchor) + "\n";
    out += pad + " " + p.gutter("|") + "\n";

    std::map<uint32_t, std::vector<LabelRef>> by_line;
    for (const auto& ref : labels) {
      if (ref.label->span.file != file) continue;
      by_line[src.locate(ref.label->span.begin).line].push_back(ref);
    }
    uint32_t previous_line = 0;
    for (auto& [line, refs] : by_line) {
      if (previous_line != 0 && line > previous_line + 1) out += p.gutter("...") + "\n";
      previous_line = line;
      std::string_view full = src.line_text(line);
      // Primary label first on its line, then secondaries left to right.
      std::stable_sort(refs.begin(), refs.end(), [](const LabelRef& a, const LabelRef& b) {
        if (a.primary != b.primary) return a.primary;
        return a.label->span.begin < b.label->span.begin;
      });
      const uint32_t full_start = static_cast<uint32_t>(full.data() - src.text().data());
      // A long line is shown as a window around the first label, so that output (and
      // time) per diagnostic stays bounded however long the line is.
      size_t from = 0, to = full.size();
      if (full.size() > kMaxExcerpt) {
        size_t anchor = refs.front().label->span.begin - full_start;
        from = anchor > kExcerptLead ? anchor - kExcerptLead : 0;
        to = std::min(full.size(), from + kMaxExcerpt);
        while (from > 0 && (static_cast<unsigned char>(full[from]) & 0xC0) == 0x80) --from;
        while (to < full.size() && (static_cast<unsigned char>(full[to]) & 0xC0) == 0x80) ++to;
      }
      const std::string lead = from > 0 ? "..." : "";
      std::string_view text = full.substr(from, to - from);
      uint32_t line_start = full_start + static_cast<uint32_t>(from);
      std::string number = std::to_string(line);
      out += p.gutter(std::string(pad.size() - number.size(), ' ') + number + " |") + " " + lead + expand_tabs(text) +
             (to < full.size() ? "..." : "") + "\n";
      for (const auto& ref : refs) {
        const Span& s = ref.label->span;
        size_t begin_in_line = std::min<size_t>(s.begin > line_start ? s.begin - line_start : 0, text.size());
        size_t end_in_line = std::min<size_t>(s.end > line_start ? s.end - line_start : 0, text.size());
        int c0 = display_column(text, begin_in_line) + static_cast<int>(lead.size());
        int c1 = display_column(text, std::max(end_in_line, begin_in_line)) + static_cast<int>(lead.size());
        int width = std::max(1, c1 - c0);
        std::string marks(static_cast<size_t>(width), ref.primary ? '^' : '-');
        std::string mark_line = std::string(static_cast<size_t>(c0), ' ') + marks;
        if (!ref.label->message.empty()) mark_line += " " + ref.label->message;
        out += pad + " " + p.gutter("|") + " " +
               (ref.primary ? p.severity(d.severity, mark_line) : p.gutter(mark_line)) + "\n";
      }
    }
  }
  if (!d.help.empty() || !d.notes.empty()) out += pad + " " + p.gutter("|") + "\n";
  for (const auto& h : d.help) out += pad + " " + p.gutter("=") + " " + p.bold("help") + ": " + h + "\n";
  for (const auto& n : d.notes) out += pad + " " + p.gutter("=") + " " + p.bold("note") + ": " + n + "\n";
  return out;
}

namespace {

nlohmann::ordered_json span_json(const SourceManager& sources, const Span& span) {
  const SourceFile& f = sources.file(span.file);
  LineColumn begin = f.locate(span.begin);
  LineColumn end = f.locate(span.end);
  nlohmann::ordered_json j;
  j["file"] = f.name();
  j["line"] = begin.line;
  j["column"] = begin.column;
  j["end_line"] = end.line;
  j["end_column"] = end.column;
  j["byte_start"] = span.begin;
  j["byte_end"] = span.end;
  return j;
}

}  // namespace

std::string render_json(const Diagnostic& d, const SourceManager& sources) {
  nlohmann::ordered_json j;
  j["code"] = d.code;
  j["severity"] = severity_name(d.severity);
  j["message"] = d.message;
  const nlohmann::ordered_json primary_span = span_json(sources, d.primary.span);
  for (auto& [key, value] : primary_span.items()) j[key] = value;
  auto labels = nlohmann::ordered_json::array();
  auto add_label = [&](const Label& l, bool primary) {
    nlohmann::ordered_json lj;
    lj["primary"] = primary;
    lj["message"] = l.message;
    const nlohmann::ordered_json label_span = span_json(sources, l.span);
    for (auto& [key, value] : label_span.items()) lj[key] = value;
    labels.push_back(std::move(lj));
  };
  add_label(d.primary, true);
  for (const auto& l : d.secondary) add_label(l, false);
  j["labels"] = std::move(labels);
  j["help"] = d.help;
  j["notes"] = d.notes;
  // Invalid UTF-8 in a message must never abort output: replace it.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string render_summary(size_t errors, size_t warnings, const RenderOptions& options) {
  if (errors == 0 && warnings == 0) return "";
  Palette p{options.color};
  auto plural = [](size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  std::string text;
  if (errors > 0) text += p.severity(Severity::Error, "error") + p.bold(": could not compile: " + plural(errors, "error"));
  if (warnings > 0) {
    text += errors > 0 ? p.bold(", ") : p.severity(Severity::Warning, "warning") + p.bold(": ");
    text += p.bold(plural(warnings, "warning"));
  }
  if (errors == 0) text += p.bold(" emitted");
  return text + "\n";
}

}  // namespace ved
