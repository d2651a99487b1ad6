#include "frontend/checker.h"

#include "frontend/checker_internal.h"
#include "frontend/parser.h"
#include "frontend/imports.h"

namespace ved {

std::optional<Privilege> parse_privilege(const std::string& w) {
  if (w == "pure") return Privilege::Pure;
  if (w == "local") return Privilege::Local;
  if (w == "service") return Privilege::Service;
  if (w == "infrastructure") return Privilege::Infrastructure;
  if (w == "root") return Privilege::Root;
  return std::nullopt;
}

const char* privilege_name(Privilege p) {
  switch (p) {
    case Privilege::Pure: return "pure";
    case Privilege::Local: return "local";
    case Privilege::Service: return "service";
    case Privilege::Infrastructure: return "infrastructure";
    case Privilege::Root: return "root";
  }
  return "?";
}

std::unique_ptr<ast::Program> parse_prelude(SourceManager& sources, DiagnosticSink& sink) {
  return load_prelude(sources, sink);
}

std::unique_ptr<ProgramModel> check_program(const ast::Program& prelude, const ast::Program& program,
                                            DiagnosticSink& sink, const CheckOptions& options) {
  auto model = std::make_unique<ProgramModel>();
  check_detail::CheckState state{*model, sink, options, program, {}, {}};
  check_detail::collect_declarations(prelude, program, state);
  for (const auto& d : model->domains) {
    check_detail::check_domain_bodies(d, state);
    check_detail::check_goals(d, state);
  }
  check_detail::check_fn_bodies(state);
  check_detail::check_orchestration(state);
  if (options.lint) check_detail::run_lints(state);
  return model;
}

}  // namespace ved
