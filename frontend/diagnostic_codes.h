// The registry of every diagnostic code the toolchain can emit.
//
// Codes are stable: once published, a code keeps its meaning and a retired code is
// never reused. Each entry carries the text `vedc --explain CODE` prints. A test checks
// that every code used anywhere in the sources is registered here.
#pragma once

#include <string_view>
#include <vector>

namespace ved {

struct DiagnosticCodeInfo {
  std::string_view code;         // "V-SYN-005"
  std::string_view title;        // one line
  std::string_view explanation;  // a paragraph
  std::string_view example;      // a program fragment that triggers it, with a fix
};

const std::vector<DiagnosticCodeInfo>& all_diagnostic_codes();
const DiagnosticCodeInfo* find_diagnostic_code(std::string_view code);

}  // namespace ved
