// Bytecode to LLVM IR to machine code (ORC LLJIT). The only file that includes LLVM.
//
// How a function is translated (docs/jit.md has the why):
//
// * Registers of a scalar type (int, float, bool, unit) live in allocas, as the i64 bits
//   of their payload (a double's bits; 0/1 for a bool; 0 for unit), which LLVM promotes to
//   SSA values. Every other register (strings, collections, records, intents,
//   optionals) lives in the function's window of 16-byte Values at R, exactly as the
//   interpreter keeps it.
// * A block is two LLVM blocks: `charge` subtracts the block's fuel cost and faults with
//   `budget` at the block's first instruction when the fuel would go below zero, as the
//   interpreter's ENTER does; then the body. Branches go to the target's `charge`.
// * Scalar arithmetic is inline: LLVM's overflow intrinsics for + - *, explicit tests
//   for / and %, IEEE float operations with no fast-math flags (and no FP contraction in
//   the target options). When one faults, ved_jit_scalar_fault asks bytecode/semantics.h
//   for the kind and message from the same operands.
// * Every other instruction that is not control flow (strings, lists, maps, records,
//   state, outputs, built-ins) is one call of ved_jit_data, which runs vm/instructions.h:
//   the scalar registers it reads are stored to the window first (with their tags), and
//   the scalar it writes is loaded back after.
// * A CALL checks the depth and register-stack limits as the interpreter does, copies
//   the arguments into the callee's window (NativeContext::registers + its base) and
//   calls the callee's LLVM function directly.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <optional>

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/ErrorHandling.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

#include "bytecode/operands.h"
#include "vm/interpreter.h"
#include "vm/jit/jit.h"

namespace ved::vm::jit {

namespace {

using bytecode::kNoRegister;

enum class Kind { Unit, Bool, Int, Float, Memory };

Kind kind_of(const Program& p, uint32_t type) {
  switch (p.types[type].kind) {
    case TypeKind::Unit: return Kind::Unit;
    case TypeKind::Bool: return Kind::Bool;
    case TypeKind::Int: return Kind::Int;
    case TypeKind::Float: return Kind::Float;
    default: return Kind::Memory;
  }
}

// The Value tag of a scalar kind (vm/value.h).
uint8_t tag_of(Kind k) {
  switch (k) {
    case Kind::Unit: return static_cast<uint8_t>(Tag::Unit);
    case Kind::Bool: return static_cast<uint8_t>(Tag::Bool);
    case Kind::Int: return static_cast<uint8_t>(Tag::Int);
    case Kind::Float: return static_cast<uint8_t>(Tag::Float);
    case Kind::Memory: break;
  }
  return 0;
}

std::string function_symbol(uint32_t fn) { return "ved_f" + std::to_string(fn); }

// The thunks, by name, with their LLVM types.
struct Thunks {
  llvm::FunctionCallee data, scalar_fault, fault, copy_init, move, release, fmod;
};

// Builds LLVM functions for a program's functions into one module.
class ModuleBuilder {
 public:
  ModuleBuilder(const Program& p, llvm::LLVMContext& ctx, llvm::Module& m) : p_(p), ctx_(ctx), m_(m), b_(ctx) {
    i1_ = llvm::Type::getInt1Ty(ctx);
    i8_ = llvm::Type::getInt8Ty(ctx);
    i32_ = llvm::Type::getInt32Ty(ctx);
    i64_ = llvm::Type::getInt64Ty(ctx);
    f64_ = llvm::Type::getDoubleTy(ctx);
    ptr_ = llvm::PointerType::get(ctx, 0);
    void_ = llvm::Type::getVoidTy(ctx);
    fn_type_ = llvm::FunctionType::get(i64_, {ptr_, i64_, i64_, ptr_, ptr_, i32_}, false);
    auto cold = [&](llvm::FunctionCallee c) {
      if (auto* f = llvm::dyn_cast<llvm::Function>(c.getCallee())) {
        f->addFnAttr(llvm::Attribute::Cold);
        f->addFnAttr(llvm::Attribute::NoUnwind);
      }
      return c;
    };
    auto nounwind = [&](llvm::FunctionCallee c) {
      if (auto* f = llvm::dyn_cast<llvm::Function>(c.getCallee())) f->addFnAttr(llvm::Attribute::NoUnwind);
      return c;
    };
    t_.data = nounwind(m.getOrInsertFunction("ved_jit_data", llvm::FunctionType::get(i32_, {ptr_, ptr_, i32_, i32_}, false)));
    t_.scalar_fault = cold(m.getOrInsertFunction("ved_jit_scalar_fault",
                                                  llvm::FunctionType::get(void_, {ptr_, i32_, i32_, i64_, i64_}, false)));
    t_.fault = cold(m.getOrInsertFunction("ved_jit_fault",
                                           llvm::FunctionType::get(void_, {ptr_, i32_, i32_, i32_, ptr_}, false)));
    t_.copy_init = nounwind(m.getOrInsertFunction("ved_jit_copy_init", llvm::FunctionType::get(void_, {ptr_, ptr_}, false)));
    t_.move = nounwind(m.getOrInsertFunction("ved_jit_move", llvm::FunctionType::get(void_, {ptr_, ptr_}, false)));
    t_.release = nounwind(m.getOrInsertFunction("ved_jit_release", llvm::FunctionType::get(void_, {ptr_}, false)));
    t_.fmod = nounwind(m.getOrInsertFunction("ved_jit_fmod", llvm::FunctionType::get(f64_, {f64_, f64_}, false)));
  }

