// ved_bench_parse: how fast does the front end turn a large program into an AST, and
// into a checked program model?
//
// Generates a deterministic system-mode program (program_generator.h), checks that it
// parses and type-checks with zero diagnostics, then times two phases K times each:
//
//  * parse: ved::parse, the whole front-end entry point: UTF-8 validation, lexing, the
//    delimiter check, the SLL parse and the AST build (the LL fallback only runs for
//    files with errors, and the generated file has none);
//  * parse + check: ved::parse, then ved::check_program against the standard library's
//    declarations (names, types, authority, privileges, capabilities, goals,
//    orchestration). The prelude is parsed once, before any timing, as `vedc` would
//    parse it once for many files.
//
// Registering the source (SourceManager::add) and destroying the returned AST and model
// are outside the timed regions: the numbers are what every tool that parses (and
// checks) a file pays on top of reading it.
//
// glibc's allocator spends a noticeable share of the parse in malloc_consolidate (the
// AST is many small nodes); `--mallopt` disables fastbins (mallopt(M_MXFAST, 0)) at the
// start of main so that the effect can be measured. It is off by default.
//
//   ved_bench_parse [--lines N] [--iterations K] [--write FILE] [--seed S] [--mallopt] [--smoke]

#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/parse/program_generator.h"
#include "frontend/checker.h"
#include "frontend/diagnostic_render.h"
#include "frontend/parser.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr double kParseTarget = 200'000;  // lines/s on one core
constexpr double kCheckTarget = 100'000;  // lines/s on one core, parse + check

struct Options {
  size_t lines = 100'000;
  size_t iterations = 5;
  std::string write_path;
  std::optional<uint64_t> seed;
  bool mallopt = false;
};

