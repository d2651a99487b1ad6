// ved_bench_parse: how fast does the front end turn a large program into an AST?
//
// Generates a deterministic system-mode program (program_generator.h), checks that it
// parses with zero diagnostics, then times ved::parse on it K times. ved::parse is the
// whole front-end entry point: UTF-8 validation, lexing, the delimiter check, the SLL
// parse and the AST build (the LL fallback only runs for files with errors, and the
// generated file has none). Registering the source (SourceManager::add) and destroying
// the returned AST are outside the timed region: the numbers are what every tool that
// parses a file pays on top of reading it.
//
//   ved_bench_parse [--lines N] [--iterations K] [--write FILE] [--smoke]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/parse/program_generator.h"
#include "frontend/diagnostic_render.h"
#include "frontend/parser.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr double kTargetLinesPerSecond = 200'000;

struct Options {
  size_t lines = 100'000;
  size_t iterations = 5;
  std::string write_path;
};

void usage(std::FILE* out) {
  std::fputs(
      "usage: ved_bench_parse [--lines N] [--iterations K] [--write FILE] [--smoke]\n"
      "  --lines N       size of the generated program (default 100000)\n"
      "  --iterations K  timed parses (default 5); best and median are reported\n"
      "  --write FILE    also save the generated program to FILE\n"
      "  --smoke         quick correctness run for CI: 5000 lines, 1 iteration\n"
      "                  (--lines / --iterations still override it)\n",
      out);
}

std::optional<size_t> positive(std::string_view text) {
  size_t value = 0;
  if (text.empty()) return std::nullopt;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return std::nullopt;
    value = value * 10 + static_cast<size_t>(ch - '0');
    if (value > 100'000'000) return std::nullopt;
  }
  if (value == 0) return std::nullopt;
  return value;
}

// Returns false (after printing why) when the command line is not understood.
bool parse_options(int argc, char** argv, Options& options) {
  std::optional<size_t> lines, iterations;
  bool smoke = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string_view(argv[++i]);
    };
    if (arg == "--smoke") {
      smoke = true;
    } else if (arg == "--lines" || arg == "--iterations") {
      auto text = value();
      auto n = text ? positive(*text) : std::nullopt;
      if (!n) {
        std::fprintf(stderr, "ved_bench_parse: %s needs a positive number\n", argv[i - (text ? 1 : 0)]);
        return false;
      }
      (arg == "--lines" ? lines : iterations) = n;
    } else if (arg == "--write") {
      auto text = value();
      if (!text || text->empty()) {
        std::fputs("ved_bench_parse: --write needs a file name\n", stderr);
        return false;
      }
      options.write_path = std::string(*text);
    } else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "ved_bench_parse: unknown option `%s`\n", argv[i]);
      usage(stderr);
      return false;
    }
  }
  if (smoke) {
    options.lines = 5'000;
    options.iterations = 1;
  }
  if (lines) options.lines = *lines;
  if (iterations) options.iterations = *iterations;
  return true;
}

// 1234567 -> "1,234,567"
std::string grouped(double value) {
  std::string digits = std::to_string(static_cast<unsigned long long>(value + 0.5));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Parses once, outside the timing, and insists on a clean result: a benchmark of a
// program that does not parse would time the error path and mean nothing.
bool verify(const ved::SourceManager& sources, ved::FileId file, size_t expected_domains) {
  ved::DiagnosticSink sink;
  std::unique_ptr<ved::ast::Program> program = ved::parse(sources, file, sink);
  if (program && sink.diagnostics().empty() && program->domains.size() == expected_domains) return true;

  std::fprintf(stderr,
               "ved_bench_parse: the generated program does not parse cleanly "
               "(%zu diagnostics, %zu errors%s).\n"
               "This is a bug in bench/parse/program_generator.cpp or in the parser; "
               "save the program with --write FILE and run `vedc --check FILE`.\n",
               sink.diagnostics().size(), sink.error_count(), program ? "" : ", no AST");
  if (program && sink.diagnostics().empty()) {
    std::fprintf(stderr, "The AST has %zu domains; the generator wrote %zu.\n", program->domains.size(),
                 expected_domains);
  }
  sink.sort();
  const size_t shown = std::min<size_t>(sink.diagnostics().size(), 5);
  for (size_t i = 0; i < shown; ++i) {
    std::fputs(ved::render_human(sink.diagnostics()[i], sources, ved::RenderOptions{}).c_str(), stderr);
    std::fputs("\n", stderr);
  }
  if (shown < sink.diagnostics().size()) {
    std::fprintf(stderr, "... and %zu more\n", sink.diagnostics().size() - shown);
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) return 2;

  Clock::time_point generation_start = Clock::now();
  ved::bench::GeneratorOptions generator_options;
  generator_options.target_lines = options.lines;
  ved::bench::GeneratedProgram generated = ved::bench::generate_program(generator_options);
  double generation_seconds = seconds(Clock::now() - generation_start);

  if (!options.write_path.empty()) {
    std::ofstream out(options.write_path, std::ios::binary);
    out << generated.text;
    if (!out.flush()) {
      std::fprintf(stderr, "ved_bench_parse: cannot write `%s`\n", options.write_path.c_str());
      return 1;
    }
  }

  const size_t bytes = generated.text.size();
  ved::SourceManager sources;
  ved::FileId file = sources.add("generated.ved", std::move(generated.text));
  if (!verify(sources, file, generated.domains)) return 1;

  std::vector<double> times;
  for (size_t i = 0; i < options.iterations; ++i) {
    ved::DiagnosticSink sink;
    Clock::time_point start = Clock::now();
    std::unique_ptr<ved::ast::Program> program = ved::parse(sources, file, sink);
    Clock::time_point stop = Clock::now();
    if (!program || sink.has_errors()) {
      std::fprintf(stderr, "ved_bench_parse: iteration %zu failed to parse\n", i + 1);
      return 1;
    }
    times.push_back(seconds(stop - start));
  }

  const double lines = static_cast<double>(generated.lines);
  const double best = *std::min_element(times.begin(), times.end());
  const double middle = median(times);
  auto row = [&](const char* label, double t) {
    std::printf("  %-8s %10.1f ms %14s %10.2f\n", label, t * 1e3, grouped(lines / t).c_str(), bytes / t / 1e6);
  };

  std::printf("Ved parse benchmark: ved::parse (UTF-8 check, lex, delimiter check, SLL parse, AST build)\n");
  std::printf("  program  %s lines, %s bytes, %zu clusters, %zu domains (generated in %.0f ms)\n",
              grouped(lines).c_str(), grouped(static_cast<double>(bytes)).c_str(), generated.clusters,
              generated.domains, generation_seconds * 1e3);
  std::printf("\n  %-8s %13s %14s %10s\n", "run", "time", "lines/s", "MB/s");
  for (size_t i = 0; i < times.size(); ++i) row(std::to_string(i + 1).c_str(), times[i]);
  std::printf("  %s\n", std::string(48, '-').c_str());
  row("best", best);
  row("median", middle);
  std::printf("\n  throughput (best): %s lines/s; target %s lines/s on one core: %s\n", grouped(lines / best).c_str(),
              grouped(kTargetLinesPerSecond).c_str(), lines / best >= kTargetLinesPerSecond ? "met" : "NOT met");
  return 0;
}
