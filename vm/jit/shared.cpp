// One JIT per program per process, compiling in the background (shared.h says why).
#include "vm/jit/shared.h"

#include <map>
#include <new>
#include <system_error>

namespace ved::vm::jit {

std::shared_ptr<SharedJit> SharedJit::of(const Program& program) {
  static std::mutex registry_mutex;
  // Looked up by the program's address only, never iterated: nothing depends on the order
  // of addresses. An entry whose JIT was released is replaced.
  static std::map<const Program*, std::weak_ptr<SharedJit>> registry;
  std::lock_guard<std::mutex> lock(registry_mutex);
  std::weak_ptr<SharedJit>& entry = registry[&program];
  if (std::shared_ptr<SharedJit> held = entry.lock()) return held;
  auto shared = std::make_shared<SharedJit>(program);
  entry = shared;
  return shared;
}

SharedJit::SharedJit(const Program& program)
    : program_(program),
      native_(new std::atomic<NativeFunction>[program.functions.size()]),
      queued_(program.functions.size(), false),
      thread_([this](uint32_t fn) { compile_now(fn); }) {
  for (size_t f = 0; f < program.functions.size(); ++f) native_[f].store(nullptr, std::memory_order_relaxed);
}

SharedJit::~SharedJit() {
  // The thread stops before jit_, which it uses, is freed; what it is doing is no longer
  // wanted, so it gives up as soon as it can. A JIT abandoned after LLVM ran out of
  // memory is not freed at all (abandoned_).
  cancelled_.store(true);
  thread_.stop();
  if (abandoned_) (void)jit_.release();
}

bool SharedJit::compile_all(std::string& error) {
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    start_asked_ = true;
  }
  return timed_step([&](std::string& e) { return start(e) && jit_->compile_all(e); }, error);
}

void SharedJit::compile_later(uint32_t fn) {
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    if (queued_[fn]) return;
    queued_[fn] = true;
    start_asked_ = true;
  }
  std::string error;
  if (thread_.ask(fn, error)) return;
  // No thread, so no start to wait for: the JIT could not start, in every run alike.
  std::lock_guard<std::mutex> lock(state_mutex_);
  report_.start_error = error;
  start_done_ = true;
  started_.notify_all();
}

void SharedJit::compile_now(uint32_t fn) {
  std::string error;
  // The start and the compile are two steps, so that a run that ends while LLVM loads
  // does not wait for a compile too.
  if (!timed_step([&](std::string& e) { return start(e); }, error) || cancelled_.load()) return;
  timed_step([&](std::string& e) { return !jit_->compilable(fn) || jit_->compile(fn, e); }, error);
}

template <class Step>
bool SharedJit::timed_step(Step step, std::string& error) {
  std::lock_guard<std::mutex> jit_lock(jit_mutex_);
  if (abandoned_) {
    error = "LLVM ran out of memory earlier: nothing more is compiled";
    return false;
  }
  const auto started = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    busy_ = true;
    busy_since_ = started;
  }
  bool ok = false;
  try {
    ok = step(error);
  } catch (const std::bad_alloc&) {
    // From LLVM's allocations (compiler.cpp makes LLVM's own out-of-memory reports throw
    // too). LLVM is built without exceptions: the frames it unwound ran no destructors,
    // so the JIT may hold locks and half-made state. It is let go of, never used again;
    // the functions it compiled keep their code, the others stay interpreted.
    abandoned_ = true;
    ok = false;
    error = "LLVM ran out of memory";
  } catch (const std::system_error& e) {
    // LLVM starts threads of its own (ORC's task dispatcher) with std::thread, which
    // throws when the system refuses one — under a memory limit, for want of room for
    // its stack. Let go of, as above: the run goes on interpreted.
    abandoned_ = true;
    ok = false;
    error = std::string("LLVM could not start a thread: ") + e.what();
  }
  if (ok) publish();
  std::lock_guard<std::mutex> lock(state_mutex_);
  busy_ = false;
  report_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (jit_) {
    const Jit::Stats s = jit_->stats();
    report_.functions_compiled = s.functions_compiled;
    report_.instructions_compiled = s.instructions_compiled;
  }
  if (!ok && !cancelled_.load()) (jit_ ? report_.compile_error : report_.start_error) = error;
  if (!start_done_) {
    start_done_ = true;
    started_.notify_all();
  }
  return ok;
}

bool SharedJit::start(std::string& error) {
  if (jit_) return true;
  if (!start_failure_.empty()) {  // not tried again: it would fail again
    error = start_failure_;
    return false;
  }
  jit_ = Jit::create(program_, &cancelled_, error);
  if (!jit_ && !cancelled_.load()) start_failure_ = error;
  return jit_ != nullptr;
}

void SharedJit::publish() {
  bool published = false;
  for (uint32_t f = 0; f < program_.functions.size(); ++f) {
    if (native_[f].load(std::memory_order_relaxed)) continue;
    if (NativeFunction code = jit_->native(f)) {
      native_[f].store(code, std::memory_order_release);
      published = true;
    }
  }
  if (published) generation_.fetch_add(1, std::memory_order_acq_rel);
}

void SharedJit::wait_until_started() {
  std::unique_lock<std::mutex> lock(state_mutex_);
  started_.wait(lock, [&] { return !start_asked_ || start_done_; });
}

SharedJit::Report SharedJit::report() const {
  std::lock_guard<std::mutex> lock(state_mutex_);
  Report r = report_;
  if (busy_) r.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - busy_since_).count();
  return r;
}

}  // namespace ved::vm::jit
