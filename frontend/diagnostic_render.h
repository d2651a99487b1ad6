// Turns diagnostics into text for people (rustc-like, language.md §13) or machines
// (one JSON object per line).
#pragma once

#include <string>

#include "frontend/diagnostic.h"
#include "frontend/source_manager.h"

namespace ved {

struct RenderOptions {
  bool color = false;
};

std::string render_human(const Diagnostic& d, const SourceManager& sources, const RenderOptions& options);

// One line of JSON (no trailing newline). Shape, documented in docs/diagnostics.md:
// {"code","severity","message","file","line","column","end_line","end_column",
//  "byte_start","byte_end","labels":[{"primary","message","file","line","column",
//  "end_line","end_column","byte_start","byte_end"}],"help":[..],"notes":[..]}
std::string render_json(const Diagnostic& d, const SourceManager& sources);

// "1 error, 2 warnings emitted" style closing line; empty when there is nothing.
std::string render_summary(size_t errors, size_t warnings, const RenderOptions& options);

}  // namespace ved
