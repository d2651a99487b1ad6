#include "vm/runtime/tick_record.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <stdexcept>

#include "vm/interpreter.h"
#include "vm/runtime/store.h"

namespace ved::vm {

namespace {

// Bumped when the layout changes (the data dir's format is bumped with it).
constexpr char kRecordFormat = 1;

// Writes into room the caller has made (append_tick_record sizes the record exactly
// first): a record is a few dozen fields, and a bounds-checked append for each was most
// of the time of encoding one.
class Writer {
 public:
  explicit Writer(char* at) : at_(at) {}
  void u8(uint8_t v) { *at_++ = static_cast<char>(v); }
  // Little-endian, whatever the machine's order.
  void u32(uint32_t v) {
    for (int k = 0; k < 4; ++k) *at_++ = static_cast<char>((v >> (8 * k)) & 0xFF);
  }
  void u64(uint64_t v) {
    for (int k = 0; k < 8; ++k) *at_++ = static_cast<char>((v >> (8 * k)) & 0xFF);
  }
  void bytes(std::string_view b) {
    u32(static_cast<uint32_t>(b.size()));
    if (!b.empty()) std::memcpy(at_, b.data(), b.size());
    at_ += b.size();
  }
  // A count before a list: lists are bounded by what a tick may create, far below 2^32.
  void count(size_t n) { u32(static_cast<uint32_t>(n)); }
  const char* end() const { return at_; }

 private:
  char* at_;
};

// Reads what Writer wrote; every read checks that the bytes are there, and the first
// that fails names the part being read.
class Reader {
 public:
  Reader(std::string_view in, std::string& error) : in_(in), error_(error) {}
  bool u8(uint8_t& v, const char* what) {
    if (!need(1, what)) return false;
    v = static_cast<uint8_t>(in_[at_++]);
    return true;
  }
  bool u32(uint32_t& v, const char* what) {
    if (!need(4, what)) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) v |= static_cast<uint32_t>(static_cast<unsigned char>(in_[at_++])) << (8 * k);
    return true;
  }
  bool u64(uint64_t& v, const char* what) {
    if (!need(8, what)) return false;
    v = 0;
    for (int k = 0; k < 8; ++k) v |= static_cast<uint64_t>(static_cast<unsigned char>(in_[at_++])) << (8 * k);
    return true;
  }
  bool bytes(std::string& v, const char* what) {
    uint32_t n = 0;
    if (!u32(n, what) || !need(n, what)) return false;
    v.assign(in_.substr(at_, n));
    at_ += n;
    return true;
  }
  // A list's length: each element takes at least `min_bytes`, so a damaged count cannot
  // make the reader reserve more than the record could hold.
  bool count(size_t& n, size_t min_bytes, const char* what) {
    uint32_t v = 0;
    if (!u32(v, what)) return false;
    if (v > (in_.size() - at_) / min_bytes) return fail(what);
    n = v;
    return true;
  }
  bool at_end() {
    if (at_ == in_.size()) return true;
    error_ = "the tick record has " + std::to_string(in_.size() - at_) + " bytes after its end";
    return false;
  }

 private:
  bool need(size_t n, const char* what) { return n <= in_.size() - at_ || fail(what); }
  bool fail(const char* what) {
    error_ = std::string("the tick record is cut short in its ") + what;
    return false;
  }
  std::string_view in_;
  size_t at_ = 0;
  std::string& error_;
};

}  // namespace

void TickRecord::append(TickRecord&& later) {
  tick = later.tick;
  timer_sequence = later.timer_sequence;
  last_foreground_tick = later.last_foreground_tick;
  for (InstanceWrite& w : later.instances)
    if (w.line != kNoStateLine) w.line += static_cast<uint32_t>(journal.size());
  std::move(later.instances.begin(), later.instances.end(), std::back_inserter(instances));
  std::move(later.enqueued.begin(), later.enqueued.end(), std::back_inserter(enqueued));
  std::move(later.dequeued.begin(), later.dequeued.end(), std::back_inserter(dequeued));
  pending = std::move(later.pending);
  std::move(later.intents.begin(), later.intents.end(), std::back_inserter(intents));
  std::move(later.observed.begin(), later.observed.end(), std::back_inserter(observed));
  if (later.effect_counts) effect_counts = std::move(later.effect_counts);
  std::move(later.journal.begin(), later.journal.end(), std::back_inserter(journal));
}

std::string encode_tick_record(const TickRecord& r) {
  std::string out;
  append_tick_record(out, r);
  return out;
}

