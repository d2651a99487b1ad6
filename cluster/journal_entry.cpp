#include "cluster/journal_entry.h"

#include <msgpack.hpp>

#include "cluster/strict_msgpack.h"

namespace ved::cluster {

namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

void pack_bin(Packer& p, std::string_view bytes) {
  p.pack_bin(static_cast<uint32_t>(bytes.size()));
  p.pack_bin_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
}
void pack_str(Packer& p, std::string_view text) {
  p.pack_str(static_cast<uint32_t>(text.size()));
  p.pack_str_body(text.data(), static_cast<uint32_t>(text.size()));
}
void pack_bins(Packer& p, const std::vector<std::string>& items) {
  p.pack_array(static_cast<uint32_t>(items.size()));
  for (const auto& item : items) pack_bin(p, item);
}

struct BodyPacker {
  Packer& p;
  void operator()(const SubmitEntry& e) {
    p.pack_array(4);
    pack_bin(p, e.request_id);
    pack_str(p, e.program_name);
    pack_bin(p, e.bundle);
    p.pack_uint64(e.seed);
  }
  void operator()(const MembershipEntry& e) {
    p.pack_array(static_cast<uint32_t>(e.nodes.size()));
    for (const auto& n : e.nodes) {
      p.pack_array(4);
      p.pack_uint64(n.id);
      pack_str(p, n.address);
      pack_str(p, n.group);
      pack_str(p, n.public_key);
    }
  }
  void operator()(const LivenessEntry& e) {
    p.pack_array(2);
    p.pack_uint64(e.node);
    if (e.up) p.pack_true(); else p.pack_false();
  }
  void operator()(const LeaderPinEntry& e) {
    p.pack_array(1);
    p.pack_uint64(e.node);
  }
  void operator()(const EligibleEntry& e) {
    p.pack_array(1);
    p.pack_uint64(e.node);
  }
  void operator()(const PlacementEntry& e) {
    p.pack_array(2);
    p.pack_uint64(e.epoch);
    p.pack_array(static_cast<uint32_t>(e.table.size()));
    for (const auto& a : e.table) {
      p.pack_array(2);
      pack_str(p, a.instance);
      p.pack_uint64(a.node);
    }
  }
  void operator()(const SliceBatchEntry& e) {
    p.pack_array(4);
    p.pack_uint64(e.node);
    p.pack_uint64(e.epoch);
    p.pack_uint64(e.tick);
    p.pack_array(static_cast<uint32_t>(e.instances.size()));
    for (const auto& r : e.instances) {
      p.pack_array(8);
      pack_str(p, r.instance);
      p.pack_uint64(r.new_version);
      pack_bins(p, r.consumed_inputs);
      pack_bin(p, r.state_delta);
      pack_bins(p, r.sent_messages);
      pack_bins(p, r.intents);
      pack_bins(p, r.timers);
      pack_bins(p, r.faults);
    }
  }
  void operator()(const OutcomeEntry& e) {
    p.pack_array(2);
    pack_str(p, e.intent_id);
    pack_bin(p, e.result);
  }
  void operator()(const ExternalEntry& e) {
    p.pack_array(1);
    pack_bin(p, e.message);
  }
  void operator()(const TickCloseEntry& e) {
    p.pack_array(1);
    p.pack_uint64(e.tick);
  }
  void operator()(const RunTicksEntry& e) {
    p.pack_array(5);
    p.pack_uint64(e.program);
    p.pack_uint64(e.node);
    p.pack_uint64(e.epoch);
    p.pack_uint64(e.first_frame);
    pack_bin(p, e.frames);
  }
  void operator()(const RunEndEntry& e) {
    p.pack_array(6);
    p.pack_uint64(e.program);
    p.pack_uint64(e.node);
    p.pack_uint64(e.epoch);
    p.pack_uint64(e.frames);
    p.pack_uint32(e.exit_code);
    p.pack_array(static_cast<uint32_t>(e.summary.size()));
    for (const auto& line : e.summary) pack_str(p, line);
  }
  void operator()(const RunLeaseEntry& e) {
    p.pack_array(4);
    p.pack_uint64(e.program);
    p.pack_uint64(e.node);
    p.pack_uint64(e.epoch);
    p.pack_uint64(e.frames);
  }
  void operator()(const UpgradeEntry& e) {
    p.pack_array(3);
    pack_bin(p, e.request_id);
    pack_str(p, e.program_name);
    pack_bin(p, e.bundle);
  }
  void operator()(const RunUpgradeEntry& e) {
    p.pack_array(8);
    p.pack_uint64(e.program);
    p.pack_uint64(e.node);
    p.pack_uint64(e.epoch);
    p.pack_uint64(e.frames);
    p.pack_uint64(e.upgrade);
    if (e.ok) p.pack_true(); else p.pack_false();
    p.pack_uint64(e.record_digest);
    p.pack_array(static_cast<uint32_t>(e.lines.size()));
    for (const auto& line : e.lines) pack_str(p, line);
  }
};

using namespace strict;

std::vector<std::string> read_bins(const msgpack::object& o, const char* what) {
  uint32_t n = 0;
  const msgpack::object* items = list(o, kMaxListItems, n, what);
  std::vector<std::string> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) out.push_back(bin(items[i], kMaxEntryBytes, what));
  return out;
}

