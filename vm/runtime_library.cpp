// The runtime library: text, hashing, arithmetic and the built-ins.
//
// The built-ins, exactly (this comment is their definition; "fault K" means the call
// returns FaultKind::K with a message and leaves `result` unspecified):
//
//   min(a, b) / max(a, b), ints: the smaller / larger.
//   min(a, b) / max(a, b), floats: NaN if either is NaN; otherwise the smaller / larger,
//       with -0.0 counted as smaller than 0.0 (IEEE 754-2019 minimum/maximum), so the
//       result never depends on argument order.
//   min(list) / max(list): the same rule folded over the list from the left; an empty
//       list faults Index "min of an empty list" (resp. "max ...").
//   abs(int): fault Overflow for -2^63 (its absolute value is not an int).
//   abs(float): std::fabs (clears the sign bit, also of -0.0 and NaN).
//   contains(string, needle): needle occurs as a substring (bytewise; for valid UTF-8
//       a match is always on code point boundaries); the empty needle is in every string.
//   contains(list, x): some element is values_equal to x.
//   contains(map, key): key is present.
//   keys(map) / values(map): a list of the keys / values in key order.
//   remove(list, i): the list without element i; fault Index unless 0 <= i < len,
//       "index I out of range for a list of length N".
//   remove(map, key): the map without key; an absent key is not a fault (the map is
//       returned unchanged).
//   slice(string, a, b) / slice(list, a, b): the half-open range [a, b), counted in
//       code points for strings and elements for lists. a and b are first clamped to
//       [0, len]; if then a >= b the result is empty. Never faults.
//   split(s, sep): sep == "" gives one string per code point of s (so split("", "") is
//       []). Otherwise the pieces between non-overlapping occurrences of sep, found left
//       to right, keeping empty pieces: split("a,,b", ",") = ["a", "", "b"],
//       split("", ",") = [""], split(",", ",") = ["", ""].
//   join(list of strings, sep): the strings with sep between them; join([], sep) = "".
//   upper(s) / lower(s): ASCII letters changed; every other byte (and so every non-ASCII
//       code point) unchanged.
//   starts_with(s, p) / ends_with(s, p): bytewise prefix / suffix test.
//   format(fmt, x1, ..., xn): each "{}" of fmt, found left to right without overlap, is
//       replaced by str(x_i) in order; there are no other escapes ("{{}" is "{" then a
//       placeholder). If the number of "{}" is not n: fault Conversion "format string
//       has K `{}` but N arguments".
//   hash(x): hash_value(x).
//   int(float): truncation toward zero; NaN, infinities and values outside
//       [-2^63, 2^63) fault Overflow.
//   int(string): an optional '+' or '-' then one or more ASCII digits, and nothing else
//       (no spaces, underscores, or other digits). Fault Conversion otherwise, with the
//       text quoted: `int("12a"): not a whole number`; fault Overflow when the number is
//       outside the int range (only text that is well formed can overflow).
//   int(bool): 0 or 1.
//   float(string): std::from_chars in general format must accept the whole string
//       (so "1.5", "-2", "1e3", ".5", "inf", "nan" are floats; "+1", " 1", "0x1", "" are
//       not): fault Conversion otherwise, and also when the value is beyond the double
//       range (from_chars reports "1e400" and "1e-400" as out of range; neither is
//       rounded to infinity or zero).
//   float(bool): 0.0 or 1.0.
//   str(x): format_value(x).
//
// Determinism: NaN is printed as "nan" whatever its sign and payload, and encoded as
// the one quiet NaN 0x7FF8000000000000, because the NaN an operation produces differs
// between processors (x86 sets the sign bit, ARM does not).
#include "vm/runtime_library.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <deque>
#include <iterator>
#include <limits>

