// `meta/head`: where the stored state is (runtime.md "Storage"), rewritten by every
// checkpoint as one record, not one per number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vm/runtime/record_log.h"

namespace ved::vm {

class Store;

struct RunHead {
  int64_t tick = 0;                   // the last tick the state holds
  uint64_t timer_sequence = 0;        // the next timer's sequence number
  int64_t last_foreground_tick = -1;  // the last tick with a non-background slice (the background rule)
  uint64_t digest = 0;                // of the live records (run_store.h)
  // How many frames of the tick-record log the state holds (recovery applies the frames
  // from there on), and where the last of them is, so that recovery finds it without
  // reading the segment up to it (frames == 0: none, and no place).
  uint64_t frames = 0;
  LogPosition last_frame;
};

// As text: `tick timer-sequence foreground-tick digest frames segment offset`.
std::string encode_run_head(const RunHead& head);
bool decode_run_head(std::string_view text, RunHead& head);
extern const char* const kRunHeadShape;  // what a head that does not decode should have been
// Reads a data dir's head; false with `error` saying what is wrong (missing: "no run").
bool read_run_head(const Store& store, RunHead& head, std::string& error);

}  // namespace ved::vm
