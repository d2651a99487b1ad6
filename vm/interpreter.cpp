// The interpreter loop: computed-goto dispatch over verified bytecode.
//
// What the verifier proved is relied on here and not checked again: operand registers
// exist and have their opcode's types, registers are written before they are read, a
// block ends with its only terminator. What depends on values is checked, and faults:
// overflow, division by zero, indices, missing keys, `none`, `fail`, `assert`, fuel.
//
// Fuel: entering a block (the entry block of a call too) charges the block's whole cost
// before its first instruction runs; when the fuel would go below zero the call faults
// with FaultKind::Budget at that block's first instruction.
//
// Every handler's locals live in a block of their own that closes before the next
// dispatch: a computed goto out of a scope does not run destructors (GCC) or is refused
// (clang).
//
// Frames live on one register stack; a call pushes a frame, a return pops it. Registers
// of a scalar type are written without releasing (they never hold references); heap
// registers are released when their frame returns.
#include "vm/interpreter.h"

#include <cmath>
#include <new>
#include <stdexcept>

namespace ved::vm {

using bytecode::Builtin;
using bytecode::kNoRegister;

std::string describe_fault_location(const Program& program, const Fault& fault) {
  std::string at = source_position(program, fault.position);
  if (!at.empty()) return at;
  return fault.function < program.functions.size() ? "in `" + program.functions[fault.function].name + "`" : "<unknown>";
}

namespace {

bool conforms(const Program& p, const Value& v, uint32_t t) {
  const TypeInfo& ti = p.types[t];
  switch (ti.kind) {
    case TypeKind::Unit: return v.tag() == Tag::Unit;
    case TypeKind::Bool: return v.tag() == Tag::Bool;
    case TypeKind::Int: return v.tag() == Tag::Int;
    case TypeKind::Float: return v.tag() == Tag::Float;
    case TypeKind::String: return v.tag() == Tag::String;
    case TypeKind::Optional: return v.tag() == Tag::None || conforms(p, v, ti.x);
    case TypeKind::List:
      if (v.tag() != Tag::List) return false;
      for (const auto& e : v.as_list())
        if (!conforms(p, e, ti.x)) return false;
      return true;
    case TypeKind::Map:
      if (v.tag() != Tag::Map) return false;
      for (const auto& [k, e] : v.as_map())
        if (!conforms(p, k, ti.x) || !conforms(p, e, ti.y)) return false;
      return true;
    case TypeKind::Record: {
      if (v.tag() != Tag::Record || v.as_record().type != ti.x) return false;
      const auto& types = p.record_field_types[ti.x];
      const auto& fields = v.as_record().fields;
      if (fields.size() != types.size()) return false;
      for (size_t i = 0; i < fields.size(); ++i)
        if (!conforms(p, fields[i], types[i])) return false;
      return true;
    }
    case TypeKind::Intent: return v.tag() == Tag::Intent && v.as_intent().effect == ti.x;
  }
  return false;
}

// Counts one output (message, intent, spawn, timer) against the tick's limit; false
// when the tick has created all it may.
bool take_output(InstanceEnv& env) {
  if (!env.outputs || !env.outputs->tick_outputs_left) return true;
  if (*env.outputs->tick_outputs_left <= 0) return false;
  --*env.outputs->tick_outputs_left;
  return true;
}

std::string tick_outputs_message() {
  return "this tick has already created " + std::to_string(kMaxTickOutputs) +
         " messages, intents, spawns and timers, the most one tick may";
}

}  // namespace

bool value_conforms(const Program& program, const Value& v, uint32_t type) {
  return type < program.types.size() && conforms(program, v, type);
}

struct Interpreter::Impl {
  explicit Impl(const Program& program) : p(program), builtins(program.builtin_context()) {
    functions.resize(p.functions.size());
    for (size_t f = 0; f < p.functions.size(); ++f) prepare(static_cast<uint32_t>(f));
  }

  enum class Exit { Return, Yield, End, Fault };

  // An instruction as the loop runs it: the bundle's instruction, except that a branch
  // names its targets by the index of their first instruction (in `d` and `e`) instead
  // of by block number. Entering a block is then one load (from the branch itself) and
  // an add; through the block table it was that load and a second, dependent one, and
  // that chain of two loads was the critical path of every loop iteration.
  struct Step {
    Op op;
    uint16_t a, b, c;
    uint32_t d;
    uint32_t e;
  };
  static_assert(sizeof(Step) == 16);

