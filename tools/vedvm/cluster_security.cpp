#include <iostream>

#include "tools/vedvm/cluster_commands.h"

namespace vedvm {

bool read_security(const SecurityFlags& flags, ved::cluster::Security& out) {
  out = ved::cluster::Security{};
  if (flags.insecure) {
    if (!flags.key_dir.empty() || !flags.trust_dir.empty()) {
      std::cerr << "vedvm: error: --insecure (plaintext) and --key/--trust (CURVE) exclude each other\n";
      return false;
    }
    out.insecure = true;
    return true;
  }
  if (flags.key_dir.empty() || flags.trust_dir.empty()) {
    std::cerr << "vedvm: error: cluster traffic is encrypted and authenticated with CURVE: give --key DIR (this "
                 "participant's pair, from `vedvm keygen --out DIR`) and --trust DIR (the public keys allowed in); "
                 "plaintext only with --insecure on every participant\n";
    return false;
  }
  std::string error;
  if (!ved::cluster::read_key_pair(flags.key_dir, out.own, error) ||
      !ved::cluster::read_trusted_keys(flags.trust_dir, out.trusted, error)) {
    std::cerr << "vedvm: error: " << error << "\n";
    return false;
  }
  return true;
}

}  // namespace vedvm
