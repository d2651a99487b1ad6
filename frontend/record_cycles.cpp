// Records that contain themselves (V-TYP-019). A record's fields are stored inside it
// and its zero value is a record of its fields' zero values (language.md §3), so a
// record that holds itself through plain record fields, directly (`type R { a: R }`) or
// through others, would be infinitely large: lowering could never build its zero value
// and the VM's verifier refuses such a bundle. A cycle through `T?`, `list<T>` or
// `map<K, T>` is fine: their zero values (`none`, empty) end it.
#include <algorithm>
#include <deque>
#include <map>

#include "frontend/checker_internal.h"

namespace ved::check_detail {

namespace {

// Field `field` of a record holds record `to` by value.
struct Edge {
  size_t field;
  size_t to;
};

// The strongly connected components of the graph (Tarjan's algorithm, with an explicit
// stack so that a long chain of records in a hostile file cannot overflow the call
// stack). Returns each node's component.
std::vector<size_t> components(const std::vector<std::vector<Edge>>& edges) {
  const size_t n = edges.size();
  constexpr size_t kUnvisited = static_cast<size_t>(-1);
  std::vector<size_t> index(n, kUnvisited), low(n, 0), component(n, kUnvisited);
  std::vector<bool> on_stack(n, false);
  std::vector<size_t> stack;
  std::vector<std::pair<size_t, size_t>> work;  // (node, next edge to follow)
  size_t next_index = 0, next_component = 0;
  auto visit = [&](size_t v) {
    index[v] = low[v] = next_index++;
    stack.push_back(v);
    on_stack[v] = true;
    work.emplace_back(v, 0);
  };
  for (size_t root = 0; root < n; ++root) {
    if (index[root] != kUnvisited) continue;
    visit(root);
    while (!work.empty()) {
      const size_t v = work.back().first;
      if (work.back().second < edges[v].size()) {
        const size_t w = edges[v][work.back().second++].to;
        if (index[w] == kUnvisited) visit(w);
        else if (on_stack[w]) low[v] = std::min(low[v], index[w]);
        continue;
      }
      work.pop_back();
      if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[v]);
      if (low[v] != index[v]) continue;
      size_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        component[w] = next_component;
      } while (w != v);
      ++next_component;
    }
  }
  return component;
}

// The shortest way from `start` back to itself inside its component, as the edges taken
// (a breadth-first search trying fields in declaration order, so the report is stable).
std::vector<std::pair<size_t, Edge>> shortest_cycle(size_t start, const std::vector<std::vector<Edge>>& edges,
                                                    const std::vector<size_t>& component) {
  std::map<size_t, std::pair<size_t, Edge>> came_from;  // node -> (previous node, edge taken)
  std::deque<size_t> queue{start};
  while (!queue.empty()) {
    const size_t v = queue.front();
    queue.pop_front();
    for (const Edge& e : edges[v]) {
      if (component[e.to] != component[start]) continue;
      if (e.to == start) {
        std::vector<std::pair<size_t, Edge>> path{{v, e}};
        for (size_t at = v; at != start; at = came_from.at(at).first) path.push_back(came_from.at(at));
        std::reverse(path.begin(), path.end());
        return path;
      }
      if (came_from.emplace(e.to, std::make_pair(v, e)).second) queue.push_back(e.to);
    }
  }
  return {};  // not reached: the component has a cycle through `start`
}

}  // namespace

void check_record_cycles(const ast::Program& program, CheckState& s) {
  // The prelude's records hold no record of the program, so every cycle is among the
  // program's own; they are taken in declaration order so that reports are stable.
  std::vector<const RecordSym*> records;
  std::map<std::string, size_t> index;
  for (const auto& t : program.types) {
    const RecordSym& r = s.model.records.at(t.name.name);
    if (!(r.span == t.name.span)) continue;  // a duplicate declaration (V-TYP-010)
    index[r.name] = records.size();
    records.push_back(&r);
  }
  std::vector<std::vector<Edge>> edges(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& fields = records[i]->fields;
    for (size_t f = 0; f < fields.size(); ++f) {
      if (fields[f].type->kind != TypeKind::Record) continue;  // T?, list<T>, map<K, T> end a cycle
      auto it = index.find(fields[f].type->name);
      if (it != index.end()) edges[i].push_back(Edge{f, it->second});
    }
  }
  const std::vector<size_t> component = components(edges);

  // One diagnostic per component that has a cycle: its records all hold each other, so
  // a report for each of them would repeat one mistake (and a record that merely holds
  // one of them is fixed with it). The report follows the shortest cycle from the
  // component's first declared record.
  std::vector<bool> reported(records.size(), false);
  for (size_t i = 0; i < records.size(); ++i) {
    if (reported[component[i]]) continue;
    auto cycle = shortest_cycle(i, edges, component);
    if (cycle.empty()) continue;  // no way back to itself: not on a cycle
    reported[component[i]] = true;

    const RecordSym& start = *records[i];
    // "`A.b` is of type `B`, and `B.a` of type `A`"
    std::string steps;
    for (size_t k = 0; k < cycle.size(); ++k) {
      const auto& [from, e] = cycle[k];
      const FieldSym& f = records[from]->fields[e.field];
      if (k > 0) steps += k + 1 == cycle.size() ? ", and " : ", ";
      steps += "`" + records[from]->name + "." + f.name + "` " + (k == 0 ? "is " : "") + "of type `" +
               type_to_string(f.type) + "`";
    }
    const FieldSym& first = start.fields[cycle[0].second.field];
    const std::string held = type_to_string(first.type);
    auto d = s.sink.error("V-TYP-019", first.decl->type.span, "record `" + start.name + "` contains itself: " + steps);
    d.label("every `" + start.name + "` holds another `" + start.name + "`, so a value of it would be infinitely large");
    for (size_t k = 1; k < cycle.size(); ++k)
      d.secondary(records[cycle[k].first]->fields[cycle[k].second.field].decl->type.span, "the cycle continues here");
    d.help(std::string(cycle.size() == 1 ? "make the field optional, `" : "make a field of the cycle optional, e.g. `") +
           first.name + ": " + held + "?` (`none` ends the chain), or hold the values in a `list<" + held +
           ">` or a `map<string, " + held + ">`");
  }
}

}  // namespace ved::check_detail