  // The LLVM function of Ved function `fn` (declared; defined by build()).
  llvm::Function* declare(uint32_t fn) {
    const std::string name = function_symbol(fn);
    if (llvm::Function* f = m_.getFunction(name)) return f;
    auto* f = llvm::Function::Create(fn_type_, llvm::Function::ExternalLinkage, name, m_);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    return f;
  }

  void build(uint32_t fn);

 private:
  // NativeContext field addresses (native_abi.h: the first fields, in order).
  llvm::Value* cx_fuel() { return cx_; }
  llvm::Value* cx_kind() { return field(offsetof(NativeContext, kind)); }
  llvm::Value* cx_exit() { return field(offsetof(NativeContext, exit)); }
  llvm::Value* cx_yield_to() { return field(offsetof(NativeContext, yield_to)); }
  llvm::Value* cx_advance() { return field(offsetof(NativeContext, advance)); }
  llvm::Value* cx_registers() { return field(offsetof(NativeContext, registers)); }
  llvm::Value* cx_high_water() { return field(offsetof(NativeContext, high_water)); }
  llvm::Value* field(size_t offset) { return b_.CreateConstInBoundsGEP1_64(i8_, cx_, offset); }

  llvm::Value* slot(llvm::Value* window, llvm::Value* index) {
    return b_.CreateInBoundsGEP(i8_, window, b_.CreateMul(index, b_.getInt64(sizeof(Value))));
  }
  llvm::Value* slot(uint32_t r) { return b_.CreateConstInBoundsGEP1_64(i8_, R_, uint64_t{r} * sizeof(Value)); }
  llvm::Value* payload(llvm::Value* slot_address) { return b_.CreateConstInBoundsGEP1_64(i8_, slot_address, 8); }

  Kind kind(uint32_t r) const { return kinds_[r]; }
  bool scalar(uint32_t r) const { return kinds_[r] != Kind::Memory; }
  llvm::Value* get(uint32_t r) {
    if (kind(r) == Kind::Unit) return b_.getInt64(0);
    return b_.CreateLoad(i64_, regs_[r]);
  }
  void set(uint32_t r, llvm::Value* bits) {
    if (kind(r) == Kind::Unit) return;
    b_.CreateStore(bits, regs_[r]);
    b_.CreateStore(b_.getInt8(tag_of(kind(r))), tags_[r]);
  }
  llvm::Value* as_double(llvm::Value* bits) { return b_.CreateBitCast(bits, f64_); }
  llvm::Value* as_bits(llvm::Value* d) { return b_.CreateBitCast(d, i64_); }
  llvm::Value* as_bool_bits(llvm::Value* i1) { return b_.CreateZExt(i1, i64_); }

  // Scalar register r to its window slot (tag and payload), for a thunk that reads it
  // or a continuation. The tag is the register's own: a register no code has written
  // yet is still unit, as the interpreter leaves it (a continuation shows it).
  void spill(uint32_t r) {
    if (!scalar(r)) return;
    llvm::Value* s = slot(r);
    if (kind(r) == Kind::Unit) {
      b_.CreateStore(b_.getInt8(tag_of(Kind::Unit)), s);
      b_.CreateStore(b_.getInt64(0), payload(s));
      return;
    }
    b_.CreateStore(b_.CreateLoad(i8_, tags_[r]), s);
    b_.CreateStore(get(r), payload(s));
  }
  // Scalar register r from its window slot: on entry (parameters, a continuation, or
  // unit), and after a thunk wrote it. (A bool's payload is one byte: Value::set_bool
  // writes only that.)
  void reload(uint32_t r) {
    if (!scalar(r) || kind(r) == Kind::Unit) return;
    llvm::Value* s = slot(r);
    llvm::Value* at = payload(s);
    llvm::Value* bits = kind(r) == Kind::Bool ? b_.CreateZExt(b_.CreateICmpNE(b_.CreateLoad(i8_, at), b_.getInt8(0)), i64_)
                                              : b_.CreateLoad(i64_, at);
    b_.CreateStore(bits, regs_[r]);
    b_.CreateStore(b_.CreateLoad(i8_, s), tags_[r]);
  }
  void spill_all() {
    for (uint32_t r = 0; r < kinds_.size(); ++r) spill(r);
  }

  // Goes to block `target` (its fuel charge first).
  void enter(uint32_t target) { b_.CreateBr(charge_[target]); }

