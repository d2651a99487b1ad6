#include "cluster/frame_catch_up.h"

#include <chrono>
#include <map>

#include "cluster/client.h"
#include "cluster/wire_message.h"

namespace ved::cluster {

uint64_t fill_gaps_once(StateMachine& sm, uint64_t self,
                        const std::function<std::string(const MemberRecord&, uint64_t program, uint64_t from)>& fetch,
                        const std::function<void(const std::string&)>& log) {
  uint64_t total = 0;
  const auto members = sm.members();
  for (const auto& [program, gap] : sm.run_gaps()) {
    uint64_t from = gap.from;
    for (const auto& [id, member] : members) {
      if (id == self || !member.up) continue;
      // Parts from this member while it has them.
      for (;;) {
        const std::string frames = fetch(member, program, from);
        if (frames.empty()) break;
        uint64_t added = 0;
        std::string error;
        if (!sm.fill_run_gap(program, from, frames, added, error)) {
          // Another member's answer raced a new snapshot, or the member sent nonsense.
          if (log) log("program " + std::to_string(program) + ": frames from node " + std::to_string(id) + " refused: " + error);
          break;
        }
        total += added;
        from += added;
        if (from >= gap.to) break;
      }
      if (from >= gap.to) break;
    }
    if (log && from >= gap.to)
      log("program " + std::to_string(program) + ": caught up its frames " + std::to_string(gap.from) + " to " +
          std::to_string(gap.to - 1) + " (they were committed before a snapshot this node restored)");
  }
  return total;
}

FrameCatchUp::FrameCatchUp(StateMachine& sm, uint64_t self, Security security, std::function<void(const std::string&)> log)
    : sm_(sm), self_(self), security_(std::move(security)), log_(std::move(log)), thread_([this] { loop(); }) {}

FrameCatchUp::~FrameCatchUp() {
  stop_ = true;
  thread_.join();
}

void FrameCatchUp::loop() {
  ClusterClient client(security_);
  auto fetch = [&](const MemberRecord& member, uint64_t program, uint64_t from) -> std::string {
    if (stop_) return "";
    ClientRequest request;
    request.kind = ClientRequest::FetchFrames;
    request.program_name = std::to_string(program);
    request.node_id = from;
    ClientReply reply;
    std::string error;
    if (!client.call(member.info.address, request, 2000, reply, error) || reply.status != ClientReply::Ok) return "";
    FetchedRun run;
    if (!decode_fetched_run(reply.payload, run, error)) return "";
    return std::move(run.frames);
  };
  std::map<uint64_t, uint64_t> announced;  // program -> the gap end last announced
  while (!stop_) {
    const auto gaps = sm_.run_gaps();
    for (const auto& [program, gap] : gaps)
      if (log_ && announced[program] != gap.to) {
        announced[program] = gap.to;
        log_("program " + std::to_string(program) + ": lacks its frames " + std::to_string(gap.from) + " to " +
             std::to_string(gap.to - 1) + " (committed before a snapshot this node restored): fetching them from its peers");
      }
    if (!gaps.empty()) fill_gaps_once(sm_, self_, fetch, log_);
    for (int i = 0; i < 20 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace ved::cluster
