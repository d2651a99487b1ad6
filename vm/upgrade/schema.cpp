#include "vm/upgrade/schema.h"

#include <set>
#include <utility>

namespace ved::vm::upgrade {

namespace {

using bytecode::TypeKind;

class ShapeComparer {
 public:
  ShapeComparer(const Program& a, const Program& b) : a_(a), b_(b) {}

  bool types(uint32_t ta, uint32_t tb, std::string* why) {
    const TypeInfo& x = a_.types[ta];
    const TypeInfo& y = b_.types[tb];
    auto differ = [&] {
      if (why) *why = type_text(a_, ta) + " -> " + type_text(b_, tb);
      return false;
    };
    if (x.kind != y.kind) return differ();
    switch (x.kind) {
      case TypeKind::List:
      case TypeKind::Optional:
        if (!types(x.x, y.x, nullptr)) return differ_inner(ta, tb, x.x, y.x, why);
        return true;
      case TypeKind::Map:
        if (!types(x.x, y.x, nullptr)) return differ();
        if (!types(x.y, y.y, nullptr)) return differ_inner(ta, tb, x.y, y.y, why);
        return true;
      case TypeKind::Record: return records(x.x, y.x, why);
      case TypeKind::Intent: {
        const ExternalInfo& ea = a_.effects[x.x];
        const ExternalInfo& eb = b_.effects[y.x];
        if (ea.name != eb.name || ea.params.size() != eb.params.size()) return differ();
        for (size_t i = 0; i < ea.params.size(); ++i)
          if (ea.params[i].name != eb.params[i].name || !types(ea.params[i].type, eb.params[i].type, nullptr))
            return differ();
        return true;
      }
      default: return true;
    }
  }

  bool records(uint32_t ra, uint32_t rb, std::string* why) {
    // Records may refer to themselves through lists, maps and optionals: a pair already
    // being compared is taken as equal (its other fields decide).
    if (!assumed_.insert({ra, rb}).second) return true;
    const RecordLayout& x = a_.records[ra];
    const RecordLayout& y = b_.records[rb];
    if (x.name != y.name) {
      if (why) *why = "record `" + x.name + "` -> record `" + y.name + "`";
      return false;
    }
    const auto& fa = a_.record_field_types[ra];
    const auto& fb = b_.record_field_types[rb];
    bool same = x.fields.size() == y.fields.size();
    for (size_t i = 0; same && i < x.fields.size(); ++i)
      same = x.fields[i] == y.fields[i] && types(fa[i], fb[i], nullptr);
    if (!same && why) *why = "record `" + x.name + "`: " + record_difference(a_, ra, b_, rb);
    return same;
  }

 private:
  bool differ_inner(uint32_t ta, uint32_t tb, uint32_t ia, uint32_t ib, std::string* why) {
    if (why) {
      std::string inner;
      types(ia, ib, &inner);
      *why = type_text(a_, ta) + " -> " + type_text(b_, tb) + (inner.empty() ? "" : " (" + inner + ")");
    }
    return false;
  }

  const Program& a_;
  const Program& b_;
  std::set<std::pair<uint32_t, uint32_t>> assumed_;
};

}  // namespace

bool same_shape(const Program& a, uint32_t ta, const Program& b, uint32_t tb, std::string* why) {
  return ShapeComparer(a, b).types(ta, tb, why);
}

Value translate(const Program& a, uint32_t ta, const Program& b, uint32_t tb, const Value& v) {
  const TypeInfo& x = a.types[ta];
  const TypeInfo& y = b.types[tb];
  switch (x.kind) {
    case TypeKind::Optional:
      return v.is_none() ? v : translate(a, x.x, b, y.x, v);
    case TypeKind::List: {
      std::vector<Value> items;
      items.reserve(v.as_list().size());
      for (const auto& item : v.as_list()) items.push_back(translate(a, x.x, b, y.x, item));
      return Value::list(std::move(items));
    }
    case TypeKind::Map: {
      MapEntries entries;
      for (const auto& [k, val] : v.as_map()) entries.emplace(k, translate(a, x.y, b, y.y, val));
      return Value::map(std::move(entries));
    }
    case TypeKind::Record: {
      const RecordObj& r = v.as_record();
      const auto& fa = a.record_field_types[x.x];
      const auto& fb = b.record_field_types[y.x];
      std::vector<Value> fields;
      fields.reserve(r.fields.size());
      for (size_t i = 0; i < r.fields.size(); ++i) fields.push_back(translate(a, fa[i], b, fb[i], r.fields[i]));
      return Value::record(y.x, std::move(fields));
    }
    case TypeKind::Intent: {
      const IntentObj& in = v.as_intent();
      const ExternalInfo& ea = a.effects[x.x];
      const ExternalInfo& eb = b.effects[y.x];
      std::vector<Value> args;
      for (size_t i = 0; i < in.args.size() && i < ea.params.size(); ++i)
        args.push_back(translate(a, ea.params[i].type, b, eb.params[i].type, in.args[i]));
      return Value::intent(y.x, std::move(args), in.idempotency_key);
    }
    default: return v;  // scalars and strings hold no index
  }
}

std::string record_difference(const Program& a, uint32_t record_a, const Program& b, uint32_t record_b) {
  const RecordLayout& x = a.records[record_a];
  const RecordLayout& y = b.records[record_b];
  const auto& fa = a.record_field_types[record_a];
  const auto& fb = b.record_field_types[record_b];
  std::vector<std::string> parts;
  // In the new record's order, then what the old one had and the new one lacks.
  for (size_t j = 0; j < y.fields.size(); ++j) {
    size_t i = 0;
    while (i < x.fields.size() && x.fields[i] != y.fields[j]) ++i;
    if (i == x.fields.size()) {
      parts.push_back("field `" + y.fields[j] + ": " + type_text(b, fb[j]) + "` added");
      continue;
    }
    std::string why;
    if (!same_shape(a, fa[i], b, fb[j], &why)) parts.push_back("field `" + y.fields[j] + "` " + why);
  }
  for (size_t i = 0; i < x.fields.size(); ++i) {
    bool kept = false;
    for (const auto& f : y.fields) kept = kept || f == x.fields[i];
    if (!kept) parts.push_back("field `" + x.fields[i] + "` removed");
  }
  if (parts.empty()) {
    bool reordered = x.fields != y.fields;
    return reordered ? "fields reordered" : "";
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

uint32_t record_type(const Program& p, uint32_t record) {
  for (uint32_t t = 0; t < p.types.size(); ++t)
    if (p.types[t].kind == TypeKind::Record && p.types[t].x == record) return t;
  return UINT32_MAX;
}

}  // namespace ved::vm::upgrade