namespace ved::vm {

namespace {

// ---- text helpers ------------------------------------------------------------------

void append_float(double f, std::string& out) {
  if (std::isnan(f)) {
    out += "nan";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  std::string_view text(buf, static_cast<size_t>(end - buf));
  out += text;
  // 'n' catches "inf" and "-inf"; 'e' an exponent form such as "1e+300".
  if (text.find_first_of(".en") == std::string_view::npos) out += ".0";
}

// Escapes as a Ved string literal writes them: the common control characters, \u{hex}
// for the other ASCII controls, the backslash when `backslash` is set, and the quote when
// `quote` is set.
void append_escaped(std::string_view text, std::string& out, bool quote, bool backslash = true) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Most text has nothing to escape (journal lines are built from it every tick): such
  // a run of bytes is appended whole, not a byte at a time.
  size_t plain = 0;
  while (plain < text.size()) {
    const auto c = static_cast<unsigned char>(text[plain]);
    if (c < 0x20 || c == 0x7F || (c == '\\' && backslash) || (c == '"' && quote)) break;
    ++plain;
  }
  out.append(text.substr(0, plain));
  text.remove_prefix(plain);
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c == '\\' && backslash) {
          out += "\\\\";
        } else if (c == '"' && quote) {
          out += "\\\"";
        } else if (c < 0x20 || c == 0x7F) {
          out += "\\u{";
          if (c >= 0x10) out += kHex[c >> 4];
          out += kHex[c & 0xF];
          out += '}';
        } else {
          out += ch;
        }
    }
  }
}

// A string as a Ved string literal reads it back.
void append_quoted(std::string_view text, std::string& out) {
  out += '"';
  append_escaped(text, out, /*quote=*/true);
  out += '"';
}

// A quoted rendering of user text for a fault message, cut after 64 bytes (on a code
// point boundary) so that a huge string does not end up in every journal entry.
std::string quote_for_message(std::string_view text) {
  constexpr size_t kLimit = 64;
  std::string out;
  if (text.size() <= kLimit) {
    append_quoted(text, out);
    return out;
  }
  append_quoted(text.substr(0, utf8_prefix_length(text, kLimit)), out);
  out += "...";
  return out;
}

// The byte offset of code point `index` of `text` (text.size() when index is the
// number of code points). `index` must be in [0, code point count].
size_t code_point_offset(std::string_view text, int64_t index) {
  int64_t seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (seen == index) return i;
      ++seen;
    }
  }
  return text.size();
}

// The end of the code point that starts at byte `start`.
size_t code_point_end(std::string_view text, size_t start) {
  size_t end = start + 1;
  while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
  return end;
}

std::string index_message(int64_t index, int64_t length, const char* what) {
  return "index " + std::to_string(index) + " out of range for a " + what + " of length " +
         std::to_string(length);
}

// ---- canonical encoding helpers ------------------------------------------------------

void put_u64(uint64_t x, std::string& out) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((x >> (8 * i)) & 0xFF);
}
void put_tag(Tag t, std::string& out) { out += static_cast<char>(static_cast<uint8_t>(t)); }

// ---- built-in helpers ----------------------------------------------------------------

double float_min(double a, double b) {
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  if (a < b) return a;
  if (b < a) return b;
  return std::signbit(a) ? a : b;  // equal: only the sign of a zero can differ
}
double float_max(double a, double b) {
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  if (a > b) return a;
  if (b > a) return b;
  return std::signbit(a) ? b : a;
}

Value string_list(std::vector<std::string> pieces) {
  std::vector<Value> items;
  items.reserve(pieces.size());
  for (auto& p : pieces) items.push_back(Value::string(std::move(p)));
  return Value::list(std::move(items));
}

std::vector<std::string> split_text(std::string_view s, std::string_view sep) {
  std::vector<std::string> pieces;
  if (sep.empty()) {
    for (size_t i = 0; i < s.size();) {
      size_t end = code_point_end(s, i);
      pieces.emplace_back(s.substr(i, end - i));
      i = end;
    }
    return pieces;
  }
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    if (at == std::string_view::npos) break;
    pieces.emplace_back(s.substr(start, at - start));
    start = at + sep.size();
  }
  pieces.emplace_back(s.substr(start));
  return pieces;
}

