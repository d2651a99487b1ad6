// The bytecode interpreter: the reference semantics of Ved (the JIT must agree with it
// bit for bit, faults and fuel included).
//
// It runs one function, one slice of a transition, or one predicate, against an
// InstanceEnv that supplies what the code may see of its instance (state, tick, random
// generator, observations) and collects what it does (messages, intents, spawns,
// timers). Nothing here knows about mailboxes, storage or scheduling: that is the
// runtime's (a later layer), which commits or discards the outputs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "vm/program.h"
#include "vm/random.h"
#include "vm/runtime_library.h"
#include "vm/value.h"

namespace ved::vm {

struct Fault {
  FaultKind kind = FaultKind::None;
  std::string message;
  uint32_t function = 0;  // where it happened
  uint32_t pc = 0;
  SourcePos position;
};

// Whether `v` is a value of type `type` (a Program type index): for values that come
// from outside the bytecode (arguments, observations, states given to the test driver).
bool value_conforms(const Program& program, const Value& v, uint32_t type);

// "file:line:col" for a fault, or "<function>" when the bundle has no position.
std::string describe_fault_location(const Program& program, const Fault& fault);

struct SentMessage {
  uint32_t message = 0;  // Program::messages
  Value instance_id;     // unit: the default instance (or, for a reply, the sender)
  std::vector<Value> args;
};
struct SpawnRequest {
  uint32_t spawn = 0;  // Program::spawns
  Value instance_id;
  std::vector<Value> values;
};
struct ScheduledMessage {
  uint32_t message = 0;
  int64_t delay = 0;  // ticks
  std::vector<Value> args;
};

// The last tick a run may reach (2^62). Logical time never passes it: a timer or backoff
// due later is refused or saturated there, so tick arithmetic can never overflow.
constexpr int64_t kLastTick = int64_t{1} << 62;

// What a slice did, in order. The runtime applies it only if the slice commits.
struct Outputs {
  std::vector<SentMessage> sends;
  std::vector<Value> intents;
  std::vector<SpawnRequest> spawns;
  std::vector<ScheduledMessage> schedules;
  // How many more messages, intents, spawns and timers this tick may create, shared by
  // every slice of the tick (null: no limit, as for `vedvm call`). The slice that would
  // go past it faults (Budget), so a message storm ends as a fault of its senders, at the
  // same point on every machine, instead of exhausting the VM's memory.
  int64_t* tick_outputs_left = nullptr;
};

// The most one tick may create (Outputs::tick_outputs_left), a limit of the language.
constexpr int64_t kMaxTickOutputs = int64_t{1} << 20;

// Samples observations for OBSERVE. The runtime journals what it returns.
class ObservationSource {
 public:
  virtual ~ObservationSource() = default;
  // Fills `out` with a value of the observation's result type, or returns a fault kind
  // (FaultKind::Observation) with a message.
  virtual FaultKind sample(uint32_t observation, std::span<const Value> args, Value& out, std::string& message) = 0;
};

struct InstanceEnv {
  Value* state = nullptr;  // the instance's state record; updated in place (copy-on-write)
  int64_t tick = 0;
  Random* random = nullptr;
  ObservationSource* observations = nullptr;
  Outputs* outputs = nullptr;
};

struct CallResult {
  bool ok = false;
  Value value;
  Fault fault;
  int64_t fuel_used = 0;
};

// A transition between slices: the slice to run next and the saved registers.
struct Continuation {
  uint32_t next_slice = 0;
  std::vector<Value> registers;
};

struct SliceResult {
  enum class Status { Finished, Yielded, Faulted } status = Status::Finished;
  Fault fault;
  Continuation continuation;  // when Yielded
  // When Yielded by ADVANCE (a test script's `advance_ticks(n)`): the n >= 0 ticks to run
  // before the next slice. 0 after a YIELD. (A negative n faults: FaultKind::Conversion.)
  int64_t advance_ticks = 0;
  int64_t fuel_used = 0;
};

// Thrown by Interpreter calls when an allocation fails: the machine, not the program,
// ran out (see execute_guarded in interpreter.cpp). Never a fault.
struct MachineOutOfMemory : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Which engine runs the code: the interpreter, or machine code from the JIT (vm/jit/,
// docs/jit.md). Values, faults (kind, message, position), fuel and outputs are the same
// under each; the differential tests hold them to it. Only speed differs.
struct EngineOptions {
  enum class Mode : uint8_t {
    Interpret,  // --interp: the interpreter only
    Tiered,     // --jit: interpret first; queue a function for compiling, in the
                // background, when a run of it starts after the runs it started have
                // spent `tier_fuel`, or when interpreted code calls it for the
                // `tier_calls`th time; run its machine code from the first call or
                // slice that starts after it is ready
    All,        // --jit=all: compile every function before the first run
  } mode = Mode::Interpret;
  int64_t tier_fuel = 100'000;
  uint32_t tier_calls = 1'000;
};
// The engine an Interpreter uses when none is given: set once by a tool's main (vedvm's
// --interp / --jit), so that every interpreter of the run (runtime, test runner, `call`)
// uses it.
void set_default_engine(const EngineOptions& engine);
EngineOptions default_engine();
// "interp", "jit", "jit=all" (what a run's summary records).
std::string engine_name(const EngineOptions& engine);

// What the JIT did, for `vedvm stats` and run summaries. Under --jit (tiered) the counts,
// the time and compile_error depend on when the compile thread ran: statistics of the
// machine, never printed where two runs must print the same.
struct EngineStats {
  std::string engine;                  // engine_name()
  uint32_t functions_compiled = 0;
  uint64_t instructions_compiled = 0;  // bytecode instructions
  double compile_seconds = 0;          // loading LLVM and compiling, in the background too
  std::string error;                   // why the JIT could not start, or (--jit=all) compile
  std::string compile_error;           // --jit: why a background compile failed, if one did
};

class Interpreter {
 public:
  explicit Interpreter(const Program& program, const EngineOptions& engine = default_engine());

  // Waits, under --jit, until the JIT knows whether it could start (cheap unless a
  // function was queued just now), so that `error` is the same in every run.
  EngineStats engine_stats() const;
  // --jit: waits until every function queued for compiling is compiled (or failed to
  // be), so that the next call or slice runs their machine code. For tests; a run never
  // waits.
  void wait_for_compiles() const;
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Calls function `fn` (a fn, predicate, invariant or initializer, or a test's value,
  // given or expectation) with `args`. A predicate, invariant or given needs env.state:
  // a state record of its domain.
  CallResult call(uint32_t fn, std::span<const Value> args, int64_t fuel, InstanceEnv& env);

  // Runs slice `slice` of transition or test script `fn`. For slice 0 `registers` holds
  // the arguments (none for a script); for later slices, the continuation's registers.
  // A test script needs no env.state; what it sends is in env.outputs.
  SliceResult run_slice(uint32_t fn, uint32_t slice, std::vector<Value> registers, int64_t fuel, InstanceEnv& env);

  // Memory is bounded as fuel is: beyond these the code faults with FaultKind::Budget.
  // An allocation that fails below them (a machine with less memory than these allow)
  // also faults, rather than taking the process down; that one fault depends on the
  // machine, which is why the bounds are set well below what a server has.
  static constexpr uint32_t kMaxCallDepth = 10000;
  static constexpr size_t kMaxStackRegisters = size_t{1} << 22;  // all frames: 64 MiB of registers
  static constexpr size_t kMaxStringBytes = vm::kMaxStringBytes;  // 256 MiB (runtime_library.h)
  static constexpr size_t kMaxListLength = size_t{1} << 24;      // 16 Mi elements (and map entries)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ved::vm