  // A function as the loop runs it.
  struct Function {
    const FunctionInfo* info = nullptr;
    uint32_t index = 0;
    uint32_t register_count = 0;
    std::vector<Step> code;              // parallel to info->code (same indices)
    std::vector<int64_t> cost_at;        // a block's fuel cost, at its first instruction
    std::vector<uint32_t> block_starts;  // the first instruction of each block
    uint32_t entry = 0;                  // block_starts[0], where a call starts
  };

  void prepare(uint32_t f) {
    const FunctionInfo& info = p.functions[f];
    Function& fn = functions[f];
    fn.info = &info;
    fn.index = f;
    fn.register_count = static_cast<uint32_t>(info.registers.size());
    fn.cost_at.assign(info.code.size(), 0);
    for (const BlockInfo& b : info.blocks) {
      fn.block_starts.push_back(b.start);
      fn.cost_at[b.start] = b.cost;
    }
    fn.entry = fn.block_starts.empty() ? 0 : fn.block_starts[0];
    auto start = [&](uint32_t block) { return fn.block_starts[block]; };
    fn.code.reserve(info.code.size());
    for (const Instr& in : info.code) {
      Step s{in.op, in.a, in.b, in.c, in.d, 0};
      switch (in.op) {
        case Op::JMP: s.d = start(in.d); break;
        case Op::JMP_IF:
        case Op::BR_NONE:
          s.d = start(in.b);
          s.e = start(in.c);
          break;
        case Op::BR_LT_I64:
        case Op::BR_LE_I64:
        case Op::BR_EQ_I64:
        case Op::FOR_STEP:
          s.d = start(in.c);
          s.e = start(in.d);
          break;
        default: break;
      }
      fn.code.push_back(s);
    }
  }

  struct Frame {
    const Function* fn;
    const Step* return_ip;  // in the caller
    uint32_t base;
    uint16_t dst;  // the caller's destination register
  };

  const Program& p;
  BuiltinContext builtins;
  std::vector<Function> functions;  // parallel to p.functions
  std::vector<Value> stack;
  // kMaxCallDepth frames, allocated on the first run, so that a call pushes with one
  // comparison (the depth limit) and never reallocates.
  std::vector<Frame> frames;
  // The function running when an allocation failed, for MachineOutOfMemory's message
  // (the frame stack's top is a local of the loop); null between runs.
  const Function* running = nullptr;
  uint32_t high_water = 0;
  // Set by ADVANCE (the ticks a test script asks for before its next slice); run_slice
  // clears it before each run, so a YIELD leaves it 0.
  int64_t advance = 0;

  // Makes room for `size` registers. The common case (room enough) is one comparison.
  void ensure(size_t size) {
    if (size > high_water) [[unlikely]] grow(size);
  }
  [[gnu::noinline]] void grow(size_t size) {
    if (stack.size() < size) stack.resize(std::max(size, stack.size() * 2 + 256));
    high_water = static_cast<uint32_t>(size);
  }

  // Drops every value left on the stack (after a fault, or between runs).
  void clear_stack() {
    for (uint32_t i = 0; i < high_water; ++i) stack[i] = Value();
    high_water = 0;
    running = nullptr;
  }

  Exit execute(uint32_t fn_index, uint32_t start_block, int64_t& fuel, InstanceEnv& env, Value& result,
               uint32_t& yield_to, Fault& fault);

