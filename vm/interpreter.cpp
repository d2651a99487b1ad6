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

#include "bytecode/operands.h"
#include "bytecode/semantics.h"
#include "vm/instructions.h"
#include "vm/jit/jit.h"
#include "vm/jit/shared.h"

#include <sys/mman.h>

#include <cmath>
#include <new>
#include <stdexcept>

namespace ved::vm {

using bytecode::Builtin;
using bytecode::kNoRegister;
namespace semantics = bytecode::semantics;

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

}  // namespace

bool value_conforms(const Program& program, const Value& v, uint32_t type) {
  return type < program.types.size() && conforms(program, v, type);
}

namespace {

EngineOptions& process_engine() {
  static EngineOptions engine;
  return engine;
}

// A compiled function's scalar result, from its bits (native_abi.h), as a Value.
Value value_from_bits(const Program& p, uint32_t type, int64_t bits) {
  switch (p.types[type].kind) {
    case TypeKind::Int: return Value::integer(bits);
    case TypeKind::Float: {
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return Value::floating(d);
    }
    case TypeKind::Bool: return Value::boolean(bits != 0);
    default: return Value();
  }
}

bool scalar_type(const Program& p, uint32_t type) {
  const TypeKind k = p.types[type].kind;
  return k == TypeKind::Int || k == TypeKind::Float || k == TypeKind::Bool || k == TypeKind::Unit;
}

// The register stack of compiled frames: the most registers a run may use
// (kMaxStackRegisters), reserved once as address space the kernel fills with zero pages
// on first touch. It never moves, so compiled frames can keep pointers into it, and a
// zero Value is unit: a fresh window holds no references.
class NativeRegisters {
 public:
  ~NativeRegisters() {
    if (base_) munmap(base_, bytes());
  }
  Value* get() {
    if (!base_) {
      void* m = mmap(nullptr, bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (m == MAP_FAILED) throw std::bad_alloc();
      base_ = static_cast<Value*>(m);
    }
    return base_;
  }
  // Drops what registers [0, n) hold (after a run: a fault leaves frames unreleased).
  void clear(int64_t n) {
    for (int64_t i = 0; i < n; ++i) base_[i] = Value();
  }

 private:
  static size_t bytes() { return Interpreter::kMaxStackRegisters * sizeof(Value); }
  Value* base_ = nullptr;
};

}  // namespace

void set_default_engine(const EngineOptions& engine) { process_engine() = engine; }
EngineOptions default_engine() { return process_engine(); }
std::string engine_name(const EngineOptions& engine) {
  switch (engine.mode) {
    case EngineOptions::Mode::Interpret: return "interp";
    case EngineOptions::Mode::Tiered: return "jit";
    case EngineOptions::Mode::All: return "jit=all";
  }
  return "?";
}

struct Interpreter::Impl {
  explicit Impl(const Program& program, const EngineOptions& engine_options)
      : p(program), builtins(program.builtin_context()), engine(engine_options) {
    functions.resize(p.functions.size());
    for (size_t f = 0; f < p.functions.size(); ++f) prepare(static_cast<uint32_t>(f));
    spent.assign(p.functions.size(), 0);
    asked.assign(p.functions.size(), false);
    if (engine.mode == EngineOptions::Mode::Tiered)
      for (Function& fn : functions) fn.look_at_call = engine.tier_calls;
    if (engine.mode == EngineOptions::Mode::All) {
      jit = jit::SharedJit::of(p);
      std::string error;
      if (!jit->compile_all(error)) jit_error = error;
      take_compiled();
    }
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
    jit::NativeFunction native = nullptr;  // its machine code, once the JIT compiled it
    // --jit: interpreted CALLs of it so far. Counted under every engine (one increment
    // per call, cheaper than a test of the engine).
    mutable uint32_t calls = 0;
    // --jit: the count of calls at which an interpreted CALL of it looks at the JIT: at
    // engine.tier_calls it is queued for compiling, then its machine code is looked for
    // every kCallsBetweenLooks calls until it is there. 0 (never reached: calls counts
    // from 1) under the other engines, and once it is compiled.
    uint32_t look_at_call = 0;
    bool scalar_result = false;          // its result comes back as bits (native_abi.h)
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
    fn.scalar_result = scalar_type(p, info.result);
    auto start = [&](uint32_t block) { return fn.block_starts[block]; };
    const std::vector<int64_t> constant = constant_registers(info);
    fn.code.reserve(info.code.size());
    for (const Instr& in : info.code) {
      Step s{in.op, in.a, in.b, in.c, in.d, 0};
      // A branch's targets (whichever fields name them, bytecode/operands.h) move to d
      // and e, as the indices of their first instructions.
      const bytecode::Successors targets = bytecode::successors_of(in);
      if (targets.count > 0) s.d = start(targets.block[0]);
      if (targets.count > 1) s.e = start(targets.block[1]);
      // `%` by a positive constant: the remainder's magic number, in d and e.
      if (in.op == Op::REM_I64 && constant[in.c] > 0) {
        const uint64_t magic = semantics::remainder_magic(static_cast<uint32_t>(constant[in.c]));
        s.op = kRemByConstant;
        s.d = static_cast<uint32_t>(magic);
        s.e = static_cast<uint32_t>(magic >> 32);
      }
      fn.code.push_back(s);
    }
    // `if contains(m, k)`: a MAP_HAS whose result the next instruction, a JMP_IF, branches
    // on runs both in one dispatch (kMapHasThenBranch). Both are in one block, so the
    // fuel is the same; MAP_HAS cannot fault, and its result is still written.
    for (size_t k = 0; k + 1 < fn.code.size(); ++k) {
      const Step& next = fn.code[k + 1];
      if (fn.code[k].op == Op::MAP_HAS && next.op == Op::JMP_IF && next.a == fn.code[k].a && fn.cost_at[k + 1] == 0)
        fn.code[k].op = kMapHasThenBranch;
    }
    // `m[k] = m[k] + x` (a counter): MAP_GET, ADD_I64, MAP_SET in a row in one block run
    // one after the other in one dispatch (kMapGetAddSet), each exactly as on its own.
    for (size_t k = 0; k + 2 < fn.code.size(); ++k) {
      if (fn.code[k].op == Op::MAP_GET && fn.code[k + 1].op == Op::ADD_I64 && fn.code[k + 2].op == Op::MAP_SET &&
          fn.cost_at[k + 1] == 0 && fn.cost_at[k + 2] == 0)
        fn.code[k].op = kMapGetAddSet;
    }
  }

