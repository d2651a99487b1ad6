#include "cluster/member_address.h"

#include <charconv>

#include "cluster/curve_keys.h"

namespace ved::cluster {

bool valid_host_port(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size()) return false;
  unsigned port = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [p, ec] = std::from_chars(first, last, port);
  return ec == std::errc() && p == last && port >= 1 && port <= 65535 && text.find(',') == std::string::npos;
}

bool parse_member_address(const std::string& text, MemberAddress& out, std::string& error) {
  const size_t comma = text.find(",key=");
  out.host_port = text.substr(0, comma);
  out.public_key = comma == std::string::npos ? "" : text.substr(comma + 5);
  if (!valid_host_port(out.host_port)) {
    error = "`" + text + "` is not HOST:PORT";
    return false;
  }
  if (comma != std::string::npos && !is_z85_key(out.public_key)) {
    error = "`" + text + "` carries a malformed public key";
    return false;
  }
  return true;
}

}  // namespace ved::cluster
