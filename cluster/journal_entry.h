// The replicated journal's entries (cluster.md §1): one versioned msgpack schema for every
// entry the Raft log carries, including those part 2 (distributed execution) will apply.
//
// Encoding: a msgpack array [format_version, kind, body], where body is an array whose
// shape is fixed per kind (documented below and in docs/cluster.md). The decoder is strict:
// an unknown format version or kind, a wrong field count or type, trailing bytes, or a
// value over its limit is refused with a reason naming what is wrong, and nothing is
// applied. Entries are input from the network and from disk like any other: never trusted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ved::cluster {

// The version this build writes and the only one it reads. A node that meets an entry of
// another version refuses it (the cluster must be upgraded as a whole).
inline constexpr uint32_t kJournalFormatVersion = 1;

// Limits, so that a hostile entry cannot make a node allocate without bound.
inline constexpr size_t kMaxEntryBytes = 64u << 20;  // a program bundle fits easily
inline constexpr size_t kMaxNameBytes = 1024;
inline constexpr size_t kMaxListItems = 1u << 20;

enum class EntryKind : uint32_t {
  Submit = 1,
  Membership = 2,
  Liveness = 3,
  LeaderPin = 4,
  Placement = 5,
  SliceBatch = 6,
  Outcome = 7,
  External = 8,
  TickClose = 9,
  RunTicks = 10,
  RunEnd = 11,
  RunLease = 12,
  Eligible = 13,
  Upgrade = 14,
  RunUpgrade = 15,
};
const char* entry_kind_name(EntryKind kind);

// A program submitted with `vedvm --join HOST:PORT app.vedb`. `request_id` is chosen by
// the client; a retried submission with the same id is the same submission (the state
// machine dedups it), so a client that lost the answer can safely send again.
struct SubmitEntry {
  std::string request_id;  // 16 bytes
  std::string program_name;
  std::string bundle;  // the .vedb bytes
  uint64_t seed = 0;
};

struct MemberInfo {
  uint64_t id = 0;
  std::string address;  // HOST:PORT
  std::string group;    // --group, "" when none
  std::string public_key;  // Z85 CURVE public key, "" when the cluster runs --insecure
};
// Descriptive facts about members that Raft's own configuration does not hold (group,
// key). Raft's configuration stays the authority on who votes.
struct MembershipEntry {
  std::vector<MemberInfo> nodes;
};

// The leader's verdict that a member went silent for --failure-timeout (up = false) or
// came back (up = true). Committed, so every node agrees on it.
struct LivenessEntry {
  uint64_t node = 0;
  bool up = false;
};

struct LeaderPinEntry {
  uint64_t node = 0;
};

struct PlacementEntry {
  uint64_t epoch = 0;
  struct Assignment {
    std::string instance;  // Type[id]
    uint64_t node = 0;
  };
  std::vector<Assignment> table;
};

// One owner's results for one tick (part 2). Per instance, the payloads are msgpack
// documents produced by the VM (values, messages, intents); the journal carries them as
// bytes and part 2 decodes them against the program.
struct SliceBatchEntry {
  uint64_t node = 0;
  uint64_t epoch = 0;
  uint64_t tick = 0;
  struct InstanceResult {
    std::string instance;
    uint64_t new_version = 0;
    std::vector<std::string> consumed_inputs;
    std::string state_delta;
    std::vector<std::string> sent_messages;
    std::vector<std::string> intents;
    std::vector<std::string> timers;
    std::vector<std::string> faults;
  };
  std::vector<InstanceResult> instances;
};

struct OutcomeEntry {
  std::string intent_id;
  std::string result;  // msgpack document
};

struct ExternalEntry {
  std::string message;  // msgpack document
};

struct TickCloseEntry {
  uint64_t tick = 0;
};

// A program's owner's group of committed ticks (docs/cluster.md "Running a program"): its
// tick-record frames as the VM writes them to a data dir (vm/runtime/record_log.h), the
// first numbered `first_frame`. Applied only if `node` owns the program at `epoch`, the
// current one, and the frames follow the program's last accepted ones exactly (fencing).
struct RunTicksEntry {
  uint64_t program = 0;
  uint64_t node = 0;
  uint64_t epoch = 0;
  uint64_t first_frame = 0;
  std::string frames;
};

// The owner's word that the program's run stopped (quiescent, or --max-ticks): its exit
// code and summary as `vedvm app.vedb` prints them, after its last RunTicks. Fenced like
// RunTicks.
struct RunEndEntry {
  uint64_t program = 0;
  uint64_t node = 0;
  uint64_t epoch = 0;
  uint64_t frames = 0;      // how many frames the run committed: the end is after all of them
  uint32_t exit_code = 0;
  std::vector<std::string> summary;  // the lines `vedvm` prints when a run stops
};

// A program's owner asking for its dispatch lease (docs/cluster.md "Running a program"):
// committed — not fenced — it proves that `node` owned the program at the current epoch
// after its `frames` committed frames, and the lease runs from when it was sent. Fenced
// like RunTicks; applied, it changes nothing else.
struct RunLeaseEntry {
  uint64_t program = 0;
  uint64_t node = 0;
  uint64_t epoch = 0;
  uint64_t frames = 0;
};

// A member up again has been heard by the leader for --rebalance-after: it may receive
// programs again (docs/cluster.md "Placement"). Members that join are eligible at once.
struct EligibleEntry {
  uint64_t node = 0;
};

// A new build of a submitted program, from `vedvm --join HOST:PORT app.vedb --upgrade`
// (docs/cluster.md "Upgrades"). It names its program as the bundle does; the newest
// program of that name takes it. Committed, the upgrade is *pending*: the program's
// owner takes it at its next tick boundary and commits what came of it (RunUpgrade).
// `request_id` dedups a client's retries, as Submit's does.
struct UpgradeEntry {
  std::string request_id;  // 16 bytes
  std::string program_name;
  std::string bundle;  // the new build's .vedb bytes
};

// What the owner made of a pending upgrade, at a tick boundary after `frames` committed
// frames: taken (`ok`: the frames from `frames` on are the new build's) or refused
// (`lines` say why, every reason; the run goes on with the build it had). Fenced like
// RunLease, and also when `upgrade` (the Upgrade entry's index) is not the one pending.
// `record_digest` (when ok) is XXH64 of the upgrade tick's encoded record: every node
// that rebuilds the run across the upgrade recomputes it and must find the same.
struct RunUpgradeEntry {
  uint64_t program = 0;
  uint64_t node = 0;
  uint64_t epoch = 0;
  uint64_t frames = 0;
  uint64_t upgrade = 0;
  bool ok = false;
  uint64_t record_digest = 0;
  std::vector<std::string> lines;
};

using JournalEntry = std::variant<SubmitEntry, MembershipEntry, LivenessEntry, LeaderPinEntry, PlacementEntry,
                                  SliceBatchEntry, OutcomeEntry, ExternalEntry, TickCloseEntry, RunTicksEntry,
                                  RunEndEntry, RunLeaseEntry, EligibleEntry, UpgradeEntry, RunUpgradeEntry>;

EntryKind kind_of(const JournalEntry& entry);

// Deterministic: equal entries, equal bytes.
std::string encode_entry(const JournalEntry& entry);

// False with `error` (what is wrong, never empty) when `bytes` is not one well-formed
// entry of kJournalFormatVersion; `out` is then unspecified.
bool decode_entry(std::string_view bytes, JournalEntry& out, std::string& error);

}  // namespace ved::cluster
