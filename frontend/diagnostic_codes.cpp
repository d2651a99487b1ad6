#include "frontend/diagnostic_codes.h"

namespace ved {

namespace {

const std::vector<DiagnosticCodeInfo> kCodes = {
    // ---- Syntax (V-SYN) ------------------------------------------------------------
    {"V-SYN-001", "unclosed delimiter",
     "A `{`, `(` or `[` is never closed. The compiler points at the opening delimiter it "
     "believes is unclosed, using indentation to guess which one: the first block whose "
     "body is followed by a line indented no deeper than the block's own first line.",
     "transition Step() {\n    x = x + 1\n                     // <- `}` missing here\ntransition Next() { }\n"},
    {"V-SYN-002", "unexpected token",
     "The parser found a token that cannot appear here. The message lists what could "
     "have appeared instead.",
     "state { count int }        // error: expected `:` after the field name\n"
     "state { count: int }       // fixed\n"},
    {"V-SYN-003", "script mode and system mode mixed",
     "A file is either in system mode (it declares at least one `domain`) or in script "
     "mode (top-level `state`, `goal`, `invariant` and `transition`, wrapped in an implicit "
     "domain `Main`). A file that does both is ambiguous: move the top-level members into "
     "a domain, or remove the domains.",
     "domain Counter { state { n: int } }\nstate { total: int }       // error: script-mode state in a system-mode file\n"},
    {"V-SYN-004", "statement at the top level",
     "Statements run only inside transitions, functions, migrations and tests. At the top "
     "level of a file only declarations may appear.",
     "domain A { state { n: int } }\nn = 3                      // error\n"
     "domain A { state { n: int = 3 } }   // fixed: use a default value\n"},
    {"V-SYN-005", "`=` used where a condition is expected",
     "`=` assigns; conditions compare with `==`. Goal predicates, invariants and the "
     "conditions of `if`, `while` and `assert` never assign.",
     "goal Done { predicate: status = \"done\" }    // error\n"
     "goal Done { predicate: status == \"done\" }   // fixed\n"},
    {"V-SYN-006", "operator without an operand",
     "A binary operator needs an expression on both sides.",
     "x = a +          // error: `+` has no right operand\nx = a + 1        // fixed\n"},
    {"V-SYN-007", "unknown word where a keyword is expected",
     "The word is not a keyword, but it is close to one that fits here; it is probably "
     "misspelled.",
     "domian Counter { }     // error: did you mean `domain`?\n"},
    {"V-SYN-008", "unterminated string literal",
     "A string literal must be closed with `\"` on the same line. Use `\\n` for a line break "
     "inside a string.",
     "let s = \"hello      // error\nlet s = \"hello\"     // fixed\n"},
    {"V-SYN-009", "comparison operators do not chain",
     "`a < b < c` does not mean what it does in mathematics. Write the two comparisons and "
     "combine them with `&&`, or add parentheses if you really mean to compare a boolean.",
     "if 0 < x < 10 { }            // error\nif 0 < x && x < 10 { }       // fixed\n"},
    {"V-SYN-010", "`yield` inside a nested block",
     "`yield` ends a slice. A transition's continuation is (slice index, locals), so "
     "`yield` may only appear between the top-level statements of a transition body, not "
     "inside `if`, loops or functions.",
     "transition T() { if x > 0 { yield } }       // error\n"
     "transition T() { x = x + 1  yield  x = x + 1 }   // fine\n"},
    {"V-SYN-011", "invalid escape sequence",
     "String literals accept the escapes `\\n`, `\\t`, `\\r`, `\\0`, `\\\"`, `\\\\` and "
     "`\\u{XXXX}` (1 to 6 hex digits naming a Unicode scalar value).",
     "let s = \"tab\\q\"      // error: unknown escape `\\q`\nlet s = \"tab\\t\"      // fixed\n"},
    {"V-SYN-012", "numeric literal out of range",
     "Integer literals must fit in a 64-bit signed integer; float literals must be finite "
     "binary64 values.",
     "let n = 99999999999999999999     // error\n"},
    {"V-SYN-013", "unexpected character",
     "The character cannot start any token of Ved.",
     "let x = 3 # comment      // error: Ved comments are `//` and `/* */`\n"},
    {"V-SYN-014", "unterminated block comment",
     "A `/*` comment must be closed with `*/`. Block comments do not nest.",
     "/* a comment that never ends\n"},
    {"V-SYN-015", "reserved word used as a name",
     "Only the reserved words of the language are keywords everywhere; they cannot name a "
     "field, local, parameter or declaration. Contextual words such as `target`, "
     "`priority` or `step` remain usable as names.",
     "state { test: int }       // error: `test` is reserved\nstate { test_count: int } // fixed\n"},
    {"V-SYN-016", "goal predicate missing or repeated",
     "Every goal has exactly one predicate, written `predicate E`, `target E`, "
     "`predicate: E` or `target: E`. Other goal items (priority, strategy, "
     "terminate_after, backoff) may each appear at most once.",
     "goal Ready { priority: high }                       // error: no predicate\n"
     "goal Ready { priority: high  predicate: ready }     // fixed\n"},
    {"V-SYN-017", "slice blocks mixed with plain statements",
     "A transition body is either a list of statements (one slice, `yield` splits it), one "
     "`step { }` block, or a sequence of `slice name { }` blocks. Mixing slice blocks with "
     "statements outside them would leave those statements in no slice.",
     "transition T() { x = 1  slice a { y = 2 } }        // error\n"
     "transition T() { slice first { x = 1 } slice a { y = 2 } }   // fixed\n"},
    {"V-SYN-018", "unexpected closing delimiter",
     "A `}`, `)` or `]` has no matching opening delimiter, or closes a different kind of "
     "delimiter than the one that is open.",
     "fn f() -> int { return (1 + 2 }      // error: `}` closes the `(`\n"},
    {"V-SYN-019", "invalid assignment target",
     "Only a state field, a local, or an element or field of one (`xs[i]`, `m[k]`, `r.f`) "
     "can be assigned.",
     "len(xs) = 3      // error\n"},
    {"V-SYN-020", "source is not valid UTF-8",
     "Ved source files are UTF-8. The byte at the reported position does not start a valid "
     "UTF-8 sequence; re-save the file as UTF-8.",
     "(a file saved as Latin-1 containing `é`)\n"},
    {"V-SYN-021", "annotation without a declaration",
     "Annotations such as `@scope`, `@version`, `@privilege` and `@escalate` apply to the "
     "declaration that follows them; one that is followed by nothing, or by something "
     "that cannot carry annotations, is an error.",
     "@scope Namespace\n// end of file: error\n"},
    {"V-SYN-022", "section declared twice",
     "A domain has at most one `state` block, one `capability` block and one scope; a "
     "transition has at most one `capability` block and one `budget`.",
     "domain A { state { x: int } state { y: int } }     // error\n"
     "domain A { state { x: int  y: int } }                // fixed\n"},
    {"V-SYN-023", "malformed `on` clause",
     "A transition's `on` clause is `on start` (the start transition) or `on E.ok` / "
     "`on E.failed` where `E` is an effect name.",
     "transition Done() on Infra.Provision.okay { }    // error\n"
     "transition Done() on Infra.Provision.ok { }      // fixed\n"},
    // ---- Driver and I/O (V-ERR-1xx) ------------------------------------------------
    {"V-ERR-100", "source file cannot be read",
     "A file named on the command line does not exist or cannot be read.",
     "vedc missing.ved\n"},
};

}  // namespace

const std::vector<DiagnosticCodeInfo>& all_diagnostic_codes() { return kCodes; }

const DiagnosticCodeInfo* find_diagnostic_code(std::string_view code) {
  for (const auto& info : kCodes) {
    if (info.code == code) return &info;
  }
  return nullptr;
}

}  // namespace ved
