// `vedc --emit=bytecode`: a verified program as text, with source lines beside the code.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "vm/program.h"

namespace ved::vm {

// The text of a source line (1-based), or "" when unknown.
using SourceLookup = std::function<std::string(const std::string& file, uint32_t line)>;

std::string disassemble(const Program& program, const SourceLookup& lookup);

// Loads (and so verifies) `bytes`, then disassembles. False with `error` if the bundle
// is rejected.
bool disassemble_bundle(std::string_view bytes, const SourceLookup& lookup, std::string& out, std::string& error);

}  // namespace ved::vm