  // Leaves the function after a fault was recorded: to the one block that writes the
  // fuel back and returns (one per function, not one per check: less IR to optimise).
  void fault_exit() { b_.CreateBr(fault_exit_); }
  // A new block for a fault of instruction `pc` that calls `record` and leaves; returns it.
  template <class F>
  llvm::BasicBlock* fault_block(F&& record) {
    llvm::BasicBlock* here = b_.GetInsertBlock();
    auto* bb = llvm::BasicBlock::Create(ctx_, "fault", f_);
    b_.SetInsertPoint(bb);
    record();
    fault_exit();
    b_.SetInsertPoint(here);
    return bb;
  }
  // Continues in a new block when `bad` is false, faulting through `record` when true.
  template <class F>
  void check(llvm::Value* bad, F&& record) {
    llvm::BasicBlock* fail = fault_block(record);
    auto* ok = llvm::BasicBlock::Create(ctx_, "ok", f_);
    b_.CreateCondBr(bad, fail, ok);
    b_.SetInsertPoint(ok);
  }
  void scalar_fault(uint32_t pc, llvm::Value* x, llvm::Value* y) {
    b_.CreateCall(t_.scalar_fault, {cx_, b_.getInt32(fn_), b_.getInt32(pc), x, y});
  }
  void engine_fault(uint32_t pc, CallFault what) {
    b_.CreateCall(t_.fault, {cx_, b_.getInt32(fn_), b_.getInt32(pc), b_.getInt32(static_cast<uint32_t>(what)), R_});
  }
  // Writes the fuel back, releases the heap registers as the interpreter's RET does, and
  // returns `bits`.
  void leave(llvm::Value* bits) {
    b_.CreateStore(b_.CreateLoad(i64_, fuel_), cx_fuel());
    for (uint32_t r : info_->heap_registers) b_.CreateCall(t_.release, {slot(r)});
    b_.CreateRet(bits);
  }

  void instruction(uint32_t pc);
  void int_checked(uint32_t pc, const Instr& in, llvm::Intrinsic::ID id);
  void call(uint32_t pc, const Instr& in);
  void data(uint32_t pc, const Instr& in);

  const Program& p_;
  llvm::LLVMContext& ctx_;
  llvm::Module& m_;
  llvm::IRBuilder<> b_;
  llvm::Type *i1_, *i8_, *i32_, *i64_, *f64_, *ptr_, *void_;
  llvm::FunctionType* fn_type_;
  Thunks t_;