// Lines of text (a summary, reasons): at most 2^16, each at most 64 KiB.
std::vector<std::string> read_lines(const msgpack::object& o, const std::string& what) {
  uint32_t n = 0;
  const msgpack::object* lines = list(o, 1u << 16, n, what.c_str());
  std::vector<std::string> out;
  for (uint32_t i = 0; i < n; ++i) out.push_back(str(lines[i], 1u << 16, (what + "[]").c_str()));
  return out;
}

std::string read_request_id(const msgpack::object& o, const char* what) {
  std::string id = bin(o, 16, what);
  if (id.size() != 16) throw DecodeError(std::string(what) + ": expected 16 bytes, found " + std::to_string(id.size()));
  return id;
}

JournalEntry read_body(EntryKind kind, const msgpack::object& body) {
  switch (kind) {
    case EntryKind::Submit: {
      const auto* f = array(body, 4, "Submit");
      SubmitEntry e;
      e.request_id = read_request_id(f[0], "Submit.request_id");
      e.program_name = str(f[1], kMaxNameBytes, "Submit.program_name");
      if (e.program_name.empty()) throw DecodeError("Submit.program_name: empty");
      e.bundle = bin(f[2], kMaxEntryBytes, "Submit.bundle");
      e.seed = u64(f[3], "Submit.seed");
      return e;
    }
    case EntryKind::Membership: {
      uint32_t n = 0;
      const auto* items = list(body, 1024, n, "Membership.nodes");
      MembershipEntry e;
      for (uint32_t i = 0; i < n; ++i) {
        const auto* f = array(items[i], 4, "Membership.nodes[]");
        MemberInfo m;
        m.id = u64(f[0], "Membership.nodes[].id");
        if (m.id == 0) throw DecodeError("Membership.nodes[].id: 0 is not a node id");
        m.address = str(f[1], kMaxNameBytes, "Membership.nodes[].address");
        m.group = str(f[2], kMaxNameBytes, "Membership.nodes[].group");
        m.public_key = str(f[3], 40, "Membership.nodes[].public_key");
        e.nodes.push_back(std::move(m));
      }
      return e;
    }
    case EntryKind::Liveness: {
      const auto* f = array(body, 2, "Liveness");
      return LivenessEntry{u64(f[0], "Liveness.node"), boolean(f[1], "Liveness.up")};
    }
    case EntryKind::LeaderPin: {
      const auto* f = array(body, 1, "LeaderPin");
      return LeaderPinEntry{u64(f[0], "LeaderPin.node")};
    }
    case EntryKind::Placement: {
      const auto* f = array(body, 2, "Placement");
      PlacementEntry e;
      e.epoch = u64(f[0], "Placement.epoch");
      uint32_t n = 0;
      const auto* rows = list(f[1], kMaxListItems, n, "Placement.table");
      for (uint32_t i = 0; i < n; ++i) {
        const auto* r = array(rows[i], 2, "Placement.table[]");
        e.table.push_back({str(r[0], kMaxNameBytes, "Placement.table[].instance"), u64(r[1], "Placement.table[].node")});
      }
      return e;
    }
    case EntryKind::SliceBatch: {
      const auto* f = array(body, 4, "SliceBatch");
      SliceBatchEntry e;
      e.node = u64(f[0], "SliceBatch.node");
      e.epoch = u64(f[1], "SliceBatch.epoch");
      e.tick = u64(f[2], "SliceBatch.tick");
      uint32_t n = 0;
      const auto* rows = list(f[3], kMaxListItems, n, "SliceBatch.instances");
      for (uint32_t i = 0; i < n; ++i) {
        const auto* r = array(rows[i], 8, "SliceBatch.instances[]");
        SliceBatchEntry::InstanceResult x;
        x.instance = str(r[0], kMaxNameBytes, "SliceBatch.instances[].instance");
        x.new_version = u64(r[1], "SliceBatch.instances[].new_version");
        x.consumed_inputs = read_bins(r[2], "SliceBatch.instances[].consumed_inputs");
        x.state_delta = bin(r[3], kMaxEntryBytes, "SliceBatch.instances[].state_delta");
        x.sent_messages = read_bins(r[4], "SliceBatch.instances[].sent_messages");
        x.intents = read_bins(r[5], "SliceBatch.instances[].intents");
        x.timers = read_bins(r[6], "SliceBatch.instances[].timers");
        x.faults = read_bins(r[7], "SliceBatch.instances[].faults");
        e.instances.push_back(std::move(x));
      }
      return e;
    }
    case EntryKind::Outcome: {
      const auto* f = array(body, 2, "Outcome");
      return OutcomeEntry{str(f[0], kMaxNameBytes, "Outcome.intent_id"), bin(f[1], kMaxEntryBytes, "Outcome.result")};
    }
    case EntryKind::External: {
      const auto* f = array(body, 1, "External");
      return ExternalEntry{bin(f[0], kMaxEntryBytes, "External.message")};
    }
    case EntryKind::TickClose: {
      const auto* f = array(body, 1, "TickClose");
      return TickCloseEntry{u64(f[0], "TickClose.tick")};
    }
    case EntryKind::RunTicks: {
      const auto* f = array(body, 5, "RunTicks");
      RunTicksEntry e;
      e.program = u64(f[0], "RunTicks.program");
      e.node = u64(f[1], "RunTicks.node");
      e.epoch = u64(f[2], "RunTicks.epoch");
      e.first_frame = u64(f[3], "RunTicks.first_frame");
      e.frames = bin(f[4], kMaxEntryBytes, "RunTicks.frames");
      if (e.frames.empty()) throw DecodeError("RunTicks.frames: empty");
      return e;
    }
    case EntryKind::RunEnd: {
      const auto* f = array(body, 6, "RunEnd");
      RunEndEntry e;
      e.program = u64(f[0], "RunEnd.program");
      e.node = u64(f[1], "RunEnd.node");
      e.epoch = u64(f[2], "RunEnd.epoch");
      e.frames = u64(f[3], "RunEnd.frames");
      const uint64_t code = u64(f[4], "RunEnd.exit_code");
      if (code > 255) throw DecodeError("RunEnd.exit_code: " + std::to_string(code) + " is not an exit code");
      e.exit_code = static_cast<uint32_t>(code);
      e.summary = read_lines(f[5], "RunEnd.summary");
      return e;
    }
    case EntryKind::RunLease: {
      const auto* f = array(body, 4, "RunLease");
      return RunLeaseEntry{u64(f[0], "RunLease.program"), u64(f[1], "RunLease.node"), u64(f[2], "RunLease.epoch"),
                           u64(f[3], "RunLease.frames")};
    }
    case EntryKind::Eligible: {
      const auto* f = array(body, 1, "Eligible");
      return EligibleEntry{u64(f[0], "Eligible.node")};
    }
    case EntryKind::Upgrade: {
      const auto* f = array(body, 3, "Upgrade");
      UpgradeEntry e;
      e.request_id = read_request_id(f[0], "Upgrade.request_id");
      e.program_name = str(f[1], kMaxNameBytes, "Upgrade.program_name");
      if (e.program_name.empty()) throw DecodeError("Upgrade.program_name: empty");
      e.bundle = bin(f[2], kMaxEntryBytes, "Upgrade.bundle");
      if (e.bundle.empty()) throw DecodeError("Upgrade.bundle: empty");
      return e;
    }
    case EntryKind::RunUpgrade: {
      const auto* f = array(body, 8, "RunUpgrade");
      RunUpgradeEntry e;
      e.program = u64(f[0], "RunUpgrade.program");
      e.node = u64(f[1], "RunUpgrade.node");
      e.epoch = u64(f[2], "RunUpgrade.epoch");
      e.frames = u64(f[3], "RunUpgrade.frames");
      e.upgrade = u64(f[4], "RunUpgrade.upgrade");
      e.ok = boolean(f[5], "RunUpgrade.ok");
      e.record_digest = u64(f[6], "RunUpgrade.record_digest");
      e.lines = read_lines(f[7], "RunUpgrade.lines");
      return e;
    }
  }
  throw DecodeError("unknown entry kind " + std::to_string(static_cast<uint32_t>(kind)));
}

}  // namespace

