// The Ved instruction set: the one table the compiler (ir/) and the VM (vm/) share.
//
// Instructions are register based and statically typed, in the manner of Lua 5.4's
// lopcodes.h: each names its operation and the types it works on (`ADD_I64`, `ADD_F64`),
// so the interpreter never inspects a tag on the hot path, and the verifier can prove
// before anything runs that every operand has the type its opcode needs.
//
// Encoding. An instruction is five unsigned fields: op, a, b, c (16 bits each) and d
// (32 bits). The table below says what each field means for each opcode:
//
//   R  a register of the current function (index < its register count)
//   B  a basic block of the current function (index < its block count)
//   K  an index into the program's constant table
//   F  an index into the program's function table
//   T  an index into the program's type table
//   X  an index into a per-program descriptor table (messages, effects, builtins ...)
//   N  a plain number (a field index, an argument count, a small immediate)
//   _  unused, must be 0
//
// A function is a list of basic blocks. Each block is a non-empty run of instructions
// whose last instruction, and only that one, is a terminator (jump, branch, return,
// yield, advance, end, fail). Fuel (runtime.md §3) is charged per block, the block's whole cost
// on entry; a block's cost is its instruction count, and the verifier checks that the
// bundle says so, so a hostile bundle cannot make a loop that costs nothing.
#pragma once

#include <cstdint>

