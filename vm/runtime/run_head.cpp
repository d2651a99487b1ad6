#include "vm/runtime/run_head.h"

#include <sstream>

#include "vm/runtime/store.h"
#include "vm/interpreter.h"  // kLastTick

namespace ved::vm {

const char* const kRunHeadShape =
    "meta/head is not `tick timer-sequence foreground-tick digest frames segment offset`";

std::string encode_run_head(const RunHead& h) {
  return std::to_string(h.tick) + " " + std::to_string(h.timer_sequence) + " " + std::to_string(h.last_foreground_tick) +
         " " + hex_u64(h.digest) + " " + std::to_string(h.frames) + " " + std::to_string(h.last_frame.segment) + " " +
         std::to_string(h.last_frame.offset);
}

bool decode_run_head(std::string_view text, RunHead& h) {
  std::istringstream in{std::string(text)};
  std::string digest;
  if (!(in >> h.tick >> h.timer_sequence >> h.last_foreground_tick >> digest >> h.frames >> h.last_frame.segment >>
        h.last_frame.offset))
    return false;
  std::string rest;
  if (in >> rest) return false;
  return parse_hex_u64(digest, h.digest) && h.tick >= 0 && h.tick <= kLastTick && h.last_foreground_tick >= -1 &&
         h.last_foreground_tick <= h.tick && h.last_frame.segment < h.frames + (h.frames == 0);
}

bool read_run_head(const Store& store, RunHead& head, std::string& error) {
  std::string text;
  if (const Status s = store.get("meta/head", text); !s.is_ok()) {
    error = s.is_not_found() ? "meta/head is missing" : s.message();
    return false;
  }
  if (!decode_run_head(text, head)) {
    error = kRunHeadShape;
    return false;
  }
  return true;
}

}  // namespace ved::vm
