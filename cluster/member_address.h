// A member's address as Raft's configuration holds it: "HOST:PORT" in a cluster that
// runs --insecure, "HOST:PORT,key=<Z85 public key>" with CURVE. Keeping the key in the
// address means every node knows how to reach, and authenticate, every other member
// from the replicated configuration alone, before any journal entry is applied.
#pragma once

#include <string>

namespace ved::cluster {

struct MemberAddress {
  std::string host_port;   // HOST:PORT
  std::string public_key;  // "" when plaintext
  std::string endpoint() const { return "tcp://" + host_port; }
  std::string text() const { return public_key.empty() ? host_port : host_port + ",key=" + public_key; }
};

// False with `error` when `text` is not HOST:PORT[,key=Z85].
bool parse_member_address(const std::string& text, MemberAddress& out, std::string& error);
// HOST:PORT with a port in 1..65535 and a non-empty host.
bool valid_host_port(const std::string& text);

}  // namespace ved::cluster
