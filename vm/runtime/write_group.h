// The live state's writes gathered between checkpoints (runtime.md "Storage"): the
// writes of many ticks held in memory and written to the database as one batch. A key
// that several ticks write is written once, with its last value; a write-once key (a
// mailbox entry, an open-intent marker) that is put and deleted in between is not written
// at all. So a message that arrives and is consumed between two checkpoints costs the
// database nothing: the tick-record log (record_log.h) is what holds it durably.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vm/runtime/store.h"

namespace ved::vm {

class WriteGroup {
 public:
  // Puts `value` at `key`, replacing what an earlier tick of the group put there.
  void put(std::string_view key, std::string value);
  // Puts a key that no earlier write has ever put (a new mailbox entry, a new intent's
  // marker): deleting it later within the group then leaves nothing to write.
  void put_new(std::string_view key, std::string value);
  void remove(std::string_view key);
  size_t bytes() const { return bytes_; }  // written into it so far, replaced ones included
  bool empty() const { return entries_.empty(); }

  // Moves the group's writes into `batch`, in key order (so that the same group always
  // makes the same batch), and empties the group.
  void take(Store::Batch& batch);

  // Empties the group without destroying what it held, which is leaked: for a group an
  // allocation failed inside (abseil's tables are not exception-safe there: a resize
  // that cannot allocate leaves the table half-made, and destroying it crashed the
  // process that was stopping cleanly on running out of memory).
  void abandon();

 private:
  struct Entry {
    std::optional<std::string> value;  // none: delete
    bool fresh = false;                // put_new: the store has never held this key
  };
  using Map = absl::flat_hash_map<std::string, Entry>;
  Map entries_;
  size_t bytes_ = 0;
};

}  // namespace ved::vm
