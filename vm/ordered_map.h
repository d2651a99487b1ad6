// The entries of a Ved map: ordered by key for everything a program can observe, found
// by hash for lookups.
//
// Iteration (keys(), values(), `for k, v in m`, str(), hash(), equality) walks a
// std::map in key order, so nothing observable depends on hashing. Lookups go through a
// hash index from key to tree node, which is never iterated: a lookup costs one hash
// probe instead of a walk down a tree of about log2(n) nodes. std::map nodes do not move,
// so the index stays valid across inserts; copying a map rebuilds the index.
//
// The index is abseil's flat_hash_map (Debian's libabsl-dev) with absl::Hash, which is
// seeded per process: harmless, as the index's order is never seen, and it keeps chosen
// keys from colliding on purpose.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>

#include <cstddef>
#include <map>
#include <string_view>

namespace ved::vm {

template <class V, class Less>
class OrderedMap {
  using Tree = std::map<V, V, Less>;

 public:
  using const_iterator = typename Tree::const_iterator;
  using const_reverse_iterator = typename Tree::const_reverse_iterator;
  using iterator = typename Tree::iterator;
  using value_type = typename Tree::value_type;

  OrderedMap() = default;
  OrderedMap(const OrderedMap& other) : tree_(other.tree_) { reindex(); }
  OrderedMap(OrderedMap&&) noexcept = default;
  OrderedMap& operator=(const OrderedMap& other) {
    if (this != &other) {
      tree_ = other.tree_;
      reindex();
    }
    return *this;
  }
  OrderedMap& operator=(OrderedMap&&) noexcept = default;

  size_t size() const { return tree_.size(); }
  bool empty() const { return tree_.empty(); }
  const_iterator begin() const { return tree_.begin(); }
  const_iterator end() const { return tree_.end(); }
  const_reverse_iterator rbegin() const { return tree_.rbegin(); }
  const_reverse_iterator rend() const { return tree_.rend(); }
  // Writable iteration (values only; keys are const), for tearing a map down.
  iterator begin() { return tree_.begin(); }
  iterator end() { return tree_.end(); }

  const_iterator find(const V& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? tree_.end() : const_iterator(it->second);
  }
  size_t count(const V& key) const { return index_.contains(key) ? 1 : 0; }

  void insert_or_assign(V key, V value) {
    auto it = index_.find(key);
    if (it != index_.end()) {
      it->second->second = std::move(value);
      return;
    }
    auto node = tree_.emplace(key, std::move(value)).first;
    index_.emplace(std::move(key), node);
  }
  // Inserts only if the key is absent; returns whether it did (as std::map::emplace).
  bool emplace(V key, V value) {
    if (index_.contains(key)) return false;
    auto node = tree_.emplace(key, std::move(value)).first;
    index_.emplace(std::move(key), node);
    return true;
  }
  V& operator[](const V& key) {
    auto it = index_.find(key);
    if (it != index_.end()) return it->second->second;
    auto node = tree_.emplace(key, V()).first;
    index_.emplace(key, node);
    return node->second;
  }
  size_t erase(const V& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return 0;
    tree_.erase(it->second);
    index_.erase(it);
    return 1;
  }

 private:
  // map_key_hash(key) is found by argument-dependent lookup where V is defined.
  struct Hash {
    size_t operator()(const V& key) const { return map_key_hash(key); }
  };
  // map_key_equal(a, b) is found by argument-dependent lookup, like map_key_hash.
  struct Equal {
    bool operator()(const V& a, const V& b) const { return map_key_equal(a, b); }
  };

  void reindex() {
    index_.clear();
    index_.reserve(tree_.size());
    for (auto it = tree_.begin(); it != tree_.end(); ++it) index_.emplace(it->first, it);
  }

  Tree tree_;
  absl::flat_hash_map<V, iterator, Hash, Equal> index_;
};

}  // namespace ved::vm
