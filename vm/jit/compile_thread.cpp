// The thread the tiered JIT compiles on (compile_thread.h says why).
#include "vm/jit/compile_thread.h"

#include <system_error>

namespace ved::vm::jit {

CompileThread::CompileThread(std::function<void(uint32_t fn)> compile) : compile_(std::move(compile)) {}

void CompileThread::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool CompileThread::ask(uint32_t fn, std::string& error) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return true;
    if (!thread_.joinable()) {
      try {
        thread_ = std::thread([this] { run(); });
      } catch (const std::system_error& e) {
        error = std::string("the JIT's thread could not start: ") + e.what();
        return false;
      }
    }
    queue_.push_back(fn);
  }
  work_.notify_one();
  return true;
}

void CompileThread::wait_until_idle() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [&] { return stopping_ || (queue_.empty() && !busy_); });
}

void CompileThread::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    const uint32_t fn = queue_.front();
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    compile_(fn);
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
  idle_.notify_all();
}

}  // namespace ved::vm::jit