  // The function being built.
  uint32_t fn_ = 0;
  const FunctionInfo* info_ = nullptr;
  llvm::Function* f_ = nullptr;
  llvm::Value *cx_ = nullptr, *depth_ = nullptr, *base_ = nullptr, *R_ = nullptr, *dst_ = nullptr;
  llvm::Value* fuel_ = nullptr;  // alloca i64
  llvm::BasicBlock* fault_exit_ = nullptr;
  llvm::BasicBlock* callee_fault_ = nullptr;
  std::vector<Kind> kinds_;
  std::vector<llvm::Value*> regs_;  // allocas of scalar registers: their payload bits
  std::vector<llvm::Value*> tags_;  // and their tags (unit until written)
  std::vector<llvm::BasicBlock*> charge_;
  std::vector<uint32_t> block_of_start_;  // instruction index -> block, for block starts
};

void ModuleBuilder::build(uint32_t fn) {
  fn_ = fn;
  info_ = &p_.functions[fn];
  const FunctionInfo& info = *info_;
  f_ = declare(fn);
  auto arg = f_->arg_begin();
  cx_ = &*arg++;
  depth_ = &*arg++;
  base_ = &*arg++;
  R_ = &*arg++;
  dst_ = &*arg++;
  llvm::Value* slice = &*arg++;

  auto* entry = llvm::BasicBlock::Create(ctx_, "entry", f_);
  b_.SetInsertPoint(entry);
  kinds_.clear();
  regs_.assign(info.registers.size(), nullptr);
  tags_.assign(info.registers.size(), nullptr);
  for (uint32_t t : info.registers) kinds_.push_back(kind_of(p_, t));
  fuel_ = b_.CreateAlloca(i64_, nullptr, "fuel");
  for (uint32_t r = 0; r < kinds_.size(); ++r) {
    if (!scalar(r) || kind(r) == Kind::Unit) continue;
    regs_[r] = b_.CreateAlloca(i64_, nullptr, "r" + std::to_string(r));
    tags_[r] = b_.CreateAlloca(i8_, nullptr, "t" + std::to_string(r));
  }
  b_.CreateStore(b_.CreateLoad(i64_, cx_fuel()), fuel_);
  {
    llvm::BasicBlock* here = b_.GetInsertBlock();
    fault_exit_ = llvm::BasicBlock::Create(ctx_, "fault_exit", f_);
    b_.SetInsertPoint(fault_exit_);
    b_.CreateStore(b_.CreateLoad(i64_, fuel_), cx_fuel());
    b_.CreateRet(b_.getInt64(0));
    // A callee's fault: the callee wrote the fuel back already.
    callee_fault_ = llvm::BasicBlock::Create(ctx_, "callee_fault", f_);
    b_.SetInsertPoint(callee_fault_);
    b_.CreateRet(b_.getInt64(0));
    b_.SetInsertPoint(here);
  }

  charge_.clear();
  std::vector<llvm::BasicBlock*> body;
  for (size_t k = 0; k < info.blocks.size(); ++k) {
    charge_.push_back(llvm::BasicBlock::Create(ctx_, "b" + std::to_string(k), f_));
    body.push_back(llvm::BasicBlock::Create(ctx_, "b" + std::to_string(k) + ".body", f_));
  }

  // The entry reads every scalar register from the window: parameters, a continuation's
  // registers, or unit (LLVM deletes what no path reads). Then to the slice's block.
  auto* unknown = llvm::BasicBlock::Create(ctx_, "bad_slice", f_);
  std::vector<llvm::BasicBlock*> loads;
  for (size_t s = 0; s < info.slice_entries.size(); ++s)
    loads.push_back(llvm::BasicBlock::Create(ctx_, "slice" + std::to_string(s), f_));
  llvm::SwitchInst* sw = b_.CreateSwitch(slice, unknown, static_cast<unsigned>(loads.size()));
  for (size_t s = 0; s < loads.size(); ++s) {
    sw->addCase(b_.getInt32(static_cast<uint32_t>(s)), loads[s]);
    b_.SetInsertPoint(loads[s]);
    for (uint32_t r = 0; r < kinds_.size(); ++r) reload(r);
    enter(info.slice_entries[s]);
  }
  b_.SetInsertPoint(unknown);
  b_.CreateUnreachable();  // the interpreter checked the slice index before

  for (size_t k = 0; k < info.blocks.size(); ++k) {
    const BlockInfo& block = info.blocks[k];
    const uint32_t end = k + 1 < info.blocks.size() ? info.blocks[k + 1].start : static_cast<uint32_t>(info.code.size());
    // Fuel: the block's whole cost on entry, as the interpreter's ENTER.
    b_.SetInsertPoint(charge_[k]);
    llvm::Value* fuel = b_.CreateSub(b_.CreateLoad(i64_, fuel_), b_.getInt64(block.cost));
    b_.CreateStore(fuel, fuel_);
    llvm::BasicBlock* exhausted = fault_block([&] { engine_fault(block.start, CallFault::Budget); });
    b_.CreateCondBr(b_.CreateICmpSLT(fuel, b_.getInt64(0)), exhausted, body[k]);
    b_.SetInsertPoint(body[k]);
    for (uint32_t pc = block.start; pc < end; ++pc) instruction(pc);
  }
}

void ModuleBuilder::int_checked(uint32_t pc, const Instr& in, llvm::Intrinsic::ID id) {
  llvm::Value* x = get(in.b);
  llvm::Value* y = get(in.c);
  llvm::Value* pair = b_.CreateBinaryIntrinsic(id, x, y);
  check(b_.CreateExtractValue(pair, 1), [&] { scalar_fault(pc, x, y); });
  set(in.a, b_.CreateExtractValue(pair, 0));
}

void ModuleBuilder::instruction(uint32_t pc) {
  const Instr& in = info_->code[pc];
  switch (in.op) {
    case Op::LOAD_INT: set(in.a, b_.getInt64(static_cast<int64_t>(static_cast<int32_t>(in.d)))); return;
    case Op::LOAD_BOOL: set(in.a, b_.getInt64(in.d != 0 ? 1 : 0)); return;
    case Op::LOAD_UNIT:
      if (scalar(in.a)) return;  // unit has no bits
      break;
    case Op::LOAD_CONST:
      if (scalar(in.a)) {
        const Value& c = p_.constants[in.d];
        if (c.tag() == Tag::Int) {
          set(in.a, b_.getInt64(c.as_int()));
        } else {
          int64_t bits;
          const double d = c.as_float();
          std::memcpy(&bits, &d, 8);
          set(in.a, b_.getInt64(bits));
        }
        return;
      }
      break;
    case Op::MOVE:
      if (scalar(in.a)) {
        set(in.a, get(in.b));
        return;
      }
      break;
    case Op::ADD_I64: return int_checked(pc, in, llvm::Intrinsic::sadd_with_overflow);
    case Op::SUB_I64: return int_checked(pc, in, llvm::Intrinsic::ssub_with_overflow);
    case Op::MUL_I64: return int_checked(pc, in, llvm::Intrinsic::smul_with_overflow);
    case Op::DIV_I64: {
      llvm::Value* x = get(in.b);
      llvm::Value* y = get(in.c);
      llvm::Value* bad = b_.CreateOr(b_.CreateICmpEQ(y, b_.getInt64(0)),
                                     b_.CreateAnd(b_.CreateICmpEQ(x, b_.getInt64(INT64_MIN)),
                                                  b_.CreateICmpEQ(y, b_.getInt64(-1))));
      check(bad, [&] { scalar_fault(pc, x, y); });
      set(in.a, b_.CreateSDiv(x, y));
      return;
    }
    case Op::REM_I64: {
      llvm::Value* x = get(in.b);
      llvm::Value* y = get(in.c);
      check(b_.CreateICmpEQ(y, b_.getInt64(0)), [&] { scalar_fault(pc, x, y); });
      // Any divisor of -1 gives 0 (srem INT64_MIN, -1 is undefined in LLVM as in C++).
      llvm::Value* minus_one = b_.CreateICmpEQ(y, b_.getInt64(-1));
      llvm::Value* r = b_.CreateSRem(x, b_.CreateSelect(minus_one, b_.getInt64(1), y));
      set(in.a, b_.CreateSelect(minus_one, b_.getInt64(0), r));
      return;
    }
    case Op::NEG_I64: {
      llvm::Value* x = get(in.b);
      check(b_.CreateICmpEQ(x, b_.getInt64(INT64_MIN)), [&] { scalar_fault(pc, x, b_.getInt64(0)); });
      set(in.a, b_.CreateSub(b_.getInt64(0), x));
      return;
    }
    case Op::ADD_F64: set(in.a, as_bits(b_.CreateFAdd(as_double(get(in.b)), as_double(get(in.c))))); return;
    case Op::SUB_F64: set(in.a, as_bits(b_.CreateFSub(as_double(get(in.b)), as_double(get(in.c))))); return;
    case Op::MUL_F64: set(in.a, as_bits(b_.CreateFMul(as_double(get(in.b)), as_double(get(in.c))))); return;
    case Op::DIV_F64:
    case Op::REM_F64: {
      llvm::Value* xb = get(in.b);
      llvm::Value* yb = get(in.c);
      llvm::Value* y = as_double(yb);
      // `y == 0.0` as C++ compares: true for both zeros, false for NaN.
      check(b_.CreateFCmpOEQ(y, llvm::ConstantFP::get(f64_, 0.0)), [&] { scalar_fault(pc, xb, yb); });
      llvm::Value* r = in.op == Op::DIV_F64 ? b_.CreateFDiv(as_double(xb), y) : b_.CreateCall(t_.fmod, {as_double(xb), y});
      set(in.a, as_bits(r));
      return;
    }
    case Op::NEG_F64: set(in.a, as_bits(b_.CreateFNeg(as_double(get(in.b))))); return;
    case Op::I2F: set(in.a, as_bits(b_.CreateSIToFP(get(in.b), f64_))); return;
    case Op::EQ_I64: set(in.a, as_bool_bits(b_.CreateICmpEQ(get(in.b), get(in.c)))); return;
    case Op::LT_I64: set(in.a, as_bool_bits(b_.CreateICmpSLT(get(in.b), get(in.c)))); return;
    case Op::LE_I64: set(in.a, as_bool_bits(b_.CreateICmpSLE(get(in.b), get(in.c)))); return;
    case Op::EQ_F64: set(in.a, as_bool_bits(b_.CreateFCmpOEQ(as_double(get(in.b)), as_double(get(in.c))))); return;
    case Op::LT_F64: set(in.a, as_bool_bits(b_.CreateFCmpOLT(as_double(get(in.b)), as_double(get(in.c))))); return;
    case Op::LE_F64: set(in.a, as_bool_bits(b_.CreateFCmpOLE(as_double(get(in.b)), as_double(get(in.c))))); return;
    case Op::NOT: set(in.a, b_.CreateXor(get(in.b), b_.getInt64(1))); return;
    case Op::CALL: return call(pc, in);

    // Terminators. Block operands are read through the opcode table (operands.h).
    case Op::JMP: return enter(bytecode::successors_of(in).block[0]);
    case Op::JMP_IF:
    case Op::BR_LT_I64:
    case Op::BR_LE_I64:
    case Op::BR_EQ_I64:
    case Op::BR_NONE: {
      llvm::Value* taken = nullptr;
      switch (in.op) {
        case Op::JMP_IF: taken = b_.CreateICmpNE(get(in.a), b_.getInt64(0)); break;
        case Op::BR_LT_I64: taken = b_.CreateICmpSLT(get(in.a), get(in.b)); break;
        case Op::BR_LE_I64: taken = b_.CreateICmpSLE(get(in.a), get(in.b)); break;
        case Op::BR_EQ_I64: taken = b_.CreateICmpEQ(get(in.a), get(in.b)); break;
        default:  // BR_NONE: an optional lives in the window; none is its tag
          taken = b_.CreateICmpEQ(b_.CreateLoad(i8_, slot(in.a)), b_.getInt8(static_cast<uint8_t>(Tag::None)));
          break;
      }
      const bytecode::Successors s = bytecode::successors_of(in);
      b_.CreateCondBr(taken, charge_[s.block[0]], charge_[s.block[1]]);
      return;
    }
    case Op::FOR_STEP: {
      llvm::Value* x = get(in.a);
      llvm::Value* pair = b_.CreateBinaryIntrinsic(llvm::Intrinsic::sadd_with_overflow, x, b_.getInt64(1));
      check(b_.CreateExtractValue(pair, 1), [&] { scalar_fault(pc, x, b_.getInt64(1)); });
      llvm::Value* next = b_.CreateExtractValue(pair, 0);
      set(in.a, next);
      const bytecode::Successors s = bytecode::successors_of(in);
      b_.CreateCondBr(b_.CreateICmpSLT(next, get(in.b)), charge_[s.block[0]], charge_[s.block[1]]);
      return;
    }
    case Op::RET:
      if (scalar(in.a)) return leave(get(in.a));
      b_.CreateCall(t_.move, {dst_, slot(in.a)});
      return leave(b_.getInt64(0));
    case Op::YIELD:
    case Op::ADVANCE: {
      if (in.op == Op::ADVANCE) {
        llvm::Value* ticks = get(in.a);
        check(b_.CreateICmpSLT(ticks, b_.getInt64(0)), [&] {
          spill(in.a);
          engine_fault(pc, CallFault::NegativeAdvance);
        });
        b_.CreateStore(ticks, cx_advance());
      }
      // The continuation is the window: every scalar goes back to it with its tag.
      spill_all();
      b_.CreateStore(b_.getInt32(static_cast<uint32_t>(NativeExit::Yield)), cx_exit());
      b_.CreateStore(b_.getInt32(in.d), cx_yield_to());
      b_.CreateStore(b_.CreateLoad(i64_, fuel_), cx_fuel());
      b_.CreateRet(b_.getInt64(0));
      return;
    }
    case Op::END:
      b_.CreateStore(b_.getInt32(static_cast<uint32_t>(NativeExit::End)), cx_exit());
      b_.CreateStore(b_.CreateLoad(i64_, fuel_), cx_fuel());
      b_.CreateRet(b_.getInt64(0));
      return;
    case Op::FAIL:
    case Op::ASSERT_FAIL:
      engine_fault(pc, in.op == Op::FAIL ? CallFault::Fail : CallFault::Assert);
      fault_exit();
      return;
    default: break;
  }
  data(pc, in);
}

void ModuleBuilder::data(uint32_t pc, const Instr& in) {
  const bytecode::OperandRoles roles = bytecode::operand_roles(in.op);
  const bool has_a = !(roles.a_may_be_absent && in.a == kNoRegister);
  if ((roles.reads_a || roles.updates_a) && has_a) spill(in.a);
  if (roles.reads_b) spill(in.b);
  if (roles.reads_c) spill(in.c);
  if (roles.reads_range) {
    const uint32_t count = roles.range_of_pairs ? 2u * in.c : in.c;
    for (uint32_t k = 0; k < count; ++k) spill(in.b + k);
  }
  llvm::Value* k = b_.CreateCall(t_.data, {cx_, R_, b_.getInt32(fn_), b_.getInt32(pc)});
  auto* ok = llvm::BasicBlock::Create(ctx_, "ok", f_);
  b_.CreateCondBr(b_.CreateICmpNE(k, b_.getInt32(0)), fault_exit_, ok);
  b_.SetInsertPoint(ok);
  if ((roles.writes_a || roles.updates_a) && has_a) reload(in.a);
}

void ModuleBuilder::call(uint32_t pc, const Instr& in) {
  const FunctionInfo& callee = p_.functions[in.d];
  // The interpreter's checks, in its order: depth, then the register stack.
  check(b_.CreateICmpEQ(depth_, b_.getInt64(Interpreter::kMaxCallDepth - 1)),
        [&] { engine_fault(pc, CallFault::Depth); });
  llvm::Value* cbase = b_.CreateAdd(base_, b_.getInt64(info_->registers.size()));
  llvm::Value* top = b_.CreateAdd(cbase, b_.getInt64(callee.registers.size()));
  check(b_.CreateICmpUGT(top, b_.getInt64(Interpreter::kMaxStackRegisters)),
        [&] { engine_fault(pc, CallFault::Registers); });
  // Registers below the high-water mark are emptied after the run (a fault leaves
  // references in the windows of the frames it unwound: the interpreter's clear_stack);
  // keep the mark. Only a window that can hold a reference needs to be under it: a
  // callee without heap registers (fib) leaves nothing to release, and skipping the
  // load, compare and store makes its calls cheaper.
  if (!callee.heap_registers.empty()) {
    llvm::Value* hw = b_.CreateLoad(i64_, cx_high_water());
    b_.CreateStore(b_.CreateSelect(b_.CreateICmpUGT(top, hw), top, hw), cx_high_water());
  }
  llvm::Value* window = slot(b_.CreateLoad(ptr_, cx_registers()), cbase);
  for (uint32_t k = 0; k < in.c; ++k) {
    llvm::Value* to = b_.CreateConstInBoundsGEP1_64(i8_, window, uint64_t{k} * sizeof(Value));
    const uint32_t r = in.b + k;
    if (scalar(r)) {
      b_.CreateStore(b_.getInt8(tag_of(kind(r))), to);
      b_.CreateStore(get(r), payload(to));
    } else {
      b_.CreateCall(t_.copy_init, {to, slot(r)});
    }
  }
  b_.CreateStore(b_.CreateLoad(i64_, fuel_), cx_fuel());
  llvm::Value* dst = scalar(in.a) ? llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(ptr_)) : slot(in.a);
  llvm::Value* bits = b_.CreateCall(fn_type_, declare(in.d),
                                    {cx_, b_.CreateAdd(depth_, b_.getInt64(1)), cbase, window, dst, b_.getInt32(0)});
  b_.CreateStore(b_.CreateLoad(i64_, cx_fuel()), fuel_);
  // A fault in the callee: leave at once (the fault is recorded, the fuel written).
  auto* ok = llvm::BasicBlock::Create(ctx_, "ok", f_);
  b_.CreateCondBr(b_.CreateICmpNE(b_.CreateLoad(i32_, cx_kind()), b_.getInt32(0)), callee_fault_, ok);
  b_.SetInsertPoint(ok);
  if (scalar(in.a)) set(in.a, bits);
}

// VED_JIT_OPT=0|1|2 (default 2): how hard LLVM optimises. For bisecting a divergence
// between the engines (docs/jit.md): if it goes away at 0, suspect an optimisation.
int optimisation_level() {
  static const int level = [] {
    const char* v = std::getenv("VED_JIT_OPT");
    return v && *v >= '0' && *v <= '2' && v[1] == 0 ? *v - '0' : 2;
  }();
  return level;
}

// `cancelled` (null: never), once true, skips the passes not yet run: the module is
// then thrown away (LlvmJit::compile_batch), so its quality does not matter.
void optimize_module(llvm::Module& m, llvm::TargetMachine* tm, const std::atomic<bool>* cancelled = nullptr) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassInstrumentationCallbacks instrumentation;
  if (cancelled)
    instrumentation.registerShouldRunOptionalPassCallback(
        [cancelled](llvm::StringRef, llvm::Any) { return !cancelled->load(std::memory_order_relaxed); });
  llvm::PassBuilder pb(tm, llvm::PipelineTuningOptions(), std::nullopt, &instrumentation);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  if (optimisation_level() == 0) return;
  const llvm::OptimizationLevel level = optimisation_level() == 1 ? llvm::OptimizationLevel::O1 : llvm::OptimizationLevel::O2;
  pb.buildPerModuleDefaultPipeline(level).run(m, mam);
}

