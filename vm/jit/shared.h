// One JIT per program per process, compiling in the background.
//
// Every Interpreter of a program (a run's runtime; under `vedvm test`, each test and the
// runtime it makes) used to make its own LLJIT and compile the same functions again:
// `vedvm --jit=all test` on examples/tests/pool.ved made eight JITs and spent 40 times
// the interpreter's time in LLVM. Interpreters of one program now share one JIT and the
// machine code it made. Sharing changes nothing a run computes: compiled functions are
// pure code, and each Interpreter runs them with its own context and registers.
//
// The tiered engine asks for a function with compile_later() and goes on interpreting
// it; LLVM is loaded, the LLJIT made and the function compiled on a thread of the JIT's
// own (compile_thread.h), and its machine code is published in a table that
// interpreters read when they enter a function (generation() says when to look again).
// --jit=all compiles everything on the caller's thread before the first run.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vm/jit/compile_thread.h"
#include "vm/jit/jit.h"

namespace ved::vm::jit {

class SharedJit {
 public:
  // The JIT of `program` in this process, made if no Interpreter holds one. Loads
  // nothing: LLVM is loaded by the first compile. It lives while an Interpreter holds it:
  // the Interpreters of a program never outlive the program, so neither does the JIT nor
  // its thread, and a program made later at the same address finds none.
  static std::shared_ptr<SharedJit> of(const Program& program);

  explicit SharedJit(const Program& program);
  // Stops the compile thread before the JIT is freed: what is queued is dropped, and a
  // compile in progress gives up at its next chance (Jit::create's `cancelled`).
  ~SharedJit();
  SharedJit(const SharedJit&) = delete;
  SharedJit& operator=(const SharedJit&) = delete;

  // --jit=all: loads LLVM if it is not yet and compiles every compilable function, on the
  // calling thread; false with `error` if LLVM could not start or compile.
  bool compile_all(std::string& error);
  // --jit: queues `fn` (and what it calls) for the compile thread; returns at once. A
  // function asked for again is not queued again.
  void compile_later(uint32_t fn);

  // Incremented (release) each time machine code is published: an interpreter that saw
  // the same number has every function's latest native().
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // The machine code of `fn`, or null while it is interpreted.
  NativeFunction native(uint32_t fn) const { return native_[fn].load(std::memory_order_acquire); }

  // If anything was queued: waits until the JIT has started, or failed to. When the
  // first function became hot is deterministic (fuel), so whether the JIT could start is
  // known the same way in every run, and a run's summary may say it.
  void wait_until_started();
  // Waits until everything queued has been compiled (tests only: a run never waits).
  void wait_until_idle() { thread_.wait_until_idle(); }

  // What the JIT did so far, for `vedvm stats`: a statistic of the machine, which
  // depends on when the compile thread ran, so never part of a run's output.
  struct Report {
    uint32_t functions_compiled = 0;
    uint64_t instructions_compiled = 0;  // bytecode instructions
    double seconds = 0;        // wall time loading LLVM and compiling, a step in progress included
    std::string start_error;   // why LLVM could not be loaded or could not make a JIT
    std::string compile_error; // why the last compile that failed did (the functions stay interpreted)
  };
  Report report() const;

 private:
  void compile_now(uint32_t fn);                  // on the compile thread
  bool start(std::string& error);                 // under jit_mutex_
  void publish();                                 // under jit_mutex_
  // Runs `step` (which uses LLVM) under jit_mutex_, counting its time, and turns an
  // allocation failure inside LLVM into an error.
  template <class Step>
  bool timed_step(Step step, std::string& error);

  const Program& program_;

  std::mutex jit_mutex_;  // one user of jit_ at a time (the compile thread, or compile_all)
  std::atomic<bool> cancelled_{false};  // set when the JIT is let go: nothing more is wanted
  std::unique_ptr<Jit> jit_;
  std::string start_failure_;  // why Jit::create failed, if it did
  // LLVM ran out of memory: jit_ was let go of (it may be left inconsistent, with its
  // locks held, and machine code it made may still run), and nothing is compiled again.
  bool abandoned_ = false;

  std::unique_ptr<std::atomic<NativeFunction>[]> native_;  // per function
  std::atomic<uint64_t> generation_{0};

  // What compile_later() queued, whether the JIT started, the report. Never held while
  // LLVM works, so that reading the report does not wait for a compile.
  mutable std::mutex state_mutex_;
  std::condition_variable started_;
  std::vector<bool> queued_;
  bool start_asked_ = false;
  bool start_done_ = false;
  Report report_;
  bool busy_ = false;
  std::chrono::steady_clock::time_point busy_since_;

  CompileThread thread_;  // stopped by the destructor, before jit_ goes
};

}  // namespace ved::vm::jit
