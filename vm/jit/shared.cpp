// One JIT per program per process (shared.h says why).
#include "vm/jit/shared.h"

#include <map>

namespace ved::vm::jit {

std::shared_ptr<SharedJit> SharedJit::of(const Program& program, std::string& error) {
  static std::mutex registry_mutex;
  // Looked up by the program's address only, never iterated: nothing depends on the order
  // of addresses. An entry whose JIT was released is replaced.
  static std::map<const Program*, std::weak_ptr<SharedJit>> registry;
  std::lock_guard<std::mutex> lock(registry_mutex);
  std::weak_ptr<SharedJit>& entry = registry[&program];
  if (std::shared_ptr<SharedJit> held = entry.lock()) return held;
  std::unique_ptr<Jit> made = Jit::create(program, error);
  if (!made) {
    registry.erase(&program);
    return nullptr;
  }
  auto shared = std::make_shared<SharedJit>(std::move(made));
  entry = shared;
  return shared;
}

bool SharedJit::compilable(uint32_t fn) {
  std::lock_guard<std::mutex> lock(mutex_);
  return jit_->compilable(fn);
}

bool SharedJit::compile(uint32_t fn, std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  return jit_->compile(fn, error);
}

bool SharedJit::compile_all(std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  return jit_->compile_all(error);
}

NativeFunction SharedJit::native(uint32_t fn) {
  std::lock_guard<std::mutex> lock(mutex_);
  return jit_->native(fn);
}

Jit::Stats SharedJit::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return jit_->stats();
}

}  // namespace ved::vm::jit
