// The journal-entry schema (cluster/journal_entry.h): every kind survives a round trip
// byte for byte, and anything else — another version, an unknown kind, a wrong shape,
// a cut or padded document — is refused with a reason naming what is wrong.
#include <doctest/doctest.h>

#include <functional>
#include <msgpack.hpp>

#include "cluster/journal_entry.h"

using namespace ved::cluster;

namespace {

std::vector<JournalEntry> one_of_each() {
  SliceBatchEntry batch{3, 7, 42, {}};
  batch.instances.push_back({"Counter[1]", 5, {"in1", "in2"}, "delta", {"m"}, {"i"}, {"t"}, {}});
  return {
      SubmitEntry{std::string(16, '\x01'), "hello", std::string("VEDB\0\x01\x02", 7), 99},
      MembershipEntry{{{1, "127.0.0.1:7001", "", ""}, {2, "127.0.0.1:7002", "eu", std::string(40, 'k')}}},
      LivenessEntry{2, false},
      LeaderPinEntry{1},
      PlacementEntry{4, {{"Counter[1]", 1}, {"Ledger[a]", 2}}},
      batch,
      OutcomeEntry{"intent-1", "\x91\x01"},
      ExternalEntry{"\x92\x01\x02"},
      TickCloseEntry{42},
      RunTicksEntry{5, 3, 7, 12, "frames"},
      RunEndEntry{5, 3, 7, 13, 2, {"-- app stopped at tick 9", "Worker: 3 instances"}},
      RunLeaseEntry{5, 3, 7, 13},
      EligibleEntry{3},
      UpgradeEntry{std::string(16, '\x02'), "hello", std::string("VEDB\0\x03", 6)},
      RunUpgradeEntry{5, 3, 7, 13, 40, true, 0x1234abcdULL, {"upgraded from `hello` ..."}},
  };
}

std::string pack(const std::function<void(msgpack::packer<msgpack::sbuffer>&)>& f) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer> p(b);
  f(p);
  return std::string(b.data(), b.size());
}

std::string refusal(std::string_view bytes) {
  JournalEntry e;
  std::string error;
  CHECK_FALSE(decode_entry(bytes, e, error));
  CHECK_FALSE(error.empty());
  return error;
}

}  // namespace

TEST_CASE("every journal entry kind round-trips to the same bytes") {
  for (const auto& entry : one_of_each()) {
    CAPTURE(entry_kind_name(kind_of(entry)));
    const std::string bytes = encode_entry(entry);
    JournalEntry back;
    std::string error;
    REQUIRE_MESSAGE(decode_entry(bytes, back, error), error);
    CHECK(back.index() == entry.index());
    CHECK(encode_entry(back) == bytes);
  }
}

TEST_CASE("decoded fields are the encoded ones") {
  JournalEntry back;
  std::string error;
  REQUIRE(decode_entry(encode_entry(SubmitEntry{std::string(16, 'r'), "app", "bytes", 7}), back, error));
  const auto& s = std::get<SubmitEntry>(back);
  CHECK(s.request_id == std::string(16, 'r'));
  CHECK(s.program_name == "app");
  CHECK(s.bundle == "bytes");
  CHECK(s.seed == 7);
  REQUIRE(decode_entry(encode_entry(LivenessEntry{9, true}), back, error));
  CHECK(std::get<LivenessEntry>(back).node == 9);
  CHECK(std::get<LivenessEntry>(back).up);
}

TEST_CASE("a program's ticks and end: fields survive, an empty group or an exit code over 255 is refused") {
  JournalEntry back;
  std::string error;
  REQUIRE(decode_entry(encode_entry(RunTicksEntry{5, 3, 7, 12, "frames"}), back, error));
  const auto& t = std::get<RunTicksEntry>(back);
  CHECK(t.program == 5);
  CHECK(t.node == 3);
  CHECK(t.epoch == 7);
  CHECK(t.first_frame == 12);
  CHECK(t.frames == "frames");
  REQUIRE(decode_entry(encode_entry(RunEndEntry{5, 3, 7, 13, 3, {"a", "b"}}), back, error));
  const auto& e = std::get<RunEndEntry>(back);
  CHECK(e.frames == 13);
  CHECK(e.exit_code == 3);
  CHECK(e.summary == std::vector<std::string>{"a", "b"});
  CHECK(refusal(encode_entry(RunTicksEntry{5, 3, 7, 12, ""})) == "RunTicks.frames: empty");
  const std::string bad_exit = pack([](auto& p) {
    p.pack_array(3);
    p.pack_uint32(kJournalFormatVersion);
    p.pack_uint32(static_cast<uint32_t>(EntryKind::RunEnd));
    p.pack_array(6);
    for (int i = 0; i < 4; ++i) p.pack_uint64(1);
    p.pack_uint64(256);
    p.pack_array(0);
  });
  CHECK(refusal(bad_exit) == "RunEnd.exit_code: 256 is not an exit code");
}

