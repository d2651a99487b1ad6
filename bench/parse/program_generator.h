// A deterministic generator of large, syntactically valid Ved programs for the parse
// benchmark.
//
// The program is in system mode and is built from "clusters": each cluster is a small
// application (a record, effects, an observation, a function, two Style A domains in
// the compact `.lxm` spelling, two Style B domains in the docs spelling, an
// environment, deploys, a migration and a test). Every cluster uses every declaration,
// goal item, transition form and statement form of the grammar, so even the smoke-size
// program covers it all; the once-per-program pieces (imports, the authority tree, the
// system block) frame the clusters. Clusters differ in their names, literals and a
// seeded number of extra state fields, transitions and random statements, so the
// parser does not see one block of text repeated verbatim.
//
// Only syntax is the point: declarations refer to each other plausibly (sends target
// existing domains, strategies name existing transitions), but the random expressions
// are neither type-correct nor always name-correct. Script mode (top-level `state`/`goal`/...) cannot be mixed with
// system mode in one file (V-SYN-003) and so is not generated.
//
// Output depends only on the options: the same options give the same bytes on every
// machine and run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ved::bench {

struct GeneratorOptions {
  // The program stops growing at the first cluster boundary at or past this many lines.
  size_t target_lines = 100'000;
  uint64_t seed = 0x5EDC0DE0BE7CULL;
};

struct GeneratedProgram {
  std::string text;
  size_t lines = 0;
  size_t clusters = 0;
  size_t domains = 0;  // explicit `domain` declarations, for checking the AST
};

GeneratedProgram generate_program(const GeneratorOptions& options);

}  // namespace ved::bench
