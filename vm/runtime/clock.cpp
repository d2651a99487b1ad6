#include "vm/runtime/clock.h"

#include <thread>

namespace ved::vm {

namespace {

class SystemClock final : public Clock {
 public:
  time_point now() override { return std::chrono::steady_clock::now(); }
  void sleep_for(std::chrono::steady_clock::duration d) override { std::this_thread::sleep_for(d); }
};

}  // namespace

Clock& Clock::system() {
  static SystemClock clock;
  return clock;
}

}  // namespace ved::vm
