// Group commit (runtime.md "Storage"): the writes of several ticks held in memory and
// written to the store as one batch, with one fsync under --sync=tick. A key that several
// ticks of the group write is written once, with its last value; a write-once key (a
// mailbox entry, an open-intent marker) that is put and deleted within the group is not
// written at all. So a message that arrives and is consumed within a group costs the
// store nothing, and the tick's own records (head, pending deliveries) are written once a
// group instead of once a tick.
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
  // Puts a key no other write of the group touches, after every earlier one of its kind
  // (a tick's record): kept in a list, in order, instead of the map, since nothing
  // replaces or deletes it.
  void append(std::string key, std::string value);

  // Another tick's writes were added.
  void end_tick() { ++ticks_; }
  size_t ticks() const { return ticks_; }
  size_t bytes() const { return bytes_; }
  bool empty() const { return entries_.empty() && appended_.empty(); }

  // Moves the group's writes into `batch`, in key order (so that the same group always
  // makes the same batch), the appended ones after them, and empties the group.
  void take(Store::Batch& batch);

 private:
  struct Entry {
    std::optional<std::string> value;  // none: delete
    bool fresh = false;                // put_new: the store has never held this key
  };
  absl::flat_hash_map<std::string, Entry> entries_;
  std::vector<std::pair<std::string, std::string>> appended_;
  size_t ticks_ = 0;
  size_t bytes_ = 0;
};

}  // namespace ved::vm
