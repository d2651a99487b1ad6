#include "frontend/imports.h"

#include <filesystem>
#include <map>
#include <string>

#include "frontend/keywords.h"
#include "frontend/parser.h"
#include "frontend/stdlib_sources.h"

namespace ved {

namespace {

namespace fs = std::filesystem;

// Standard library files are named as a user writes them, so a diagnostic inside one
// reads `std.math:12:5`.
std::string std_file_name(const std::string& module) { return "std." + module; }

std::string dotted(const std::vector<ast::Identifier>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ".";
    out += p.name;
  }
  return out;
}

template <class T>
void append(std::vector<T>& into, std::vector<T>& from) {
  for (auto& x : from) into.push_back(std::move(x));
}

class Loader {
 public:
  Loader(SourceManager& sources, DiagnosticSink& sink) : sources_(sources), sink_(sink) {}

  std::unique_ptr<ast::Program> run(const std::vector<FileId>& roots) {
    // Roots are files too: `vedc a.ved b.ved` where a.ved imports b.ved reads b once,
    // and an import of a root that is still being loaded is a cycle like any other.
    // A file named twice (`vedc a.ved ./a.ved`) is one root.
    for (FileId id : roots) key_of_.emplace(key_for_disk(sources_.file(id).name()), id);
    for (FileId id : roots) {
      if (key_of_.at(key_for_disk(sources_.file(id).name())) != id) continue;
      if (state_.count(id) == 0) visit(id);
    }
    if (failed_) return nullptr;
    return merge(roots.front());
  }

 private:
  enum class State { Loading, Done };

  // Files are identified by their canonical path, so `./b.ved`, `b.ved` and
  // `../dir/b.ved` are one file (std modules by their name, which no path can be).
  static std::string key_for_disk(const std::string& path) {
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(fs::absolute(path, ec), ec);
    return ec ? fs::path(path).lexically_normal().string() : canonical.string();
  }

  void visit(FileId id) {
    state_[id] = State::Loading;
    stack_.push_back(id);
    std::unique_ptr<ast::Program> program = parse(sources_, id, sink_);
    if (!program) {
      failed_ = true;
    } else {
      for (const auto& import : program->imports) follow(id, import);
    }
    stack_.pop_back();
    state_[id] = State::Done;
    // Post-order: a file's imports come before it, so merged declarations read in an
    // order that depends only on the files and their import lines.
    if (program) loaded_.push_back(std::move(program));
  }

  void follow(FileId from, const ast::ImportDecl& import) {
    std::string key;
    FileId target = 0;
    if (import.path) {
      if (!resolve_path(from, import, key, target)) return;
    } else {
      if (!resolve_module(import, key, target)) return;
    }
    auto st = state_.find(target);
    if (st == state_.end()) {
      visit(target);
    } else if (st->second == State::Loading) {
      report_cycle(target, import);
    }
    // Done: already loaded through another import (a diamond); nothing to do.
  }

  bool resolve_path(FileId from, const ast::ImportDecl& import, std::string& key, FileId& target) {
    const std::string& importer = sources_.file(from).name();
    if (importer.rfind("std.", 0) == 0) {
      sink_.error("V-ERR-019", import.span, "a standard library module imports a file by path")
          .label("std modules may import only other std modules")
          .help("import the module by name, `import std.NAME`");
      failed_ = true;
      return false;
    }
    fs::path rel(*import.path);
    fs::path dir = fs::path(importer).parent_path();
    fs::path full = rel.is_absolute() ? rel : (dir / rel).lexically_normal();
    key = key_for_disk(full.string());
    auto known = key_of_.find(key);
    if (known != key_of_.end()) {
      target = known->second;
      return true;
    }
    std::string error;
    if (!sources_.add_from_disk(full.string(), target, error)) {
      std::string shown = dir.empty() ? std::string(".") : dir.string();
      sink_.error("V-ERR-019", import.span, "cannot import `" + *import.path + "`: no such file, or it cannot be read")
          .label("looked for `" + full.string() + "`")
          .help("an import path is relative to the directory of the file that imports it (`" + shown +
                "`); check the path and the file's permissions");
      failed_ = true;
      return false;
    }
    key_of_.emplace(key, target);
    return true;
  }

