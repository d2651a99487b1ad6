// Values of the Ved VM (runtime.md §4, language.md §9).
//
// A Value is 16 bytes: a tag and a payload. Scalars (unit, none, bool, int, float) live
// in the payload; strings, lists, maps, records and intents are immutable heap objects
// shared by reference count. "Immutable" is what the program can observe: an object
// whose count is 1 has exactly one owner, so an update may happen in place; otherwise
// the update copies first (copy-on-write). Maps keep their keys sorted (ints
// numerically, strings bytewise), so iteration order never depends on addresses.
//
// The interpreter relies on the verifier: a register whose static type is a scalar
// never holds a heap object, so scalar instructions write payloads without releasing
// anything (set_int and friends). Everything else goes through the RAII members.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vm/ordered_map.h"

namespace ved::vm {

enum class Tag : uint8_t {
  Unit = 0,
  None = 1,
  Bool = 2,
  Int = 3,
  Float = 4,
  String = 5,  // first heap tag
  List = 6,
  Map = 7,
  Record = 8,
  Intent = 9,
};

inline bool is_heap_tag(Tag t) { return t >= Tag::String; }

struct HeapObject {
  explicit HeapObject(Tag t) : tag(t) {}
  uint32_t refs = 1;
  Tag tag;
};

class Value;

// Orders map keys: ints numerically, strings bytewise (which is code-point order for
// UTF-8). Keys of one map all have the key type of the map. Defined inline below: it is
// the inner loop of every map lookup.
struct KeyLess {
  bool operator()(const Value& a, const Value& b) const;
};

// A map's entries: iterated in key order, looked up by hash (ordered_map.h).
using MapEntries = OrderedMap<Value, KeyLess>;

struct StringObj;
struct ListObj;
struct MapObj;
struct RecordObj;
struct IntentObj;

class Value {
 public:
  Value() : tag_(Tag::Unit) { bits_.i = 0; }
  ~Value() { release(); }
  Value(const Value& o) : tag_(o.tag_), bits_(o.bits_) { retain(); }
  Value(Value&& o) noexcept : tag_(o.tag_), bits_(o.bits_) { o.tag_ = Tag::Unit; }
  // Always inline: a copy or move between scalars is two stores, and the interpreter's
  // handlers (one large function) would otherwise call these for every map read and write.
  [[gnu::always_inline]] Value& operator=(const Value& o) {
    if (this != &o) {
      o.retain();
      release();
      tag_ = o.tag_;
      bits_ = o.bits_;
    }
    return *this;
  }
  [[gnu::always_inline]] Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      release();
      tag_ = o.tag_;
      bits_ = o.bits_;
      o.tag_ = Tag::Unit;
    }
    return *this;
  }

  static Value unit() { return Value(); }
  static Value none() { Value v; v.tag_ = Tag::None; return v; }
  static Value boolean(bool b) { Value v; v.tag_ = Tag::Bool; v.bits_.b = b; return v; }
  static Value integer(int64_t i) { Value v; v.tag_ = Tag::Int; v.bits_.i = i; return v; }
  static Value floating(double f) { Value v; v.tag_ = Tag::Float; v.bits_.f = f; return v; }
  static Value string(std::string text);
  static Value list(std::vector<Value> items);
  static Value map(MapEntries entries);
  static Value record(uint32_t type, std::vector<Value> fields);
  static Value intent(uint32_t effect, std::vector<Value> args, Value idempotency_key);

  Tag tag() const { return tag_; }
  bool is_none() const { return tag_ == Tag::None; }
  bool is_heap() const { return is_heap_tag(tag_); }

  bool as_bool() const { return bits_.b; }
  int64_t as_int() const { return bits_.i; }
  double as_float() const { return bits_.f; }
  const std::string& as_string() const;
  const std::vector<Value>& as_list() const;
  const MapEntries& as_map() const;
  const RecordObj& as_record() const;
  const IntentObj& as_intent() const;

  // Writable access for updates: copies the object first unless this value is its only
  // owner, so no other holder can see the change. (Inline: the only-owner case, the
  // common one in a loop that updates a collection, is one comparison.)
  std::string& mutable_string();
  std::vector<Value>& mutable_list();
  MapEntries& mutable_map();
  std::vector<Value>& mutable_record_fields();

  // Whether this value is the only reference to its heap object (true for scalars).
  bool unique() const { return !is_heap() || bits_.h->refs == 1; }

  // Fast paths for registers the verifier proved scalar: no release of the old value.
  void set_int(int64_t i) { tag_ = Tag::Int; bits_.i = i; }
  void set_float(double f) { tag_ = Tag::Float; bits_.f = f; }
  void set_bool(bool b) { tag_ = Tag::Bool; bits_.b = b; }

  HeapObject* heap() const { return bits_.h; }

  // Copies `o` into this value without releasing what this value held: for the
  // interpreter's fresh call frames, whose slots hold no reference (a frame's heap
  // registers are emptied when it returns).
  void init_from(const Value& o) {
    o.retain();
    tag_ = o.tag_;
    bits_ = o.bits_;
  }

 private:
  void retain() const {
    if (is_heap_tag(tag_)) ++bits_.h->refs;
  }
  void release() {
    if (is_heap_tag(tag_) && --bits_.h->refs == 0) destroy();
  }
  void destroy();
  // Replaces this value's shared heap object by a copy that only this value owns.
  void unshare();
  explicit Value(HeapObject* h) : tag_(h->tag) { bits_.h = h; }

  Tag tag_;
  union Bits {
    bool b;
    int64_t i;
    double f;
    HeapObject* h;
  } bits_;
};
static_assert(sizeof(Value) == 16);

