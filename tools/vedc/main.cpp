// vedc: the Ved compiler driver. Argument parsing and calls into the libraries only.
//
// Exit codes (cli.md): 0 success (warnings allowed), 1 compile errors, 2 usage errors,
// 3 internal error (a bug: it must never happen on any input).
#include <malloc.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "frontend/ast_dump.h"
#include "frontend/checker.h"
#include "frontend/diagnostic_codes.h"
#include "frontend/diagnostic_render.h"
#include "frontend/imports.h"
#include "frontend/keywords.h"
#include "frontend/parser.h"
#include "ir/bundle_writer.h"
#include "ir/compile.h"
#include "ir/print.h"
#include "vm/bundle_loader.h"
#include "vm/upgrade/compatibility.h"
#include "vm/jit/jit.h"
#include "vm/disassembler.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

constexpr int kExitOk = 0;
constexpr int kExitCompileError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInternal = 3;

struct Options {
  std::vector<std::string> files;
  std::string output;
  bool check = false;
  bool lint = false;
  std::string emit;
  bool json = false;
  std::string explain;
  bool werror = false;
  bool optimize = false;  // -O: --emit=llvm prints the optimised IR
  std::string against;    // --against OLD.vedb: report what a data dir of OLD could not survive
  std::string color = "auto";
};

int explain(const std::string& code) {
  const ved::DiagnosticCodeInfo* info = ved::find_diagnostic_code(code);
  if (!info) {
    std::vector<std::string> names;
    for (const auto& c : ved::all_diagnostic_codes()) names.emplace_back(c.code);
    std::vector<std::string_view> views(names.begin(), names.end());
    std::cerr << "vedc: error: no diagnostic code `" << code << "`";
    if (auto near = ved::nearest_word(code, views)) std::cerr << "; did you mean `" << *near << "`?";
    std::cerr << "\n";
    return kExitUsage;
  }
  std::cout << info->code << ": " << info->title << "\n\n" << info->explanation << "\n\nExample:\n\n";
  std::string example(info->example);
  size_t start = 0;
  while (start < example.size()) {
    size_t end = example.find('\n', start);
    if (end == std::string::npos) end = example.size();
    std::cout << "    " << example.substr(start, end - start) << "\n";
    start = end + 1;
  }
  return kExitOk;
}

class Driver {
 public:
  explicit Driver(const Options& options) : options_(options) {
    bool tty = isatty(STDERR_FILENO) != 0;
    render_.color = options.color == "always" || (options.color == "auto" && tty && !options.json);
  }

  int run() {
    if (!options_.against.empty() && !options_.emit.empty()) {
      std::cerr << "vedc: error: `--against` checks a compile or a --check, not an --emit\n"
                << "  = help: try `vedc --check --against old.vedb app.ved`\n";
      return kExitUsage;
    }
    if (!options_.against.empty() && !load_against()) {
      print_summary();
      return kExitCompileError;
    }
    if (!options_.output.empty() && !writes_bundle()) {
      std::cerr << "vedc: error: `-o` names a bundle to write, and --check, --lint and --emit write none\n";
      return kExitUsage;
    }

    std::vector<ved::FileId> roots;
    for (const auto& path : options_.files) {
      ved::FileId id;
      std::string error;
      if (!sources_.add_from_disk(path, id, error)) {
        report_unreadable(path, error);
        continue;
      }
      roots.push_back(id);
    }
    std::string bundle;
    if (writes_bundle()) {
      // The files named are one program (cli.md): as if one file imported the others.
      if (file_errors_ == 0 && !roots.empty()) bundle = compile(roots);
    } else {
      // --check, --lint and --emit treat each file named as a program of its own (with
      // what it imports), so one command checks many independent programs.
      for (ved::FileId id : roots) process(id);
    }
    sink_.sort();
    // Written only when the compile succeeded by the rules in force, -Werror included:
    // a failed compile leaves whatever was at the output path untouched.
    const bool failed = sink_.error_count() + file_errors_ > 0 || (options_.werror && sink_.warning_count() > 0);
    if (!failed && !bundle.empty()) write_output(roots.front(), bundle);
    print_summary();
    size_t errors = sink_.error_count() + file_errors_;
    size_t warnings = sink_.warning_count();
    if (errors > 0 || (options_.werror && warnings > 0)) return kExitCompileError;
    return kExitOk;
  }

