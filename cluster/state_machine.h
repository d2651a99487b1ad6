// The replicated state machine (cluster.md §1): every node applies every committed
// journal entry to its LevelDB under the key prefix "fsm/", in the same WriteBatch as the
// applied index, so that after any crash each entry has been applied exactly once: an
// entry at or below the stored applied index is skipped when libraft replays the log.
//
// A running digest over the applied entries (fsm/digest: XXH64 chained over index and
// bytes of each command) lets nodes and tests check that two replicas applied the same
// entries: equal applied index, equal digest.
//
// An entry that does not decode (another format version, malformed) is refused with a
// reason: the applied index moves past it, nothing else changes, and the reason is kept
// under fsm/refused/<index> (every node refuses it identically: decoding is deterministic).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/journal_entry.h"
#include "cluster/raft_c.h"
#include "cluster/run_builds.h"

namespace leveldb {
class DB;
class WriteBatch;
}

namespace ved::cluster {

struct ProgramRecord {
  uint64_t id = 0;  // the journal index of its Submit entry
  std::string name;
  uint64_t seed = 0;
  uint64_t bundle_bytes = 0;
  std::string status;  // "submitted", "running" (its owner committed ticks), "finished" (RunEnd), "upgrading"
  std::string group;   // the environments its `deploy`s name, space-separated (program_deploy_groups)
};

// A program's run as the cluster committed it (docs/cluster.md "Running a program").
struct RunRecord {
  uint64_t frames = 0;  // how many tick-record frames are committed
  bool finished = false;
  uint32_t exit_code = 0;            // when finished
  std::vector<std::string> summary;  // when finished
};

// The name a program goes by in the placement table: a program is the unit a node owns
// (docs/cluster.md "Placement").
std::string program_unit(uint64_t program);

struct MemberRecord {
  MemberInfo info;
  bool up = true;  // false once a Liveness{down} is applied
  // May receive programs (placement): a member that joins is at once; one that was DOWN
  // is again only once the leader commits Eligible for it (--rebalance-after).
  bool eligible = true;
};

// What a Submit's (or an Upgrade's) apply returns to the leader's waiting client.
struct ApplyResult {
  uint64_t program_id = 0;
  uint64_t upgrade = 0;  // an Upgrade's: the index that names it (its Upgrade entry's)
  std::string refused;  // non-empty: the entry was refused, and why
};

// A build a program's run has run, from `first_frame` on (docs/cluster.md "Upgrades"):
// the submitted one (upgrade 0) from frame 0, then each upgrade taken, in order.
struct RunVersion {
  uint64_t first_frame = 0;
  uint64_t upgrade = 0;        // the Upgrade entry's index; 0: the submitted build
  uint64_t record_digest = 0;  // of the upgrade tick's record (RunUpgradeEntry)
};



class StateMachine {
 public:
  explicit StateMachine(leveldb::DB* db);

  // libraft's FSM interface; data points to this object. attach() must be called with
  // the raft instance before it starts (apply reads its last_applied to know the index).
  struct raft_fsm* fsm() { return &fsm_; }
  void attach(struct raft* raft) { raft_ = raft; }

  // Applies the entry at `index` (also the path libraft's apply takes). Idempotent: an
  // index at or below applied_index() changes nothing. `result` (optional) receives the
  // Submit's program id or the refusal.
  bool apply(uint64_t index, const std::string& bytes, ApplyResult* result, std::string& error);

  uint64_t applied_index();
  uint64_t digest();
  std::vector<ProgramRecord> programs();
  std::map<uint64_t, MemberRecord> members();
  std::map<uint64_t, std::string> refused();  // index -> reason