  // The interpreter's own opcode, after the bundle's (bytecode/opcodes.h): REM_I64 whose
  // divisor register always holds the same positive constant. Not in any bundle; made
  // only here, from a verified REM_I64, so the JIT and the verifier never see it.
  static constexpr Op kRemByConstant = static_cast<Op>(bytecode::kOpCount);
  // And MAP_HAS followed by the JMP_IF that branches on its result (made the same way).
  static constexpr Op kMapHasThenBranch = static_cast<Op>(bytecode::kOpCount + 1);
  // And MAP_GET, ADD_I64, MAP_SET in a row in one block.
  static constexpr Op kMapGetAddSet = static_cast<Op>(bytecode::kOpCount + 2);

  // For each register, the positive constant it holds whenever it is read, or 0: a
  // register (not a parameter) whose only writer in the function is one LOAD_INT. The
  // verifier proved every read comes after a write, so such a read sees that constant.
  // Only functions of one slice: a later slice starts from saved registers.
  static std::vector<int64_t> constant_registers(const FunctionInfo& info) {
    std::vector<int64_t> value(info.registers.size(), 0);
    if (info.slice_entries.size() > 1) return value;
    std::vector<uint32_t> writers(info.registers.size(), 0);
    for (const Instr& in : info.code) {
      const bytecode::OperandRoles roles = bytecode::operand_roles(in.op);
      if (!(roles.writes_a || roles.updates_a || roles.kills_a) || in.a >= writers.size()) continue;
      ++writers[in.a];
      const auto v = static_cast<int32_t>(in.d);
      if (in.op == Op::LOAD_INT && v > 0) value[in.a] = v;
    }
    for (size_t r = 0; r < value.size(); ++r)
      if (writers[r] != 1 || r < info.param_count) value[r] = 0;
    return value;
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

  // ---- the JIT -----------------------------------------------------------------------
  EngineOptions engine;
  // The program's JIT in this process (shared.h), from the first function queued for
  // compiling (--jit) or from the start (--jit=all).
  std::shared_ptr<jit::SharedJit> jit;
  std::string jit_error;        // --jit=all: why the JIT could not start or compile
  std::vector<int64_t> spent;   // fuel spent by runs each function started (tiering)
  std::vector<bool> asked;      // --jit: functions this interpreter queued for compiling
  uint64_t seen_generation = 0; // the jit->generation() whose machine code `functions` has
  static constexpr uint32_t kCallsBetweenLooks = 64;
  NativeRegisters native_registers;
  std::string native_message;
  jit::NativeContext ncx;

  // Takes the machine code the JIT published since this interpreter last looked. Called
  // only where a function is entered (a call, a slice, an interpreted CALL), so that a
  // function switches engines only at a boundary, never inside a run of it.
  void take_compiled() {
    const uint64_t generation = jit->generation();
    if (generation == seen_generation) return;
    seen_generation = generation;
    for (uint32_t f = 0; f < functions.size(); ++f) functions[f].native = jit->native(f);
  }
  // --jit: queues `fn` (and what it calls) for the JIT's compile thread, once.
  void compile_later(uint32_t fn) {
    if (asked[fn]) return;
    asked[fn] = true;
    if (!jit) jit = jit::SharedJit::of(p);
    jit->compile_later(fn);
  }
  // --jit: counts what a run of `fn` spent (after the run).
  void count_run(uint32_t fn, int64_t fuel_used) {
    if (engine.mode != EngineOptions::Mode::Tiered || functions[fn].native) return;
    spent[fn] += fuel_used;
  }
  // --jit, before a run of `fn`: takes what the JIT has compiled since (this run may be
  // machine code), and queues `fn` if the runs it started have spent enough. Queued
  // before the next run, not after the run that crossed the threshold, so that nothing
  // is spent on a function that never runs again (the last run of a process, a `vedvm
  // call`): the JIT is loaded only to run what it compiles. The run goes on interpreted;
  // a later one finds the machine code. Which engine runs which run depends on when the
  // compile thread finishes, and can change no result (docs/jit.md).
  void tier_up(uint32_t fn) {
    if (engine.mode != EngineOptions::Mode::Tiered) return;
    if (jit) take_compiled();
    if (!functions[fn].native && spent[fn] >= engine.tier_fuel) compile_later(fn);
  }
  // --jit, at an interpreted CALL of `fn` that reached its look_at_call: queues it (the
  // first time), so that a hot callee of a long run (fib's recursion under `main`) gets
  // compiled without waiting for the caller's next run, and takes what is compiled, so
  // that this call may already be machine code.
  [[gnu::noinline, gnu::cold]] void tier_up_at_call(uint32_t fn) {
    if (jit) take_compiled();
    Function& f = functions[fn];
    if (!f.native) compile_later(fn);  // (not if it came compiled with a caller)
    f.look_at_call = f.native ? 0 : f.calls + kCallsBetweenLooks;
  }

  // The context compiled code runs with, for one entry into it.
  jit::NativeContext& native_context(int64_t fuel, InstanceEnv& env) {
    ncx.fuel = fuel;
    ncx.kind = 0;
    ncx.exit = jit::NativeExit::Return;
    ncx.yield_to = 0;
    ncx.advance = 0;
    ncx.registers = native_registers.get();
    ncx.message = &native_message;
    ncx.program = &p;
    ncx.builtins = &builtins;
    ncx.env = &env;
    return ncx;
  }
  // After compiled code returns: its registers emptied, a fault it recorded as a Fault.
  // True if it faulted. Rethrows an allocation failure (execute_guarded reports it).
  bool native_faulted(Fault& fault) {
    native_registers.clear(ncx.high_water);
    ncx.high_water = 0;
    if (ncx.kind == 0) return false;
    if (ncx.kind == jit::kOutOfMemory) {
      running = &functions[ncx.fault_function];
      throw std::bad_alloc();
    }
    fault.kind = static_cast<FaultKind>(ncx.kind);
    fault.message = std::move(native_message);
    fault.function = ncx.fault_function;
    fault.pc = ncx.fault_pc;
    fault.position = p.functions[ncx.fault_function].positions[ncx.fault_pc];
    return true;
  }

  // Runs slice `slice` of `fn` (0: a call) as machine code, its registers in stack[0..).
  Exit execute_native(uint32_t fn_index, uint32_t slice, int64_t& fuel, InstanceEnv& env, Value& result,
                      uint32_t& yield_to, Fault& fault) {
    const Function& F = functions[fn_index];
    running = &F;
    jit::NativeContext& cx = native_context(fuel, env);
    const int64_t bits = F.native(&cx, 0, 0, stack.data(), &result, slice);
    fuel = cx.fuel;
    if (native_faulted(fault)) return Exit::Fault;
    switch (cx.exit) {
      case jit::NativeExit::Yield:
        yield_to = cx.yield_to;
        advance = cx.advance;
        return Exit::Yield;
      case jit::NativeExit::End: return Exit::End;
      case jit::NativeExit::Return: break;
    }
    if (F.scalar_result) result = value_from_bits(p, F.info->result, bits);
    return Exit::Return;
  }

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
  // Runs slice `slice` of `fn` (0 for a call) under the engine that has it.
  Exit run(uint32_t fn_index, uint32_t slice, int64_t& fuel, InstanceEnv& env, Value& result, uint32_t& yield_to,
           Fault& fault) {
    if (functions[fn_index].native) return execute_native(fn_index, slice, fuel, env, result, yield_to, fault);
    return execute(fn_index, p.functions[fn_index].slice_entries[slice], fuel, env, result, yield_to, fault);
  }

  // An allocation that fails (the machine has less memory than the language's limits
  // allow) is not a fault of the code: a fault is journaled and must be the same on every
  // machine, and this one would not be. It ends the call with MachineOutOfMemory, which
  // the runtime turns into an error that stops the VM before the tick is written.
  Exit execute_guarded(uint32_t fn_index, uint32_t slice, int64_t& fuel, InstanceEnv& env, Value& result,
                       uint32_t& yield_to, Fault& fault) {
    try {
      return run(fn_index, slice, fuel, env, result, yield_to, fault);
    } catch (const std::bad_alloc&) {
    } catch (const std::length_error&) {
    }
    const uint32_t where = running ? running->index : fn_index;
    if (ncx.high_water > 0) {
      native_registers.clear(ncx.high_water);
      ncx.high_water = 0;
    }
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
      &&op_REM_BY_CONSTANT,     // kRemByConstant
      &&op_MAP_HAS_THEN_BRANCH, // kMapHasThenBranch
      &&op_MAP_GET_ADD_SET,     // kMapGetAddSet
  };
  static_assert(sizeof(kLabels) / sizeof(kLabels[0]) == bytecode::kOpCount + 3);

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

// A data instruction (vm/instructions.h): the shared definition, inlined.
#define VED_DATA_OP(name)                                                                    \
  op_##name : {                                                                             \
    if (const FaultKind k = data::name(R, A, B, C, D, dx, fault_message); k != FaultKind::None) \
      [[unlikely]] {                                                                        \
      fault_kind = k;                                                                       \
      goto faulted;                                                                         \
    }                                                                                       \
  }                                                                                         \
  NEXT();
  const data::Context dx{p, builtins, env};