void initialise_llvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // LLVM's own allocators report a failure here, and by default print and abort: the
    // process, and the run, would die for a compile it could do without. Thrown instead,
    // as operator new does, it reaches SharedJit, which leaves the functions interpreted.
    llvm::install_bad_alloc_error_handler([](void*, const char*, bool) { throw std::bad_alloc(); });
  });
}

std::string error_text(llvm::Error e) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << e;
  return os.str();
}

class LlvmJit final : public Jit {
 public:
  LlvmJit(const Program& program, std::unique_ptr<llvm::orc::LLJIT> lljit, std::unique_ptr<llvm::TargetMachine> tm,
          const std::atomic<bool>* cancelled)
      : p_(program), compilability_(analyse(program)), lljit_(std::move(lljit)), tm_(std::move(tm)), cancelled_(cancelled) {
    native_.assign(program.functions.size(), nullptr);
  }

  bool compilable(uint32_t fn) const override { return fn < compilability_.ok.size() && compilability_.ok[fn]; }

  bool compile(uint32_t fn, std::string& error) override {
    if (!compilable(fn) || native_[fn]) return compilable(fn);
    // `fn` and what it calls, transitively (all compilable, by analyse()).
    std::vector<uint32_t> todo{fn}, batch;
    std::vector<bool> seen(p_.functions.size(), false);
    seen[fn] = true;
    while (!todo.empty()) {
      const uint32_t f = todo.back();
      todo.pop_back();
      if (!native_[f]) batch.push_back(f);
      for (const Instr& in : p_.functions[f].code)
        if (in.op == Op::CALL && !seen[in.d]) {
          seen[in.d] = true;
          todo.push_back(in.d);
        }
    }
    std::sort(batch.begin(), batch.end());  // the same module for the same program, always
    return compile_batch(batch, error);
  }

