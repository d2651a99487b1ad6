#include "vm/runtime/data_dir_marker.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ved::vm {

namespace {

// Bumped whenever a record's layout changes: a data dir of another format is refused as
// such, not reported as damaged. 4: the marker file and `meta/digest`. 5: ticks written in
// groups, one journal record per tick (`jrnl/<tick>`), `meta/head`, the random generator
// as (seed, draws). 6: one binary record per tick (`tick/<tick>`, tick_record.h), holding
// its writes and its journal lines. 7: program history (`meta/programs`, every bundle
// run kept as `prog/<hash>`), upgrade ticks. 8: the tick-record log (record_log.h) with
// checkpoints; `meta/head` counts its frames.
constexpr const char* kFormat = "8";

constexpr size_t kHeaderBytes = 64;
constexpr size_t kSlotBytes = 64;
constexpr size_t kSlotPayload = 40;  // sequence, tick, program hash, digest, reserved
constexpr size_t kFileBytes = kHeaderBytes + 2 * kSlotBytes;

std::string header() {
  std::string h = std::string("Ved data dir\nformat ") + kFormat + "\n";
  h.resize(kHeaderBytes, '\0');
  return h;
}

void put_u64(char* at, uint64_t v) {
  for (int k = 0; k < 8; ++k) at[k] = static_cast<char>((v >> (8 * k)) & 0xFF);
}
uint64_t get_u64(const char* at) {
  uint64_t v = 0;
  for (int k = 0; k < 8; ++k) v |= static_cast<uint64_t>(static_cast<unsigned char>(at[k])) << (8 * k);
  return v;
}

std::array<char, kSlotBytes> encode_slot(uint64_t sequence, const CommittedMark& m) {
  std::array<char, kSlotBytes> slot{};
  put_u64(&slot[0], sequence);
  put_u64(&slot[8], static_cast<uint64_t>(m.tick));
  put_u64(&slot[16], m.program_hash);
  put_u64(&slot[24], m.digest);
  put_u64(&slot[32], 0);
  put_u64(&slot[kSlotPayload], XXH64(slot.data(), kSlotPayload, 0));
  return slot;
}

bool decode_slot(const char* slot, uint64_t& sequence, CommittedMark& m) {
  if (XXH64(slot, kSlotPayload, 0) != get_u64(slot + kSlotPayload)) return false;
  sequence = get_u64(slot);
  m.tick = static_cast<int64_t>(get_u64(slot + 8));
  m.program_hash = get_u64(slot + 16);
  m.digest = get_u64(slot + 24);
  return m.tick >= -1;
}

std::string marker_path(const std::string& dir) { return (std::filesystem::path(dir) / kDataDirMarker).string(); }

std::string errno_text(int e) { return std::strerror(e); }

// Reads the whole marker: IoError when it cannot be read, Damaged when it has the wrong size.
Status read_file(const std::string& dir, std::string& bytes) {
  const int fd = ::open(marker_path(dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(std::string(kDataDirMarker) + " cannot be read: " + errno_text(errno));
  bytes.assign(kFileBytes + 1, '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  if (got != kFileBytes)
    return Status::damaged(std::string(kDataDirMarker) + " is damaged: it has " + std::to_string(got) + " bytes, not " +
                           std::to_string(kFileBytes));
  bytes.resize(kFileBytes);
  return Status::ok();
}

// Whether a header that is not ours is whole and names another format: "Ved data
// dir\nformat N\n" with N a number, then zero bytes. Anything else (a flipped byte in
// the padding, say) is damage.
bool other_format(const std::string& bytes) {
  const std::string prefix = "Ved data dir\nformat ";
  if (bytes.compare(0, prefix.size(), prefix) != 0) return false;
  size_t at = prefix.size();
  const size_t digits = at;
  while (at < kHeaderBytes && bytes[at] >= '0' && bytes[at] <= '9') ++at;
  if (at == digits || at >= kHeaderBytes || bytes[at] != '\n') return false;
  for (++at; at < kHeaderBytes; ++at)
    if (bytes[at] != '\0') return false;
  return true;
}

// The newest whole slot of a marker's bytes: OtherFormat for a marker of another format,
// Damaged when the header is not ours or neither slot is whole.
Status newest_slot(const std::string& bytes, uint64_t& sequence, CommittedMark& out) {
  if (bytes.compare(0, kHeaderBytes, header()) != 0) {
    if (other_format(bytes))
      return Status::error(Status::Code::OtherFormat,
                           std::string(kDataDirMarker) + " is of another data-dir format (this VM writes format " +
                               kFormat + "): the data dir was written by another version of the VM");
    return Status::damaged(std::string(kDataDirMarker) + " is damaged: its header is not a Ved data dir's");
  }
  bool found = false;
  for (size_t k = 0; k < 2; ++k) {
    uint64_t seq = 0;
    CommittedMark m;
    if (!decode_slot(bytes.data() + kHeaderBytes + k * kSlotBytes, seq, m)) continue;
    if (!found || seq > sequence) {
      sequence = seq;
      out = m;
      found = true;
    }
  }
  if (!found) return Status::damaged(std::string(kDataDirMarker) + " is damaged: neither of its two records is whole");
  return Status::ok();
}

}  // namespace

const char* run_format() { return kFormat; }

DataDirMarker::~DataDirMarker() = default;

bool DataDirMarker::present(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::exists(marker_path(dir), ec);
}

bool DataDirMarker::create(const std::string& dir, StorageEnv& env, std::string& error) {
  std::string bytes = header();
  auto slot = encode_slot(0, CommittedMark{});
  bytes.append(slot.data(), slot.size());
  bytes.append(slot.data(), slot.size());
  // Written whole under a temporary name and renamed: a crash leaves no marker (the
  // directory is still empty to Store::open) or a whole one.
  if (!env.create_file(marker_path(dir), bytes, error)) {
    error = "cannot create " + std::string(kDataDirMarker) + ": " + error;
    return false;
  }
  return true;
}

Status DataDirMarker::read(const std::string& dir, CommittedMark& out) {
  std::string bytes;
  uint64_t sequence = 0;
  Status s = read_file(dir, bytes);
  return s.is_ok() ? newest_slot(bytes, sequence, out) : s;
}

Status DataDirMarker::open(const std::string& dir, StorageEnv& env) {
  std::string bytes;
  Status s = read_file(dir, bytes);
  if (s.is_ok()) s = newest_slot(bytes, sequence_, last_);
  if (!s.is_ok()) return s;
  std::string error;
  file_ = env.open_marker(marker_path(dir), error);
  if (!file_) return Status::io_error("cannot open " + std::string(kDataDirMarker) + " for writing: " + error);
  return Status::ok();
}

bool DataDirMarker::record(const CommittedMark& mark, bool sync, std::string& error) {
  const uint64_t sequence = sequence_ + 1;
  const auto slot = encode_slot(sequence, mark);
  const uint64_t offset = kHeaderBytes + (sequence % 2) * kSlotBytes;
  std::string why = "it is not open";
  if (!file_ || !file_->write_at(offset, std::string_view(slot.data(), slot.size()), sync, why)) {
    error = "cannot update " + std::string(kDataDirMarker) + ": " + why;
    return false;
  }
  sequence_ = sequence;
  last_ = mark;
  return true;
}

}  // namespace ved::vm