  bool resolve_module(const ast::ImportDecl& import, std::string& key, FileId& target) {
    std::string name = dotted(import.module);
    std::vector<std::string> names;
    for (const auto& m : stdlib_modules()) names.push_back("std." + std::string(m.name));
    if (name.rfind("std.", 0) != 0 || import.module.size() != 2) {
      auto d = sink_.error("V-ERR-019", import.span, "no module `" + name + "`");
      d.label("only standard library modules are imported by name");
      d.help("import a file of your own by its path in quotes, `import \"" + (import.module.empty() ? std::string("file") : import.module.back().name) +
             ".ved\"`; the standard library's modules are " + join_names(names));
      failed_ = true;
      return false;
    }
    std::string module = import.module[1].name;
    // The prelude is imported into every program already; naming it is harmless.
    if (module == "prelude") return false;
    auto text = stdlib_module(module);
    if (!text) {
      std::vector<std::string_view> views(names.begin(), names.end());
      auto d = sink_.error("V-ERR-019", import.span, "no standard library module `" + name + "`");
      d.label("not in the standard library");
      if (auto near = nearest_word(name, views)) d.help("did you mean `" + std::string(*near) + "`?");
      d.help("the standard library's modules are " + join_names(names));
      failed_ = true;
      return false;
    }
    key = std_file_name(module);
    auto known = key_of_.find(key);
    if (known != key_of_.end()) {
      target = known->second;
      return true;
    }
    target = sources_.add(key, std::string(*text));
    key_of_.emplace(key, target);
    return true;
  }

  static std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
      if (n == "std.prelude") continue;  // implicit, never needs naming
      if (!out.empty()) out += ", ";
      out += "`" + n + "`";
    }
    return out.empty() ? std::string("(none)") : out;
  }

  // `import` closes a cycle: `target` is on the stack of files being loaded.
  void report_cycle(FileId target, const ast::ImportDecl& import) {
    std::string chain;
    bool in_cycle = false;
    for (FileId f : stack_) {
      if (f == target) in_cycle = true;
      if (!in_cycle) continue;
      chain += "`" + sources_.file(f).name() + "`" + (chain.empty() ? " imports " : ", which imports ");
    }
    chain += "`" + sources_.file(target).name() + "`";
    sink_.error("V-ERR-020", import.span, "import cycle: " + chain)
        .label("this import leads back to a file that is still being loaded")
        .help("move the declarations these files share into a file that each of them imports, and remove one "
              "import of the cycle");
    failed_ = true;
  }

  std::unique_ptr<ast::Program> merge(FileId root) {
    auto out = std::make_unique<ast::Program>();
    out->file = root;
    out->mode = ast::FileMode::Script;
    const ast::DomainDecl* implicit_main = nullptr;
    for (auto& p : loaded_) {
      for (auto& d : p->domains) {
        if (!d.implicit) continue;
        if (implicit_main) {
          sink_.error("V-ERR-021", d.span, "script-mode members in more than one file")
              .label("this file's top-level state, goals or transitions make a second implicit `Main`")
              .secondary(implicit_main->span, "the first implicit `Main` is here")
              .help("keep script-mode members in one file, or put each file's members in a named `domain`");
          failed_ = true;
        }
        implicit_main = &d;
      }
      if (p->mode == ast::FileMode::System) out->mode = ast::FileMode::System;
    }
    if (failed_) return nullptr;
    for (auto& p : loaded_) {
      append(out->domains, p->domains);
      append(out->fns, p->fns);
      append(out->types, p->types);
      append(out->effects, p->effects);
      append(out->observations, p->observations);
      append(out->authorities, p->authorities);
      append(out->systems, p->systems);
      append(out->environments, p->environments);
      append(out->deploys, p->deploys);
      append(out->migrations, p->migrations);
      append(out->tests, p->tests);
      append(out->imports, p->imports);
    }
    return out;
  }

  SourceManager& sources_;
  DiagnosticSink& sink_;
  std::map<std::string, FileId> key_of_;
  std::map<FileId, State> state_;
  std::vector<FileId> stack_;
  std::vector<std::unique_ptr<ast::Program>> loaded_;
  bool failed_ = false;
};

}  // namespace

std::unique_ptr<ast::Program> load_program(SourceManager& sources, const std::vector<FileId>& roots,
                                           DiagnosticSink& sink) {
  if (roots.empty()) return nullptr;
  return Loader(sources, sink).run(roots);
}

std::unique_ptr<ast::Program> load_prelude(SourceManager& sources, DiagnosticSink& sink) {
  auto text = stdlib_module("prelude");
  if (!text) return nullptr;
  FileId id = sources.add(std_file_name("prelude"), std::string(*text));
  return parse(sources, id, sink);
}

}  // namespace ved