  // Placement and fencing (cluster.md §1): the current epoch, each instance's owner in it
  // (0: none) and version (0: no batch yet), and the batches fenced (index -> why).
  uint64_t placement_epoch();
  uint64_t owner(const std::string& instance);
  uint64_t version(const std::string& instance);
  uint64_t fenced_count();
  std::map<uint64_t, std::string> fenced();
  // A program's committed run, and its frames from frame `from` on, whole frames in
  // order (what a node taking the program over or a client inspecting it needs): all of
  // them, or once `max_bytes` is reached, the frames up to there (at least one).
  RunRecord run(uint64_t program);
  // The node whose entry for the program was last accepted (its ticks or a lease): the
  // one that may still hold the dispatch lease (0: none yet).
  uint64_t run_holder(uint64_t program);
  std::string run_frames(uint64_t program, uint64_t from, size_t max_bytes = SIZE_MAX);
  std::string bundle(uint64_t program);  // "" when there is no such program
  // Upgrades (docs/cluster.md "Upgrades"): the builds the run has had, oldest first (the
  // submitted one first, always); a build by the upgrade that brought it (0: the
  // submitted one); the upgrade waiting for the owner (0: none); and an upgrade as the
  // client that asked for it follows it, by its request id.
  std::vector<RunVersion> run_versions(uint64_t program);
  std::vector<CommittedBuild> run_builds(uint64_t program);  // run_versions with their bundles
  std::string version_bundle(uint64_t program, uint64_t upgrade);
  uint64_t pending_upgrade(uint64_t program);
  std::optional<UpgradeVerdict> upgrade_verdict(const std::string& request_id);
  // Lockstep ticks: the last closed tick (0: none), and the nodes that own an instance
  // at the current epoch but have no accepted batch for `tick` (the leader closes the
  // tick when this is empty).
  uint64_t tick_closed();
  std::set<uint64_t> nodes_missing_batch(uint64_t tick);

  // The snapshot libraft stores and sends: [applied index, [[key, value] ...]] of every
  // fsm/ key but the programs' frames. restore() replaces the state only if the snapshot
  // is newer than it.
  //
  // Frames stay out because they are the bulk of the state and never change once
  // committed: a snapshot holding them would grow with every run's history, and be built,
  // sent and stored in one piece. A replica that restores a snapshot keeps the frames it
  // has (a prefix of the committed ones), and what it lacks is a *gap* [from, to) per
  // program: frames up to `to` committed before the snapshot, which it fetches from
  // another member (FetchFrames) and fills in with fill_run_gap. Frames committed after
  // the snapshot are applied as ever, beyond the gap. run_frames stops at a gap.
  std::string snapshot_bytes();
  bool restore_bytes(const std::string& bytes, std::string& error);
  struct RunGap {
    uint64_t from = 0, to = 0;
  };
  std::optional<RunGap> run_gap(uint64_t program);
  std::map<uint64_t, RunGap> run_gaps();  // by program
  // Fills the start of `program`'s gap with `frames` (whole frames numbered from
  // `first`, which must be the gap's start; those at or past its end are ignored). False
  // with `error` when they are not that (the gap is then unchanged); `added` frames.
  bool fill_run_gap(uint64_t program, uint64_t first, std::string_view frames, uint64_t& added, std::string& error);

  const std::string& last_error() const { return last_error_; }

  // Testing only: the whole-cluster simulation proves it would notice a state machine
  // that did not fence (tests/cluster/simulation/): every owner's entry is then applied
  // as if it came from the owner, at the frame it names.
  void disable_fencing_for_testing() { fencing_ = false; }

 private:
  void apply_placement(const PlacementEntry& placement, leveldb::WriteBatch& batch);
  // Why `slice` is fenced ("" when it is not).
  std::string fence(const SliceBatchEntry& slice);
  // Why a program's owner's entry is fenced ("" when it is not): `node` must own the
  // program at `epoch`, the current one, the run must not have ended, and (when given)
  // `after_frames` must be the frames committed so far.
  // An ended run fences everything but an upgrade (`ended_ok`), which may take it on.
  std::string fence_run(uint64_t program, uint64_t node, uint64_t epoch, const char* what,
                        const uint64_t* after_frames = nullptr, bool ended_ok = false);
  void apply_upgrade(uint64_t index, const UpgradeEntry& upgrade, leveldb::WriteBatch& batch, ApplyResult* result);
  void apply_run_upgrade(uint64_t index, const RunUpgradeEntry& verdict, leveldb::WriteBatch& batch,
                         ApplyResult* result);
  // Counts a fenced entry and keeps why (nothing else of it is applied).
  void record_fenced(uint64_t index, const std::string& why, leveldb::WriteBatch& batch, ApplyResult* result);
  // Its status (and, when given, its deploy groups).
  void set_program_status(uint64_t program, const std::string& status, leveldb::WriteBatch& batch,
                          const std::string* group = nullptr);

