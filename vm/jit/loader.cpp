// Opens libved_jit.so (the JIT and LLVM) the first time a JIT is needed.
//
// Linked the ordinary way, LLVM's one shared library (over 100 MB) was mapped and
// relocated at every start of every program that links the VM, `vedvm --version` and
// interpreted runs included, and its address space counted against a run's memory
// limit. Opened here, it costs nothing until --jit asks for it.
//
// Where: $VED_JIT_LIBRARY if set; beside the running executable (the build tree puts
// vedvm and the library in one directory); the install location relative to the
// executable's directory; the build tree's path (test binaries live one level down).
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "vm/jit/jit.h"

#ifndef VED_JIT_INSTALL_RELPATH
#define VED_JIT_INSTALL_RELPATH "../lib/ved/libved_jit.so"
#endif
#ifndef VED_JIT_BUILD_PATH
#define VED_JIT_BUILD_PATH ""
#endif

namespace ved::vm::jit {

namespace {

std::string executable_dir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

struct Library {
  void* handle = nullptr;
  CreateJitFn create = nullptr;
  EmitLlvmFn emit = nullptr;
  std::string error;
};

const Library& library() {
  static Library lib;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("VED_JIT_LIBRARY"); env && *env) candidates.push_back(env);
    const std::string dir = executable_dir();
    if (!dir.empty()) {
      candidates.push_back(dir + "/libved_jit.so");
      candidates.push_back(dir + "/" + VED_JIT_INSTALL_RELPATH);
    }
    if (*VED_JIT_BUILD_PATH) candidates.push_back(VED_JIT_BUILD_PATH);
    std::string tried;
    for (const std::string& path : candidates) {
      if (access(path.c_str(), R_OK) != 0) {
        tried += (tried.empty() ? "" : ", ") + path;
        continue;
      }
      // RTLD_LOCAL: LLVM's symbols stay out of the process's namespace.
      lib.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!lib.handle) {
        lib.error = std::string("cannot load the JIT: ") + dlerror();
        return;
      }
      lib.create = reinterpret_cast<CreateJitFn>(dlsym(lib.handle, "ved_jit_create"));
      lib.emit = reinterpret_cast<EmitLlvmFn>(dlsym(lib.handle, "ved_jit_emit_llvm"));
      if (!lib.create || !lib.emit) lib.error = "cannot load the JIT: " + path + " lacks its entry points";
      return;
    }
    lib.error = "cannot load the JIT: libved_jit.so is not installed (looked for " + tried + ")";
  });
  return lib;
}

}  // namespace

std::unique_ptr<Jit> Jit::create(const Program& program, const std::atomic<bool>* cancelled, std::string& error) {
  const Library& lib = library();
  if (!lib.create) {
    error = lib.error;
    return nullptr;
  }
  if (cancelled && cancelled->load()) {
    error = kCancelled;
    return nullptr;
  }
  static const ThunkTable thunks{
      reinterpret_cast<void*>(&ved_jit_data),      reinterpret_cast<void*>(&ved_jit_scalar_fault),
      reinterpret_cast<void*>(&ved_jit_fault),     reinterpret_cast<void*>(&ved_jit_copy_init),
      reinterpret_cast<void*>(&ved_jit_move),      reinterpret_cast<void*>(&ved_jit_release),
      reinterpret_cast<void*>(&ved_jit_fmod),
  };
  return std::unique_ptr<Jit>(lib.create(&program, &thunks, cancelled, &error));
}

bool emit_llvm_ir(const Program& program, bool optimize, std::string& out, std::string& error) {
  const Library& lib = library();
  if (!lib.emit) {
    error = lib.error;
    return false;
  }
  return lib.emit(&program, optimize, &out);
}

}  // namespace ved::vm::jit
