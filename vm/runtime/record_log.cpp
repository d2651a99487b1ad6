#include "vm/runtime/record_log.h"

#include <leveldb/env.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "vm/runtime/storage_env.h"
#include "vm/runtime/store.h"

namespace ved::vm {

namespace {

constexpr std::string_view kPrefix = "journal-";
constexpr std::string_view kSuffix = ".log";
constexpr size_t kHeaderBytes = kLogFrameHeaderBytes;
// A frame longer than this is not one we wrote (a tick record is bounded by the group's
// size): its length field is damage, and reading it would only allocate.
constexpr uint32_t kMaxPayload = uint32_t{1} << 30;

// Little-endian, written over bytes already there (a frame's header is filled in place).
void store_u64(char* at, uint64_t v) {
  for (int i = 0; i < 8; ++i) at[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void store_u32(char* at, uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// The payload's XXH64, seeded with the XXH64 of the header's first 20 bytes: both are
// covered, and nothing is allocated (this runs for every tick).
uint64_t frame_hash(const char* header20, std::string_view payload) {
  return XXH64(payload.data(), payload.size(), XXH64(header20, 20, 0));
}

}  // namespace

bool read_log_frames(std::string_view bytes, uint64_t first,
                     const std::function<void(uint64_t, int64_t, std::string_view)>& visit, std::string& error) {
  uint64_t expected = first;
  size_t at = 0;
  while (at < bytes.size()) {
    const std::string where = "frame " + std::to_string(expected) + " (byte " + std::to_string(at) + ")";
    if (bytes.size() - at < kHeaderBytes) {
      error = where + " is cut short: " + std::to_string(bytes.size() - at) + " bytes where a header takes " +
              std::to_string(kHeaderBytes);
      return false;
    }
    const char* header = bytes.data() + at;
    const uint64_t number = get_u64(header);
    const int64_t tick = static_cast<int64_t>(get_u64(header + 8));
    const uint32_t length = get_u32(header + 16);
    if (number != expected) {
      error = where + " is numbered " + std::to_string(number);
      return false;
    }
    if (length > bytes.size() - at - kHeaderBytes) {
      error = where + " is cut short: its payload of " + std::to_string(length) + " bytes runs past the end";
      return false;
    }
    const std::string_view payload(header + kHeaderBytes, length);
    if (get_u64(header + 20) != frame_hash(header, payload)) {
      error = where + " fails its checksum";
      return false;
    }
    visit(number, tick, payload);
    at += kHeaderBytes + length;
    ++expected;
  }
  return true;
}

namespace {

std::string segment_name(uint64_t first) { return std::string(kPrefix) + hex_u64(first) + std::string(kSuffix); }

Status log_failure(const std::string& what, const leveldb::Status& s) {
  const std::string text = s.ToString();
  if (text.find("No space left") != std::string::npos) return Status::error(Status::Code::NoSpace, what + ": " + text);
  if (text.find("Read-only file system") != std::string::npos)
    return Status::error(Status::Code::ReadOnly, what + ": " + text);
  return Status::io_error(what + ": " + text);
}

struct Segment {
  uint64_t first = 0;
  std::string name;
};

// The segments in `dir`, by first frame.
Status list_segments(const std::string& dir, leveldb::Env* env, std::vector<Segment>& out) {
  std::vector<std::string> names;
  if (leveldb::Status s = env->GetChildren(dir, &names); !s.ok()) return log_failure("cannot list the data dir", s);
  for (const std::string& name : names) {
    if (!RecordLog::is_segment(name)) continue;
    uint64_t first = 0;
    if (!parse_hex_u64(std::string_view(name).substr(kPrefix.size(), 16), first))
      return Status::damaged("the journal segment `" + name + "` is not named by a frame number");
    out.push_back(Segment{first, name});
  }
  std::sort(out.begin(), out.end(), [](const Segment& a, const Segment& b) { return a.first < b.first; });
  return Status::ok();
}

// Reads a segment through a buffer of its own, so that a frame costs no system call of
// its own (the journal is read whole, a million small frames at a time) and skipping a
// frame's payload is moving a cursor.
class SegmentReader {
 public:
  explicit SegmentReader(leveldb::SequentialFile& file) : file_(file) {}

  // Views the next `n` bytes (fewer only at the end of the file); valid until the next call.
  leveldb::Status next(size_t n, std::string_view& out) {
    if (end_ - begin_ < n) {
      if (leveldb::Status s = fill(n); !s.ok()) return s;
    }
    const size_t take = std::min(n, end_ - begin_);
    out = std::string_view(buffer_.data() + begin_, take);
    begin_ += take;
    return leveldb::Status::OK();
  }

  leveldb::Status skip(uint64_t n) {
    if (n <= end_ - begin_) {
      begin_ += n;
      return leveldb::Status::OK();
    }
    n -= end_ - begin_;
    begin_ = end_ = 0;
    return file_.Skip(n);
  }

 private:
  static constexpr size_t kChunk = size_t{1} << 20;

  // Reads until `want` bytes are buffered, or the file ends.
  leveldb::Status fill(size_t want) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    if (buffer_.size() < std::max(want, kChunk)) buffer_.resize(std::max(want, kChunk));
    while (end_ < want) {
      leveldb::Slice part;
      leveldb::Status s = file_.Read(buffer_.size() - end_, &part, buffer_.data() + end_);
      if (!s.ok()) return s;
      if (part.empty()) break;
      if (part.data() != buffer_.data() + end_) std::memmove(buffer_.data() + end_, part.data(), part.size());
      end_ += part.size();
    }
    return leveldb::Status::OK();
  }

  leveldb::SequentialFile& file_;
  std::string buffer_;
  size_t begin_ = 0, end_ = 0;
};

}  // namespace

size_t begin_log_frame(std::string& out) {
  const size_t at = out.size();
  out.append(kHeaderBytes, '\0');
  return at;
}

void finish_log_frame(std::string& out, size_t at, uint64_t number, int64_t tick) {
  const size_t length = out.size() - at - kHeaderBytes;
  char* header = out.data() + at;
  store_u64(header, number);
  store_u64(header + 8, static_cast<uint64_t>(tick));
  store_u32(header + 16, static_cast<uint32_t>(length));
  store_u64(header + 20, frame_hash(header, std::string_view(out).substr(at + kHeaderBytes, length)));
}

void append_log_frame(std::string& out, uint64_t number, int64_t tick, std::string_view payload) {
  const size_t at = begin_log_frame(out);
  out.append(payload);
  finish_log_frame(out, at, number, tick);
}

bool RecordLog::is_segment(std::string_view name) {
  return name.size() == kPrefix.size() + 16 + kSuffix.size() && name.starts_with(kPrefix) && name.ends_with(kSuffix);
}

RecordLog::RecordLog(std::string dir, StorageEnv& env, uint64_t segment_bytes)
    : dir_(std::move(dir)), env_(env), segment_bytes_(segment_bytes) {}

RecordLog::~RecordLog() {
  if (file_) file_->Close();
}

Status RecordLog::append(uint64_t first, std::string_view frames, size_t last_at) {
  if (!file_)
    if (Status s = sync_earlier_segments(); !s.is_ok()) return s;
  if (!file_ || file_bytes_ >= segment_bytes_) {
    if (file_) {
      // The segment is full: what it holds is made durable before its successor exists,
      // so that a segment is never followed by one while its own tail may still be lost.
      if (Status s = sync(); !s.is_ok()) return s;
      file_->Close();
      file_.reset();
    }
    leveldb::WritableFile* file = nullptr;
    const std::string path = dir_ + "/" + segment_name(first);
    if (leveldb::Status s = env_.database()->NewWritableFile(path, &file); !s.ok())
      return log_failure("cannot create the journal segment `" + path + "`", s);
    file_.reset(file);
    file_bytes_ = 0;
    segment_first_ = first;
    new_segment_ = true;
  }
  if (leveldb::Status s = file_->Append(leveldb::Slice(frames.data(), frames.size())); !s.ok())
    return log_failure("cannot write the journal", s);
  if (leveldb::Status s = file_->Flush(); !s.ok()) return log_failure("cannot write the journal", s);
  last_ = LogPosition{segment_first_, file_bytes_ + last_at};
  file_bytes_ += frames.size();
  return Status::ok();
}

Status RecordLog::sync() {
  if (!file_) return Status::ok();
  if (leveldb::Status s = file_->Sync(); !s.ok()) return log_failure("cannot write the journal", s);
  if (new_segment_) {
    // A new segment's name is durable only once its directory is.
    std::string error;
    if (!env_.sync_dir(dir_, error)) return Status::io_error("cannot write the journal: syncing `" + dir_ + "`: " + error);
    new_segment_ = false;
  }
  return Status::ok();
}

Status RecordLog::sync_earlier_segments() {
  if (earlier_synced_ || file_) return Status::ok();
  std::vector<Segment> segments;
  if (Status s = list_segments(dir_, env_.database(), segments); !s.is_ok()) return s;
  // Only the last can hold an unsynced tail: every earlier one was synced before its
  // successor was created.
  if (!segments.empty()) {
    const std::string path = dir_ + "/" + segments.back().name;
    leveldb::WritableFile* raw = nullptr;
    if (leveldb::Status s = env_.database()->NewAppendableFile(path, &raw); !s.ok())
      return log_failure("cannot open the journal segment `" + path + "`", s);
    std::unique_ptr<leveldb::WritableFile> file(raw);
    if (leveldb::Status s = file->Sync(); !s.ok()) return log_failure("cannot write the journal", s);
    if (leveldb::Status s = file->Close(); !s.ok()) return log_failure("cannot write the journal", s);
  }
  earlier_synced_ = true;
  return Status::ok();
}

Status RecordLog::scan(const std::string& dir, leveldb::Env* env, uint64_t from,
                       const std::function<bool(uint64_t, int64_t, std::string_view)>& visit, LogEnd& end,
                       const LogPosition* at) {
  end = LogEnd{};
  std::vector<Segment> segments;
  if (Status s = list_segments(dir, env, segments); !s.is_ok()) return s;
  if (segments.empty()) return Status::ok();
  // The last segment that starts at or before `from`: those before it end before it.
  size_t k = 0;
  while (k + 1 < segments.size() && segments[k + 1].first <= from) ++k;
  // Where reading starts: the frames before the first segment were never written (a log
  // starts at frame 0) or are gone.
  uint64_t expected = std::min(from, segments[k].first);
  uint64_t start_at = 0;  // in the first segment read
  if (at && segments[k].first == at->segment && at->segment <= from) {
    expected = from;
    start_at = at->offset;
  }
  std::string torn;  // why the previous segment ended early ("" when it ended cleanly)
  for (bool first_segment = true; k < segments.size(); ++k, first_segment = false) {
    const Segment& seg = segments[k];
    // (Started at a position, the first segment read begins before `expected`.)
    if (seg.first != expected && !(first_segment && start_at > 0)) {
      // A segment torn at its end may be followed only at the frame it could not read; a
      // clean one, only at the frame after its last.
      end.damage = seg.first < expected
                       ? "the journal's segment `" + seg.name + "` starts at frame " + std::to_string(seg.first) +
                             ", inside the frames before it (up to " + std::to_string(expected - 1) + ")"
                       : "the journal has no frames " + std::to_string(expected) + " to " +
                             std::to_string(seg.first - 1) + ": segment `" + seg.name + "` starts at frame " +
                             std::to_string(seg.first) + (torn.empty() ? "" : " (" + torn + ")");
      end.next_frame = expected;
      return Status::ok();
    }
    torn.clear();
    leveldb::SequentialFile* raw = nullptr;
    const std::string path = dir + "/" + seg.name;
    if (leveldb::Status s = env->NewSequentialFile(path, &raw); !s.ok())
      return log_failure("cannot read the journal segment `" + path + "`", s);
    std::unique_ptr<leveldb::SequentialFile> file(raw);
    SegmentReader reader(*file);
    uint64_t offset = 0;
    if (start_at > 0) {
      if (leveldb::Status s = reader.skip(start_at); !s.ok())
        return log_failure("cannot read the journal segment `" + path + "`", s);
      offset = start_at;
      start_at = 0;
    }
    for (;;) {
      std::string_view view;
      if (leveldb::Status s = reader.next(kHeaderBytes, view); !s.ok())
        return log_failure("cannot read the journal segment `" + path + "`", s);
      if (view.empty()) break;  // the segment's clean end
      auto fail = [&](const char* why) {
        torn = "segment `" + seg.name + "`, byte " + std::to_string(offset) + ": frame " + std::to_string(expected) +
               " " + why;
      };
      if (view.size() < kHeaderBytes) {
        fail("is cut short");
        break;
      }
      char header[kHeaderBytes];  // kept: reading the payload may move the buffer
      std::memcpy(header, view.data(), kHeaderBytes);
      const uint64_t number = get_u64(header);
      const auto tick = static_cast<int64_t>(get_u64(header + 8));
      const uint32_t length = get_u32(header + 16);
      const uint64_t hash = get_u64(header + 20);
      if (number != expected) {
        fail("is not there (the header holds another number)");
        break;
      }
      if (length > kMaxPayload) {
        fail("has an impossible length");
        break;
      }
      if (number < from) {
        // Before the part asked for: skipped unread (its checksum is its reader's).
        end.last = LogPosition{seg.first, offset};
        if (leveldb::Status s = reader.skip(length); !s.ok())
          return log_failure("cannot read the journal segment `" + path + "`", s);
        offset += kHeaderBytes + length;
        ++expected;
        continue;
      }
      std::string_view payload;
      if (leveldb::Status s = reader.next(length, payload); !s.ok())
        return log_failure("cannot read the journal segment `" + path + "`", s);
      if (payload.size() < length) {
        fail("is cut short");
        break;
      }
      if (frame_hash(header, payload) != hash) {
        fail("fails its checksum");
        break;
      }
      end.last = LogPosition{seg.first, offset};
      ++expected;
      offset += kHeaderBytes + length;
      if (!visit(number, tick, payload)) {
        end.next_frame = expected;
        return Status::ok();
      }
    }
  }
  // The last segment's tail: a write torn by a crash, or damage; the caller knows which
  // (what was committed says how far the journal must reach).
  end.damage = torn;
  end.next_frame = expected;
  return Status::ok();
}

Status RecordLog::remove_all(const std::string& dir, leveldb::Env* env) {
  std::vector<Segment> segments;
  if (Status s = list_segments(dir, env, segments); !s.is_ok() && !s.is_damaged()) return s;
  for (const Segment& seg : segments)
    if (leveldb::Status s = env->RemoveFile(dir + "/" + seg.name); !s.ok())
      return log_failure("cannot remove the journal segment `" + seg.name + "`", s);
  return Status::ok();
}

}  // namespace ved::vm
