// A seeded generator of random well-typed Ved programs, for differential testing of the
// engines (tests/jit/differential_test.cpp, scripts/fuzz-jit.sh).
//
// A program is a few helper fns (ints, floats, bools, strings, lists; loops, branches,
// calls of earlier helpers, asserts) and `fn main(n: int) -> string`, which prints what
// it computed. Literals near the int limits, divisions, indices and asserts make faults
// likely; the caller varies `n` and the fuel so that budget faults land anywhere. The
// same seed gives the same text on every machine (its own PRNG, no std distributions).
#pragma once

#include <cstdint>
#include <string>

namespace ved::jit_test {

std::string generate_program(uint64_t seed);
// The same helpers, and `domain D { state { out: string } transition Go(n: int) { ... } }`
// whose body `yield`s between statements, so that locals live across slices: for
// comparing continuations and slices run under different engines.
std::string generate_transition_program(uint64_t seed);

// The generator's PRNG (splitmix64): also used by the test to pick arguments and fuel.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform enough in [0, n) for test generation (n small).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
  bool chance(uint32_t percent) { return below(100) < percent; }

 private:
  uint64_t state_;
};

}  // namespace ved::jit_test