// Clamps [a, b) to [0, len] and returns it as offsets, empty (a == b) when a >= b.
std::pair<int64_t, int64_t> clamp_range(int64_t a, int64_t b, int64_t len) {
  a = a < 0 ? 0 : (a > len ? len : a);
  b = b < 0 ? 0 : (b > len ? len : b);
  if (a >= b) return {a, a};
  return {a, b};
}

FaultKind parse_int(const std::string& text, Value& result, std::string& message) {
  size_t i = 0;
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    i = 1;
  }
  bool well_formed = i < text.size();
  for (size_t j = i; j < text.size() && well_formed; ++j) well_formed = text[j] >= '0' && text[j] <= '9';
  if (!well_formed) {
    message = "int(" + quote_for_message(text) + "): not a whole number";
    return FaultKind::Conversion;
  }
  // Accumulate the magnitude unsigned: -2^63 has no positive int counterpart.
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  uint64_t magnitude = 0;
  for (size_t j = i; j < text.size(); ++j) {
    uint64_t digit = static_cast<uint64_t>(text[j] - '0');
    if (magnitude > (limit - digit) / 10) {
      message = "int(" + quote_for_message(text) + "): out of range for an int";
      return FaultKind::Overflow;
    }
    magnitude = magnitude * 10 + digit;
  }
  // Two's complement negation of the magnitude is exact also for 2^63.
  result = Value::integer(negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude));
  return FaultKind::None;
}

FaultKind parse_float(const std::string& text, Value& result, std::string& message) {
  double d = 0.0;
  const char* first = text.data();
  const char* last = first + text.size();
  auto [end, ec] = std::from_chars(first, last, d, std::chars_format::general);
  if (ec == std::errc::result_out_of_range && end == last) {
    message = "float(" + quote_for_message(text) + "): out of range for a float";
    return FaultKind::Conversion;
  }
  if (ec != std::errc() || end != last) {
    message = "float(" + quote_for_message(text) + "): not a number";
    return FaultKind::Conversion;
  }
  result = Value::floating(d);
  return FaultKind::None;
}

FaultKind float_to_int(double f, Value& result, std::string& message) {
  // 2^63 is exactly representable, so the comparison is exact; NaN fails both tests.
  constexpr double kTwo63 = 9223372036854775808.0;
  if (!(f >= -kTwo63 && f < kTwo63)) {
    message = "int(";
    append_float(f, message);
    message += std::isnan(f) ? "): not a number" : "): out of range for an int";
    return FaultKind::Overflow;
  }
  result = Value::integer(static_cast<int64_t>(std::trunc(f)));
  return FaultKind::None;
}

// The size checks of built-ins that build strings: made before the string is built, so
// that the same call faults the same way whatever the machine's memory.
FaultKind string_too_long(std::string& message) {
  message = "a string longer than " + std::to_string(kMaxStringBytes >> 20) + " MiB";
  return FaultKind::Budget;
}

FaultKind format_builtin(const Value* args, uint16_t argc, Value& result, std::string& message,
                         const BuiltinContext& context) {
  std::string_view fmt = args[0].as_string();
  size_t placeholders = 0;
  for (size_t at = fmt.find("{}"); at != std::string_view::npos; at = fmt.find("{}", at + 2)) ++placeholders;
  size_t supplied = argc - 1u;
  if (placeholders != supplied) {
    message = "format string has " + std::to_string(placeholders) + " `{}` but " + std::to_string(supplied) +
              " arguments";
    return FaultKind::Conversion;
  }
  std::string out;
  size_t start = 0;
  for (size_t k = 1; k < argc; ++k) {
    size_t at = fmt.find("{}", start);
    out.append(fmt.substr(start, at - start));
    if (out.size() > kMaxStringBytes ||
        !format_value_within(args[k], context.records, context.effect_names, kMaxStringBytes, out))
      return string_too_long(message);
    start = at + 2;
  }
  out.append(fmt.substr(start));
  if (out.size() > kMaxStringBytes) return string_too_long(message);
  result = Value::string(std::move(out));
  return FaultKind::None;
}

