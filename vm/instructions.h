// The data instructions: every instruction that is not scalar arithmetic (that is
// bytecode/semantics.h) and not control flow (the engines' own business), written once.
// The interpreter's handlers inline these; the JIT calls them through one thunk
// (vm/jit/thunks.cpp), so that strings, lists, maps, records, the instance's state and
// outputs, and every fault message, are the same C++ code under both engines.
//
// Each takes the running function's registers R and the instruction's fields, and
// returns FaultKind::None, or a fault kind with its message in `message`. The limits
// that are semantics (the longest string, list and map; the outputs of a tick) are
// enforced here, so both engines enforce them identically.
#pragma once

#include <span>
#include <string>

#include "vm/interpreter.h"
#include "vm/program.h"
#include "vm/runtime_library.h"
#include "vm/value.h"

namespace ved::vm::data {

// The instructions of this file, for dispatch by opcode.
#define VED_DATA_OPS(X) X(MOVE) X(LOAD_CONST) X(LOAD_NONE) X(LOAD_UNIT) X(DROP) X(WRAP) X(UNWRAP) X(EQ_STR) X(LT_STR) X(LE_STR) X(EQ_ANY) X(IS_NONE) X(CONCAT) X(LIST_NEW) X(LIST_GET) X(LIST_SET) X(LIST_APPEND) X(LEN) X(STR_GET) X(MAP_NEW) X(MAP_GET) X(MAP_SET) X(MAP_HAS) X(RECORD_NEW) X(FIELD_GET) X(FIELD_SET) X(INTENT_NEW) X(CALL_BUILTIN) X(STATE_GET) X(STATE_SET) X(STATE_TAKE) X(TICK) X(RAND) X(OBSERVE) X(SEND) X(EMIT) X(SPAWN) X(SCHEDULE)


using bytecode::Builtin;
using bytecode::kNoRegister;

// What a data instruction may see beyond its registers.
struct Context {
  const Program& p;
  const BuiltinContext& builtins;
  InstanceEnv& env;
};

inline constexpr size_t kMaxListLength = Interpreter::kMaxListLength;

// Counts one output (message, intent, spawn, timer) against the tick's limit; false
// when the tick has created all it may.
inline bool take_output(InstanceEnv& env) {
  if (!env.outputs || !env.outputs->tick_outputs_left) return true;
  if (*env.outputs->tick_outputs_left <= 0) return false;
  --*env.outputs->tick_outputs_left;
  return true;
}

[[gnu::cold]] inline std::string tick_outputs_message() {
  return "this tick has already created " + std::to_string(kMaxTickOutputs) +
         " messages, intents, spawns and timers, the most one tick may";
}

// The messages of the faults the engines raise themselves (fuel, call limits, time), so
// that both say the same words.
[[gnu::cold]] inline std::string fuel_exhausted_message() { return "fuel exhausted (the slice's budget is spent)"; }
[[gnu::cold]] inline std::string call_depth_message() {
  return "calls nested deeper than " + std::to_string(Interpreter::kMaxCallDepth);
}
[[gnu::cold]] inline std::string call_registers_message() {
  return "the call stack needs more than " + std::to_string(Interpreter::kMaxStackRegisters) + " registers";
}
[[gnu::cold]] inline std::string negative_advance_message(int64_t ticks) {
  return "advance_ticks(" + std::to_string(ticks) + "): time cannot go backwards";
}

#define VED_DATA_OP_FN(name)                                                                       \
  [[gnu::always_inline]] inline FaultKind name(Value* R, uint16_t A, uint16_t B, uint16_t C, uint32_t D, \
                                               const Context& x, std::string& message)
#define FAULT(kind, text) \
  do {                    \
    message = (text);     \
    return (kind);        \
  } while (0)

VED_DATA_OP_FN(MOVE) {
  if (A != B) R[A] = R[B];
  return FaultKind::None;
}

VED_DATA_OP_FN(LOAD_CONST) {
  R[A] = x.p.constants[D];
  return FaultKind::None;
}

VED_DATA_OP_FN(LOAD_NONE) {
  R[A] = Value::none();
  return FaultKind::None;
}

VED_DATA_OP_FN(LOAD_UNIT) {
  R[A] = Value();
  return FaultKind::None;
}

VED_DATA_OP_FN(DROP) {
  R[A] = Value();
  return FaultKind::None;
}

VED_DATA_OP_FN(WRAP) {
  if (A != B) R[A] = R[B];
  return FaultKind::None;
}

VED_DATA_OP_FN(UNWRAP) {
  if (R[B].is_none()) FAULT(FaultKind::NoneValue, "unwrapped `none`");
  if (A != B) R[A] = R[B];
  return FaultKind::None;
}

VED_DATA_OP_FN(EQ_STR) {
  R[A].set_bool(R[B].as_string() == R[C].as_string());
  return FaultKind::None;
}

VED_DATA_OP_FN(LT_STR) {
  R[A].set_bool(R[B].as_string() < R[C].as_string());
  return FaultKind::None;
}

VED_DATA_OP_FN(LE_STR) {
  R[A].set_bool(R[B].as_string() <= R[C].as_string());
  return FaultKind::None;
}

VED_DATA_OP_FN(EQ_ANY) {
  bool eq = values_equal(R[B], R[C]);
  R[A] = Value::boolean(eq);
  return FaultKind::None;
}

VED_DATA_OP_FN(IS_NONE) {
  bool none = R[B].is_none();
  R[A] = Value::boolean(none);
  return FaultKind::None;
}

VED_DATA_OP_FN(CONCAT) {
  if (R[B].as_string().size() + R[C].as_string().size() > kMaxStringBytes)
    FAULT(FaultKind::Budget, "a string longer than " + std::to_string(kMaxStringBytes >> 20) + " MiB");
  if (A == B) {
    // `s = s + x`: appends in place when `s` is the only owner of its text.
    if (A == C) {
      std::string copy = R[C].as_string();
      R[A].mutable_string().append(copy);
    } else {
      R[A].mutable_string().append(R[C].as_string());
    }
  } else {
    std::string joined;
    joined.reserve(R[B].as_string().size() + R[C].as_string().size());
    joined.append(R[B].as_string()).append(R[C].as_string());
    R[A] = Value::string(std::move(joined));
  }
  return FaultKind::None;
}

VED_DATA_OP_FN(LIST_NEW) {
  std::vector<Value> items(R + B, R + B + C);
  R[A] = Value::list(std::move(items));
  return FaultKind::None;
}

VED_DATA_OP_FN(LIST_GET) {
  const auto& items = R[B].as_list();
  int64_t i = R[C].as_int();
  if (i < 0 || static_cast<uint64_t>(i) >= items.size())
    FAULT(FaultKind::Index, "index " + std::to_string(i) + " out of range for a list of length " + std::to_string(items.size()));
  Value v = items[static_cast<size_t>(i)];
  R[A] = std::move(v);
  return FaultKind::None;
}

VED_DATA_OP_FN(LIST_SET) {
  int64_t i = R[B].as_int();
  size_t n = R[A].as_list().size();
  if (i < 0 || static_cast<uint64_t>(i) >= n)
    FAULT(FaultKind::Index, "index " + std::to_string(i) + " out of range for a list of length " + std::to_string(n));
  Value v = R[C];
  R[A].mutable_list()[static_cast<size_t>(i)] = std::move(v);
  return FaultKind::None;
}

VED_DATA_OP_FN(LIST_APPEND) {
  if (R[B].as_list().size() >= kMaxListLength)
    FAULT(FaultKind::Budget, "a list longer than " + std::to_string(kMaxListLength) + " elements");
  Value v = R[C];
  if (A == B) {
    R[A].mutable_list().push_back(std::move(v));
  } else {
    std::vector<Value> items;
    items.reserve(R[B].as_list().size() + 1);
    items = R[B].as_list();
    items.push_back(std::move(v));
    R[A] = Value::list(std::move(items));
  }
  return FaultKind::None;
}

VED_DATA_OP_FN(LEN) {
  const Value& v = R[B];
  int64_t n = v.tag() == Tag::String ? utf8_length(v.as_string())
              : v.tag() == Tag::List ? static_cast<int64_t>(v.as_list().size())
                                     : static_cast<int64_t>(v.as_map().size());
  R[A].set_int(n);
  return FaultKind::None;
}

VED_DATA_OP_FN(STR_GET) {
  Value out;
  std::string detail;
  FaultKind k = string_code_point(R[B].as_string(), R[C].as_int(), out, detail);
  if (k != FaultKind::None) FAULT(k, detail);
  R[A] = std::move(out);
  return FaultKind::None;
}

VED_DATA_OP_FN(MAP_NEW) {
  MapEntries entries;
  for (uint32_t k = 0; k < C; ++k) entries.insert_or_assign(R[B + 2 * k], R[B + 2 * k + 1]);
  R[A] = Value::map(std::move(entries));
  return FaultKind::None;
}

VED_DATA_OP_FN(MAP_GET) {
  const auto& entries = R[B].as_map();
  auto it = entries.find(R[C]);
  if (it == entries.end())
    FAULT(FaultKind::MissingKey, "key " + format_value(R[C], x.builtins.records, x.builtins.effect_names) + " is not in the map");
  Value v = it->second;
  R[A] = std::move(v);
  return FaultKind::None;
}

VED_DATA_OP_FN(MAP_SET) {
  if (R[A].as_map().size() >= kMaxListLength && !R[A].as_map().count(R[B]))
    FAULT(FaultKind::Budget, "a map larger than " + std::to_string(kMaxListLength) + " entries");
  // (Key and value are other registers than the map: a map is neither its own key nor,
  // its type being finite, its own element.)
  R[A].mutable_map().insert_or_assign(R[B], R[C]);
  return FaultKind::None;
}

VED_DATA_OP_FN(MAP_HAS) {
  bool has = R[B].as_map().count(R[C]) != 0;
  R[A].set_bool(has);
  return FaultKind::None;
}

VED_DATA_OP_FN(RECORD_NEW) {
  std::vector<Value> fields(R + B, R + B + C);
  R[A] = Value::record(D, std::move(fields));
  return FaultKind::None;
}

VED_DATA_OP_FN(FIELD_GET) {
  Value v = R[B].as_record().fields[D];
  R[A] = std::move(v);
  return FaultKind::None;
}

VED_DATA_OP_FN(FIELD_SET) {
  Value v = R[B];
  R[A].mutable_record_fields()[D] = std::move(v);
  return FaultKind::None;
}

VED_DATA_OP_FN(INTENT_NEW) {
  const size_t params = x.p.effects[D].params.size();
  std::vector<Value> args(R + B, R + B + params);
  Value key = C > params ? R[B + params] : Value::none();
  R[A] = Value::intent(D, std::move(args), std::move(key));
  return FaultKind::None;
}

VED_DATA_OP_FN(CALL_BUILTIN) {
  Value out;
  std::string detail;
  FaultKind k = call_builtin(static_cast<Builtin>(D), R + B, C, out, detail, x.builtins);
  if (k != FaultKind::None) FAULT(k, detail);
  if (out.tag() == Tag::String && out.as_string().size() > kMaxStringBytes)
    FAULT(FaultKind::Budget, "a string longer than " + std::to_string(kMaxStringBytes >> 20) + " MiB");
  R[A] = std::move(out);
  return FaultKind::None;
}

VED_DATA_OP_FN(STATE_GET) {
  Value v = x.env.state->as_record().fields[D];
  R[A] = std::move(v);
  return FaultKind::None;
}

VED_DATA_OP_FN(STATE_SET) {
  Value v = R[A];
  x.env.state->mutable_record_fields()[D] = std::move(v);
  return FaultKind::None;
}

VED_DATA_OP_FN(STATE_TAKE) {
  // Moves the field out so that the update that follows owns it uniquely; the verifier
  // guarantees STATE_SET puts it back in this block.
  auto& fields = x.env.state->mutable_record_fields();
  R[A] = std::move(fields[D]);
  fields[D] = Value();
  return FaultKind::None;
}

VED_DATA_OP_FN(TICK) {
  R[A].set_int(x.env.tick);
  return FaultKind::None;
}

VED_DATA_OP_FN(RAND) {
  int64_t bound = R[B].as_int();
  if (bound <= 0) FAULT(FaultKind::Conversion, "rand(" + std::to_string(bound) + "): the bound must be at least 1");
  if (!x.env.random) FAULT(FaultKind::Conversion, "rand() needs an instance's random generator");
  R[A].set_int(x.env.random->below(bound));
  return FaultKind::None;
}

VED_DATA_OP_FN(OBSERVE) {
  if (!x.env.observations) FAULT(FaultKind::Observation, "observation `" + x.p.observations[D].name + "` has no source here");
  Value out;
  std::string detail;
  FaultKind k = x.env.observations->sample(D, std::span<const Value>(R + B, C), out, detail);
  if (k != FaultKind::None) FAULT(k, detail);
  if (!value_conforms(x.p, out, x.p.observations[D].result))
    FAULT(FaultKind::Observation, "observation `" + x.p.observations[D].name + "` returned a value of the wrong type");
  R[A] = std::move(out);
  return FaultKind::None;
}

VED_DATA_OP_FN(SEND) {
  if (!take_output(x.env)) FAULT(FaultKind::Budget, tick_outputs_message());
  if (x.env.outputs) {
    SentMessage m;
    m.message = D;
    if (A != kNoRegister) m.instance_id = R[A];
    m.args.assign(R + B, R + B + C);
    x.env.outputs->sends.push_back(std::move(m));
  }
  return FaultKind::None;
}

VED_DATA_OP_FN(EMIT) {
  if (!take_output(x.env)) FAULT(FaultKind::Budget, tick_outputs_message());
  if (x.env.outputs) x.env.outputs->intents.push_back(R[A]);
  return FaultKind::None;
}

VED_DATA_OP_FN(SPAWN) {
  if (!take_output(x.env)) FAULT(FaultKind::Budget, tick_outputs_message());
  if (x.env.outputs) {
    SpawnRequest s;
    s.spawn = D;
    if (A != kNoRegister) s.instance_id = R[A];
    s.values.assign(R + B, R + B + C);
    x.env.outputs->spawns.push_back(std::move(s));
  }
  return FaultKind::None;
}

VED_DATA_OP_FN(SCHEDULE) {
  int64_t delay = R[A].as_int();
  if (delay < 1) FAULT(FaultKind::Conversion, "schedule after " + std::to_string(delay) + " ticks: the delay must be at least 1");
  if (delay > kLastTick - x.env.tick)
    FAULT(FaultKind::Budget, "schedule after " + std::to_string(delay) + " ticks: due after tick 2^62, the last tick a run reaches");
  if (!take_output(x.env)) FAULT(FaultKind::Budget, tick_outputs_message());
  if (x.env.outputs) {
    ScheduledMessage s;
    s.message = D;
    s.delay = delay;
    s.args.assign(R + B, R + B + C);
    x.env.outputs->schedules.push_back(std::move(s));
  }
  return FaultKind::None;
}

#undef FAULT
#undef VED_DATA_OP_FN

// Whether `op` is one of the instructions above.
constexpr bool is_data_op(Op op) {
  switch (op) {
#define VED_DATA_CASE(name) case Op::name:
    VED_DATA_OPS(VED_DATA_CASE)
#undef VED_DATA_CASE
    return true;
    default: return false;
  }
}

// Runs one data instruction by opcode (the JIT's thunk; the interpreter jumps straight to
// each function instead).
inline FaultKind execute(const Instr& in, Value* R, const Context& x, std::string& message) {
  switch (in.op) {
#define VED_DATA_CALL(name) \
  case Op::name: return name(R, in.a, in.b, in.c, in.d, x, message);
    VED_DATA_OPS(VED_DATA_CALL)
#undef VED_DATA_CALL
    default: break;
  }
  message = "not a data instruction";
  return FaultKind::Conversion;
}

}  // namespace ved::vm::data
