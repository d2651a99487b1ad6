// The standard library's modules (stdlib/*.ved), compiled into the binary at build time
// (frontend/CMakeLists.txt generates stdlib_sources.cpp from the directory), so vedc and
// vedvm need no files at run time and a program compiles the same wherever it is built.
//
// `import std.NAME` names the module stdlib/NAME.ved. The module `prelude` (the built-in
// effects, observations and records) is imported into every program implicitly.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace ved {

struct StdlibModule {
  std::string_view name;  // "prelude", "math", ...: the file's stem
  std::string_view text;
};

// Every module, sorted by name.
const std::vector<StdlibModule>& stdlib_modules();

// The text of module `name`, or nullopt if there is none.
std::optional<std::string_view> stdlib_module(std::string_view name);

}  // namespace ved
