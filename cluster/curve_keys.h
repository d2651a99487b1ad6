// CURVE keys (ZeroMQ's built-in encryption and authentication) for nodes and clients.
// A key is 32 bytes, kept as 40 characters of Z85 text, one per file:
//   `vedvm keygen --out DIR` writes DIR/secret.key (mode 0600) and DIR/public.key;
//   `--key DIR` reads a participant's own pair from there;
//   `--trust DIR` reads the public keys allowed in: every `public.key` or `*.pub` file in
//   DIR and in its sub-folders (one folder per participant, as keygen makes them).
#pragma once

#include <set>
#include <string>

namespace ved::cluster {

struct KeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;
};

// How a participant talks: CURVE with its key pair and the keys it trusts, or plaintext.
struct Security {
  bool insecure = false;
  KeyPair own;
  std::set<std::string> trusted;  // Z85 public keys
};

bool generate_key_pair(const std::string& dir, KeyPair& out, std::string& error);
bool read_key_pair(const std::string& dir, KeyPair& out, std::string& error);
bool read_trusted_keys(const std::string& dir, std::set<std::string>& out, std::string& error);
// Whether `text` is a well-formed Z85 key (40 characters of the Z85 alphabet).
bool is_z85_key(const std::string& text);

}  // namespace ved::cluster