  ENTER(F->block_starts[start_block]);

VED_DATA_OP(MOVE)
VED_DATA_OP(LOAD_CONST)
op_LOAD_INT : {
  R[A].set_int(static_cast<int32_t>(D));
}
  NEXT();
op_LOAD_BOOL : {
  R[A].set_bool(D != 0);
}
  NEXT();
VED_DATA_OP(LOAD_NONE)
VED_DATA_OP(LOAD_UNIT)
VED_DATA_OP(DROP)
VED_DATA_OP(WRAP)
VED_DATA_OP(UNWRAP)
// Scalar operations: what they compute and how they fault is bytecode/semantics.h, the
// definition the constant folder and the JIT use too; a handler only moves operands.
#define INT_BINARY(name, fn)                                                            \
  op_##name : {                                                                        \
    const int64_t x = R[B].as_int(), y = R[C].as_int();                                \
    int64_t r;                                                                         \
    if (const FaultKind k = semantics::fn(x, y, r); k != FaultKind::None) [[unlikely]] \
      FAULT(k, semantics::fault_message(Op::name, k, x, y));                           \
    R[A].set_int(r);                                                                   \
  }                                                                                    \
  NEXT();
#define FLOAT_BINARY(name, fn)                                          \
  op_##name : {                                                        \
    R[A].set_float(semantics::fn(R[B].as_float(), R[C].as_float()));   \
  }                                                                    \
  NEXT();
