// One JIT per program per process.
//
// Every Interpreter of a program (a run's runtime; under `vedvm test`, each test and the
// runtime it makes) used to make its own LLJIT and compile the same functions again:
// `vedvm --jit=all test` on examples/tests/pool.ved made eight JITs and spent 40 times
// the interpreter's time in LLVM. Interpreters of one program now share one JIT and the
// machine code it made. Sharing changes nothing a run computes: compiled functions are
// pure code, and each Interpreter runs them with its own context and registers.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "vm/jit/jit.h"

namespace ved::vm::jit {

class SharedJit {
 public:
  // The JIT of `program` in this process, made (libved_jit.so loaded) if no Interpreter
  // holds one; null with `error` when it cannot be made. It lives while an Interpreter
  // holds it: the Interpreters of a program never outlive it, so a program made later at
  // the same address finds none.
  static std::shared_ptr<SharedJit> of(const Program& program, std::string& error);

  // Jit's operations, one thread at a time (interpreters of one program may run on
  // different threads).
  bool compilable(uint32_t fn);
  bool compile(uint32_t fn, std::string& error);
  bool compile_all(std::string& error);
  NativeFunction native(uint32_t fn);
  Jit::Stats stats();

  explicit SharedJit(std::unique_ptr<Jit> jit) : jit_(std::move(jit)) {}

 private:
  std::mutex mutex_;
  std::unique_ptr<Jit> jit_;
};

}  // namespace ved::vm::jit
