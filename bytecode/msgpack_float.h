// A double as a msgpack float64, always. msgpack-c's pack_double writes a whole-number
// double as an integer, which loses its type (and the sign of -0.0); bundles
// (ir/bundle_writer.cpp) and stored values (vm/value_codec.cpp) write floats with this.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

namespace ved::bytecode {

inline std::array<char, 9> msgpack_float64(double f) {
  uint64_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  std::array<char, 9> out;
  out[0] = static_cast<char>(0xcb);
  for (int i = 0; i < 8; ++i) out[1 + static_cast<size_t>(i)] = static_cast<char>(bits >> (56 - 8 * i));
  return out;
}

}  // namespace ved::bytecode