  // An allocation that fails (the machine has less memory than the language's limits
  // allow) is not a fault of the code: a fault is journaled and must be the same on every
  // machine, and this one would not be. It ends the call with MachineOutOfMemory, which
  // the runtime turns into an error that stops the VM before the tick is written.
  Exit execute_guarded(uint32_t fn_index, uint32_t start_block, int64_t& fuel, InstanceEnv& env, Value& result,
                       uint32_t& yield_to, Fault& fault) {
    try {
      return execute(fn_index, start_block, fuel, env, result, yield_to, fault);
    } catch (const std::bad_alloc&) {
    } catch (const std::length_error&) {
    }
    const uint32_t where = running ? running->index : fn_index;
    clear_stack();
    throw MachineOutOfMemory("the machine ran out of memory in `" + p.functions[where].name + "`");
  }
};

Interpreter::Impl::Exit Interpreter::Impl::execute(uint32_t fn_index, uint32_t start_block, int64_t& fuel_in_out,
                                                   InstanceEnv& env, Value& result, uint32_t& yield_to,
                                                   Fault& fault) {
  static void* const kLabels[] = {
#define VED_LABEL(name, layout, term, dst) &&op_##name,
      VED_OPCODES(VED_LABEL)
#undef VED_LABEL
  };
  static_assert(sizeof(kLabels) / sizeof(kLabels[0]) == bytecode::kOpCount);

  // A local copy, so that the compiler keeps it in a register (the reference could
  // alias any store); written back on every exit.
  int64_t fuel = fuel_in_out;
  if (frames.empty()) frames.resize(kMaxCallDepth);
  Frame* const deepest_frame = frames.data() + kMaxCallDepth - 1;
  Frame* frame_top = frames.data();  // the running frame
  *frame_top = Frame{&functions[fn_index], nullptr, 0, 0};
  const Function* F = &functions[fn_index];
  running = F;
  const Step* code = F->code.data();
  const int64_t* cost_at = F->cost_at.data();
  const Step* ip = nullptr;
  Value* R = stack.data();
  FaultKind fault_kind = FaultKind::None;
  std::string fault_message;

#define DISPATCH() goto* kLabels[static_cast<uint16_t>(ip->op)]
#define NEXT()  \
  do {          \
    ++ip;       \
    DISPATCH(); \
  } while (0)
// Enters the block whose first instruction is code[at]: charges its cost, then runs it.
#define ENTER(at)                                     \
  do {                                                \
    const uint32_t at_ = (at);                        \
    ip = code + at_;                                  \
    fuel -= cost_at[at_];                             \
    if (fuel < 0) [[unlikely]] goto budget_exhausted; \
    DISPATCH();                                       \
  } while (0)
#define FAULT(kind, message)   \
  do {                         \
    fault_kind = (kind);       \
    fault_message = (message); \
    goto faulted;              \
  } while (0)
#define A (ip->a)
#define B (ip->b)
#define C (ip->c)
#define D (ip->d)

  ENTER(F->block_starts[start_block]);

op_MOVE : {
  if (A != B) R[A] = R[B];
}
  NEXT();
op_LOAD_CONST : {
  R[A] = p.constants[D];
}
  NEXT();
op_LOAD_INT : {
  R[A].set_int(static_cast<int32_t>(D));
}
  NEXT();
op_LOAD_BOOL : {
  R[A].set_bool(D != 0);
}
  NEXT();
op_LOAD_NONE : {
  R[A] = Value::none();
}
  NEXT();
op_LOAD_UNIT : {
  R[A] = Value();
}
  NEXT();
op_DROP : {
  R[A] = Value();
}
  NEXT();
op_WRAP : {
  if (A != B) R[A] = R[B];
}
  NEXT();
op_UNWRAP : {
  if (R[B].is_none()) FAULT(FaultKind::NoneValue, "unwrapped `none`");
  if (A != B) R[A] = R[B];
}
  NEXT();
op_ADD_I64 : {
  int64_t r;
  if (__builtin_add_overflow(R[B].as_int(), R[C].as_int(), &r))
    FAULT(FaultKind::Overflow, "integer overflow in " + std::to_string(R[B].as_int()) + " + " + std::to_string(R[C].as_int()));
  R[A].set_int(r);
}
  NEXT();
op_SUB_I64 : {
  int64_t r;
  if (__builtin_sub_overflow(R[B].as_int(), R[C].as_int(), &r))
    FAULT(FaultKind::Overflow, "integer overflow in " + std::to_string(R[B].as_int()) + " - " + std::to_string(R[C].as_int()));
  R[A].set_int(r);
}
  NEXT();
op_MUL_I64 : {
  int64_t r;
  if (__builtin_mul_overflow(R[B].as_int(), R[C].as_int(), &r))
    FAULT(FaultKind::Overflow, "integer overflow in " + std::to_string(R[B].as_int()) + " * " + std::to_string(R[C].as_int()));
  R[A].set_int(r);
}
  NEXT();
op_DIV_I64 : {
  // Inline copies of checked_div / checked_rem (runtime_library.h), which define them.
  const int64_t x = R[B].as_int(), y = R[C].as_int();
  if (y == 0) FAULT(FaultKind::DivisionByZero, "division by zero");
  if (y == -1 && x == INT64_MIN) FAULT(FaultKind::Overflow, "integer overflow in " + std::to_string(x) + " / -1");
  R[A].set_int(x / y);
}
  NEXT();
op_REM_I64 : {
  const int64_t x = R[B].as_int(), y = R[C].as_int();
  if (y == 0) FAULT(FaultKind::DivisionByZero, "remainder by zero");
  R[A].set_int(y == -1 ? 0 : x % y);
}
  NEXT();
op_NEG_I64 : {
  if (R[B].as_int() == INT64_MIN) FAULT(FaultKind::Overflow, "integer overflow in -(" + std::to_string(INT64_MIN) + ")");
  R[A].set_int(-R[B].as_int());
}
  NEXT();
op_ADD_F64 : {
  R[A].set_float(R[B].as_float() + R[C].as_float());
}
  NEXT();
op_SUB_F64 : {
  R[A].set_float(R[B].as_float() - R[C].as_float());
}
  NEXT();
op_MUL_F64 : {
  R[A].set_float(R[B].as_float() * R[C].as_float());
}
  NEXT();
op_DIV_F64 : {
  double r;
  if (float_div(R[B].as_float(), R[C].as_float(), r) != FaultKind::None)
    FAULT(FaultKind::DivisionByZero, "division by zero");
  R[A].set_float(r);
}
  NEXT();
op_REM_F64 : {
  double r;
  if (float_rem(R[B].as_float(), R[C].as_float(), r) != FaultKind::None)
    FAULT(FaultKind::DivisionByZero, "remainder by zero");
  R[A].set_float(r);
}
  NEXT();
op_NEG_F64 : {
  R[A].set_float(-R[B].as_float());
}
  NEXT();
op_I2F : {
  R[A].set_float(static_cast<double>(R[B].as_int()));
}
  NEXT();
op_EQ_I64 : {
  R[A].set_bool(R[B].as_int() == R[C].as_int());
}
  NEXT();
op_LT_I64 : {
  R[A].set_bool(R[B].as_int() < R[C].as_int());
}
  NEXT();
op_LE_I64 : {
  R[A].set_bool(R[B].as_int() <= R[C].as_int());
}
  NEXT();
op_EQ_F64 : {
  R[A].set_bool(R[B].as_float() == R[C].as_float());
}
  NEXT();
op_LT_F64 : {
  R[A].set_bool(R[B].as_float() < R[C].as_float());
}
  NEXT();
op_LE_F64 : {
  R[A].set_bool(R[B].as_float() <= R[C].as_float());
}
  NEXT();
op_EQ_STR : {
  R[A].set_bool(R[B].as_string() == R[C].as_string());
}
  NEXT();
op_LT_STR : {
  R[A].set_bool(R[B].as_string() < R[C].as_string());
}
  NEXT();
op_LE_STR : {
  R[A].set_bool(R[B].as_string() <= R[C].as_string());
}
  NEXT();
op_EQ_ANY : {
  bool eq = values_equal(R[B], R[C]);
  R[A] = Value::boolean(eq);
}
  NEXT();
op_NOT : {
  R[A].set_bool(!R[B].as_bool());
}
  NEXT();
op_IS_NONE : {
  bool none = R[B].is_none();
  R[A] = Value::boolean(none);
}
  NEXT();
op_CONCAT : {
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
}
  NEXT();
op_LIST_NEW : {
  std::vector<Value> items(R + B, R + B + C);
  R[A] = Value::list(std::move(items));
}
  NEXT();
op_LIST_GET : {
  const auto& items = R[B].as_list();
  int64_t i = R[C].as_int();
  if (i < 0 || static_cast<uint64_t>(i) >= items.size())
    FAULT(FaultKind::Index, "index " + std::to_string(i) + " out of range for a list of length " + std::to_string(items.size()));
  Value v = items[static_cast<size_t>(i)];
  R[A] = std::move(v);
}
  NEXT();
op_LIST_SET : {
  int64_t i = R[B].as_int();
  size_t n = R[A].as_list().size();
  if (i < 0 || static_cast<uint64_t>(i) >= n)
    FAULT(FaultKind::Index, "index " + std::to_string(i) + " out of range for a list of length " + std::to_string(n));
  Value v = R[C];
  R[A].mutable_list()[static_cast<size_t>(i)] = std::move(v);
}
  NEXT();
op_LIST_APPEND : {
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
}
  NEXT();
op_LEN : {
  const Value& v = R[B];
  int64_t n = v.tag() == Tag::String ? utf8_length(v.as_string())
              : v.tag() == Tag::List ? static_cast<int64_t>(v.as_list().size())
                                     : static_cast<int64_t>(v.as_map().size());
  R[A].set_int(n);
}
  NEXT();
op_STR_GET : {
  Value out;
  std::string message;
  FaultKind k = string_code_point(R[B].as_string(), R[C].as_int(), out, message);
  if (k != FaultKind::None) FAULT(k, message);
  R[A] = std::move(out);
}
  NEXT();
op_MAP_NEW : {
  MapEntries entries;
  for (uint32_t k = 0; k < C; ++k) entries.insert_or_assign(R[B + 2 * k], R[B + 2 * k + 1]);
  R[A] = Value::map(std::move(entries));
}
  NEXT();
op_MAP_GET : {
  const auto& entries = R[B].as_map();
  auto it = entries.find(R[C]);
  if (it == entries.end())
    FAULT(FaultKind::MissingKey, "key " + format_value(R[C], builtins.records, builtins.effect_names) + " is not in the map");
  Value v = it->second;
  R[A] = std::move(v);
}
  NEXT();
op_MAP_SET : {
  if (R[A].as_map().size() >= kMaxListLength && !R[A].as_map().count(R[B]))
    FAULT(FaultKind::Budget, "a map larger than " + std::to_string(kMaxListLength) + " entries");
  // (Key and value are other registers than the map: a map is neither its own key nor,
  // its type being finite, its own element.)
  R[A].mutable_map().insert_or_assign(R[B], R[C]);
}
  NEXT();
op_MAP_HAS : {
  bool has = R[B].as_map().count(R[C]) != 0;
  R[A].set_bool(has);
}
  NEXT();
op_RECORD_NEW : {
  std::vector<Value> fields(R + B, R + B + C);
  R[A] = Value::record(D, std::move(fields));
}
  NEXT();
op_FIELD_GET : {
  Value v = R[B].as_record().fields[D];
  R[A] = std::move(v);
}
  NEXT();
op_FIELD_SET : {
  Value v = R[B];
  R[A].mutable_record_fields()[D] = std::move(v);
}
  NEXT();
op_INTENT_NEW : {
  const size_t params = p.effects[D].params.size();
  std::vector<Value> args(R + B, R + B + params);
  Value key = C > params ? R[B + params] : Value::none();
  R[A] = Value::intent(D, std::move(args), std::move(key));
}
  NEXT();
op_CALL_BUILTIN : {
  Value out;
  std::string message;
  FaultKind k = call_builtin(static_cast<Builtin>(D), R + B, C, out, message, builtins);
  if (k != FaultKind::None) FAULT(k, message);
  if (out.tag() == Tag::String && out.as_string().size() > kMaxStringBytes)
    FAULT(FaultKind::Budget, "a string longer than " + std::to_string(kMaxStringBytes >> 20) + " MiB");
  R[A] = std::move(out);
}
  NEXT();
op_STATE_GET : {
  Value v = env.state->as_record().fields[D];
  R[A] = std::move(v);
}
  NEXT();
op_STATE_SET : {
  Value v = R[A];
  env.state->mutable_record_fields()[D] = std::move(v);
}
  NEXT();
op_STATE_TAKE : {
  // Moves the field out so that the update that follows owns it uniquely; the verifier
  // guarantees STATE_SET puts it back in this block.
  auto& fields = env.state->mutable_record_fields();
  R[A] = std::move(fields[D]);
  fields[D] = Value();
}
  NEXT();
op_TICK : {
  R[A].set_int(env.tick);
}
  NEXT();
op_RAND : {
  int64_t bound = R[B].as_int();
  if (bound <= 0) FAULT(FaultKind::Conversion, "rand(" + std::to_string(bound) + "): the bound must be at least 1");
  if (!env.random) FAULT(FaultKind::Conversion, "rand() needs an instance's random generator");
  R[A].set_int(env.random->below(bound));
}
  NEXT();
op_OBSERVE : {
  if (!env.observations) FAULT(FaultKind::Observation, "observation `" + p.observations[D].name + "` has no source here");
  Value out;
  std::string message;
  FaultKind k = env.observations->sample(D, std::span<const Value>(R + B, C), out, message);
  if (k != FaultKind::None) FAULT(k, message);
  if (!conforms(p, out, p.observations[D].result))
    FAULT(FaultKind::Observation, "observation `" + p.observations[D].name + "` returned a value of the wrong type");
  R[A] = std::move(out);
}
  NEXT();
op_SEND : {
  if (!take_output(env)) FAULT(FaultKind::Budget, tick_outputs_message());
  if (env.outputs) {
    SentMessage m;
    m.message = D;
    if (A != kNoRegister) m.instance_id = R[A];
    m.args.assign(R + B, R + B + C);
    env.outputs->sends.push_back(std::move(m));
  }
}
  NEXT();
op_EMIT : {
  if (!take_output(env)) FAULT(FaultKind::Budget, tick_outputs_message());
  if (env.outputs) env.outputs->intents.push_back(R[A]);
}
  NEXT();
op_SPAWN : {
  if (!take_output(env)) FAULT(FaultKind::Budget, tick_outputs_message());
  if (env.outputs) {
    SpawnRequest s;
    s.spawn = D;
    if (A != kNoRegister) s.instance_id = R[A];
    s.values.assign(R + B, R + B + C);
    env.outputs->spawns.push_back(std::move(s));
  }
}
  NEXT();
op_SCHEDULE : {
  int64_t delay = R[A].as_int();
  if (delay < 1) FAULT(FaultKind::Conversion, "schedule after " + std::to_string(delay) + " ticks: the delay must be at least 1");
  if (delay > kLastTick - env.tick)
    FAULT(FaultKind::Budget, "schedule after " + std::to_string(delay) + " ticks: due after tick 2^62, the last tick a run reaches");
  if (!take_output(env)) FAULT(FaultKind::Budget, tick_outputs_message());
  if (env.outputs) {
    ScheduledMessage s;
    s.message = D;
    s.delay = delay;
    s.args.assign(R + B, R + B + C);
    env.outputs->schedules.push_back(std::move(s));
  }
}
  NEXT();
op_CALL : {
  // frame_top == deepest_frame: kMaxCallDepth frames are running already.
  if (frame_top == deepest_frame) FAULT(FaultKind::Budget, "calls nested deeper than " + std::to_string(kMaxCallDepth));
  const Function* callee = &functions[D];
  const uint32_t caller_base = frame_top->base;
  const uint32_t base = caller_base + F->register_count;
  if (size_t{base} + callee->register_count > kMaxStackRegisters)
    FAULT(FaultKind::Budget, "the call stack needs more than " + std::to_string(kMaxStackRegisters) + " registers");
  ensure(size_t{base} + callee->register_count);
  R = stack.data() + caller_base;
  Value* NR = stack.data() + base;
  for (uint32_t k = 0; k < C; ++k) NR[k].init_from(R[B + k]);
  *++frame_top = Frame{callee, ip + 1, base, A};
  F = callee;
  running = F;
  code = F->code.data();
  cost_at = F->cost_at.data();
  R = NR;
  ENTER(F->entry);
}
// Branches: the first target (the bundle's first block operand) is in d, the second in
// e, as instruction indices (Step).
op_JMP : { ENTER(D); }
op_JMP_IF : {
  if (R[A].as_bool()) ENTER(D);
  ENTER(ip->e);
}
op_BR_LT_I64 : {
  if (R[A].as_int() < R[B].as_int()) ENTER(D);
  ENTER(ip->e);
}
op_BR_LE_I64 : {
  if (R[A].as_int() <= R[B].as_int()) ENTER(D);
  ENTER(ip->e);
}
op_BR_EQ_I64 : {
  if (R[A].as_int() == R[B].as_int()) ENTER(D);
  ENTER(ip->e);
}
op_BR_NONE : {
  if (R[A].is_none()) ENTER(D);
  ENTER(ip->e);
}
op_FOR_STEP : {
  int64_t next;
  if (__builtin_add_overflow(R[A].as_int(), int64_t{1}, &next)) FAULT(FaultKind::Overflow, "loop counter overflow");
  R[A].set_int(next);
  if (next < R[B].as_int()) ENTER(D);
  ENTER(ip->e);
}
op_RET : {
  {
    Value v = std::move(R[A]);
    for (uint32_t r : F->info->heap_registers) R[r] = Value();
    if (frame_top == frames.data()) {
      result = std::move(v);
      fuel_in_out = fuel;
      return Exit::Return;
    }
    const Frame done = *frame_top--;
    F = frame_top->fn;
    running = F;
    code = F->code.data();
    cost_at = F->cost_at.data();
    R = stack.data() + frame_top->base;
    ip = done.return_ip;
    R[done.dst] = std::move(v);
  }
  DISPATCH();
}
op_YIELD : {
  yield_to = D;
  fuel_in_out = fuel;
  return Exit::Yield;
}
op_ADVANCE : {
  if (R[A].as_int() < 0)
    FAULT(FaultKind::Conversion, "advance_ticks(" + std::to_string(R[A].as_int()) + "): time cannot go backwards");
  advance = R[A].as_int();
  yield_to = D;
  fuel_in_out = fuel;
  return Exit::Yield;
}
op_END : {
  fuel_in_out = fuel;
  return Exit::End;
}
op_FAIL : { FAULT(FaultKind::Fail, R[A].as_string()); }
op_ASSERT_FAIL : { FAULT(FaultKind::Assert, R[A].as_string()); }

// Both labels are cold: GCC then predicts every branch that leads to them not taken and
// keeps the fault paths out of the handlers' straight-line code. (Clang has no cold
// labels and would warn.)
#if defined(__clang__)
#define VED_COLD_LABEL
#else
#define VED_COLD_LABEL __attribute__((cold))
#endif
budget_exhausted:
  VED_COLD_LABEL;
  fault_kind = FaultKind::Budget;
  fault_message = "fuel exhausted (the slice's budget is spent)";
faulted:
  VED_COLD_LABEL;
  {
  fault.kind = fault_kind;
  fault.message = std::move(fault_message);
  fault.function = F->index;
  fault.pc = static_cast<uint32_t>(ip - code);
  fault.position = F->info->positions[fault.pc];
  fuel_in_out = fuel;
  return Exit::Fault;
}

#undef VED_COLD_LABEL
#undef DISPATCH
#undef NEXT
#undef ENTER
#undef FAULT
#undef A
#undef B
#undef C
#undef D
}

Interpreter::Interpreter(const Program& program) : impl_(std::make_unique<Impl>(program)) {}
Interpreter::~Interpreter() = default;

namespace {

bool needs_state(FunctionKind k) {
  return k == FunctionKind::Transition || k == FunctionKind::Predicate || k == FunctionKind::Invariant ||
         k == FunctionKind::TestGiven;
}

// Run a slice at a time (run_slice), not called.
bool is_sliced(FunctionKind k) { return k == FunctionKind::Transition || k == FunctionKind::TestScript; }

}  // namespace

CallResult Interpreter::call(uint32_t fn, std::span<const Value> args, int64_t fuel, InstanceEnv& env) {
  CallResult out;
  const Program& p = impl_->p;
  auto refuse = [&](std::string message) {
    out.fault.kind = FaultKind::Conversion;
    out.fault.message = std::move(message);
    out.fault.function = fn;
    return out;
  };
  if (fn >= p.functions.size()) return refuse("no function " + std::to_string(fn));
  const FunctionInfo& f = p.functions[fn];
  if (is_sliced(f.kind))
    return refuse("`" + f.name + "` is a " + (f.kind == FunctionKind::TestScript ? "test script" : "transition") +
                  ": run it a slice at a time");
  if (needs_state(f.kind) && (!env.state || env.state->tag() != Tag::Record))
    return refuse("`" + f.name + "` reads an instance's state, and none was given");
  // Its STATE_* operands index that domain's fields: another record would be read out
  // of bounds. (One comparison; the fields themselves are the caller's to get right.)
  if (needs_state(f.kind) && env.state->as_record().type != p.domains[f.domain].state_record)
    return refuse("`" + f.name + "` reads the state of `" + p.domains[f.domain].name + "`, and another was given");
  if (args.size() != f.param_count)
    return refuse("`" + f.name + "` takes " + std::to_string(f.param_count) + " arguments, given " +
                  std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i)
    if (!conforms(p, args[i], f.registers[i])) return refuse("argument " + std::to_string(i + 1) + " of `" + f.name + "` has the wrong type");
  impl_->ensure(f.registers.size());
  for (size_t i = 0; i < args.size(); ++i) impl_->stack[i] = args[i];
  const int64_t start = fuel;
  uint32_t ignored = 0;
  Impl::Exit exit = impl_->execute_guarded(fn, 0, fuel, env, out.value, ignored, out.fault);
  out.ok = exit == Impl::Exit::Return;
  out.fuel_used = start - std::max<int64_t>(fuel, 0);
  impl_->clear_stack();
  return out;
}

SliceResult Interpreter::run_slice(uint32_t fn, uint32_t slice, std::vector<Value> registers, int64_t fuel,
                                   InstanceEnv& env) {
  SliceResult out;
  const Program& p = impl_->p;
  auto refuse = [&](std::string message) {
    out.status = SliceResult::Status::Faulted;
    out.fault.kind = FaultKind::Conversion;
    out.fault.message = std::move(message);
    out.fault.function = fn;
    return out;
  };
  if (fn >= p.functions.size() || !is_sliced(p.functions[fn].kind))
    return refuse("function " + std::to_string(fn) + " is not a transition or a test script");
  const FunctionInfo& f = p.functions[fn];
  if (slice >= f.slice_entries.size()) return refuse("`" + f.name + "` has no slice " + std::to_string(slice));
  // A test script touches no state (the verifier allows it no STATE_*); a transition does.
  if (needs_state(f.kind) && (!env.state || env.state->tag() != Tag::Record))
    return refuse("`" + f.name + "` needs the instance's state");
  if (needs_state(f.kind) && env.state->as_record().type != p.domains[f.domain].state_record)
    return refuse("`" + f.name + "` reads the state of `" + p.domains[f.domain].name + "`, and another was given");
  const size_t given = registers.size();
  const size_t expected = slice == 0 ? f.param_count : f.registers.size();
  if (given != expected)
    return refuse("`" + f.name + "` slice " + std::to_string(slice) + " needs " + std::to_string(expected) +
                  " values, given " + std::to_string(given));
  for (size_t i = 0; i < given; ++i)
    if ((slice == 0 || i < f.param_count) && !conforms(p, registers[i], f.registers[i]))
      return refuse("value " + std::to_string(i + 1) + " for `" + f.name + "` has the wrong type");
  impl_->ensure(f.registers.size());
  for (size_t i = 0; i < given; ++i) impl_->stack[i] = std::move(registers[i]);
  const int64_t start = fuel;
  Value ignored;
  uint32_t next = 0;
  impl_->advance = 0;
  Impl::Exit exit = impl_->execute_guarded(fn, f.slice_entries[slice], fuel, env, ignored, next, out.fault);
  out.fuel_used = start - std::max<int64_t>(fuel, 0);
  switch (exit) {
    case Impl::Exit::Yield:
      out.status = SliceResult::Status::Yielded;
      out.advance_ticks = impl_->advance;
      out.continuation.next_slice = next;
      out.continuation.registers.assign(std::make_move_iterator(impl_->stack.begin()),
                                        std::make_move_iterator(impl_->stack.begin() + f.registers.size()));
      break;
    case Impl::Exit::End:
    case Impl::Exit::Return: out.status = SliceResult::Status::Finished; break;
    case Impl::Exit::Fault: out.status = SliceResult::Status::Faulted; break;
  }
  impl_->clear_stack();
  return out;
}

}  // namespace ved::vm
