#include "vm/effects/builtin_adapters.h"

#include <iostream>
#include <string>

namespace ved::vm {

namespace {

// `(string, string) -> unit`, for comparing with the prelude's signatures.
std::string signature(const Program& p, const ExternalInfo& e) {
  std::string s = "(";
  for (size_t i = 0; i < e.params.size(); ++i) s += (i ? ", " : "") + type_text(p, e.params[i].type);
  return s + ") -> " + type_text(p, e.result);
}

// The prelude's signatures (stdlib/prelude.ved): what the adapters below implement.
struct StdlibExternal {
  const char* name;
  const char* signature;
};
constexpr StdlibExternal kFileEffects[] = {{"System.WriteFile", "(string, string) -> unit"},
                                    {"System.AppendFile", "(string, string) -> unit"},
                                    {"System.DeleteFile", "(string) -> unit"}};
constexpr StdlibExternal kLogEffects[] = {{"Log.Info", "(string) -> unit"}, {"Log.Warn", "(string) -> unit"}};
constexpr StdlibExternal kHttpEffects[] = {{"Net.HttpGet", "(string) -> string"}, {"Net.HttpPost", "(string, string) -> string"}};
constexpr StdlibExternal kProcessEffects[] = {{"Process.Run", "(list<string>) -> string"}};
constexpr StdlibExternal kObservations[] = {{"System.file_exists", "(string) -> bool"},
                                     {"System.read_file", "(string) -> string?"},
                                     {"System.env", "(string) -> string?"}};

// Binds the effects of `table` the program declares with the prelude's signature; a
// program that declares one differently gets no adapter for it rather than one that
// would hand back values of the wrong type.
template <size_t N>
void bind_effects(const Program& program, const StdlibExternal (&table)[N], const std::shared_ptr<EffectAdapter>& adapter,
                  AdapterSet& set) {
  for (const auto& e : program.effects)
    for (const StdlibExternal& b : table)
      if (e.name == b.name && signature(program, e) == b.signature) set.bind_effect(e.name, adapter);
}

}  // namespace

void bind_builtin_adapters(const Program& program, const BuiltinAdapterOptions& options, AdapterSet& set) {
  auto root = std::make_shared<const FsRoot>(options.fs_root);
  bind_effects(program, kFileEffects, make_file_effects(root), set);
  bind_effects(program, kLogEffects, make_log_effects(options.log ? *options.log : std::cerr), set);
  bind_effects(program, kHttpEffects, make_http_effects({options.http_timeout_ms, options.max_output_bytes}), set);
  bind_effects(program, kProcessEffects,
               make_process_effect({options.allow_exec, root->root(), options.process_timeout_ms, options.max_output_bytes}),
               set);
  auto observations = make_builtin_observations(root, options.max_output_bytes);
  for (const auto& o : program.observations)
    for (const StdlibExternal& b : kObservations)
      if (o.name == b.name && signature(program, o) == b.signature) set.bind_observation(o.name, observations);
}

}  // namespace ved::vm
