// A deterministic generator of large, syntactically valid Ved programs for the parse
// benchmark.
//
// The program is in system mode and is built from "clusters": each cluster is a small,
// self-consistent application (records, effects, an observation, a function, two
// Style A domains in the compact `.lxm` spelling, two Style B domains in the docs
// spelling, an environment, deploys, a migration and a test). Every cluster contains
// every construct the grammar accepts, so even a small program covers the whole
// grammar; the clusters differ in their names, their literals, and a seeded number of
// extra state fields, transitions and statements, so the parser does not see one
// block of text repeated verbatim. Output depends only on the options: the same
// options give the same bytes on every machine and run.
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
