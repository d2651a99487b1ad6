// Binding external adapters by name (`--adapter NAME=tcp://HOST:PORT`, for `vedvm` runs
// and for cluster nodes alike): each endpoint is connected once, asked what it serves,
// and bound to every effect or observation of the program named for it.
#pragma once

#include <string>
#include <vector>

#include "vm/effects/adapter.h"
#include "vm/program.h"

namespace ved::vm {

// Binds each `NAME=ENDPOINT` of `specs` in `set` (over what is bound there). False with
// `error` naming the spec when one is malformed, names nothing of the program, or its
// adapter cannot be reached (`unreachable` then set) or does not serve NAME. `timeout_ms`
// bounds the connection and is each request's timeout afterwards.
bool bind_external_adapters(const Program& program, const std::vector<std::string>& specs, int timeout_ms,
                            AdapterSet& set, bool& unreachable, std::string& error);

}  // namespace ved::vm
