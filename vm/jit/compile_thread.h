// The thread the tiered JIT compiles on.
//
// Loading LLVM (about 8 ms), making the LLJIT and compiling at -O2 (10 to 15 ms more)
// used to happen on the thread that runs ticks, at the call or slice that made a
// function hot, so short runs got slower under the default engine than interpreted.
// Functions that become hot are now handed to this thread, and the interpreter keeps
// running them until their machine code is published (shared.h); when that happens
// cannot change a result, because the engines compute the same (docs/jit.md).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ved::vm::jit {

class CompileThread {
 public:
  // `compile` runs on the thread, one function at a time, in the order they were asked
  // for.
  explicit CompileThread(std::function<void(uint32_t fn)> compile);
  ~CompileThread() { stop(); }
  CompileThread(const CompileThread&) = delete;
  CompileThread& operator=(const CompileThread&) = delete;

  // Queues `fn` (the thread starts on the first). Returns at once; false (with `error`)
  // if the thread could not be started (the system's limit on threads).
  bool ask(uint32_t fn, std::string& error);
  // Drops what is still queued and waits for the function being compiled (its owner
  // frees the JIT the thread uses next; it may have asked that compile to give up
  // first). Nothing is compiled after it.
  void stop();
  // Waits until everything asked for has been compiled (tests: a run is never held up).
  void wait_until_idle();

 private:
  void run();

  std::function<void(uint32_t)> compile_;
  std::mutex mutex_;
  std::condition_variable work_;  // something queued, or stopping
  std::condition_variable idle_;  // the queue is empty and nothing is in progress
  std::deque<uint32_t> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;  // started by the first ask()
};

}  // namespace ved::vm::jit
