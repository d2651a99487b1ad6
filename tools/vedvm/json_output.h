// What `vedvm` prints as JSON: `inspect --json`, `inspect --tick T --json` and
// `--trace=json`. Every shape is in docs/json.md, with its schema under docs/json/; values
// are converted here and nowhere else.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>

#include "vm/program.h"
#include "vm/runtime/instance.h"
#include "vm/runtime/intent.h"
#include "vm/runtime/runtime.h"
#include "vm/value.h"

namespace vedvm {

using Json = nlohmann::ordered_json;

// An int as JSON: a number when |n| <= 2^53 - 1 (every double reader reads it exactly),
// otherwise {"$int": "<decimal>"}. Values, ticks and counts alike.
Json int_json(int64_t n);
// A Ved value (docs/json.md, `value`): none is null, bool, int (int_json), float (a
// number written with '.' or 'e', or {"$float": "NaN" | "Infinity" | "-Infinity"}),
// string, list as array, map as {"$map": [[key, value], ...]} in key order, record as
// {"$record": "Type", field: value, ...}, unit as {"$unit": true}, intent as
// {"$intent": "Effect", "args": {param: value, ...}, "key": string or null}.
Json value_json(const ved::vm::Program& program, const ved::vm::Value& v);

// `--trace=json`: one event, {"tick", "instance", "kind", ...its parts}.
Json trace_event_json(const ved::vm::Program& program, const ved::vm::TraceEvent& e);

// `--trace` (`format` "text": `tick=4 Counter slice Increment value=3`) or `--trace=json`
// (trace_event_json, a line each): a sink printing each event on stdout. `program` gives
// the build of the run the events come from (an upgrade changes it). Null for "".
ved::vm::TraceSink trace_printer(const std::string& format, std::function<const ved::vm::Program&()> program);

// `inspect --json`: one instance, and one intent without a journaled outcome.
Json instance_json(const ved::vm::Program& program, const ved::vm::Instance& in);
Json open_intent_json(const ved::vm::Program& program, const ved::vm::Intent& x);

// `inspect --tick T --json`: one journal record of tick `tick` (`kind TAB instance TAB
// detail [TAB data]`), with the parts that can be read without guessing: from the
// program, from an input's data field, from the tick's intent records (`intents`, by
// index), and from details whose layout is fixed around names. `detail` is always there.
Json journal_record_json(const ved::vm::Program& program, int64_t tick, std::string_view record,
                         const std::map<uint32_t, ved::vm::Intent>& intents);

}  // namespace vedvm