template <typename Pick>
FaultKind list_extreme(const Value& list, const char* name, Pick pick, Value& result, std::string& message) {
  const auto& items = list.as_list();
  if (items.empty()) {
    message = std::string(name) + " of an empty list";
    return FaultKind::Index;
  }
  result = items[0];
  for (size_t i = 1; i < items.size(); ++i) result = pick(result, items[i]);
  return FaultKind::None;
}

}  // namespace

// ---- text ------------------------------------------------------------------------------

// Iterative, for the same reason as values_equal: nesting depth is up to the program.
// The work stack holds either a value to print or a literal piece of punctuation.
std::string format_value(const Value& top, std::span<const RecordLayout> records,
                         std::span<const std::string> effect_names) {
  std::string out;
  format_value_within(top, records, effect_names, std::numeric_limits<size_t>::max(), out);
  return out;
}

size_t utf8_prefix_length(std::string_view text, size_t n) {
  if (n >= text.size()) return text.size();
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return n;
}

std::string format_value_shown(const Value& v, std::span<const RecordLayout> records,
                               std::span<const std::string> effect_names, size_t limit) {
  std::string out;
  if (format_value_within(v, records, effect_names, limit, out)) return out;
  out.resize(utf8_prefix_length(out, limit));
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(hash_value(v)));
  return out + "... (hash " + hash + ")";
}

void append_int(int64_t i, std::string& out) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, i).ptr);
}

void append_value_shown(const Value& v, std::span<const RecordLayout> records,
                        std::span<const std::string> effect_names, size_t limit, std::string& out) {
  // An int, the common case (a counter a slice changed), without a string of its own.
  if (v.tag() == Tag::Int) {
    append_int(v.as_int(), out);
    return;
  }
  out += format_value_shown(v, records, effect_names, limit);
}

bool format_value_within(const Value& top, std::span<const RecordLayout> records,
                         std::span<const std::string> effect_names, size_t limit, std::string& out) {
  // A lone int (`str(i)`, a counter in `format`) is the common case: printed without the
  // work list and the deque below (a std::deque allocates as it is made; these two were
  // most of the time of `str(i % 10)` in bench/vm's strings). Exactly what the loop does
  // with it: the limit checked before and after the one piece.
  if (top.tag() == Tag::Int) {
    if (out.size() > limit) return false;
    append_int(top.as_int(), out);
    return out.size() <= limit;
  }
  struct Item {
    const Value* value;     // null: print `literal`
    std::string_view literal;
    bool quoted;            // strings inside collections are quoted
  };
  static constexpr std::string_view kComma = ", ";
  static constexpr std::string_view kColon = ": ";
  std::deque<std::string> fallback_names;  // a deque: literals point into it
  std::vector<Item> work{{&top, {}, false}};
  auto lit = [&](std::string_view s) { work.push_back({nullptr, s, false}); };
  auto val = [&](const Value& v) { work.push_back({&v, {}, true}); };
  while (!work.empty()) {
    // Checked before each piece is appended: a piece is at most one string value (checked
    // below before it is copied) or a short literal, so `out` never grows far past `limit`.
    if (out.size() > limit) return false;
    Item item = work.back();
    work.pop_back();
    if (!item.value) {
      out += item.literal;
      continue;
    }
    const Value& v = *item.value;
    if (v.tag() == Tag::String && v.as_string().size() > limit - out.size()) return false;
    switch (v.tag()) {
      case Tag::Unit: out += "()"; break;
      case Tag::None: out += "none"; break;
      case Tag::Bool: out += v.as_bool() ? "true" : "false"; break;
      case Tag::Int: append_int(v.as_int(), out); break;
      case Tag::Float: append_float(v.as_float(), out); break;
      case Tag::String:
        if (item.quoted) {
          // In chunks: escapes may make the text several times longer than the string.
          constexpr size_t kChunk = 1 << 16;
          const std::string_view text = v.as_string();
          out += '"';
          for (size_t at = 0; at < text.size(); at += kChunk) {
            append_escaped(text.substr(at, kChunk), out, /*quote=*/true);
            if (out.size() > limit) return false;
          }
          out += '"';
        } else {
          out += v.as_string();
        }
        break;
      case Tag::List: {
        // Pushed in reverse so that they pop in order.
        const auto& items = v.as_list();
        out += '[';
        lit("]");
        for (size_t i = items.size(); i-- > 0;) {
          val(items[i]);
          if (i > 0) lit(kComma);
        }
        break;
      }
      case Tag::Map: {
        const auto& entries = v.as_map();
        out += '{';
        lit("}");
        for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
          val(it->second);
          lit(kColon);
          val(it->first);
          if (std::next(it) != entries.rend()) lit(kComma);
        }
        break;
      }
      case Tag::Record: {
        const RecordObj& r = v.as_record();
        const RecordLayout* layout = r.type < records.size() ? &records[r.type] : nullptr;
        if (layout) out += layout->name;
        else out += "record#" + std::to_string(r.type);
        out += '(';
        lit(")");
        for (size_t i = r.fields.size(); i-- > 0;) {
          val(r.fields[i]);
          lit(kColon);
          if (layout && i < layout->fields.size()) {
            lit(layout->fields[i]);
          } else {
            // A layout that does not match the value (a loader bug); still print something.
            lit(fallback_names.emplace_back("_" + std::to_string(i)));
          }
          if (i > 0) lit(kComma);
        }
        break;
      }
      case Tag::Intent: {
        const IntentObj& in = v.as_intent();
        out += "<intent ";
        if (in.effect < effect_names.size()) out += effect_names[in.effect];
        else out += "#" + std::to_string(in.effect);
        out += '>';
        break;
      }
    }
  }
  return out.size() <= limit;
}

