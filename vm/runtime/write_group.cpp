#include "vm/runtime/write_group.h"

#include <absl/strings/string_view.h>

#include <algorithm>
#include <new>
#include <vector>

namespace ved::vm {

namespace {
// Debian's Abseil has a string_view of its own: keys are looked up through it.
absl::string_view key_of(std::string_view key) { return absl::string_view(key.data(), key.size()); }
}  // namespace

void WriteGroup::put(std::string_view key, std::string value) {
  bytes_ += key.size() + value.size();
  // A fresh key stays fresh when it is rewritten: the store still has never held it.
  entries_.try_emplace(key_of(key)).first->second.value = std::move(value);
}

void WriteGroup::put_new(std::string_view key, std::string value) {
  bytes_ += key.size() + value.size();
  Entry& e = entries_[key_of(key)];
  e.value = std::move(value);
  e.fresh = true;
}

void WriteGroup::remove(std::string_view key) {
  auto it = entries_.find(key_of(key));
  if (it != entries_.end() && it->second.fresh) {
    entries_.erase(it);  // put and deleted within the group: the store never sees it
    return;
  }
  bytes_ += key.size();
  entries_[key_of(key)] = Entry{};
}

void WriteGroup::take(Store::Batch& batch) {
  std::vector<std::pair<std::string_view, const Entry*>> order;
  order.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) order.emplace_back(key, &entry);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [key, entry] : order) {
    if (entry->value) batch.put(key, *entry->value);
    else batch.remove(key);
  }
  entries_.clear();
  bytes_ = 0;
}

void WriteGroup::abandon() {
  // Moving the table takes its pointers and touches no slot; the moved-to table lives in
  // storage that is never destroyed (a second abandoned table is leaked over the first).
  alignas(Map) static unsigned char graveyard[sizeof(Map)];
  new (graveyard) Map(std::move(entries_));
  entries_ = Map();
  bytes_ = 0;
}

}  // namespace ved::vm