TEST_CASE("an upgrade and its verdict: fields survive, and a bad request id, no name or no bundle is refused") {
  JournalEntry back;
  std::string error;
  REQUIRE(decode_entry(encode_entry(UpgradeEntry{std::string(16, 'u'), "app", "v2"}), back, error));
  const auto& u = std::get<UpgradeEntry>(back);
  CHECK(u.request_id == std::string(16, 'u'));
  CHECK(u.program_name == "app");
  CHECK(u.bundle == "v2");
  REQUIRE(decode_entry(encode_entry(RunUpgradeEntry{5, 3, 7, 13, 40, false, 0, {"a", "b"}}), back, error));
  const auto& v = std::get<RunUpgradeEntry>(back);
  CHECK(v.program == 5);
  CHECK(v.node == 3);
  CHECK(v.epoch == 7);
  CHECK(v.frames == 13);
  CHECK(v.upgrade == 40);
  CHECK_FALSE(v.ok);
  CHECK(v.lines == std::vector<std::string>{"a", "b"});
  CHECK(refusal(encode_entry(UpgradeEntry{"short", "app", "v2"})) == "Upgrade.request_id: expected 16 bytes, found 5");
  CHECK(refusal(encode_entry(UpgradeEntry{std::string(16, 'u'), "", "v2"})) == "Upgrade.program_name: empty");
  CHECK(refusal(encode_entry(UpgradeEntry{std::string(16, 'u'), "app", ""})) == "Upgrade.bundle: empty");
}

TEST_CASE("an entry of another format version is refused, naming both versions") {
  const std::string bytes = pack([](auto& p) {
    p.pack_array(3);
    p.pack_uint32(2);
    p.pack_uint32(static_cast<uint32_t>(EntryKind::TickClose));
    p.pack_array(1);
    p.pack_uint64(1);
  });
  const std::string error = refusal(bytes);
  CHECK(error.find("format version 2") != std::string::npos);
  CHECK(error.find("only version 1") != std::string::npos);
}

TEST_CASE("an entry of an unknown kind is refused") {
  for (uint32_t kind : {0u, 16u, 1000u}) {
    const std::string bytes = pack([&](auto& p) {
      p.pack_array(3);
      p.pack_uint32(kJournalFormatVersion);
      p.pack_uint32(kind);
      p.pack_array(0);
    });
    CHECK(refusal(bytes) == "journal entry of unknown kind " + std::to_string(kind));
  }
}

TEST_CASE("malformed entries are refused with the field that is wrong") {
  // A Liveness whose `up` is an integer.
  std::string error = refusal(pack([](auto& p) {
    p.pack_array(3);
    p.pack_uint32(kJournalFormatVersion);
    p.pack_uint32(static_cast<uint32_t>(EntryKind::Liveness));
    p.pack_array(2);
    p.pack_uint64(1);
    p.pack_uint64(1);
  }));
  CHECK(error == "Liveness.up: expected a boolean, found an unsigned integer");
  // A Submit with a short request id.
  error = refusal(encode_entry(SubmitEntry{"short", "app", "b", 1}));
  CHECK(error.find("Submit.request_id: expected 16 bytes") == 0);
  // A Submit without a program name.
  error = refusal(encode_entry(SubmitEntry{std::string(16, 'x'), "", "b", 1}));
  CHECK(error == "Submit.program_name: empty");
  // A TickClose with two fields.
  error = refusal(pack([](auto& p) {
    p.pack_array(3);
    p.pack_uint32(kJournalFormatVersion);
    p.pack_uint32(static_cast<uint32_t>(EntryKind::TickClose));
    p.pack_array(2);
    p.pack_uint64(1);
    p.pack_uint64(2);
  }));
  CHECK(error == "TickClose: expected 1 fields, found 2");
  // Not an array at all.
  CHECK(refusal(pack([](auto& p) { p.pack_uint32(5); })) ==
        "journal entry: expected an array, found an unsigned integer");
}

TEST_CASE("every cut of an entry, and an entry with trailing bytes, is refused") {
  for (const auto& entry : one_of_each()) {
    const std::string bytes = encode_entry(entry);
    CAPTURE(entry_kind_name(kind_of(entry)));
    for (size_t n = 0; n < bytes.size(); ++n) refusal(std::string_view(bytes).substr(0, n));
    CHECK(refusal(bytes + '\0').find("trailing bytes") != std::string::npos);
  }
}

TEST_CASE("an oversized entry is refused before it is decoded") {
  const std::string huge(kMaxEntryBytes + 1, '\0');
  CHECK(refusal(huge).find("over the limit") != std::string::npos);
}
