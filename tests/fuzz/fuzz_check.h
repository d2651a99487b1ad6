// FUZZ_CHECK: an invariant of a fuzz target. A violation prints where and why, then traps,
// so that libFuzzer saves the input as a crash.
#pragma once

#include <cstdio>
#include <string>

namespace ved::fuzz {

// The target's name, for the report (`==fuzz_parser== invariant violated at ...`).
extern const char* const kTargetName;

[[noreturn]] inline void invariant_violated(const char* what, const char* file, int line, const std::string& detail) {
  std::fprintf(stderr, "\n==%s== invariant violated at %s:%d: %s\n", kTargetName, file, line, what);
  if (!detail.empty()) std::fprintf(stderr, "==%s== %s\n", kTargetName, detail.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

}  // namespace ved::fuzz

#define FUZZ_CHECK(cond, detail)                                                  \
  do {                                                                            \
    if (!(cond)) ::ved::fuzz::invariant_violated(#cond, __FILE__, __LINE__, (detail)); \
  } while (0)
