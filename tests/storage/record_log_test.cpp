// The tick-record log (vm/runtime/record_log.h): frames read back as written, across
// segments and from any frame on; a torn tail is where reading stops, and a segment may
// follow only there; and a run's data dir whose journal is damaged says so, naming the
// frame, whether the damage is in the middle (the state still loads; the journal does
// not read), at the end of what the state was made from (refused on load), or a whole
// segment gone.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "fault_env.h"
#include "in_process_run.h"
#include "vm/runtime/record_log.h"
#include "vm/runtime/run_store.h"
#include "vm/runtime/store.h"
#include "vm/runtime/storage_env.h"

namespace ved::storage_test {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kAll = std::numeric_limits<int64_t>::max();

struct Frame {
  uint64_t number;
  int64_t tick;
  std::string payload;
};

// Frame k holds tick 10 + k / 2 (two parts a tick) and a payload of k + 1 bytes.
Frame frame(uint64_t k) { return Frame{k, static_cast<int64_t>(10 + k / 2), std::string(k + 1, char('a' + k % 26))}; }

// Every frame from `from` on (starting at `at`, when given).
std::vector<Frame> scan(const std::string& dir, uint64_t from, vm::LogEnd& end, const vm::LogPosition* at = nullptr) {
  std::vector<Frame> out;
  const vm::Status s = vm::RecordLog::scan(dir, vm::StorageEnv::system().database(), from,
                                           [&](uint64_t n, int64_t tick, std::string_view payload) {
                                             out.push_back(Frame{n, tick, std::string(payload)});
                                             return true;
                                           },
                                           end, at);
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  return out;
}

// Where each group's last frame went, by frame number (the log's own account).
std::map<uint64_t, vm::LogPosition> positions;

// Writes frames [first, last) in groups of three, into segments of about `segment_bytes`.
void write_frames(const std::string& dir, uint64_t first, uint64_t last, uint64_t segment_bytes) {
  vm::RecordLog log(dir, vm::StorageEnv::system(), segment_bytes);
  for (uint64_t k = first; k < last; k += 3) {
    std::string group;
    size_t last_at = 0;
    for (uint64_t j = k; j < std::min(last, k + 3); ++j) {
      last_at = group.size();
      vm::append_log_frame(group, j, frame(j).tick, frame(j).payload);
    }
    REQUIRE(log.append(k, group, last_at).is_ok());
    REQUIRE(log.last_frame());
    positions[std::min(last, k + 3) - 1] = *log.last_frame();
  }
  REQUIRE(log.sync().is_ok());
}

std::vector<fs::path> segments(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (vm::RecordLog::is_segment(e.path().filename().string())) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

void cut_file(const fs::path& file, uint64_t length) { fs::resize_file(file, length); }

void flip_byte(const fs::path& file, uint64_t at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(at));
  f.put(static_cast<char>(c ^ 0x20));
}

// Where each frame of a segment starts (its header), read from the headers.
std::vector<uint64_t> frame_offsets(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<uint64_t> out;
  for (uint64_t at = 0; at + 28 <= bytes.size();) {
    out.push_back(at);
    uint32_t length = 0;
    for (int i = 3; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[at + 16 + static_cast<size_t>(i)]);
    at += 28 + length;
  }
  return out;
}

bool read_journal(const std::string& dir, std::string& error) {
  auto store = open_store(dir, vm::StoreMode::Inspect);
  return vm::scan_journal(*store, 0, kAll, [](int64_t, std::string_view) { return true; }, error);
}

}  // namespace

TEST_CASE("record log: frames read back as written, across segments and from any frame on") {
  ScratchDir dir;
  const std::string d = dir.path().string();
  write_frames(d, 0, 60, 200);
  REQUIRE(segments(d).size() > 3);
  for (uint64_t from : {uint64_t{0}, uint64_t{1}, uint64_t{17}, uint64_t{59}, uint64_t{60}, uint64_t{1000}}) {
    CAPTURE(from);
    vm::LogEnd end;
    const std::vector<Frame> got = scan(d, from, end);
    CHECK(end.damage.empty());
    CHECK(end.next_frame == 60);  // the frame after the last, wherever the scan started
    REQUIRE(got.size() == (from < 60 ? 60 - from : 0));
    for (size_t i = 0; i < got.size(); ++i) {
      const Frame want = frame(from + i);
      CHECK(got[i].number == want.number);
      CHECK(got[i].tick == want.tick);
      CHECK(got[i].payload == want.payload);
    }
  }
}

TEST_CASE("record log: a frame's position, as the log gives it, starts a scan right there") {
  ScratchDir dir;
  const std::string d = dir.path().string();
  positions.clear();
  write_frames(d, 0, 60, 200);
  REQUIRE(positions.size() == 20);
  for (const auto& [number, at] : positions) {
    CAPTURE(number);
    vm::LogEnd end;
    const std::vector<Frame> got = scan(d, number, end, &at);
    CHECK(end.damage.empty());
    REQUIRE(got.size() == 60 - number);
    CHECK(got.front().number == number);
    CHECK(got.front().payload == frame(number).payload);
    CHECK(end.last.segment == positions.rbegin()->second.segment);
    CHECK(end.last.offset == positions.rbegin()->second.offset);
  }
  // A position that is not the frame's is damage, not a frame read from the wrong place.
  const vm::LogPosition wrong{positions.at(2).segment, positions.at(2).offset + 1};
  vm::LogEnd end;
  CHECK(scan(d, 2, end, &wrong).empty());
  CHECK_FALSE(end.damage.empty());
}

