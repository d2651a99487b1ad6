#include "cluster/strict_msgpack.h"

namespace ved::cluster::strict {

namespace {
std::string type_name(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "a boolean";
    case msgpack::type::POSITIVE_INTEGER: return "an unsigned integer";
    case msgpack::type::NEGATIVE_INTEGER: return "a negative integer";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return "a float";
    case msgpack::type::STR: return "a string";
    case msgpack::type::BIN: return "binary data";
    case msgpack::type::ARRAY: return "an array";
    case msgpack::type::MAP: return "a map";
    case msgpack::type::EXT: return "an extension value";
  }
  return "an unknown msgpack type";
}
[[noreturn]] void wrong(const msgpack::object& o, const char* what, const char* expected) {
  throw DecodeError(std::string(what) + ": expected " + expected + ", found " + type_name(o));
}
}  // namespace

msgpack::object_handle unpack_one(std::string_view bytes, const char* what) {
  // Every count is bounded by the document's own size (an item takes at least one byte),
  // and nesting by a small depth: no schema here nests deeper than 8.
  const size_t n = bytes.size();
  msgpack::unpack_limit limits(n, n, n, n, n, 16);
  size_t offset = 0;
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limits);
  } catch (const std::exception& e) {
    throw DecodeError(std::string(what) + ": not a msgpack document (" + e.what() + ")");
  }
  if (offset != bytes.size())
    throw DecodeError(std::string(what) + ": " + std::to_string(bytes.size() - offset) +
                      " trailing bytes after the document");
  return handle;
}

const msgpack::object* array(const msgpack::object& o, size_t n, const char* what) {
  if (o.type != msgpack::type::ARRAY) wrong(o, what, "an array");
  if (o.via.array.size != n)
    throw DecodeError(std::string(what) + ": expected " + std::to_string(n) + " fields, found " +
                      std::to_string(o.via.array.size));
  return o.via.array.ptr;
}

const msgpack::object* list(const msgpack::object& o, size_t max_items, uint32_t& size, const char* what) {
  if (o.type != msgpack::type::ARRAY) wrong(o, what, "an array");
  if (o.via.array.size > max_items)
    throw DecodeError(std::string(what) + ": " + std::to_string(o.via.array.size) + " items, over the limit of " +
                      std::to_string(max_items));
  size = o.via.array.size;
  return o.via.array.ptr;
}

uint64_t u64(const msgpack::object& o, const char* what) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) wrong(o, what, "an unsigned integer");
  return o.via.u64;
}

bool boolean(const msgpack::object& o, const char* what) {
  if (o.type != msgpack::type::BOOLEAN) wrong(o, what, "a boolean");
  return o.via.boolean;
}

std::string str(const msgpack::object& o, size_t max_bytes, const char* what) {
  if (o.type != msgpack::type::STR) wrong(o, what, "a string");
  if (o.via.str.size > max_bytes)
    throw DecodeError(std::string(what) + ": " + std::to_string(o.via.str.size) + " bytes, over the limit of " +
                      std::to_string(max_bytes));
  return std::string(o.via.str.ptr, o.via.str.size);
}

std::string bin(const msgpack::object& o, size_t max_bytes, const char* what) {
  if (o.type != msgpack::type::BIN) wrong(o, what, "binary data");
  if (o.via.bin.size > max_bytes)
    throw DecodeError(std::string(what) + ": " + std::to_string(o.via.bin.size) + " bytes, over the limit of " +
                      std::to_string(max_bytes));
  return std::string(o.via.bin.ptr, o.via.bin.size);
}

}  // namespace ved::cluster::strict