#define FLOAT_CHECKED(name, fn)                                                         \
  op_##name : {                                                                        \
    double r;                                                                          \
    if (const FaultKind k = semantics::fn(R[B].as_float(), R[C].as_float(), r);        \
        k != FaultKind::None) [[unlikely]]                                             \
      FAULT(k, semantics::fault_message(Op::name, k, 0, 0));                           \
    R[A].set_float(r);                                                                 \
  }                                                                                    \
  NEXT();
#define COMPARE(name, fn, as)                                  \
  op_##name : {                                               \
    R[A].set_bool(semantics::fn(R[B].as(), R[C].as()));        \
  }                                                           \
  NEXT();

INT_BINARY(ADD_I64, add_i64)
INT_BINARY(SUB_I64, sub_i64)
INT_BINARY(MUL_I64, mul_i64)
INT_BINARY(DIV_I64, div_i64)
INT_BINARY(REM_I64, rem_i64)
// REM_I64 by a register that always holds the same positive constant (kRemByConstant):
// a dividend that fits in 32 unsigned bits takes the remainder by multiplication with
// the magic number prepared in d and e; any other is REM_I64's own case.
op_REM_BY_CONSTANT : {
  const int64_t x = R[B].as_int();
  if (static_cast<uint64_t>(x) >> 32 != 0) [[unlikely]] goto op_REM_I64;
  const uint64_t magic = uint64_t{ip->d} | uint64_t{ip->e} << 32;
  R[A].set_int(semantics::rem_u32_by_magic(static_cast<uint32_t>(x), static_cast<uint32_t>(R[C].as_int()), magic));
}
  NEXT();
