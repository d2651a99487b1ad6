// The runtime's clock: what decides when a group of committed ticks is written
// (`--group-ms`), how long a serving run waits between idle ticks, and how long slices
// took (`vedvm stats`). Never an input of a tick: ticks are logical time (runtime.md §1),
// and no value a program sees comes from here.
//
// Behind an interface (LevelDB's Env idea) so that a test can drive it by hand: with a
// ManualClock the group boundaries of a run are a function of the test alone.
#pragma once

#include <chrono>

namespace ved::vm {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() = 0;
  // Waits `d` (a ManualClock moves its time on instead).
  virtual void sleep_for(std::chrono::steady_clock::duration d) = 0;
  // The machine's monotonic clock.
  static Clock& system();
};

// Time that moves only when told to.
class ManualClock final : public Clock {
 public:
  time_point now() override { return now_; }
  void sleep_for(std::chrono::steady_clock::duration d) override { now_ += d; }
  void advance(std::chrono::steady_clock::duration d) { now_ += d; }

 private:
  time_point now_{};
};

}  // namespace ved::vm