  static int m_apply(struct raft_fsm*, const struct raft_buffer*, void**);
  static int m_snapshot(struct raft_fsm*, struct raft_buffer**, unsigned*);
  static int m_restore(struct raft_fsm*, struct raft_buffer*);

  leveldb::DB* db_;
  struct raft* raft_ = nullptr;
  struct raft_fsm fsm_ {};
  std::string last_error_;
  bool fencing_ = true;
  // Restoring a snapshot (libraft's thread) and filling a gap (the node's catch-up
  // thread) both rewrite the gaps: one at a time.
  std::mutex gaps_mutex_;
};

namespace fsm_keys {
inline constexpr const char* kPrefix = "fsm/";
inline constexpr const char* kApplied = "fsm/applied";
inline constexpr const char* kDigest = "fsm/digest";
inline constexpr const char* kProgramPrefix = "fsm/program/";   // + 8-byte BE id -> [name, seed, bytes, status]
inline constexpr const char* kBundlePrefix = "fsm/bundle/";     // + 8-byte BE id -> the bundle
inline constexpr const char* kRequestPrefix = "fsm/request/";   // + 16-byte request id -> 8-byte BE program id
inline constexpr const char* kMemberPrefix = "fsm/member/";     // + 8-byte BE node id -> [address, group, key, up]
inline constexpr const char* kRefusedPrefix = "fsm/refused/";   // + 8-byte BE index -> reason
inline constexpr const char* kLeaderPin = "fsm/leader-pin";
inline constexpr const char* kPlacement = "fsm/placement";      // the latest Placement entry, encoded
inline constexpr const char* kTickClosed = "fsm/tick-closed";
inline constexpr const char* kOutcomePrefix = "fsm/outcome/";   // + intent id -> result
inline constexpr const char* kExternalPrefix = "fsm/external/"; // + 8-byte BE index -> message
inline constexpr const char* kSliceBatchPrefix = "fsm/slice-batch/";  // + BE tick + BE node -> an accepted batch
inline constexpr const char* kEpoch = "fsm/epoch";              // the current placement epoch
inline constexpr const char* kOwnerPrefix = "fsm/owner/";       // + instance -> 8-byte BE node, at the epoch
inline constexpr const char* kVersionPrefix = "fsm/version/";   // + instance -> 8-byte BE version
inline constexpr const char* kFencedPrefix = "fsm/fenced/";     // + 8-byte BE index -> why the batch was fenced
inline constexpr const char* kFencedCount = "fsm/fenced-count";
inline constexpr const char* kRunFramesPrefix = "fsm/run-frames/";  // + BE program + BE first frame -> frames
inline constexpr const char* kRunNextPrefix = "fsm/run-next/";      // + BE program -> BE frames committed
inline constexpr const char* kRunEndPrefix = "fsm/run-end/";        // + BE program -> [exit code, [summary lines]]
inline constexpr const char* kRunHolderPrefix = "fsm/run-holder/";  // + BE program -> BE node (run_holder)
inline constexpr const char* kRunVersionsPrefix = "fsm/run-versions/";  // + BE program -> [[first frame, upgrade, digest] ...]
inline constexpr const char* kUpgradePendingPrefix = "fsm/upgrade-pending/";  // + BE program -> BE upgrade
inline constexpr const char* kUpgradeBundlePrefix = "fsm/upgrade-bundle/";    // + BE upgrade -> the new bundle
inline constexpr const char* kUpgradeRequestPrefix = "fsm/upgrade-request/";  // + 16-byte request id -> BE program + BE upgrade
inline constexpr const char* kUpgradeVerdictPrefix = "fsm/upgrade-verdict/";  // + BE upgrade -> [ok, [lines]]
// Not replicated state (outside fsm/, never in a snapshot): what this replica lacks.
inline constexpr const char* kRunGapPrefix = "local/run-gap/";      // + BE program -> BE from + BE to
}  // namespace fsm_keys

}  // namespace ved::cluster
