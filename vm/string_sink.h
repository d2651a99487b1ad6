// A msgpack output stream that writes into a std::string: a record is packed straight
// into the string its caller keeps, with no buffer of msgpack's own to allocate and copy
// out of (both happened for every record, message and value a tick encodes).
#pragma once

#include <cstddef>
#include <string>

namespace ved::vm {

struct StringSink {
  std::string& out;
  void write(const char* data, size_t size) { out.append(data, size); }
};

}  // namespace ved::vm
