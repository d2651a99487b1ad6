// Values: construction, reclamation, copy-on-write and structural comparison.
//
// Everything that walks a value (freeing it, comparing it) is iterative. A program can
// build a list nested a million levels deep in a loop (`x = [x]`); a recursive walk
// would then overflow the native stack, which is a crash rather than a fault.
#include "vm/value.h"

#include <cstring>

namespace ved::vm {

namespace {

void free_object(HeapObject* h) {
  switch (h->tag) {
    case Tag::String: delete static_cast<StringObj*>(h); return;
    case Tag::List: delete static_cast<ListObj*>(h); return;
    case Tag::Map: delete static_cast<MapObj*>(h); return;
    case Tag::Record: delete static_cast<RecordObj*>(h); return;
    case Tag::Intent: delete static_cast<IntentObj*>(h); return;
    default: return;  // scalars are never heap objects
  }
}

// The children of `h` that will die with it and have children of their own: containers
// of which `h` holds the only reference. They are moved into `out`, so that deleting
// `h` frees only leaves (strings) and decrements shared objects: no recursion.
void take_dying_containers(HeapObject* h, std::vector<Value>& out) {
  auto take = [&](Value& v) {
    if (v.is_heap() && v.tag() != Tag::String && v.unique()) out.push_back(std::move(v));
  };
  switch (h->tag) {
    case Tag::List:
      for (Value& v : static_cast<ListObj*>(h)->items) take(v);
      return;
    case Tag::Map:
      // Keys are ints or strings (leaves), and map keys cannot be moved from.
      for (auto& entry : static_cast<MapObj*>(h)->entries) take(entry.second);
      return;
    case Tag::Record:
      for (Value& v : static_cast<RecordObj*>(h)->fields) take(v);
      return;
    case Tag::Intent: {
      auto* in = static_cast<IntentObj*>(h);
      for (Value& v : in->args) take(v);
      take(in->idempotency_key);
      return;
    }
    default: return;
  }
}

}  // namespace

Value Value::string(std::string text) { return Value(new StringObj(std::move(text))); }
Value Value::list(std::vector<Value> items) { return Value(new ListObj(std::move(items))); }
Value Value::map(MapEntries entries) { return Value(new MapObj(std::move(entries))); }
Value Value::record(uint32_t type, std::vector<Value> fields) {
  return Value(new RecordObj(type, std::move(fields)));
}
Value Value::intent(uint32_t effect, std::vector<Value> args, Value idempotency_key) {
  return Value(new IntentObj(effect, std::move(args), std::move(idempotency_key)));
}

void Value::destroy() {
  HeapObject* h = bits_.h;
  std::vector<Value> dying;  // allocates only when h holds containers it owns alone
  take_dying_containers(h, dying);
  free_object(h);
  while (!dying.empty()) {
    Value v = std::move(dying.back());
    dying.pop_back();
    take_dying_containers(v.heap(), dying);
    // `v` goes out of scope here and frees its object; everything it still holds is a
    // leaf or shared, so that nested destroy() goes no deeper.
  }
}

// Copy-on-write: the copy is made before the old object loses this reference, so an
// allocation failure leaves the value as it was. The old count stays >= 1 because it
// was > 1: another holder still owns it.
void Value::unshare() {
  HeapObject* copy = nullptr;
  switch (tag_) {
    case Tag::String: copy = new StringObj(as_string()); break;
    case Tag::List: copy = new ListObj(as_list()); break;
    case Tag::Map: copy = new MapObj(as_map()); break;
    case Tag::Record: copy = new RecordObj(as_record().type, as_record().fields); break;
    default: return;  // intents are never updated; scalars own nothing
  }
  --bits_.h->refs;
  bits_.h = copy;
}

bool map_key_equal_other(const Value& a, const Value& b) {
  if (a.tag() == Tag::String) return a.as_string() == b.as_string();
  return !KeyLess()(a, b) && !KeyLess()(b, a);
}

bool values_equal(const Value& first_a, const Value& first_b) {
  // No shortcut on identical heap pointers: a list holding NaN is not equal to itself,
  // and whether two values share an object is an implementation detail that must not
  // change the answer.
  std::vector<std::pair<const Value*, const Value*>> work;
  work.emplace_back(&first_a, &first_b);
  while (!work.empty()) {
    auto [a, b] = work.back();
    work.pop_back();
    if (a->tag() != b->tag()) return false;
    switch (a->tag()) {
      case Tag::Unit:
      case Tag::None: break;
      case Tag::Bool:
        if (a->as_bool() != b->as_bool()) return false;
        break;
      case Tag::Int:
        if (a->as_int() != b->as_int()) return false;
        break;
      case Tag::Float:
        if (!(a->as_float() == b->as_float())) return false;
        break;
      case Tag::String:
        if (a->heap() != b->heap() && a->as_string() != b->as_string()) return false;
        break;
      case Tag::List: {
        const auto& x = a->as_list();
        const auto& y = b->as_list();
        if (x.size() != y.size()) return false;
        for (size_t i = 0; i < x.size(); ++i) work.emplace_back(&x[i], &y[i]);
        break;
      }
      case Tag::Map: {
        const auto& x = a->as_map();
        const auto& y = b->as_map();
        if (x.size() != y.size()) return false;
        for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
          work.emplace_back(&i->first, &j->first);
          work.emplace_back(&i->second, &j->second);
        }
        break;
      }
      case Tag::Record: {
        const RecordObj& x = a->as_record();
        const RecordObj& y = b->as_record();
        if (x.type != y.type || x.fields.size() != y.fields.size()) return false;
        for (size_t i = 0; i < x.fields.size(); ++i) work.emplace_back(&x.fields[i], &y.fields[i]);
        break;
      }
      case Tag::Intent: {
        const IntentObj& x = a->as_intent();
        const IntentObj& y = b->as_intent();
        if (x.effect != y.effect || x.args.size() != y.args.size()) return false;
        for (size_t i = 0; i < x.args.size(); ++i) work.emplace_back(&x.args[i], &y.args[i]);
        work.emplace_back(&x.idempotency_key, &y.idempotency_key);
        break;
      }
    }
  }
  return true;
}

