// The entries of a Ved map: ordered by key for everything a program can observe, found
// by hash for lookups.
//
// Iteration (keys(), values(), `for k, v in m`, str(), hash(), equality) walks a
// std::map in key order, so nothing observable depends on hashing. Lookups go through a
// hash index from key to tree node, which is never iterated: a lookup costs one hash
// probe instead of a walk down a tree of about log2(n) nodes. std::map nodes do not move,
// so the index stays valid across inserts; copying a map rebuilds the index.
//
// The last entry a lookup found is remembered and compared first: `if contains(m, k) {
// m[k] = m[k] + 1 }` looks the same key up three times, and one key comparison is cheaper
// than a hash probe. It is a cache of a tree node, never observable: erase() forgets it,
// a copy starts without one. (A map belongs to one thread, as every Value does, so the
// cache needs no lock even though const lookups write it.)
//
// The index is abseil's flat_hash_map (Debian's libabsl-dev) with absl::Hash, which is
// seeded per process: harmless, as the index's order is never seen, and it keeps chosen
// keys from colliding on purpose.
//
// Small non-negative int keys (0, 1, 2, ...: counters, ids, positions) are indexed by a
// vector instead, slot k holding key k's node, as Lua keeps such keys in a table's array
// part: a lookup is then one load instead of a hash probe. The vector grows only while it
// stays at most about twice as long as the map is large, so a map with keys 0 and 10^9
// does not allocate a billion slots; keys beyond it stay in the hash index, and move into
// the vector when it grows over them. Which index holds a key is never observable.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

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
  OrderedMap(OrderedMap&& other) noexcept
      : tree_(std::move(other.tree_)), index_(std::move(other.index_)), dense_(std::move(other.dense_)) {
    other.has_last_ = false;
  }
  OrderedMap& operator=(const OrderedMap& other) {
    if (this != &other) {
      tree_ = other.tree_;
      reindex();
    }
    return *this;
  }
  OrderedMap& operator=(OrderedMap&& other) noexcept {
    tree_ = std::move(other.tree_);
    index_ = std::move(other.index_);
    dense_ = std::move(other.dense_);
    has_last_ = false;
    other.has_last_ = false;
    return *this;
  }

  size_t size() const { return tree_.size(); }
  bool empty() const { return tree_.empty(); }
  const_iterator begin() const { return tree_.begin(); }
  const_iterator end() const { return tree_.end(); }
  const_reverse_iterator rbegin() const { return tree_.rbegin(); }
  const_reverse_iterator rend() const { return tree_.rend(); }
  // Writable iteration (values only; keys are const), for tearing a map down.
  iterator begin() { return tree_.begin(); }
  iterator end() { return tree_.end(); }

  // Lookups and updates are inline (always: the interpreter's handlers are one large
  // function, where GCC would otherwise call them): a small int key is then found with
  // no call at all, and only a probe of the hash index or a new entry leaves the caller.
  [[gnu::always_inline]] const_iterator find(const V& key) const {
    return locate(key) ? const_iterator(last_) : tree_.end();
  }
  [[gnu::always_inline]] size_t count(const V& key) const { return locate(key) ? 1 : 0; }

  // (By reference: a Value copy is a reference count, and the common case, a key that is
  // there already, copies only the value.)
  [[gnu::always_inline]] void insert_or_assign(const V& key, const V& value) {
    if (locate(key)) {
      last_->second = value;
      return;
    }
    insert_new(key, value);
  }
  // Inserts only if the key is absent; returns whether it did (as std::map::emplace).
  bool emplace(V key, V value) {
    if (locate(key)) return false;
    auto node = tree_.emplace(key, std::move(value)).first;
    index(node);
    return true;
  }
  V& operator[](const V& key) {
    if (locate(key)) return last_->second;
    auto node = tree_.emplace(key, V()).first;
    index(node);
    return node->second;
  }
  size_t erase(const V& key) {
    if (!locate(key)) return 0;
    has_last_ = false;
    const int64_t slot = map_key_slot(key);
    if (slot >= 0 && static_cast<uint64_t>(slot) < dense_.size()) dense_[static_cast<size_t>(slot)] = iterator{};
    else index_.erase(key);
    tree_.erase(last_);
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

  // Whether `key` is in the map; when it is, last_ is its entry. A key in the vector's
  // range is answered by its slot (a bounds check and a load, cheaper than comparing the
  // last entry's key); any other key is compared with the last entry, then probed. The
  // probe is not inline (it needs registers the caller would save).
  [[gnu::always_inline]] bool locate(const V& key) const {
    const int64_t slot = map_key_slot(key);
    if (slot >= 0 && static_cast<uint64_t>(slot) < dense_.size()) {
      const iterator node = dense_[static_cast<size_t>(slot)];
      if (node == iterator{}) return false;
      last_ = node;
      has_last_ = true;
      return true;
    }
    if (has_last_ && map_key_equal(last_->first, key)) return true;
    return probe(key);
  }
  [[gnu::noinline]] bool probe(const V& key) const {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    last_ = it->second;
    has_last_ = true;
    return true;
  }

  [[gnu::noinline]] void insert_new(const V& key, const V& value) { index(tree_.emplace(key, value).first); }

  // Files a new node under its key: in the vector when its key is a slot the vector has
  // or may grow to, else in the hash index.
  void index(iterator node) {
    const int64_t slot = map_key_slot(node->first);
    if (slot >= 0 && (static_cast<uint64_t>(slot) < dense_.size() || grow_dense(static_cast<size_t>(slot) + 1))) {
      dense_[static_cast<size_t>(slot)] = node;
      return;
    }
    index_.emplace(node->first, node);
  }
  // Lengthens the vector to at least `length` slots, if it stays within about twice the
  // map's size, moving the keys it now covers out of the hash index.
  [[gnu::noinline]] bool grow_dense(size_t length) {
    const size_t limit = 2 * tree_.size() + 16;
    if (length > limit) return false;
    const size_t old = dense_.size();
    size_t n = old < 16 ? 16 : old * 2;
    if (n < length) n = length;
    if (n > limit) n = limit;
    dense_.resize(n, iterator{});
    for (auto it = index_.begin(); it != index_.end();) {
      const int64_t slot = map_key_slot(it->first);
      if (slot >= 0 && static_cast<uint64_t>(slot) >= old && static_cast<uint64_t>(slot) < n) {
        dense_[static_cast<size_t>(slot)] = it->second;
        index_.erase(it++);
      } else {
        ++it;
      }
    }
    return true;
  }

  void reindex() {
    has_last_ = false;
    index_.clear();
    dense_.clear();
    for (auto it = tree_.begin(); it != tree_.end(); ++it) index(it);
  }

  Tree tree_;
  absl::flat_hash_map<V, iterator, Hash, Equal> index_;
  std::vector<iterator> dense_;  // slot k: the node of key k, or iterator{} (absent)
  mutable iterator last_{};
  mutable bool has_last_ = false;
};

}  // namespace ved::vm