  bool compile_all(std::string& error) override {
    std::vector<uint32_t> batch;
    for (uint32_t f = 0; f < p_.functions.size(); ++f)
      if (compilable(f) && !native_[f]) batch.push_back(f);
    return compile_batch(batch, error);
  }

  NativeFunction native(uint32_t fn) const override { return fn < native_.size() ? native_[fn] : nullptr; }
  Stats stats() const override { return stats_; }

 private:
  // Compiles `fns` (compilable, not yet compiled) as one module.
  bool compile_batch(const std::vector<uint32_t>& fns, std::string& error) {
    if (fns.empty()) return true;
    auto ctx = std::make_unique<llvm::LLVMContext>();
    ctx->setDiscardValueNames(true);  // names are for people (--emit=llvm), not for code
    auto m = std::make_unique<llvm::Module>("ved" + std::to_string(modules_++), *ctx);
    m->setDataLayout(lljit_->getDataLayout());
    m->setTargetTriple(lljit_->getTargetTriple().str());
    ModuleBuilder builder(p_, *ctx, *m);
    for (uint32_t f : fns) builder.build(f);
    std::string problems;
    llvm::raw_string_ostream os(problems);
    if (llvm::verifyModule(*m, &os)) {
      error = "the JIT built invalid LLVM IR: " + os.str();
      return false;
    }
    optimize_module(*m, tm_.get(), cancelled_);
    // Code generation (at the lookups below) cannot be interrupted: the last point to give up.
    if (cancelled_ && cancelled_->load()) {
      error = kCancelled;
      return false;
    }
    if (auto e = lljit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(m), std::move(ctx)))) {
      error = error_text(std::move(e));
      return false;
    }
    std::vector<NativeFunction> found;
    for (uint32_t f : fns) {
      auto symbol = lljit_->lookup(function_symbol(f));
      if (!symbol) {
        error = error_text(symbol.takeError());
        return false;
      }
      found.push_back(symbol->toPtr<NativeFunction>());
    }
    for (size_t k = 0; k < fns.size(); ++k) {
      native_[fns[k]] = found[k];
      ++stats_.functions_compiled;
      stats_.instructions_compiled += p_.functions[fns[k]].code.size();
    }
    return true;
  }

  const Program& p_;
  Compilability compilability_;
  std::unique_ptr<llvm::orc::LLJIT> lljit_;
  std::unique_ptr<llvm::TargetMachine> tm_;
  const std::atomic<bool>* cancelled_;
  std::vector<NativeFunction> native_;
  Stats stats_;
  uint32_t modules_ = 0;
};

