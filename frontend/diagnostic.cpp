#include "frontend/diagnostic.h"

#include <algorithm>
#include <tuple>

namespace ved {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "error";
}

DiagnosticBuilder::~DiagnosticBuilder() {
  if (sink_) sink_->report(std::move(d_));
}

DiagnosticBuilder DiagnosticSink::make(std::string code, Severity severity, Span span, std::string message) {
  Diagnostic d;
  d.code = std::move(code);
  d.severity = severity;
  d.message = std::move(message);
  d.primary.span = span;
  return DiagnosticBuilder(*this, std::move(d));
}

void DiagnosticSink::report(Diagnostic d) {
  if (d.severity == Severity::Error) ++errors_;
  if (d.severity == Severity::Warning) ++warnings_;
  diagnostics_.push_back(std::move(d));
}

void DiagnosticSink::sort() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.primary.span.file, a.primary.span.begin, a.code) <
           std::tie(b.primary.span.file, b.primary.span.begin, b.code);
  });
}

}  // namespace ved