int64_t utf8_length(std::string_view text) {
  // Every code point has exactly one byte that is not a continuation byte (10xxxxxx).
  int64_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((b0 & 0xE0) == 0xC0) {
      len = 2;
      cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3;
      cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4;
      cp = b0 & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// Iterative, like every walk over a value here: nesting depth is bounded only by memory.
// Each container is created with placeholder children, which are filled in later; the
// places stay put (vector elements and map nodes of a fresh, unshared container).
Value clone_value(const Value& root) {
  Value out;
  std::vector<std::pair<const Value*, Value*>> work{{&root, &out}};
  while (!work.empty()) {
    auto [from, to] = work.back();
    work.pop_back();
    switch (from->tag()) {
      case Tag::String:
        *to = Value::string(from->as_string());
        break;
      case Tag::List: {
        const auto& items = from->as_list();
        *to = Value::list(std::vector<Value>(items.size()));
        auto& copies = to->mutable_list();
        for (size_t k = 0; k < items.size(); ++k) work.emplace_back(&items[k], &copies[k]);
        break;
      }
      case Tag::Map: {
        MapEntries entries;
        // Keys are ints or strings: cloned as they are inserted.
        for (const auto& [k, x] : from->as_map())
          entries.emplace(k.tag() == Tag::String ? Value::string(k.as_string()) : k, Value());
        *to = Value::map(std::move(entries));
        auto& copies = to->mutable_map();
        for (const auto& [k, x] : from->as_map()) work.emplace_back(&x, &copies[k]);
        break;
      }
      case Tag::Record: {
        const RecordObj& r = from->as_record();
        *to = Value::record(r.type, std::vector<Value>(r.fields.size()));
        auto& copies = to->mutable_record_fields();
        for (size_t k = 0; k < r.fields.size(); ++k) work.emplace_back(&r.fields[k], &copies[k]);
        break;
      }
      case Tag::Intent: {
        // Intents hold arguments of declared effect parameter types, never intents: the
        // recursion here is one level deep, and each argument's clone is iterative.
        const IntentObj& in = from->as_intent();
        std::vector<Value> args;
        for (const Value& a : in.args) args.push_back(clone_value(a));
        *to = Value::intent(in.effect, std::move(args), clone_value(in.idempotency_key));
        break;
      }
      default:
        *to = *from;  // scalars hold no heap object
    }
  }
  return out;
}

}  // namespace ved::vm