struct StringObj : HeapObject {
  explicit StringObj(std::string t) : HeapObject(Tag::String), text(std::move(t)) {}
  std::string text;
};
struct ListObj : HeapObject {
  explicit ListObj(std::vector<Value> v) : HeapObject(Tag::List), items(std::move(v)) {}
  std::vector<Value> items;
};
struct MapObj : HeapObject {
  explicit MapObj(MapEntries e) : HeapObject(Tag::Map), entries(std::move(e)) {}
  MapEntries entries;
};
struct RecordObj : HeapObject {
  RecordObj(uint32_t t, std::vector<Value> f) : HeapObject(Tag::Record), type(t), fields(std::move(f)) {}
  uint32_t type;  // index into the bundle's record table
  std::vector<Value> fields;
};
struct IntentObj : HeapObject {
  IntentObj(uint32_t e, std::vector<Value> a, Value k)
      : HeapObject(Tag::Intent), effect(e), args(std::move(a)), idempotency_key(std::move(k)) {}
  uint32_t effect;  // index into the bundle's effect table
  std::vector<Value> args;
  Value idempotency_key;  // a string, or none
};

inline const std::string& Value::as_string() const { return static_cast<StringObj*>(bits_.h)->text; }
inline const std::vector<Value>& Value::as_list() const { return static_cast<ListObj*>(bits_.h)->items; }
inline const MapEntries& Value::as_map() const {
  return static_cast<MapObj*>(bits_.h)->entries;
}
inline const RecordObj& Value::as_record() const { return *static_cast<RecordObj*>(bits_.h); }
inline const IntentObj& Value::as_intent() const { return *static_cast<IntentObj*>(bits_.h); }

inline std::string& Value::mutable_string() {
  if (bits_.h->refs > 1) [[unlikely]] unshare();
  return static_cast<StringObj*>(bits_.h)->text;
}
inline std::vector<Value>& Value::mutable_list() {
  if (bits_.h->refs > 1) [[unlikely]] unshare();
  return static_cast<ListObj*>(bits_.h)->items;
}
inline MapEntries& Value::mutable_map() {
  if (bits_.h->refs > 1) [[unlikely]] unshare();
  return static_cast<MapObj*>(bits_.h)->entries;
}
inline std::vector<Value>& Value::mutable_record_fields() {
  if (bits_.h->refs > 1) [[unlikely]] unshare();
  return static_cast<RecordObj*>(bits_.h)->fields;
}

// Map keys are ints or strings. Other scalar tags are ordered too (by tag, then
// payload), so that a map never has an inconsistent order even if a key of another
// type slipped through; heap keys other than strings are not supported.
inline bool KeyLess::operator()(const Value& a, const Value& b) const {
  if (a.tag() != b.tag()) return a.tag() < b.tag();
  switch (a.tag()) {
    case Tag::Int: return a.as_int() < b.as_int();
    case Tag::String: {
      // Bytewise as unsigned bytes: for UTF-8 that is code-point order.
      const std::string& x = a.as_string();
      const std::string& y = b.as_string();
      size_t n = x.size() < y.size() ? x.size() : y.size();
      int c = n == 0 ? 0 : std::memcmp(x.data(), y.data(), n);
      return c < 0 || (c == 0 && x.size() < y.size());
    }
    case Tag::Bool: return !a.as_bool() && b.as_bool();
    default: return false;
  }
}

// The hash of a map key (ints and strings), for OrderedMap's index only.
inline size_t map_key_hash(const Value& key) {
  switch (key.tag()) {
    case Tag::Int: return absl::Hash<int64_t>{}(key.as_int());
    case Tag::String: return absl::Hash<std::string_view>{}(key.as_string());
    case Tag::Bool: return key.as_bool() ? 1 : 0;
    default: return static_cast<size_t>(key.tag());
  }
}

// The slot of a map key in OrderedMap's vector index: a non-negative int's value, else -1.
inline int64_t map_key_slot(const Value& key) {
  return key.tag() == Tag::Int && key.as_int() >= 0 ? key.as_int() : -1;
}

// Whether two map keys are the same key (the index's equality; ints and strings).
// Ints are compared inline; other keys out of line (a string comparison is a call anyway).
bool map_key_equal_other(const Value& a, const Value& b);
[[gnu::always_inline]] inline bool map_key_equal(const Value& a, const Value& b) {
  if (a.tag() != b.tag()) return false;
  if (a.tag() == Tag::Int) return a.as_int() == b.as_int();
  return map_key_equal_other(a, b);
}

// Structural equality (language `==`): same tag and equal contents. Floats compare as
// IEEE numbers (NaN != NaN, 0.0 == -0.0).
bool values_equal(const Value& a, const Value& b);

// A copy that shares no heap object with `v`. Reference counts are not atomic (a value
// belongs to one thread), so a value that crosses to another thread (an intent handed to
// a worker, an outcome handed back) is cloned first and the sender keeps no reference to
// the clone.
Value clone_value(const Value& v);

// The number of code points in valid UTF-8 text.
int64_t utf8_length(std::string_view text);
// Whether `text` is valid UTF-8 (no overlong forms, no surrogates, nothing above
// U+10FFFF). Every string the VM creates is; strings from bundles are checked with this.
bool is_valid_utf8(std::string_view text);

}  // namespace ved::vm
