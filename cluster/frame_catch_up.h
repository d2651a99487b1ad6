// Filling a replica's gaps (state_machine.h, "snapshot"): a node that restored a
// snapshot lacks the frames committed before it that it had not applied, since snapshots
// leave frames out. It asks the other members for them, a part at a time (FetchFrames,
// which any member answers from the frames it holds), until every gap is filled. Until
// then the node does not run the program, and does not serve the missing frames.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "cluster/curve_keys.h"
#include "cluster/state_machine.h"

namespace ved::cluster {

// One pass over this replica's gaps: for each, asks the members but `self` in id order
// (`fetch`: the frames that member holds of the program from frame `from` on, "" when it
// has none or cannot be reached) and fills the gap with what comes, as far as it comes.
// Returns the frames added; `log` hears of every gap filled and of frames refused.
uint64_t fill_gaps_once(StateMachine& sm, uint64_t self,
                        const std::function<std::string(const MemberRecord&, uint64_t program, uint64_t from)>& fetch,
                        const std::function<void(const std::string&)>& log);

// A node's catch-up: fill_gaps_once on a thread of its own, over ZeroMQ, every 200 ms
// while there is a gap (a node's event loop must not wait on its peers).
class FrameCatchUp {
 public:
  FrameCatchUp(StateMachine& sm, uint64_t self, Security security, std::function<void(const std::string&)> log);
  ~FrameCatchUp();  // stops and waits
  FrameCatchUp(const FrameCatchUp&) = delete;
  FrameCatchUp& operator=(const FrameCatchUp&) = delete;

 private:
  void loop();

  StateMachine& sm_;
  uint64_t self_;
  Security security_;
  std::function<void(const std::string&)> log_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: started once everything above is ready
};

}  // namespace ved::cluster
