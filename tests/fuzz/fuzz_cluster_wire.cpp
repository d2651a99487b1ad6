// libFuzzer target for the cluster's decoders: arbitrary bytes are one wire message
// (cluster/wire_message.h) and one journal entry (cluster/journal_entry.h), the two
// things a node reads from untrusted peers and clients. Invariants (a violation traps):
//   * a decoder returns false if and only if it set an error message;
//   * what a decoder accepts re-encodes to bytes that decode again to the same bytes
//     (the schema has one encoding per value, so encode(decode(x)) is a fixed point).
//
// Seeds are written at run time: `fuzz_cluster_wire -write_seeds=DIR` writes one encoded
// sample of every message and entry kind into DIR and exits (scripts/fuzz-smoke.sh).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "cluster/journal_entry.h"
#include "cluster/wire_message.h"
#include "tests/fuzz/fuzz_check.h"

const char* const ved::fuzz::kTargetName = "fuzz_cluster_wire";

namespace {

using namespace ved::cluster;

void write_seeds(const std::string& dir) {
  int n = 0;
  auto put = [&](const std::string& bytes) {
    std::ofstream(dir + "/seed-" + std::to_string(n++), std::ios::binary) << bytes;
  };
  put(encode_entry(SubmitEntry{std::string(16, 'r'), "hello", "VEDB", 1}));
  put(encode_entry(MembershipEntry{{{1, "127.0.0.1:7001", "", ""}}}));
  put(encode_entry(LivenessEntry{1, true}));
  put(encode_entry(LeaderPinEntry{1}));
  put(encode_entry(PlacementEntry{1, {{"A[1]", 1}}}));
  put(encode_entry(SliceBatchEntry{1, 1, 1, {{"A[1]", 1, {"x"}, "d", {"m"}, {"i"}, {"t"}, {"f"}}}}));
  put(encode_entry(OutcomeEntry{"i", "r"}));
  put(encode_entry(ExternalEntry{"m"}));
  put(encode_entry(TickCloseEntry{1}));
  for (uint32_t type = RaftRpc::AppendEntries; type <= RaftRpc::TimeoutNow; ++type) {
    RaftRpc rpc;
    rpc.type = type;
    rpc.term = 2;
    rpc.entries = {{1, 1, "abc"}};
    rpc.configuration = {{1, "127.0.0.1:7001", 1}};
    rpc.snapshot_data = "s";
    put(encode_wire(WireMessage{std::string(16, 'c'), 1, "127.0.0.1:7001", rpc}));
  }
  for (uint32_t kind = ClientRequest::Submit; kind <= ClientRequest::Shutdown; ++kind) {
    ClientRequest r;
    r.kind = kind;
    r.request_id = std::string(16, 'q');
    put(encode_wire(WireMessage{"", 0, "", r}));
  }
  put(encode_wire(WireMessage{"", 0, "", ClientReply{ClientReply::NotLeader, 1, "m", "a", "p"}}));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  for (int i = 1; i < *argc; ++i) {
    const char* flag = "-write_seeds=";
    if (std::strncmp((*argv)[i], flag, std::strlen(flag)) == 0) {
      write_seeds((*argv)[i] + std::strlen(flag));
      std::exit(0);
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  {
    WireMessage m;
    std::string error;
    const bool ok = decode_wire(bytes, m, error);
    FUZZ_CHECK(ok == error.empty(), "decode_wire: " + error);
    if (ok) {
      const std::string again = encode_wire(m);
      WireMessage m2;
      FUZZ_CHECK(decode_wire(again, m2, error), "re-encoded message refused: " + error);
      FUZZ_CHECK(encode_wire(m2) == again, "re-encoding is not a fixed point");
    }
  }
  {
    JournalEntry e;
    std::string error;
    const bool ok = decode_entry(bytes, e, error);
    FUZZ_CHECK(ok == error.empty(), "decode_entry: " + error);
    if (ok) {
      const std::string again = encode_entry(e);
      JournalEntry e2;
      FUZZ_CHECK(decode_entry(again, e2, error), "re-encoded entry refused: " + error);
      FUZZ_CHECK(encode_entry(e2) == again, "re-encoding is not a fixed point");
    }
  }
  return 0;
}