// ---- hashing ---------------------------------------------------------------------------

void encode_canonical(const Value& top, std::string& out) {
  // Pre-order with an explicit stack; children are pushed in reverse so that they are
  // encoded in order.
  std::vector<const Value*> work{&top};
  while (!work.empty()) {
    const Value& v = *work.back();
    work.pop_back();
    put_tag(v.tag(), out);
    switch (v.tag()) {
      case Tag::Unit:
      case Tag::None: break;
      case Tag::Bool: out += static_cast<char>(v.as_bool() ? 1 : 0); break;
      case Tag::Int: put_u64(static_cast<uint64_t>(v.as_int()), out); break;
      case Tag::Float: {
        double f = v.as_float();
        put_u64(std::isnan(f) ? uint64_t{0x7FF8000000000000} : std::bit_cast<uint64_t>(f), out);
        break;
      }
      case Tag::String: {
        const std::string& s = v.as_string();
        put_u64(s.size(), out);
        out += s;
        break;
      }
      case Tag::List: {
        const auto& items = v.as_list();
        put_u64(items.size(), out);
        for (size_t i = items.size(); i-- > 0;) work.push_back(&items[i]);
        break;
      }
      case Tag::Map: {
        const auto& entries = v.as_map();
        put_u64(entries.size(), out);
        for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
          work.push_back(&it->second);
          work.push_back(&it->first);
        }
        break;
      }
      case Tag::Record: {
        const auto& fields = v.as_record().fields;
        put_u64(fields.size(), out);
        for (size_t i = fields.size(); i-- > 0;) work.push_back(&fields[i]);
        break;
      }
      case Tag::Intent: {
        const IntentObj& in = v.as_intent();
        put_u64(in.effect, out);
        put_u64(in.args.size(), out);
        work.push_back(&in.idempotency_key);
        for (size_t i = in.args.size(); i-- > 0;) work.push_back(&in.args[i]);
        break;
      }
    }
  }
}

int64_t hash_value(const Value& v) {
  std::string encoding;
  encode_canonical(v, encoding);
  return static_cast<int64_t>(XXH64(encoding.data(), encoding.size(), 0));
}

std::string escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_escaped(text, out, /*quote=*/false);
  return out;
}

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_controls_escaped(text, out);
  return out;
}