Jit* create_jit(const Program& program, const ThunkTable& thunk_table, const std::atomic<bool>* cancelled,
               std::string& error) {
  initialise_llvm();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) {
    error = error_text(jtmb.takeError());
    return nullptr;
  }
  // No fused multiply-add, whatever the target offers: floats round as the interpreter's.
  jtmb->getOptions().AllowFPOpFusion = llvm::FPOpFusion::Strict;
  jtmb->setCodeGenOptLevel(optimisation_level() == 0   ? llvm::CodeGenOpt::None
                           : optimisation_level() == 1 ? llvm::CodeGenOpt::Less
                                                       : llvm::CodeGenOpt::Default);
  auto tm = jtmb->createTargetMachine();
  if (!tm) {
    error = error_text(tm.takeError());
    return nullptr;
  }
  auto lljit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(*jtmb).create();
  if (!lljit) {
    error = error_text(lljit.takeError());
    return nullptr;
  }
  // The thunks, by address: compiled code links to nothing else.
  llvm::orc::SymbolMap thunks;
  auto add = [&](const char* name, void* address) {
    thunks[(*lljit)->mangleAndIntern(name)] = llvm::JITEvaluatedSymbol(
        llvm::pointerToJITTargetAddress(address), llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  };
  add("ved_jit_data", thunk_table.data);
  add("ved_jit_scalar_fault", thunk_table.scalar_fault);
  add("ved_jit_fault", thunk_table.fault);
  add("ved_jit_copy_init", thunk_table.copy_init);
  add("ved_jit_move", thunk_table.move);
  add("ved_jit_release", thunk_table.release);
  add("ved_jit_fmod", thunk_table.fmod);
  if (auto e = (*lljit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(thunks)))) {
    error = error_text(std::move(e));
    return nullptr;
  }
  return new LlvmJit(program, std::move(*lljit), std::move(*tm), cancelled);
}

