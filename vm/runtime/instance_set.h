// A set of instance indices kept as a flag per instance and a list: inserting is a flag
// test and a push (no node to allocate, no comparison), and the list is put in instance
// order only when someone asks for that order. The tick loop wakes and puts to sleep
// every active instance every tick; a std::set ordered by instance did that with an
// allocation and log(n) name-and-id comparisons each time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace ved::vm {

class InstanceSet {
 public:
  bool contains(size_t i) const { return i < flags_.size() && flags_[i]; }
  void insert(size_t i) {
    if (i >= flags_.size()) flags_.resize(std::max(i + 1, flags_.size() * 2), 0);
    if (flags_[i]) return;
    flags_[i] = 1;
    list_.push_back(i);
  }
  bool empty() const { return list_.empty(); }
  size_t size() const { return list_.size(); }
  // In no particular order.
  std::vector<size_t>::const_iterator begin() const { return list_.begin(); }
  std::vector<size_t>::const_iterator end() const { return list_.end(); }

  // The members in the order `less` gives (a strict order of instances). The members
  // added since the last call are sorted and merged in.
  template <class Less>
  const std::vector<size_t>& ordered(Less less) {
    const auto mid = list_.begin() + static_cast<std::ptrdiff_t>(sorted_);
    std::sort(mid, list_.end(), less);
    // Merged only when the two parts interleave, through a buffer kept from call to
    // call (std::inplace_merge allocates one each time).
    if (mid != list_.begin() && mid != list_.end() && less(*mid, *(mid - 1))) {
      merged_.resize(list_.size());
      std::merge(list_.begin(), mid, mid, list_.end(), merged_.begin(), less);
      list_.swap(merged_);
    }
    sorted_ = list_.size();
    return list_;
  }

  // Removes the members for which `drop` is true, keeping the others' order.
  template <class Drop>
  void erase_if(Drop drop) {
    size_t kept = 0, kept_sorted = 0;
    for (size_t k = 0; k < list_.size(); ++k) {
      const size_t i = list_[k];
      if (drop(i)) {
        flags_[i] = 0;
        continue;
      }
      if (k < sorted_) ++kept_sorted;
      list_[kept++] = i;
    }
    list_.resize(kept);
    sorted_ = kept_sorted;
  }

  void clear() {
    for (size_t i : list_) flags_[i] = 0;
    list_.clear();
    sorted_ = 0;
  }

 private:
  std::vector<char> flags_;
  std::vector<size_t> list_;
  std::vector<size_t> merged_;  // ordered()'s merge buffer
  size_t sorted_ = 0;  // list_[0, sorted_) is in order
};

}  // namespace ved::vm