op_NEG_I64 : {
  const int64_t x = R[B].as_int();
  int64_t r;
  if (const FaultKind k = semantics::neg_i64(x, r); k != FaultKind::None) [[unlikely]]
    FAULT(k, semantics::fault_message(Op::NEG_I64, k, x, 0));
  R[A].set_int(r);
}
  NEXT();
FLOAT_BINARY(ADD_F64, add_f64)
FLOAT_BINARY(SUB_F64, sub_f64)
FLOAT_BINARY(MUL_F64, mul_f64)
FLOAT_CHECKED(DIV_F64, div_f64)
FLOAT_CHECKED(REM_F64, rem_f64)
op_NEG_F64 : {
  R[A].set_float(semantics::neg_f64(R[B].as_float()));
}
  NEXT();
op_I2F : {
  R[A].set_float(semantics::i2f(R[B].as_int()));
}
  NEXT();
COMPARE(EQ_I64, eq_i64, as_int)
COMPARE(LT_I64, lt_i64, as_int)
COMPARE(LE_I64, le_i64, as_int)
COMPARE(EQ_F64, eq_f64, as_float)
COMPARE(LT_F64, lt_f64, as_float)
COMPARE(LE_F64, le_f64, as_float)
#undef INT_BINARY
#undef FLOAT_BINARY
#undef FLOAT_CHECKED
#undef COMPARE
VED_DATA_OP(EQ_STR)
VED_DATA_OP(LT_STR)
VED_DATA_OP(LE_STR)
VED_DATA_OP(EQ_ANY)
op_NOT : {
  R[A].set_bool(!R[B].as_bool());
}
  NEXT();
