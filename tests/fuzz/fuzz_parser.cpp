// libFuzzer target for the Ved front end: arbitrary bytes are one source file.
//
// Each input is tokenized and parsed; every diagnostic is rendered in both human and
// JSON form and, when the parse succeeds, the AST is dumped as text and JSON and the
// program is checked (with lints on for every other input, so both paths run). Besides
// the sanitizers (ASan, UBSan, LSan), a few cheap invariants are checked; a violation
// prints what failed and calls __builtin_trap(), which libFuzzer reports as a crash:
//   * every diagnostic's spans (primary and secondary) lie within the file:
//     begin <= end <= size, and name the file that was parsed;
//   * every diagnostic code starts with "V-" and is registered (find_diagnostic_code);
//   * parse() returns an AST if and only if it reported no errors;
//   * every token span lies within the file (tokenize());
//   * render_json() and render_dump_json() produce valid JSON.
//
// Run it through scripts/fuzz-smoke.sh; see tests/fuzz/README.md.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "frontend/ast_dump.h"
#include "frontend/checker.h"
#include "frontend/diagnostic.h"
#include "frontend/diagnostic_codes.h"
#include "frontend/diagnostic_render.h"
#include "frontend/parser.h"
#include "frontend/source_manager.h"
#include "tests/fuzz/fuzz_check.h"

const char* const ved::fuzz::kTargetName = "fuzz_parser";

namespace {

std::string describe(const ved::Diagnostic& d) {
  return d.code + " [" + std::to_string(d.primary.span.file) + ":" + std::to_string(d.primary.span.begin) + ".." +
         std::to_string(d.primary.span.end) + "] " + d.message;
}

void check_span(const ved::Span& s, ved::FileId file, size_t size, const std::string& context) {
  const std::string detail = context + ": span " + std::to_string(s.file) + ":" + std::to_string(s.begin) + ".." +
                             std::to_string(s.end) + ", file " + std::to_string(file) + " has " +
                             std::to_string(size) + " bytes";
  FUZZ_CHECK(s.file == file, detail);
  FUZZ_CHECK(s.begin <= s.end, detail);
  FUZZ_CHECK(s.end <= size, detail);
}

// Checker diagnostics may also point into the prelude (e.g. where an effect is declared).
void check_span_in_any_file(const ved::Span& s, const ved::SourceManager& sources, const std::string& context) {
  FUZZ_CHECK(s.file < sources.size(), context + ": span names an unknown file");
  check_span(s, s.file, sources.file(s.file).text().size(), context);
}

// Checks and renders every diagnostic in `sink`.
void check_and_render(const ved::DiagnosticSink& sink, const ved::SourceManager& sources, ved::FileId file,
                      size_t size, bool any_file = false) {
  size_t errors = 0;
  for (const ved::Diagnostic& d : sink.diagnostics()) {
    const std::string what = describe(d);
    FUZZ_CHECK(d.code.rfind("V-", 0) == 0, what);
    FUZZ_CHECK(ved::find_diagnostic_code(d.code) != nullptr, what);
    check_span(d.primary.span, file, size, "primary label of " + what);
    for (const ved::Label& l : d.secondary) {
      if (any_file) check_span_in_any_file(l.span, sources, "secondary label of " + what);
      else check_span(l.span, file, size, "secondary label of " + what);
    }
    if (d.severity == ved::Severity::Error) ++errors;

    std::string human = ved::render_human(d, sources, ved::RenderOptions{false});
    std::string colored = ved::render_human(d, sources, ved::RenderOptions{true});
    FUZZ_CHECK(!human.empty() && !colored.empty(), what);
    std::string json = ved::render_json(d, sources);
    FUZZ_CHECK(json.find('\n') == std::string::npos, what + ": render_json wrote more than one line");
    FUZZ_CHECK(nlohmann::json::accept(json), what + ": render_json wrote invalid JSON: " + json);
  }
  FUZZ_CHECK(errors == sink.error_count(), "error_count() disagrees with the diagnostics");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Spans are 32-bit byte offsets; SourceManager::add_from_disk refuses larger files.
  if (size >= UINT32_MAX) return 0;

  ved::SourceManager sources;
  const ved::FileId file = sources.add("fuzz.ved", std::string(reinterpret_cast<const char*>(data), size));

  // Tokens, as `vedc --emit=tokens` prints them. Separate sink: tokenize() and parse()
  // each report lexical errors, and the invariants below are about parse() alone.
  {
    ved::DiagnosticSink sink;
    std::vector<ved::TokenInfo> tokens = ved::tokenize(sources, file, sink);
    for (const ved::TokenInfo& t : tokens) check_span(t.span, file, size, "token " + t.kind);
    check_and_render(sink, sources, file, size);
  }

  ved::DiagnosticSink sink;
  std::unique_ptr<ved::ast::Program> program = ved::parse(sources, file, sink);
  check_and_render(sink, sources, file, size);
  if (program) {
    FUZZ_CHECK(!sink.has_errors(), "parse() returned an AST but reported " + std::to_string(sink.error_count()) +
                                       " error(s); first: " + describe(sink.diagnostics().front()));
    ved::DumpNode root = ved::ast_to_dump(*program, sources);
    std::string text = ved::render_dump_text(root);
    std::string json = ved::render_dump_json(root);
    FUZZ_CHECK(!text.empty(), "empty AST text dump");
    FUZZ_CHECK(nlohmann::json::accept(json), "render_dump_json wrote invalid JSON");

    // The checker, as `vedc --check` / `--lint` run it.
    ved::DiagnosticSink prelude_sink;
    std::unique_ptr<ved::ast::Program> prelude = ved::parse_prelude(sources, prelude_sink);
    FUZZ_CHECK(prelude && !prelude_sink.has_errors(), "the prelude does not parse");
    ved::DiagnosticSink check_sink;
    ved::CheckOptions options;
    options.lint = size % 2 == 1;
    std::unique_ptr<ved::ProgramModel> model = ved::check_program(*prelude, *program, check_sink, options);
    FUZZ_CHECK(model != nullptr, "check_program returned no model");
    check_and_render(check_sink, sources, file, size, /*any_file=*/true);
  } else {
    FUZZ_CHECK(sink.has_errors(), "parse() returned nullptr without reporting an error");
  }

  // The driver sorts before printing; sorting must not lose or corrupt anything.
  size_t before = sink.diagnostics().size();
  sink.sort();
  FUZZ_CHECK(sink.diagnostics().size() == before, "sort() changed the number of diagnostics");
  return 0;
}