std::string emit(const Program& program, bool optimize) {
  initialise_llvm();
  const Compilability c = analyse(program);
  llvm::LLVMContext ctx;
  llvm::Module m(program.name.empty() ? "ved" : program.name, ctx);
  std::unique_ptr<llvm::TargetMachine> tm;
  if (auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost()) {
    jtmb->getOptions().AllowFPOpFusion = llvm::FPOpFusion::Strict;
    if (auto made = jtmb->createTargetMachine()) {
      tm = std::move(*made);
      m.setDataLayout(tm->createDataLayout());
      m.setTargetTriple(tm->getTargetTriple().str());
    } else {
      llvm::consumeError(made.takeError());
    }
  } else {
    llvm::consumeError(jtmb.takeError());
  }
  ModuleBuilder builder(program, ctx, m);
  std::string out;
  for (uint32_t f = 0; f < program.functions.size(); ++f) {
    if (c.ok[f])
      builder.build(f);
    else
      out += "; " + program.functions[f].name + ": interpreted: " + c.reason[f] + "\n";
  }
  if (optimize) optimize_module(m, tm.get());
  std::string text;
  llvm::raw_string_ostream os(text);
  for (uint32_t f = 0; f < program.functions.size(); ++f)
    if (c.ok[f]) os << "; " << function_symbol(f) << " is `" << program.functions[f].name << "`\n";
  m.print(os, nullptr);
  return out + os.str();
}

}  // namespace
}  // namespace ved::vm::jit

// The library's entry points (jit.h), the only symbols it exports.
extern "C" __attribute__((visibility("default"))) ved::vm::jit::Jit* ved_jit_create(
    const ved::vm::Program* program, const ved::vm::jit::ThunkTable* thunks, const std::atomic<bool>* cancelled,
    std::string* error) {
  return ved::vm::jit::create_jit(*program, *thunks, cancelled, *error);
}

extern "C" __attribute__((visibility("default"))) bool ved_jit_emit_llvm(const ved::vm::Program* program,
                                                                        bool optimize, std::string* out) {
  *out = ved::vm::jit::emit(*program, optimize);
  return true;
}