VED_DATA_OP(IS_NONE)
VED_DATA_OP(CONCAT)
VED_DATA_OP(LIST_NEW)
VED_DATA_OP(LIST_GET)
VED_DATA_OP(LIST_SET)
VED_DATA_OP(LIST_APPEND)
VED_DATA_OP(LEN)
VED_DATA_OP(STR_GET)
VED_DATA_OP(MAP_NEW)
VED_DATA_OP(MAP_GET)
VED_DATA_OP(MAP_SET)
VED_DATA_OP(MAP_HAS)
VED_DATA_OP(RECORD_NEW)
VED_DATA_OP(FIELD_GET)
VED_DATA_OP(FIELD_SET)
VED_DATA_OP(INTENT_NEW)
VED_DATA_OP(CALL_BUILTIN)
VED_DATA_OP(STATE_GET)
VED_DATA_OP(STATE_SET)
VED_DATA_OP(STATE_TAKE)
VED_DATA_OP(TICK)
VED_DATA_OP(RAND)
VED_DATA_OP(OBSERVE)
VED_DATA_OP(SEND)
VED_DATA_OP(EMIT)
VED_DATA_OP(SPAWN)
VED_DATA_OP(SCHEDULE)
op_CALL : {
  // frame_top == deepest_frame: kMaxCallDepth frames are running already.
  if (frame_top == deepest_frame) FAULT(FaultKind::Budget, data::call_depth_message());
  const Function* callee = &functions[D];
  const uint32_t caller_base = frame_top->base;
  const uint32_t base = caller_base + F->register_count;
  if (size_t{base} + callee->register_count > kMaxStackRegisters)
    FAULT(FaultKind::Budget, data::call_registers_message());
  ensure(size_t{base} + callee->register_count);
  R = stack.data() + caller_base;
  Value* NR = stack.data() + base;
  for (uint32_t k = 0; k < C; ++k) NR[k].init_from(R[B + k]);
  if (++callee->calls == callee->look_at_call) [[unlikely]]
    tier_up_at_call(D);
  if (callee->native) [[unlikely]] {
    // Compiled: it runs to its return (compiled code calls only compiled code) in the
    // window the interpreter just filled, one frame deeper.
    jit::NativeContext& cx = native_context(fuel, env);
    const uint32_t depth = static_cast<uint32_t>(frame_top - frames.data()) + 1;
    const int64_t bits = callee->native(&cx, depth, base, NR, callee->scalar_result ? nullptr : &R[A], 0);
    fuel = cx.fuel;
    if (native_faulted(fault)) {
      fuel_in_out = fuel;
      return Exit::Fault;
    }
    if (callee->scalar_result) R[A] = value_from_bits(p, callee->info->result, bits);
    NEXT();
  }
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
// MAP_GET, ADD_I64, MAP_SET (kMapGetAddSet): the three handlers' work in turn, ip on
// each in turn, so that a fault is raised by the same instruction as without fusing.
op_MAP_GET_ADD_SET : {
  if (const FaultKind k = data::MAP_GET(R, A, B, C, D, dx, fault_message); k != FaultKind::None) [[unlikely]] {
    fault_kind = k;
    goto faulted;
  }
  ++ip;
  const int64_t x = R[B].as_int(), y = R[C].as_int();
  int64_t r;
  if (const FaultKind k = semantics::add_i64(x, y, r); k != FaultKind::None) [[unlikely]]
    FAULT(k, semantics::fault_message(Op::ADD_I64, k, x, y));
  R[A].set_int(r);
  ++ip;
  if (const FaultKind k = data::MAP_SET(R, A, B, C, D, dx, fault_message); k != FaultKind::None) [[unlikely]] {
    fault_kind = k;
    goto faulted;
  }
}
  NEXT();
// MAP_HAS, then the JMP_IF after it (kMapHasThenBranch): the same two instructions, one
// dispatch.
op_MAP_HAS_THEN_BRANCH : {
  (void)data::MAP_HAS(R, A, B, C, D, dx, fault_message);  // (never faults)
  const bool has = R[A].as_bool();
  ++ip;
  if (has) ENTER(D);
  ENTER(ip->e);
}
op_JMP_IF : {
  if (R[A].as_bool()) ENTER(D);
  ENTER(ip->e);
}
op_BR_LT_I64 : {
  if (semantics::lt_i64(R[A].as_int(), R[B].as_int())) ENTER(D);
  ENTER(ip->e);
}
op_BR_LE_I64 : {
  if (semantics::le_i64(R[A].as_int(), R[B].as_int())) ENTER(D);
  ENTER(ip->e);
}
op_BR_EQ_I64 : {
  if (semantics::eq_i64(R[A].as_int(), R[B].as_int())) ENTER(D);
  ENTER(ip->e);
}
op_BR_NONE : {
  if (R[A].is_none()) ENTER(D);
  ENTER(ip->e);
}
op_FOR_STEP : {
  int64_t next;
  if (const FaultKind k = semantics::step_i64(R[A].as_int(), next); k != FaultKind::None) [[unlikely]]
    FAULT(k, semantics::fault_message(Op::FOR_STEP, k, R[A].as_int(), 1));
  R[A].set_int(next);
  if (semantics::lt_i64(next, R[B].as_int())) ENTER(D);
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
    FAULT(FaultKind::Conversion, data::negative_advance_message(R[A].as_int()));
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
  fault_message = data::fuel_exhausted_message();
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
#undef VED_DATA_OP
#undef DISPATCH
#undef NEXT
#undef ENTER
#undef FAULT
#undef A
#undef B
#undef C
#undef D
}

Interpreter::Interpreter(const Program& program, const EngineOptions& engine)
    : impl_(std::make_unique<Impl>(program, engine)) {}
Interpreter::~Interpreter() = default;

EngineStats Interpreter::engine_stats() const {
  EngineStats s;
  s.engine = engine_name(impl_->engine);
  s.error = impl_->jit_error;
  if (impl_->jit) {
    // Whether the JIT could start is known the same way in every run (shared.h), once it
    // is known: a summary that names the error is then the same in every run.
    impl_->jit->wait_until_started();
    const jit::SharedJit::Report r = impl_->jit->report();
    s.functions_compiled = r.functions_compiled;
    s.instructions_compiled = r.instructions_compiled;
    s.compile_seconds = r.seconds;
    if (s.error.empty()) s.error = r.start_error;
    s.compile_error = r.compile_error;
  }
  return s;
}

void Interpreter::wait_for_compiles() const {
  if (impl_->jit) impl_->jit->wait_until_idle();
}

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
  impl_->tier_up(fn);
  const int64_t start = fuel;
  uint32_t ignored = 0;
  Impl::Exit exit = impl_->execute_guarded(fn, 0, fuel, env, out.value, ignored, out.fault);
  out.ok = exit == Impl::Exit::Return;
  out.fuel_used = start - std::max<int64_t>(fuel, 0);
  impl_->clear_stack();
  impl_->count_run(fn, out.fuel_used);
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
  impl_->tier_up(fn);
  const int64_t start = fuel;
  Value ignored;
  uint32_t next = 0;
  impl_->advance = 0;
  Impl::Exit exit = impl_->execute_guarded(fn, slice, fuel, env, ignored, next, out.fault);
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
  impl_->count_run(fn, out.fuel_used);
  return out;
}

}  // namespace ved::vm
