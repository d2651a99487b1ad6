// An instance's random generator (language.md §9): PCG32 from pcg-cpp (Debian's
// libpcg-cpp-dev), a fixed, published algorithm, so the same seed gives the same draws
// on every machine and in every release.
//
// Its position is (seed, draws): PCG jumps ahead in O(log n) steps, so the generator is
// stored and hashed as two numbers, not as the engine's printed state.
#pragma once

#include <cstdint>
#include <pcg_random.hpp>

namespace ved::vm {

class Random {
 public:
  explicit Random(uint64_t seed = 0) : engine_(seed), seed_(seed) {}
  // The generator seeded with `seed` after `draws` 32-bit outputs.
  Random(uint64_t seed, uint64_t draws) : engine_(seed), seed_(seed), draws_(draws) { engine_.advance(draws); }

  // A uniform draw in [0, bound) for bound >= 1: two 32-bit outputs make a 64-bit word,
  // and words below 2^64 mod bound are redrawn so that every result is equally likely.
  int64_t below(int64_t bound) {
    const uint64_t n = static_cast<uint64_t>(bound);
    const uint64_t threshold = (0 - n) % n;
    while (true) {
      uint64_t hi = engine_();
      uint64_t lo = engine_();
      draws_ += 2;
      uint64_t word = (hi << 32) | lo;
      if (word >= threshold) return static_cast<int64_t>(word % n);
    }
  }

  uint64_t seed() const { return seed_; }
  uint64_t draws() const { return draws_; }

 private:
  pcg32 engine_;
  uint64_t seed_ = 0;
  uint64_t draws_ = 0;
};

}  // namespace ved::vm
