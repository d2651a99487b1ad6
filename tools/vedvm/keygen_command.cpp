#include <iostream>

#include "tools/vedvm/cluster_commands.h"
#include "tools/vedvm/commands.h"

namespace vedvm {

int keygen(const std::string& out_dir) {
  ved::cluster::KeyPair pair;
  std::string error;
  if (!ved::cluster::generate_key_pair(out_dir, pair, error)) {
    std::cerr << "vedvm: error: " << error << "\n";
    return kExitError;
  }
  std::cout << "wrote " << out_dir << "/secret.key (keep it private) and " << out_dir << "/public.key: " << pair.public_key
            << "\n";
  return kExitOk;
}

}  // namespace vedvm