 private:
  void print_summary() {
    for (const auto& d : sink_.diagnostics()) {
      if (options_.json) std::cerr << ved::render_json(d, sources_) << "\n";
      else std::cerr << ved::render_human(d, sources_, render_) << "\n";
    }
    if (!options_.json) std::cerr << ved::render_summary(sink_.error_count() + file_errors_, sink_.warning_count(), render_);
  }

  // The deployed bundle `--against` names: read and verified like any bundle the VM runs.
  bool load_against() {
    std::ifstream in(options_.against, std::ios::binary);
    if (!in) {
      report_file_error("V-ERR-100", options_.against, "cannot read `" + options_.against + "`",
                        "name the bundle the data dir runs now, e.g. `--against app.vedb`");
      return false;
    }
    std::stringstream bytes;
    bytes << in.rdbuf();
    std::string error;
    if (!ved::vm::load_bundle(bytes.str(), against_, error)) {
      report_file_error("V-ERR-100", options_.against, "`" + options_.against + "` is not a bundle this vedc reads: " + error,
                        "recompile the deployed program's source with this vedc and compare against that bundle");
      return false;
    }
    return true;
  }

  // `--against`: every domain of the old program is taken to have instances and every
  // message type to be in a mailbox (the worst a data dir can hold); what the new
  // program could not take over is an error at the place in the new source it concerns.
  void check_against(const ved::ast::Program& program, const ved::vm::Program& verified, ved::FileId root) {
    using ved::vm::upgrade::Refusal;
    const auto report = ved::vm::upgrade::check_compatibility(
        against_, verified, ved::vm::upgrade::assume_everything_in_use(against_));
    for (const auto& r : report.refusals) {
      ved::Span at{root, 0, 0};
      std::string label = "the program that replaces `" + options_.against + "`";
      const std::string domain = r.subject.substr(0, r.subject.find('.'));
      for (const auto& d : program.domains) {
        if (d.name.name != domain) continue;
        at = d.name.span;
        label = "the domain the deployed data would not fit";
        for (const auto& t : d.transitions)
          if (r.subject == domain + "." + t.name.name) {
            at = t.name.span;
            label = "its parameters changed";
          }
      }
      const bool message = r.kind == Refusal::Kind::MessageRemoved || r.kind == Refusal::Kind::MessageChanged;
      const bool renamed = r.kind == Refusal::Kind::ProgramRenamed;
      sink_.error(renamed ? "V-ERR-024" : message ? "V-ERR-023" : "V-ERR-003", at, r.message)
          .label(label)
          .help(r.hint)
          .note("checked against `" + options_.against + "` (program `" + against_.name + "`), assuming its data dir holds "
                "instances of every domain and messages of every type");
    }
  }