void append_tick_record(std::string& out, const TickRecord& r) {
  // Sized exactly first: the record is written into room made once. The head is the
  // format byte, three u64s, six list counts, the pending bytes' length and the
  // effect-count flag.
  size_t size = 1 + 3 * 8 + 6 * 4 + 4 + r.pending.size() + 1 + (r.effect_counts ? 4 + r.effect_counts->size() : 0);
  for (const auto& in : r.instances) size += 4 + in.key.size() + 4 + in.value.size() + 8 + 4;
  for (const auto& e : r.enqueued) size += 4 + e.key.size() + 4 + e.value.size();
  for (const auto& key : r.dequeued) size += 4 + key.size();
  for (const auto& x : r.intents) size += 8 + 4 + 4 + x.value.size() + 1;
  for (const auto& o : r.observed) size += 4 + o.key.size() + 4 + o.value.size();
  for (const auto& line : r.journal) size += 4 + line.size();
  // (Geometrically when appending to a buffer that holds more: a group's frames.)
  const size_t at = out.size();
  if (out.capacity() < at + size) out.reserve(std::max(at + size, 2 * out.capacity()));
  out.resize(at + size);
  Writer w(out.data() + at);
  w.u8(static_cast<uint8_t>(kRecordFormat));
  w.u64(static_cast<uint64_t>(r.tick));
  w.u64(r.timer_sequence);
  w.u64(static_cast<uint64_t>(r.last_foreground_tick));
  w.count(r.instances.size());
  for (const auto& in : r.instances) {
    w.bytes(in.key);
    w.bytes(in.value);
    w.u64(in.replaces);
    w.u32(in.line);
  }
  w.count(r.enqueued.size());
  for (const auto& e : r.enqueued) {
    w.bytes(e.key);
    w.bytes(e.value);
  }
  w.count(r.dequeued.size());
  for (const auto& key : r.dequeued) w.bytes(key);
  w.bytes(r.pending);
  w.count(r.intents.size());
  for (const auto& x : r.intents) {
    w.u64(static_cast<uint64_t>(x.tick));
    w.u32(x.index);
    w.bytes(x.value);
    w.u8(x.completed ? 1 : 0);
  }
  w.count(r.observed.size());
  for (const auto& o : r.observed) {
    w.bytes(o.key);
    w.bytes(o.value);
  }
  w.u8(r.effect_counts ? 1 : 0);
  if (r.effect_counts) w.bytes(*r.effect_counts);
  w.count(r.journal.size());
  for (const auto& line : r.journal) w.bytes(line);
  // The sizing above and the writes must agree, or the record would run past its room.
  if (w.end() != out.data() + out.size()) throw std::logic_error("a tick record was sized wrongly");
}

bool decode_tick_record(std::string_view bytes, TickRecord& r, std::string& error) {
  r = TickRecord{};
  Reader in(bytes, error);
  uint8_t format = 0;
  if (!in.u8(format, "format byte")) return false;
  if (format != kRecordFormat) {
    error = "the tick record has format " + std::to_string(format) + ", not " + std::to_string(kRecordFormat);
    return false;
  }
  uint64_t tick = 0, foreground = 0;
  if (!in.u64(tick, "tick") || !in.u64(r.timer_sequence, "timer sequence") ||
      !in.u64(foreground, "foreground tick"))
    return false;
  r.tick = static_cast<int64_t>(tick);
  r.last_foreground_tick = static_cast<int64_t>(foreground);
  if (r.tick < 0 || r.tick > kLastTick || r.last_foreground_tick < -1 || r.last_foreground_tick > r.tick) {
    error = "the tick record's head is out of range";
    return false;
  }
  size_t n = 0;
  if (!in.count(n, 20, "instances")) return false;
  r.instances.resize(n);
  for (auto& x : r.instances)
    if (!in.bytes(x.key, "instances") || !in.bytes(x.value, "instances") || !in.u64(x.replaces, "instances") ||
        !in.u32(x.line, "instances"))
      return false;
  if (!in.count(n, 8, "enqueued messages")) return false;
  r.enqueued.resize(n);
  for (auto& e : r.enqueued)
    if (!in.bytes(e.key, "enqueued messages") || !in.bytes(e.value, "enqueued messages")) return false;
  if (!in.count(n, 4, "dequeued messages")) return false;
  r.dequeued.resize(n);
  for (auto& key : r.dequeued)
    if (!in.bytes(key, "dequeued messages")) return false;
  if (!in.bytes(r.pending, "pending messages")) return false;
  if (!in.count(n, 17, "intents")) return false;
  r.intents.resize(n);
  for (auto& x : r.intents) {
    uint64_t t = 0;
    uint8_t completed = 0;
    if (!in.u64(t, "intents") || !in.u32(x.index, "intents") || !in.bytes(x.value, "intents") ||
        !in.u8(completed, "intents"))
      return false;
    x.tick = static_cast<int64_t>(t);
    if (completed > 1 || x.tick < 0 || x.tick > r.tick) {
      error = "the tick record has a malformed intent";
      return false;
    }
    x.completed = completed == 1;
  }
  if (!in.count(n, 8, "observations")) return false;
  r.observed.resize(n);
  for (auto& o : r.observed)
    if (!in.bytes(o.key, "observations") || !in.bytes(o.value, "observations")) return false;
  uint8_t has_counts = 0;
  if (!in.u8(has_counts, "effect counts")) return false;
  if (has_counts > 1) {
    error = "the tick record has a malformed effect-count flag";
    return false;
  }
  if (has_counts) {
    r.effect_counts.emplace();
    if (!in.bytes(*r.effect_counts, "effect counts")) return false;
  }
  if (!in.count(n, 4, "journal")) return false;
  r.journal.resize(n);
  for (auto& line : r.journal)
    if (!in.bytes(line, "journal")) return false;
  // State lines go between event lines, in order.
  uint32_t last = 0;
  for (const auto& w : r.instances) {
    if (w.line == TickRecord::kNoStateLine) continue;
    if (w.line > r.journal.size() || w.line < last) {
      error = "the tick record places a state line outside its journal";
      return false;
    }
    last = w.line;
  }
  return in.at_end();
}

std::string tick_record_key(int64_t tick) { return "tick/" + hex_u64(static_cast<uint64_t>(tick)); }

}  // namespace ved::vm
