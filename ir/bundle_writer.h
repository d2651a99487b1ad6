// Writes a Module as a .vedb bundle (docs/bundle.md): the compiler's half of the only
// contract between compiler and VM.
#pragma once

#include <string>

#include "frontend/source_manager.h"
#include "ir/module.h"

namespace ved::ir {

// The bundle's bytes. Deterministic: the same module gives the same bytes. Operands that
// do not fit the instruction encoding (more than 65,534 registers in one function, ...)
// are reported in `error` and the result is empty.
std::string write_bundle(const Module& module, const SourceManager& sources, const std::string& compiler_version,
                         std::string& error);

}  // namespace ved::ir
