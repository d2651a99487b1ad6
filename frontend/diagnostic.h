// Diagnostics: what the compiler tells a user about their program.
//
// A Diagnostic has a stable code (see diagnostic_codes.h), a severity, a message, a
// primary labelled span, optional secondary labelled spans, and `help:` / `note:`
// lines. Passes report into a DiagnosticSink and keep going; the driver decides what
// to print and the exit code. Rendering lives in diagnostic_render.h.
#pragma once

#include <string>
#include <vector>

#include "frontend/source_manager.h"

namespace ved {

enum class Severity { Error, Warning, Note };

const char* severity_name(Severity s);

struct Label {
  Span span;
  std::string message;
};

struct Diagnostic {
  std::string code;  // e.g. "V-SYN-005"
  Severity severity = Severity::Error;
  std::string message;
  Label primary;
  std::vector<Label> secondary;
  std::vector<std::string> help;
  std::vector<std::string> notes;
};

// Builds one diagnostic fluently and hands it to the sink when it goes out of scope:
//   sink.error("V-SYN-005", span, "`=` is assignment").label("...").help("...");
class DiagnosticSink;
class DiagnosticBuilder {
 public:
  DiagnosticBuilder(DiagnosticSink& sink, Diagnostic d) : sink_(&sink), d_(std::move(d)) {}
  DiagnosticBuilder(DiagnosticBuilder&& other) noexcept : sink_(other.sink_), d_(std::move(other.d_)) {
    other.sink_ = nullptr;
  }
  DiagnosticBuilder(const DiagnosticBuilder&) = delete;
  DiagnosticBuilder& operator=(const DiagnosticBuilder&) = delete;
  ~DiagnosticBuilder();

  DiagnosticBuilder& label(std::string message) {
    d_.primary.message = std::move(message);
    return *this;
  }
  DiagnosticBuilder& secondary(Span span, std::string message) {
    d_.secondary.push_back(Label{span, std::move(message)});
    return *this;
  }
  DiagnosticBuilder& help(std::string text) {
    d_.help.push_back(std::move(text));
    return *this;
  }
  DiagnosticBuilder& note(std::string text) {
    d_.notes.push_back(std::move(text));
    return *this;
  }

 private:
  DiagnosticSink* sink_;
  Diagnostic d_;
};

class DiagnosticSink {
 public:
  DiagnosticBuilder error(std::string code, Span span, std::string message) {
    return make(std::move(code), Severity::Error, span, std::move(message));
  }
  DiagnosticBuilder warning(std::string code, Span span, std::string message) {
    return make(std::move(code), Severity::Warning, span, std::move(message));
  }
  DiagnosticBuilder note(std::string code, Span span, std::string message) {
    return make(std::move(code), Severity::Note, span, std::move(message));
  }

  void report(Diagnostic d);

  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  size_t error_count() const { return errors_; }
  size_t warning_count() const { return warnings_; }
  bool has_errors() const { return errors_ > 0; }

  // Sorts by file, then position, then code, so output order never depends on the
  // order in which passes happened to find things.
  void sort();

 private:
  DiagnosticBuilder make(std::string code, Severity severity, Span span, std::string message);

  std::vector<Diagnostic> diagnostics_;
  size_t errors_ = 0;
  size_t warnings_ = 0;
};

}  // namespace ved