  void process(ved::FileId id) {
    if (options_.emit == "tokens") {
      auto tokens = ved::tokenize(sources_, id, sink_);
      const ved::SourceFile& file = sources_.file(id);
      for (const auto& t : tokens) {
        ved::LineColumn lc = file.locate(t.span.begin);
        if (options_.json) {
          nlohmann::ordered_json j;
          j["kind"] = t.kind;
          j["text"] = t.text;
          j["line"] = lc.line;
          j["column"] = lc.column;
          j["byte_start"] = t.span.begin;
          j["byte_end"] = t.span.end;
          std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
        } else {
          std::cout << lc.line << ":" << lc.column << " " << t.kind;
          if (!t.text.empty()) std::cout << " " << nlohmann::json(t.text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
          std::cout << "\n";
        }
      }
      return;
    }
    if (options_.emit == "ast") {
      // The file's own syntax tree: imports are shown as declarations, not followed.
      auto program = ved::parse(sources_, id, sink_);
      if (!program) return;
      ved::DumpNode dump = ved::ast_to_dump(*program, sources_);
      std::cout << (options_.json ? ved::render_dump_json(dump) : ved::render_dump_text(dump));
      return;
    }
    compile({id});
  }

  // Loads, checks and lowers the program made of `roots` and their imports; prints the
  // form --emit asks for. Returns the verified bundle, or "" (errors are in sink_).
  std::string compile(const std::vector<ved::FileId>& roots) {
    auto program = ved::load_program(sources_, roots, sink_);
    if (!program) return {};
    if (!prelude_) {
      prelude_ = ved::parse_prelude(sources_, sink_);
      if (!prelude_) throw std::runtime_error("the standard library prelude does not parse");
    }
    ved::CheckOptions check_options;
    check_options.lint = options_.lint;
    // Lowering finds the errors the checker cannot (V-TYP-018), so --check runs it too.
    std::unique_ptr<ved::ProgramModel> model;
    auto module = ved::ir::check_and_lower(*prelude_, *program, sources_, sink_, check_options, model);
    if (!module) return {};
    // Nothing below reads the model; freed now, it is not part of the peak that loading
    // the bundle back for verification reaches (nor is the module, freed once written).
    model.reset();
    if (options_.emit == "ir") {
      std::cout << ved::ir::print_module(*module, sources_);
      return {};
    }
    std::string error;
    std::string bundle = ved::ir::write_bundle(*module, sources_, std::string("vedc ") + VED_VERSION, error);
    module.reset();
    if (bundle.empty()) {
      report_file_error("V-ERR-101", sources_.file(roots.front()).name(), error, "split the function into smaller ones");
      return {};
    }
    // Every bundle is verified before it is shown or written: a bundle the VM would
    // reject is a compiler bug, reported as one (exit 3), never a file on disk.
    ved::vm::Program verified;
    if (!ved::vm::load_bundle(bundle, verified, error))
      throw std::runtime_error("the compiler wrote a bundle the VM rejects: " + error);
    if (!options_.against.empty()) check_against(*program, verified, roots.front());
    if (options_.emit == "bytecode") {
      std::cout << ved::vm::disassemble(verified, sources_lookup());
      return {};
    }
    if (options_.emit == "llvm") {
      // What the JIT compiles (docs/jit.md): one LLVM function per Ved function.
      std::string text;
      if (!ved::vm::jit::emit_llvm_ir(verified, options_.optimize, text, error))
        throw std::runtime_error(error);
      std::cout << text;
      return {};
    }
    return writes_bundle() ? bundle : std::string();
  }

  bool writes_bundle() const { return !options_.check && !options_.lint && options_.emit.empty(); }

  // Source lines for the disassembly, by file name.
  ved::vm::SourceLookup sources_lookup() const {
    return [this](const std::string& file, uint32_t line) -> std::string {
      for (size_t i = 0; i < sources_.size(); ++i) {
        const auto& f = sources_.file(static_cast<ved::FileId>(i));
        if (f.name() == file) return std::string(f.line_text(line));
      }
      return {};
    };
  }

  // Writes beside a temporary name and renames, so that a failed write never leaves a
  // truncated bundle where a good one was.
  void write_output(ved::FileId id, const std::string& bundle) {
    namespace fs = std::filesystem;
    fs::path out = options_.output.empty() ? fs::path(sources_.file(id).name()).replace_extension(".vedb")
                                           : fs::path(options_.output);
    fs::path tmp = out;
    tmp += ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f.write(bundle.data(), static_cast<std::streamsize>(bundle.size()));
      f.close();
      if (!f) {
        std::error_code ec;
        fs::remove(tmp, ec);
        report_file_error("V-ERR-101", out.string(), "cannot write `" + out.string() + "`",
                          "check that the directory exists and is writable");
        return;
      }
    }
    std::error_code ec;
    fs::rename(tmp, out, ec);
    if (ec) {
      fs::remove(tmp, ec);
      report_file_error("V-ERR-101", out.string(), "cannot write `" + out.string() + "`: " + ec.message(),
                        "check that the directory exists and is writable");
    }
  }