void append_controls_escaped(std::string_view text, std::string& out) {
  append_escaped(text, out, /*quote=*/false, /*backslash=*/false);
}

std::string quote_string(std::string_view text) {
  std::string out;
  append_quoted(text, out);
  return out;
}

// ---- strings -----------------------------------------------------------------------------

FaultKind string_code_point(const std::string& text, int64_t index, Value& out, std::string& message) {
  if (index >= 0) {
    int64_t seen = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
      if (seen == index) {
        out = Value::string(text.substr(i, code_point_end(text, i) - i));
        return FaultKind::None;
      }
      ++seen;
    }
  }
  message = index_message(index, utf8_length(text), "string");
  return FaultKind::Index;
}

// ---- built-ins ---------------------------------------------------------------------------

FaultKind call_builtin(Builtin id, const Value* args, uint16_t argc, Value& result, std::string& message,
                       const BuiltinContext& context) {
  switch (id) {
    case Builtin::MIN_I64:
      result = Value::integer(std::min(args[0].as_int(), args[1].as_int()));
      return FaultKind::None;
    case Builtin::MAX_I64:
      result = Value::integer(std::max(args[0].as_int(), args[1].as_int()));
      return FaultKind::None;
    case Builtin::MIN_F64:
      result = Value::floating(float_min(args[0].as_float(), args[1].as_float()));
      return FaultKind::None;
    case Builtin::MAX_F64:
      result = Value::floating(float_max(args[0].as_float(), args[1].as_float()));
      return FaultKind::None;
    case Builtin::MIN_LIST_I64:
      return list_extreme(
          args[0], "min",
          [](const Value& a, const Value& b) { return Value::integer(std::min(a.as_int(), b.as_int())); }, result,
          message);
    case Builtin::MAX_LIST_I64:
      return list_extreme(
          args[0], "max",
          [](const Value& a, const Value& b) { return Value::integer(std::max(a.as_int(), b.as_int())); }, result,
          message);
    case Builtin::MIN_LIST_F64:
      return list_extreme(
          args[0], "min",
          [](const Value& a, const Value& b) { return Value::floating(float_min(a.as_float(), b.as_float())); },
          result, message);
    case Builtin::MAX_LIST_F64:
      return list_extreme(
          args[0], "max",
          [](const Value& a, const Value& b) { return Value::floating(float_max(a.as_float(), b.as_float())); },
          result, message);

    case Builtin::ABS_I64: {
      int64_t x = args[0].as_int();
      if (x == std::numeric_limits<int64_t>::min()) {
        message = "abs(" + std::to_string(x) + ") is out of range for an int";
        return FaultKind::Overflow;
      }
      result = Value::integer(x < 0 ? -x : x);
      return FaultKind::None;
    }
    case Builtin::ABS_F64:
      result = Value::floating(std::fabs(args[0].as_float()));
      return FaultKind::None;

    case Builtin::CONTAINS_STR:
      result = Value::boolean(args[0].as_string().find(args[1].as_string()) != std::string::npos);
      return FaultKind::None;
    case Builtin::CONTAINS_LIST: {
      bool found = false;
      for (const Value& item : args[0].as_list()) {
        if (values_equal(item, args[1])) {
          found = true;
          break;
        }
      }
      result = Value::boolean(found);
      return FaultKind::None;
    }
    case Builtin::CONTAINS_MAP:
      result = Value::boolean(args[0].as_map().count(args[1]) != 0);
      return FaultKind::None;

    case Builtin::KEYS:
    case Builtin::VALUES: {
      const auto& entries = args[0].as_map();
      std::vector<Value> items;
      items.reserve(entries.size());
      for (const auto& [k, v] : entries) items.push_back(id == Builtin::KEYS ? k : v);
      result = Value::list(std::move(items));
      return FaultKind::None;
    }

    case Builtin::REMOVE_LIST: {
      const auto& items = args[0].as_list();
      int64_t i = args[1].as_int();
      int64_t len = static_cast<int64_t>(items.size());
      if (i < 0 || i >= len) {
        message = index_message(i, len, "list");
        return FaultKind::Index;
      }
      std::vector<Value> rest;
      rest.reserve(items.size() - 1);
      rest.insert(rest.end(), items.begin(), items.begin() + i);
      rest.insert(rest.end(), items.begin() + i + 1, items.end());
      result = Value::list(std::move(rest));
      return FaultKind::None;
    }
    case Builtin::REMOVE_MAP: {
      const auto& entries = args[0].as_map();
      if (entries.count(args[1]) == 0) {
        result = args[0];  // shares the object: nothing changed
        return FaultKind::None;
      }
      auto copy = entries;
      copy.erase(args[1]);
      result = Value::map(std::move(copy));
      return FaultKind::None;
    }

    case Builtin::SLICE_STR: {
      const std::string& s = args[0].as_string();
      auto [a, b] = clamp_range(args[1].as_int(), args[2].as_int(), utf8_length(s));
      size_t start = code_point_offset(s, a);
      size_t end = start + code_point_offset(std::string_view(s).substr(start), b - a);
      result = Value::string(s.substr(start, end - start));
      return FaultKind::None;
    }
    case Builtin::SLICE_LIST: {
      const auto& items = args[0].as_list();
      auto [a, b] = clamp_range(args[1].as_int(), args[2].as_int(), static_cast<int64_t>(items.size()));
      result = Value::list(std::vector<Value>(items.begin() + a, items.begin() + b));
      return FaultKind::None;
    }

    case Builtin::SPLIT:
      result = string_list(split_text(args[0].as_string(), args[1].as_string()));
      return FaultKind::None;
    case Builtin::JOIN: {
      const auto& items = args[0].as_list();
      const std::string& sep = args[1].as_string();
      size_t total = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        total += items[i].as_string().size() + (i > 0 ? sep.size() : 0);
        if (total > kMaxStringBytes) return string_too_long(message);
      }
      std::string out;
      out.reserve(total);
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += sep;
        out += items[i].as_string();
      }
      result = Value::string(std::move(out));
      return FaultKind::None;
    }
    case Builtin::UPPER:
    case Builtin::LOWER: {
      std::string s = args[0].as_string();
      bool up = id == Builtin::UPPER;
      for (char& c : s) {
        if (up && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (!up && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      result = Value::string(std::move(s));
      return FaultKind::None;
    }
    case Builtin::STARTS_WITH:
      result = Value::boolean(std::string_view(args[0].as_string()).starts_with(args[1].as_string()));
      return FaultKind::None;
    case Builtin::ENDS_WITH:
      result = Value::boolean(std::string_view(args[0].as_string()).ends_with(args[1].as_string()));
      return FaultKind::None;

    case Builtin::FORMAT:
      return format_builtin(args, argc, result, message, context);
    case Builtin::HASH:
      result = Value::integer(hash_value(args[0]));
      return FaultKind::None;

    case Builtin::INT_F64:
      return float_to_int(args[0].as_float(), result, message);
    case Builtin::INT_STR:
      return parse_int(args[0].as_string(), result, message);
    case Builtin::INT_BOOL:
      result = Value::integer(args[0].as_bool() ? 1 : 0);
      return FaultKind::None;
    case Builtin::FLOAT_STR:
      return parse_float(args[0].as_string(), result, message);
    case Builtin::FLOAT_BOOL:
      result = Value::floating(args[0].as_bool() ? 1.0 : 0.0);
      return FaultKind::None;
    case Builtin::STR: {
      std::string out;
      if (!format_value_within(args[0], context.records, context.effect_names, kMaxStringBytes, out))
        return string_too_long(message);
      result = Value::string(std::move(out));
      return FaultKind::None;
    }

    case Builtin::kCount: break;
  }
  // Unreachable for a verified bundle; a fault rather than undefined behaviour.
  message = "unknown built-in " + std::to_string(static_cast<unsigned>(id));
  return FaultKind::Conversion;
}

}  // namespace ved::vm
