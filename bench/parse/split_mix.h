// SplitMix64: a tiny, fully specified PRNG. The generator must produce the same
// program everywhere, so it cannot use <random> distributions (their algorithms are
// implementation-defined) or any seed taken from the clock.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ved::bench {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform enough in [0, n) for picking shapes of test programs (modulo bias is
  // irrelevant here). `n` must be positive.
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  // In [lo, hi].
  size_t between(size_t lo, size_t hi) { return lo + below(hi - lo + 1); }
  // True with probability `percent`/100.
  bool chance(unsigned percent) { return below(100) < percent; }

 private:
  uint64_t state_;
};

}  // namespace ved::bench