TEST_CASE("record log: a torn tail ends reading there, and a new segment may follow only at that frame") {
  ScratchDir dir;
  const std::string d = dir.path().string();
  write_frames(d, 0, 12, 1 << 20);
  const fs::path first = segments(d).at(0);
  const std::vector<uint64_t> at = frame_offsets(first);
  REQUIRE(at.size() == 12);
  // Torn inside frame 9's payload: frames 0..8 are the journal, and the tail is named.
  cut_file(first, at[9] + 30);
  vm::LogEnd end;
  CHECK(scan(d, 0, end).size() == 9);
  CHECK(end.next_frame == 9);
  CHECK(end.damage.find("frame 9 is cut short") != std::string::npos);
  // The recovering writer starts a segment at frame 9: the journal reads through.
  write_frames(d, 9, 20, 1 << 20);
  CHECK(scan(d, 0, end).size() == 20);
  CHECK(end.damage.empty());
  // A segment that starts after a gap is damage, named.
  write_frames(d, 25, 30, 1 << 20);
  CHECK(scan(d, 0, end).size() == 20);
  CHECK(end.damage.find("the journal has no frames 20 to 24") != std::string::npos);
  // A byte flipped in a frame fails its checksum.
  fs::remove(segments(d).back());
  flip_byte(segments(d).back(), frame_offsets(segments(d).back()).at(4) + 30);
  CHECK(scan(d, 0, end).size() == 13);
  CHECK(end.damage.find("frame 13 fails its checksum") != std::string::npos);
}

TEST_CASE("record log: a run's journal damaged in the middle still loads its state, and reading the journal names the frame") {
  const Workload w = compile_workload("workload.ved");
  ScratchDir dir;
  const std::string data = dir / "run";
  vm::RuntimeOptions options = w.options();
  options.group_ms = 0;
  const RunEnd end = run_workload(w, data, vm::StorageEnv::system(), options);
  REQUIRE_MESSAGE(end.ok, end.error);
  std::string error;
  REQUIRE_MESSAGE(read_journal(data, error), error);
  const fs::path segment = segments(data).at(0);
  const std::vector<uint64_t> at = frame_offsets(segment);
  REQUIRE(at.size() > 6);
  flip_byte(segment, at[3] + 28 + 5);
  CHECK_FALSE(read_journal(data, error));
  CHECK_MESSAGE(error.find("damaged") != std::string::npos, error);
  CHECK_MESSAGE(error.find("frame 3 fails its checksum") != std::string::npos, error);
  // The state was checkpointed at the end of the run: it loads, as before.
  auto store = open_store(data, vm::StoreMode::Existing);
  vm::RunStore run(*w.program, *store, false);
  vm::LoadedRun loaded;
  CHECK_MESSAGE(run.load(loaded, error), error);
  CHECK(loaded.tick == end.tick);
}

TEST_CASE("record log: a journal cut short of what the stored state was made from is refused on load, naming the frame") {
  const Workload w = compile_workload("workload.ved");
  ScratchDir dir;
  const std::string data = dir / "run";
  const RunEnd end = run_workload(w, data, vm::StorageEnv::system(), w.options());
  REQUIRE_MESSAGE(end.ok, end.error);
  const fs::path segment = segments(data).back();
  cut_file(segment, fs::file_size(segment) - 3);
  const RunEnd again = run_workload(w, data, vm::StorageEnv::system(), w.options());
  CHECK_FALSE(again.ok);
  CHECK_MESSAGE(again.error.find("damaged") != std::string::npos, again.error);
  CHECK_MESSAGE(again.error.find("the journal has lost frame") != std::string::npos, again.error);
  CHECK_MESSAGE(again.error.find("is cut short") != std::string::npos, again.error);
  std::string error;
  CHECK_FALSE(read_journal(data, error));
  CHECK_MESSAGE(error.find("the journal stops at tick") != std::string::npos, error);
}

TEST_CASE("record log: a segment removed from a run's journal is named as the frames it held") {
  const Workload w = compile_workload("workload.ved");
  ScratchDir dir;
  const std::string data = dir / "run";
  // Two processes, two segments: the first stops after tick 5, the second finishes.
  RunEnd end = run_workload(w, data, vm::StorageEnv::system(), w.options(), [](int64_t tick) { return tick >= 5; });
  REQUIRE_MESSAGE(end.ok, end.error);
  end = run_workload(w, data, vm::StorageEnv::system(), w.options());
  REQUIRE_MESSAGE(end.ok, end.error);
  REQUIRE(segments(data).size() == 2);
  fs::remove(segments(data).at(0));
  std::string error;
  CHECK_FALSE(read_journal(data, error));
  CHECK_MESSAGE(error.find("the journal has no frames 0 to") != std::string::npos, error);
}

TEST_CASE("record log: the last committed tick is the log's, when it runs ahead of the checkpoint") {
  const Workload w = compile_workload("workload.ved");
  ScratchDir dir;
  const std::string data = dir / "run";
  FaultEnv env;
  vm::RuntimeOptions options = w.options();
  options.group_ms = 0;
  // The process dies after tick 6: its ticks are in the log, the checkpoint is older.
  const RunEnd dying = run_workload(w, data, env, options, [&](int64_t tick) {
    if (tick < 6) return false;
    env.die();
    return true;
  });
  REQUIRE_MESSAGE(dying.ok, dying.error);
  auto store = open_store(data, vm::StoreMode::Inspect);
  vm::RunHead head;
  std::string error;
  REQUIRE_MESSAGE(vm::read_run_head(*store, head, error), error);
  CHECK(head.tick < 6);
  int64_t last = -1;
  REQUIRE_MESSAGE(vm::last_committed_tick(*store, last, error), error);
  CHECK(last == 6);
}

}  // namespace ved::storage_test
