// Shared by the checker's translation units. Not part of the front end's interface.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "frontend/checker.h"

namespace ved::check_detail {

struct CheckState {
  ProgramModel& model;
  DiagnosticSink& sink;
  const CheckOptions& options;
  const ast::Program& program;
  // Usage, for lints (recorded only when linting): fields read and transitions
  // referenced, per domain.
  std::map<std::string, std::set<std::string>> fields_read;
  std::map<std::string, std::set<std::string>> transitions_referenced;
};

// Declarations (declarations.cpp): fills the model's symbol tables.
void collect_declarations(const ast::Program& prelude, const ast::Program& program, CheckState& state);
// Resolves a written type; reports V-TYP-003 for unknown names.
TypeRef resolve_type(const ast::TypeExpr& written, CheckState& state);

// Records (record_cycles.cpp): V-TYP-019 for a record that contains itself by value.
void check_record_cycles(const ast::Program& program, CheckState& state);

// Bodies (body_checker.cpp).
void check_domain_bodies(const DomainSym& domain, CheckState& state);
void check_fn_bodies(CheckState& state);

// Goals (goal_checks.cpp): priorities, strategies, conflicts; fills model.goals.
void check_goals(const DomainSym& domain, CheckState& state);

// `system`, `environment`, `deploy`, `migration`, `test` (orchestration_checks.cpp).
void check_orchestration(CheckState& state);

// Lints and notes (lints.cpp), only with CheckOptions::lint.
void run_lints(CheckState& state);

// The domain called `name`, or nullptr after reporting V-TYP-006.
const DomainSym* require_domain(const ast::Identifier& name, CheckState& state);

// "did you mean" over names.
std::string suggestion(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace ved::check_detail
