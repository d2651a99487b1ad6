#include "vm/effects/lazy_library.h"

#include <dlfcn.h>

namespace ved::vm {

void* LazyLibrary::function(const char* name) {
  std::call_once(opened_, [this] {
    // RTLD_LOCAL: its symbols stay out of the global scope, so nothing else binds to them.
    handle_ = ::dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
      const char* why = ::dlerror();
      std::lock_guard lock(mu_);
      error_ = std::string("cannot load ") + soname_ + ": " + (why ? why : "unknown error");
    }
  });
  if (!handle_) return nullptr;
  void* f = ::dlsym(handle_, name);
  if (!f) {
    std::lock_guard lock(mu_);
    error_ = std::string(soname_) + " has no function `" + name + "`";
  }
  return f;
}

std::string LazyLibrary::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

}  // namespace ved::vm
