// `vedc --emit=ir`: the module as text, for people (not a format anything reads back).
#pragma once

#include <string>

#include "frontend/source_manager.h"
#include "ir/module.h"

namespace ved::ir {

std::string type_name(const Module& m, TypeId t);
std::string print_module(const Module& m, const SourceManager& sources);

}  // namespace ved::ir
