// The JIT: compiles a verified program's functions to machine code with LLVM's ORC
// LLJIT, one LLVM function per Ved function (fn, transition, predicate, ...), from the
// bytecode (never the AST). docs/jit.md explains the design.
//
// This header has no LLVM types, so that only vm/jit/compiler.cpp pays for LLVM's
// headers. The interpreter owns a Jit and calls compiled functions through
// native_abi.h's one signature.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vm/jit/native_abi.h"
#include "vm/program.h"

namespace ved::vm::jit {

// Which functions can be compiled: every instruction is one the compiler knows, and
// every function it calls can be compiled too (compiled code never calls back into the
// interpreter). The others run interpreted; `reason` says why, for `vedvm stats` and
// for debugging.
struct Compilability {
  std::vector<bool> ok;              // per function
  std::vector<std::string> reason;   // per function, "" when ok
};
Compilability analyse(const Program& program);

// A JIT for one program. LLVM lives in a library of its own, libved_jit.so, opened with
// dlopen the first time a JIT is made (loader.cpp): a process that only interprets
// never maps LLVM (start-up time, and address space under a memory limit).
class Jit {
 public:
  virtual ~Jit() = default;

  // Loads libved_jit.so on first use and makes a JIT for `program`; null (with `error`)
  // when the library cannot be loaded or LLVM cannot make a JIT for this machine.
  // `cancelled` (null: never), once true, makes the making and any compile in progress
  // give up as soon as they can (before the LLJIT is made; between LLVM's optimisation
  // passes; before code generation), failing with kCancelled: the owner of a JIT
  // compiling in the background sets it when it no longer wants the result.
  static std::unique_ptr<Jit> create(const Program& program, const std::atomic<bool>* cancelled, std::string& error);
  static constexpr const char* kCancelled = "cancelled";

  virtual bool compilable(uint32_t fn) const = 0;
  // Compiles `fn` and every compilable function it calls, transitively, that is not
  // compiled yet, in one LLVM module. False (with `error`) if LLVM failed; the functions
  // then stay interpreted.
  virtual bool compile(uint32_t fn, std::string& error) = 0;
  // Compiles every compilable function (--jit=all).
  virtual bool compile_all(std::string& error) = 0;
  // The machine code of `fn`, or null while it is interpreted.
  virtual NativeFunction native(uint32_t fn) const = 0;

  // What has been compiled so far, for `vedvm stats` (SharedJit times it).
  struct Stats {
    uint32_t functions_compiled = 0;
    uint64_t instructions_compiled = 0;  // bytecode instructions
  };
  virtual Stats stats() const = 0;
};

// The LLVM IR of every compilable function of `program` (`vedc --emit=llvm`), optimised
// when `optimize`; functions that cannot be compiled are listed in a comment with the
// reason. False (with `error`) when libved_jit.so cannot be loaded.
bool emit_llvm_ir(const Program& program, bool optimize, std::string& out, std::string& error);

// ---- the library's entry points (loader.cpp finds them with dlsym) ---------------------
// The thunks compiled code calls, by address: the library links nothing of the VM.
struct ThunkTable {
  void* data;
  void* scalar_fault;
  void* fault;
  void* copy_init;
  void* move;
  void* release;
  void* fmod;
};
extern "C" {
using CreateJitFn = Jit* (*)(const Program* program, const ThunkTable* thunks, const std::atomic<bool>* cancelled,
                             std::string* error);
using EmitLlvmFn = bool (*)(const Program* program, bool optimize, std::string* out);
}

}  // namespace ved::vm::jit