namespace ved::bytecode {

// Operand layouts: the meaning of (a, b, c, d).
enum class Layout : uint8_t {
  None,       // - - - -
  R,          // a=R
  RR,         // a=R b=R
  RRR,        // a=R b=R c=R
  RK,         // a=R d=K
  RN,         // a=R d=N
  N,          // d=N
  RRN,        // a=R b=R d=N
  RRNX,       // a=R b=R(first) c=N(count) d=X
  B,          // d=B
  RBB,        // a=R b=B c=B
  RRBB,       // a=R b=R c=B d=B
  RRRF,       // a=R(dst) b=R(first arg) c=N(count) d=F
};

// X(name, layout, terminator?, has_dst?)   a is the destination when has_dst.
#define VED_OPCODES(X)                                                                  \
  /* moves and constants */                                                            \
  X(MOVE, RR, false, true)           /* a = b (same type) */                           \
  X(LOAD_CONST, RK, false, true)     /* a = constants[d] (int, float or string) */     \
  X(LOAD_INT, RN, false, true)       /* a = d as a signed 32-bit immediate (int) */    \
  X(LOAD_BOOL, RN, false, true)      /* a = (d != 0) (bool) */                         \
  X(LOAD_NONE, R, false, true)       /* a = none (an optional) */                      \
  X(LOAD_UNIT, R, false, true)       /* a = () */                                      \
  X(DROP, R, false, false)           /* release a's reference early (heap types) */    \
  X(WRAP, RR, false, true)           /* a: T? = b: T */                                \
  X(UNWRAP, RR, false, true)         /* a: T = b: T?, fault `none` if b is none */     \
  /* integers: checked, fault on overflow and on division by zero */                   \
  X(ADD_I64, RRR, false, true)                                                          \
  X(SUB_I64, RRR, false, true)                                                          \
  X(MUL_I64, RRR, false, true)                                                          \
  X(DIV_I64, RRR, false, true)       /* truncates toward zero */                       \
  X(REM_I64, RRR, false, true)       /* sign of the dividend */                        \
  X(NEG_I64, RR, false, true)                                                           \
  /* floats: IEEE binary64; division and remainder by zero fault */                    \
  X(ADD_F64, RRR, false, true)                                                          \
  X(SUB_F64, RRR, false, true)                                                          \
  X(MUL_F64, RRR, false, true)                                                          \
  X(DIV_F64, RRR, false, true)                                                          \
  X(REM_F64, RRR, false, true)                                                          \
  X(NEG_F64, RR, false, true)                                                           \
  X(I2F, RR, false, true)            /* a: float = b: int */                           \
  /* comparisons, result bool */                                                       \
  X(EQ_I64, RRR, false, true)                                                           \
  X(LT_I64, RRR, false, true)                                                           \
  X(LE_I64, RRR, false, true)                                                           \
  X(EQ_F64, RRR, false, true)                                                           \
  X(LT_F64, RRR, false, true)                                                           \
  X(LE_F64, RRR, false, true)                                                           \
  X(EQ_STR, RRR, false, true)                                                           \
  X(LT_STR, RRR, false, true)        /* bytewise, which is code-point order */         \
  X(LE_STR, RRR, false, true)                                                           \
  X(EQ_ANY, RRR, false, true)        /* structural equality, b and c of one type */    \
  X(NOT, RR, false, true)            /* bool */                                        \
  X(IS_NONE, RR, false, true)        /* a: bool = (b: T? is none) */                   \
  /* strings, lists, maps, records (copy-on-write: in place when uniquely owned) */    \
  X(CONCAT, RRR, false, true)        /* a = b + c; in place when a == b is unique */   \
  X(LIST_NEW, RRNX, false, true)     /* a = [b .. b+c), d = T (the list type) */       \
  X(LIST_GET, RRR, false, true)      /* a = b[c], fault `index` */                     \
  X(LIST_SET, RRR, false, false)     /* a[b] = c, fault `index` */                     \
  X(LIST_APPEND, RRR, false, true)   /* a = b with c appended; in place if a == b */   \
  X(LEN, RR, false, true)            /* a: int = length of b (string: code points) */  \
  X(STR_GET, RRR, false, true)       /* a = the code point b[c] as a string */         \
  X(MAP_NEW, RRNX, false, true)      /* a = {b: b+1, ...} c pairs, d = T (map type) */ \
  X(MAP_GET, RRR, false, true)       /* a = b[c], fault `missing key` */               \
  X(MAP_SET, RRR, false, false)      /* a[b] = c */                                    \
  X(MAP_HAS, RRR, false, true)       /* a: bool = b contains key c */                  \
  X(RECORD_NEW, RRNX, false, true)   /* a = T(d){fields b .. b+c} */                   \
  X(FIELD_GET, RRN, false, true)     /* a = b.fields[d] */                             \
  X(FIELD_SET, RRN, false, false)    /* a.fields[d] = b */                             \
  X(INTENT_NEW, RRNX, false, true)   /* a = intent of effect X(d), args b .. b+c */    \
  X(CALL_BUILTIN, RRNX, false, true) /* a = builtin X(d)(b .. b+c) */                  \
  /* the instance: state, time, randomness, outputs (transitions and predicates) */    \
  X(STATE_GET, RN, false, true)      /* a = state.fields[d] */                         \
  X(STATE_SET, RN, false, false)     /* state.fields[d] = a */                         \
  X(STATE_TAKE, RN, false, true)     /* a = state.fields[d], moved out until SET */    \
  X(TICK, R, false, true)            /* a: int = the current logical tick */           \
  X(RAND, RR, false, true)           /* a: int = draw in [0, b), fault if b <= 0 */    \
  X(OBSERVE, RRNX, false, true)      /* a = observation X(d)(b .. b+c) */              \
  X(SEND, RRNX, false, false)        /* message X(d) to instance a (kNoRegister: the   \
                                        default instance, or the sender for a reply) */ \
  X(EMIT, R, false, false)           /* queue intent a */                              \
  X(SPAWN, RRNX, false, false)       /* spawn X(d)[a] with fields b .. b+c */          \
  X(SCHEDULE, RRNX, false, false)    /* message X(d) to self after a ticks, args */    \
  X(CALL, RRRF, false, true)         /* a = functions[d](b .. b+c) */                  \
  /* terminators */                                                                    \
  X(JMP, B, true, false)             /* go to block d */                               \
  X(JMP_IF, RBB, true, false)        /* a ? block b : block c */                       \
  X(BR_LT_I64, RRBB, true, false)    /* a < b ? block c : block d */                   \
  X(BR_LE_I64, RRBB, true, false)                                                       \
  X(BR_EQ_I64, RRBB, true, false)                                                       \
  X(BR_NONE, RBB, true, false)       /* a is none ? block b : block c */               \
  X(FOR_STEP, RRBB, true, false)     /* a += 1; a < b ? block c : block d */           \
  X(RET, R, true, false)             /* return a */                                    \
  X(YIELD, N, true, false)           /* end this slice; slice d runs next        */  \
  X(END, None, true, false)          /* end of a transition's last slice */            \
  X(FAIL, R, true, false)            /* fault `fail` with message a (a string) */      \
  X(ASSERT_FAIL, R, true, false)     /* fault `assert` with message a (a string) */    \
  /* appended, so that the numbers above stay what format 1 bundles say */             \
  X(ADVANCE, RN, true, false)        /* test scripts: end this step; the runner runs   \
                                        a: int ticks (fault if < 0), then slice d */

enum class Op : uint16_t {
#define VED_OP_ENUM(name, layout, term, dst) name,
  VED_OPCODES(VED_OP_ENUM)
#undef VED_OP_ENUM
      kCount
};

struct OpInfo {
  const char* name;
  Layout layout;
  bool terminator;
  bool has_dst;
};

inline constexpr OpInfo kOpInfo[] = {
#define VED_OP_INFO(name, layout, term, dst) {#name, Layout::layout, term, dst},
    VED_OPCODES(VED_OP_INFO)
#undef VED_OP_INFO
};

inline constexpr uint16_t kOpCount = static_cast<uint16_t>(Op::kCount);

constexpr const OpInfo& op_info(Op op) { return kOpInfo[static_cast<uint16_t>(op)]; }

// The register operand that means "no register" (SEND/SPAWN to the default instance).
inline constexpr uint16_t kNoRegister = 0xFFFF;

struct Instr {
  Op op = Op::END;
  uint16_t a = 0;
  uint16_t b = 0;
  uint16_t c = 0;
  uint32_t d = 0;
};

}  // namespace ved::bytecode
