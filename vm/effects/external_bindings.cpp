#include "vm/effects/external_bindings.h"

#include <algorithm>
#include <map>
#include <memory>

#include "vm/effects/external_adapter.h"

namespace ved::vm {

bool bind_external_adapters(const Program& program, const std::vector<std::string>& specs, int timeout_ms,
                            AdapterSet& set, bool& unreachable, std::string& error) {
  std::map<std::string, std::shared_ptr<ExternalAdapter>> connected;  // by endpoint: one connection each
  for (const auto& a : specs) {
    const size_t eq = a.find('=');
    if (eq == std::string::npos) {
      error = "--adapter " + a + ": expected NAME=tcp://HOST:PORT";
      return false;
    }
    const std::string name = a.substr(0, eq), endpoint = a.substr(eq + 1);
    const auto named = [&](const ExternalInfo& e) { return e.name == name; };
    if (std::none_of(program.effects.begin(), program.effects.end(), named) &&
        std::none_of(program.observations.begin(), program.observations.end(), named)) {
      error = "--adapter " + a + ": the program has no effect or observation `" + name + "`";
      return false;
    }
    auto& adapter = connected[endpoint];
    if (!adapter && !(adapter = connect_external_adapter(program, endpoint, timeout_ms, error))) {
      error = "--adapter " + a + ": " + error;
      unreachable = true;
      return false;
    }
    const bool effect = adapter->serves_effect(name), observation = adapter->serves_observation(name);
    if (!effect && !observation) {
      error = "--adapter " + a + ": the adapter at " + endpoint + " does not serve `" + name + "`";
      return false;
    }
    if (effect) set.bind_effect(name, adapter);
    if (observation) set.bind_observation(name, adapter);
  }
  return true;
}

}  // namespace ved::vm