const char* entry_kind_name(EntryKind kind) {
  switch (kind) {
    case EntryKind::Submit: return "Submit";
    case EntryKind::Membership: return "Membership";
    case EntryKind::Liveness: return "Liveness";
    case EntryKind::LeaderPin: return "LeaderPin";
    case EntryKind::Placement: return "Placement";
    case EntryKind::SliceBatch: return "SliceBatch";
    case EntryKind::Outcome: return "Outcome";
    case EntryKind::External: return "External";
    case EntryKind::TickClose: return "TickClose";
    case EntryKind::RunTicks: return "RunTicks";
    case EntryKind::RunEnd: return "RunEnd";
    case EntryKind::RunLease: return "RunLease";
    case EntryKind::Eligible: return "Eligible";
    case EntryKind::Upgrade: return "Upgrade";
    case EntryKind::RunUpgrade: return "RunUpgrade";
  }
  return "unknown";
}

EntryKind kind_of(const JournalEntry& entry) {
  // The variant's alternatives are declared in EntryKind order, starting at 1.
  return static_cast<EntryKind>(entry.index() + 1);
}

std::string encode_entry(const JournalEntry& entry) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_array(3);
  p.pack_uint32(kJournalFormatVersion);
  p.pack_uint32(static_cast<uint32_t>(kind_of(entry)));
  std::visit(BodyPacker{p}, entry);
  return std::string(buffer.data(), buffer.size());
}

bool decode_entry(std::string_view bytes, JournalEntry& out, std::string& error) {
  if (bytes.size() > kMaxEntryBytes) {
    error = "journal entry of " + std::to_string(bytes.size()) + " bytes, over the limit of " +
            std::to_string(kMaxEntryBytes);
    return false;
  }
  try {
    auto handle = unpack_one(bytes, "journal entry");
    const auto* f = array(handle.get(), 3, "journal entry");
    const uint64_t version = u64(f[0], "journal entry format version");
    if (version != kJournalFormatVersion) {
      error = "journal entry of format version " + std::to_string(version) + "; this build reads only version " +
              std::to_string(kJournalFormatVersion);
      return false;
    }
    const uint64_t kind = u64(f[1], "journal entry kind");
    if (kind < 1 || kind > static_cast<uint64_t>(EntryKind::RunUpgrade)) {
      error = "journal entry of unknown kind " + std::to_string(kind);
      return false;
    }
    out = read_body(static_cast<EntryKind>(kind), f[2]);
    return true;
  } catch (const DecodeError& e) {
    error = e.what();
    return false;
  }
}

}  // namespace ved::cluster
