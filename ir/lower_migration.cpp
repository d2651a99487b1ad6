// Lowering of what only migrations have: reads of the stored state (`from.f`) and the
// state they build (`D.State@N(...)`). See MigrationTarget in lower_internal.h.
#include "ir/lower_internal.h"

namespace ved::ir {

using namespace ast;

std::optional<uint32_t> FunctionBuilder::migration_input(const MemberExpr& e, TypeId type,
                                                         std::optional<uint32_t> into) {
  Record& rec = cx.module.records[migration->from_record];
  uint32_t index = 0;
  while (index < rec.fields.size() && rec.fields[index].name != e.member.name) ++index;
  if (index == rec.fields.size()) {
    // First read: the field joins the record, in order of first read (deterministic:
    // the body is lowered in source order).
    rec.fields.push_back(Field{e.member.name, type});
  } else if (rec.fields[index].type != type) {
    cx.sink.error("V-TYP-002", e.span, "`from." + e.member.name + "` is read with two types")
        .label("read here as another type than before")
        .help("read the field once into a `let` and convert that");
    return std::nullopt;
  }
  uint32_t dst = destination(into, type);
  emit(Op::FIELD_GET, dst, migration->from_register, 0, index, e.span);
  return dst;
}

std::optional<uint32_t> FunctionBuilder::versioned_state(const CallExpr& e, const VersionedTypeExpr& v,
                                                         std::optional<uint32_t> into) {
  if (!migration) {
    cx.sink.error("V-TYP-009", v.span, "`" + v.domain.name + ".State@" + std::to_string(v.version) +
                                           "(...)` is built only in a migration")
        .label("a versioned state outside a migration")
        .help("build the current state with the domain's fields, or move this into a `migration`");
    return std::nullopt;
  }
  const MigrationTarget& m = *migration;
  const std::string wanted = m.domain->name + ".State@" + std::to_string(m.to_version);
  if (v.domain.name != m.domain->name || v.version != m.to_version) {
    cx.sink.error("V-ERR-003", v.span, "this migration builds `" + wanted + "`, not `" + v.domain.name + ".State@" +
                                           std::to_string(v.version) + "`")
        .label("another state than the migration's `to:`")
        .help("return `" + wanted + "(...)`: a migration's result is the state it migrates to");
    return std::nullopt;
  }
  if (m.to_is_state) return record_from_args(e, m.to_record, m.domain->fields, into);

  // An intermediate version: its fields are the ones this construction names (the
  // program declares no schema for it). A second construction must name the same.
  Record& rec = cx.module.records[m.to_record];
  const bool first_shape = rec.fields.empty();
  std::vector<Field> fields;
  for (const auto& a : e.args) {
    if (!a.name) {
      cx.sink.error("V-TYP-004", a.value->span, "a field of `" + wanted + "` must be named")
          .label("positional argument")
          .help("the program declares no schema for version " + std::to_string(m.to_version) +
                ", so write `field = value`");
      return std::nullopt;
    }
    auto t = cx.convert(cx.checked_type(*a.value), a.value->span);
    if (!t) return std::nullopt;
    fields.push_back(Field{a.name->name, *t});
  }
  if (first_shape) {
    rec.fields = fields;
  } else {
    bool same = rec.fields.size() == fields.size();
    for (size_t i = 0; same && i < fields.size(); ++i)
      same = rec.fields[i].name == fields[i].name && rec.fields[i].type == fields[i].type;
    if (!same) {
      cx.sink.error("V-ERR-003", v.span, "`" + wanted + "` is built with other fields than before in this migration")
          .label("different fields, order or types")
          .help("build the intermediate state with the same fields, in the same order, on every path");
      return std::nullopt;
    }
  }
  std::vector<TypeId> types;
  for (const auto& f : fields) types.push_back(f.type);
  uint32_t first = temps(types);
  for (size_t i = 0; i < e.args.size(); ++i)
    if (!expr_into(*e.args[i].value, first + static_cast<uint32_t>(i))) return std::nullopt;
  uint32_t dst = destination(into, cx.module.types.record(m.to_record));
  emit(Op::RECORD_NEW, dst, first, static_cast<uint32_t>(types.size()), m.to_record, e.span);
  consumed(first, static_cast<uint32_t>(types.size()));
  return dst;
}

}  // namespace ved::ir
