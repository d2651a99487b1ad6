// The text of stdlib/prelude.ved, compiled into the binary at build time
// (frontend/CMakeLists.txt generates prelude_source.cpp from it).
#pragma once

#include <string_view>

namespace ved {

std::string_view prelude_source();

}  // namespace ved