void usage(std::FILE* out) {
  std::fputs(
      "usage: ved_bench_parse [--lines N] [--iterations K] [--write FILE] [--seed S] [--mallopt] [--smoke]\n"
      "  --lines N       size of the generated program (default 100000)\n"
      "  --iterations K  timed runs of each phase (default 5); best and median are reported\n"
      "  --write FILE    also save the generated program to FILE\n"
      "  --seed S        generate a different (still deterministic, still clean) program\n"
      "  --mallopt       disable glibc's fastbins (mallopt(M_MXFAST, 0)) before anything else\n"
      "  --smoke         quick correctness run for CI: 5000 lines, 1 iteration of each phase\n"
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
    } else if (arg == "--mallopt") {
      options.mallopt = true;
    } else if (arg == "--lines" || arg == "--iterations" || arg == "--seed") {
      auto text = value();
      auto n = text ? positive(*text) : std::nullopt;
      if (!n) {
        std::fprintf(stderr, "ved_bench_parse: %s needs a positive number\n", argv[i - (text ? 1 : 0)]);
        return false;
      }
      if (arg == "--seed") options.seed = *n;
      else (arg == "--lines" ? lines : iterations) = n;
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

// CPU time of this (single-threaded) process: on a loaded machine it shows what the
// front end costs when it does get a core, next to the wall-clock time.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void print_diagnostics(ved::DiagnosticSink& sink, const ved::SourceManager& sources) {
  sink.sort();
  const size_t shown = std::min<size_t>(sink.diagnostics().size(), 5);
  for (size_t i = 0; i < shown; ++i) {
    std::fputs(ved::render_human(sink.diagnostics()[i], sources, ved::RenderOptions{}).c_str(), stderr);
    std::fputs("\n", stderr);
  }
  if (shown < sink.diagnostics().size()) {
    std::fprintf(stderr, "... and %zu more\n", sink.diagnostics().size() - shown);
  }
}

// Parses and checks once, outside the timing, and insists on a clean result: a
// benchmark of a program that does not parse (or check) would time the error paths
// and mean nothing.
bool verify(const ved::SourceManager& sources, ved::FileId file, size_t expected_domains,
            const ved::ast::Program& prelude) {
  ved::DiagnosticSink sink;
  std::unique_ptr<ved::ast::Program> program = ved::parse(sources, file, sink);
  if (!program || !sink.diagnostics().empty() || program->domains.size() != expected_domains) {
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
    print_diagnostics(sink, sources);
    return false;
  }

  std::unique_ptr<ved::ProgramModel> model = ved::check_program(prelude, *program, sink, ved::CheckOptions{});
  if (model && sink.diagnostics().empty()) return true;
  std::fprintf(stderr,
               "ved_bench_parse: the checker reports %zu diagnostics (%zu errors) on the generated program.\n"
               "The generator must write a program that checks without a single diagnostic: this is a bug in\n"
               "bench/parse/ (expression_generator.cpp, program_generator.cpp) or in the checker; save the\n"
               "program with --write FILE and run `vedc --check FILE`.\n",
               sink.diagnostics().size(), sink.error_count());
  print_diagnostics(sink, sources);
  return false;
}

struct Run {
  double total = 0;  // wall-clock seconds
  double check = 0;  // of which in check_program (parse + check phase only)
  double cpu = 0;    // CPU seconds
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) return 2;
  // Before anything allocates in earnest, so that the whole run uses one policy.
  if (options.mallopt && mallopt(M_MXFAST, 0) != 1) {
    std::fputs("ved_bench_parse: mallopt(M_MXFAST, 0) failed\n", stderr);
    return 1;
  }

  Clock::time_point generation_start = Clock::now();
  ved::bench::GeneratorOptions generator_options;
  generator_options.target_lines = options.lines;
  if (options.seed) generator_options.seed = *options.seed;
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
  ved::DiagnosticSink prelude_sink;
  std::unique_ptr<ved::ast::Program> prelude = ved::parse_prelude(sources, prelude_sink);
  if (!prelude || !prelude_sink.diagnostics().empty()) {
    std::fputs("ved_bench_parse: the standard library prelude does not parse cleanly\n", stderr);
    print_diagnostics(prelude_sink, sources);
    return 1;
  }
  ved::FileId file = sources.add("generated.ved", std::move(generated.text));
  if (!verify(sources, file, generated.domains, *prelude)) return 1;

  // Phase 1: parse only.
  std::vector<Run> parse_runs;
  for (size_t i = 0; i < options.iterations; ++i) {
    ved::DiagnosticSink sink;
    double cpu_start = cpu_seconds();
    Clock::time_point start = Clock::now();
    std::unique_ptr<ved::ast::Program> program = ved::parse(sources, file, sink);
    Clock::time_point stop = Clock::now();
    double cpu_stop = cpu_seconds();
    if (!program || !sink.diagnostics().empty()) {
      std::fprintf(stderr, "ved_bench_parse: parse iteration %zu reported diagnostics\n", i + 1);
      return 1;
    }
    parse_runs.push_back(Run{seconds(stop - start), 0, cpu_stop - cpu_start});
  }

  // Phase 2: parse + check.
  std::vector<Run> check_runs;
  for (size_t i = 0; i < options.iterations; ++i) {
    ved::DiagnosticSink sink;
    double cpu_start = cpu_seconds();
    Clock::time_point start = Clock::now();
    std::unique_ptr<ved::ast::Program> program = ved::parse(sources, file, sink);
    Clock::time_point parsed = Clock::now();
    std::unique_ptr<ved::ProgramModel> model;
    if (program) model = ved::check_program(*prelude, *program, sink, ved::CheckOptions{});
    Clock::time_point stop = Clock::now();
    double cpu_stop = cpu_seconds();
    if (!model || !sink.diagnostics().empty()) {
      std::fprintf(stderr, "ved_bench_parse: parse + check iteration %zu reported diagnostics\n", i + 1);
      print_diagnostics(sink, sources);
      return 1;
    }
    check_runs.push_back(Run{seconds(stop - start), seconds(stop - parsed), cpu_stop - cpu_start});
  }

  const double lines = static_cast<double>(generated.lines);
  auto totals = [](const std::vector<Run>& runs) {
    std::vector<double> out;
    for (const auto& r : runs) out.push_back(r.total);
    return out;
  };
  auto cpus = [](const std::vector<Run>& runs) {
    std::vector<double> out;
    for (const auto& r : runs) out.push_back(r.cpu);
    return out;
  };
  auto checks = [](const std::vector<Run>& runs) {
    std::vector<double> out;
    for (const auto& r : runs) out.push_back(r.check);
    return out;
  };

  std::printf("Ved front-end benchmark: ved::parse, and ved::parse + ved::check_program\n");
  std::printf("  program    %s lines, %s bytes, %zu clusters, %zu domains (generated in %.0f ms)\n",
              grouped(lines).c_str(), grouped(static_cast<double>(bytes)).c_str(), generated.clusters,
              generated.domains, generation_seconds * 1e3);
  std::printf("  allocator  %s\n", options.mallopt ? "glibc, fastbins off (--mallopt: mallopt(M_MXFAST, 0))"
                                                   : "glibc defaults (fastbins on; --mallopt turns them off)");

  auto table = [&](const char* title, const std::vector<Run>& runs, bool with_check) {
    std::printf("\n  %s\n", title);
    std::printf("  %-8s %13s %11s", "run", "time", "cpu");
    if (with_check) std::printf(" %11s", "of it check");
    std::printf(" %14s %10s\n", "lines/s", "MB/s");
    auto row = [&](const std::string& label, double t, double cpu, double check) {
      std::printf("  %-8s %10.1f ms %8.1f ms", label.c_str(), t * 1e3, cpu * 1e3);
      if (with_check) std::printf(" %8.1f ms", check * 1e3);
      std::printf(" %14s %10.2f\n", grouped(lines / t).c_str(), bytes / t / 1e6);
    };
    for (size_t i = 0; i < runs.size(); ++i) row(std::to_string(i + 1), runs[i].total, runs[i].cpu, runs[i].check);
    std::printf("  %s\n", std::string(with_check ? 72 : 60, '-').c_str());
    auto best = std::min_element(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.total < b.total; });
    row("best", best->total, best->cpu, best->check);
    row("median", median(totals(runs)), median(cpus(runs)), median(checks(runs)));
  };
  table("parse (UTF-8 check, lex, delimiter check, SLL parse, AST build)", parse_runs, false);
  table("parse + check (the above, then names, types, authority, privileges, capabilities, goals, ...)", check_runs,
        true);

  // Throughput by wall-clock time (best and median run) and, for a loaded machine, by
  // the CPU time of the fastest run.
  auto summary = [&](const char* label, const std::vector<Run>& runs, double target) {
    auto best = std::min_element(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.total < b.total; });
    const double rate = lines / best->total;
    std::printf("  %-14s best %11s lines/s, median %11s lines/s (by CPU time %11s); target %s: %s\n", label,
                grouped(rate).c_str(), grouped(lines / median(totals(runs))).c_str(),
                grouped(lines / std::min(best->cpu, best->total)).c_str(), grouped(target).c_str(),
                rate >= target ? "met" : "NOT met");
  };
  std::printf("\n");
  summary("parse", parse_runs, kParseTarget);
  summary("parse + check", check_runs, kCheckTarget);
  return 0;
}