  // A file that cannot be read has no text to point into, so this diagnostic has no
  // source excerpt; it still has its code and a hint.
  void report_unreadable(const std::string& path, const std::string& error) {
    report_file_error("V-ERR-100", path, error, "check the path and the file's permissions");
  }

  void report_file_error(const std::string& code, const std::string& path, const std::string& error,
                         const std::string& help) {
    ++file_errors_;
    if (options_.json) {
      nlohmann::ordered_json j;
      j["code"] = code;
      j["severity"] = "error";
      j["message"] = error;
      j["file"] = path;
      j["line"] = 0;
      j["column"] = 0;
      j["labels"] = nlohmann::ordered_json::array();
      j["help"] = {help};
      j["notes"] = nlohmann::ordered_json::array();
      std::cerr << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    } else {
      std::cerr << "error[" << code << "]: " << error << "\n  = help: " << help << "\n\n";
    }
  }

  const Options& options_;
  ved::SourceManager sources_;
  ved::DiagnosticSink sink_;
  ved::RenderOptions render_;
  std::unique_ptr<ved::ast::Program> prelude_;
  ved::vm::Program against_;
  size_t file_errors_ = 0;
};

int run(int argc, char** argv) {
  // CLI11 has no GCC-style `-Wflag` options; spell `-Werror` as a long flag for it.
  std::vector<std::string> args(argv, argv + argc);
  for (auto& a : args) {
    if (a == "-Werror") a = "--Werror";
  }
  std::vector<char*> argv2;
  for (auto& a : args) argv2.push_back(a.data());

  Options o;
  CLI::App app{"vedc: the Ved compiler.\nCompile with `vedc app.ved`; check with `vedc --check app.ved`."};
  app.name("vedc");
  app.set_version_flag("--version", std::string("vedc ") + VED_VERSION);
  app.add_option("files", o.files, "Ved source files (.ved, .lxm)");
  app.add_option("-o", o.output, "Where to write the bundle (default: beside the first source)");
  app.add_flag("--check", o.check, "Parse and check only; write nothing");
  app.add_flag("--lint", o.lint, "Every check plus lints and notes");
  app.add_option("--emit", o.emit, "Print a form of the program to stdout")
      ->check(CLI::IsMember({"tokens", "ast", "ir", "bytecode", "llvm"}));
  app.add_flag("--json", o.json, "Diagnostics (and --emit output) as JSON, one object per line");
  app.add_option("--explain", o.explain, "Explain a diagnostic code, e.g. V-SYN-005");
  app.add_flag("--Werror", o.werror, "Treat warnings as errors (spelled -Werror)");
  app.add_flag("-O", o.optimize, "With --emit=llvm: the IR as the JIT optimises it");
  app.add_option("--against", o.against,
                 "A deployed bundle: report every domain and message type whose stored data this program could not take over");
  app.add_option("--color", o.color, "Colour diagnostics: auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));

  try {
    app.parse(static_cast<int>(argv2.size()), argv2.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  if (!o.explain.empty()) return explain(o.explain);
  if (o.files.empty()) {
    std::cerr << "vedc: error: no input files\n  = help: try `vedc --check app.ved`, or `vedc --help`\n";
    return kExitUsage;
  }
  return Driver(o).run();
}

}  // namespace

int main(int argc, char** argv) {
  // The parser allocates millions of small objects and frees them together; glibc's
  // fastbins then spend a sixth of a large compile in malloc_consolidate. Turning them
  // off made parsing 24% faster on bench/parse (100k lines: 106k -> 133k lines/s).
  mallopt(M_MXFAST, 0);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "vedc: internal compiler error: " << e.what()
              << "\n  = note: this is a bug in vedc; please report it with the input that caused it\n";
    return kExitInternal;
  } catch (...) {
    std::cerr << "vedc: internal compiler error\n"
              << "  = note: this is a bug in vedc; please report it with the input that caused it\n";
    return kExitInternal;
  }
}
