#include "effects_support.h"

#include <unistd.h>

#include <atomic>
#include <stdexcept>

#include "frontend/diagnostic.h"
#include "frontend/source_manager.h"
#include "ir/bundle_writer.h"
#include "ir/compile.h"
#include "vm/bundle_loader.h"

namespace ved::effects_test {

std::unique_ptr<vm::Program> compile_program(const std::string& source) {
  SourceManager sources;
  DiagnosticSink sink;
  FileId file = sources.add("test.ved", source);
  ir::Compilation compiled = ir::compile_file(sources, file, sink);
  std::string problems;
  for (const auto& d : sink.diagnostics())
    if (d.severity == Severity::Error) problems += d.code + ": " + d.message + "\n";
  if (!compiled.module || sink.has_errors()) throw std::runtime_error("does not compile:\n" + problems);
  std::string error;
  std::string bundle = ir::write_bundle(*compiled.module, sources, "effects test", error);
  if (bundle.empty()) throw std::runtime_error("write_bundle: " + error);
  auto program = std::make_unique<vm::Program>();
  if (!vm::load_bundle(bundle, *program, error)) throw std::runtime_error("load_bundle: " + error);
  return program;
}

uint32_t effect_index(const vm::Program& program, const std::string& name) {
  for (uint32_t e = 0; e < program.effects.size(); ++e)
    if (program.effects[e].name == name) return e;
  throw std::runtime_error("the program has no effect " + name);
}

vm::EffectRequest request_for(const vm::Program& program, const std::string& name, std::vector<vm::Value> args,
                              uint64_t ordinal) {
  vm::EffectRequest r;
  r.effect = effect_index(program, name);
  const vm::ExternalInfo& e = program.effects[r.effect];
  r.intent_id = "1-" + std::to_string(ordinal);
  r.instance = "Test";
  r.effect_name = name;
  for (const auto& p : e.params) r.param_names.push_back(p.name);
  r.args = std::move(args);
  r.result_type = e.result;
  r.ordinal = ordinal;
  return r;
}

}  // namespace ved::effects_test
