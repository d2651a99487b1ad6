// Reading a .vedb bundle: decode (bundle_loader.cpp), then verify (verifier.cpp).
//
// Nothing in a bundle is trusted. A truncated, garbled, bit-flipped, wrong-version or
// hostile bundle is rejected with a message that names what is wrong and where
// (`functions[3] "fib": block 2, instruction 1: register 40 out of range (12
// registers)`); nothing runs until the whole program has been verified.
#pragma once

#include <string>
#include <string_view>

#include "vm/program.h"

namespace ved::vm {

struct LoadOptions {
  // Check the body's XXH64 against the envelope's. Only the loader's fuzz target turns
  // this off, so that mutations reach the decoder and the verifier.
  bool check_hash = true;
};

// Returns true and fills `out`, or returns false with `error` set.
bool load_bundle(std::string_view bytes, Program& out, std::string& error, const LoadOptions& options = {});

// The verifier alone, on a decoded program (load_bundle calls it).
bool verify_program(Program& program, std::string& error);

}  // namespace ved::vm
