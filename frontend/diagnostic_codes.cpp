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
    {"V-SYN-024", "nesting too deep",
     "Delimiters (`(`, `[`, `{`) may nest at most 256 deep, at most 256 prefix operators may "
     "follow each other, constructs may nest about 250 levels, and one expression may chain "
     "up to a thousand operators. The bounds keep the compiler's time and recursion safe on "
     "any input; no readable program comes near them.",
     "let x = ((((((((((...1...))))))))))     // 600 levels: error\n"},
    // ---- Types and names (V-TYP) ----------------------------------------------------
    {"V-TYP-001", "unknown name",
     "The name is not a local, a parameter, or a state field of this domain (or it names "
     "something that is not a value, such as a domain type). The help suggests the "
     "nearest visible name.",
     "transition T() { total = totl + 1 }     // error: did you mean `total`?\n"},
    {"V-TYP-002", "mismatched types",
     "A value of one type is used where another is required. There are no implicit "
     "conversions except int to float in mixed arithmetic; convert with `int(..)`, "
     "`float(..)` or `str(..)`, and unwrap optionals with `??`.",
     "state { count: int }\ntransition T() { count = \"three\" }     // error\n"},
    {"V-TYP-003", "unknown type",
     "A type name is not one of int, float, bool, string, unit, list<T>, map<K, V>, T?, a "
     "declared record type, or one of their aliases (Int, String, Boolean, ...). Map keys must "
     "be int or string.",
     "state { at: timestamp }      // error: unknown type\n"},
    {"V-TYP-004", "wrong arguments",
     "A call or message has too many or too few arguments, an argument the callee does not "
     "have, one given twice, or a positional argument after named ones. A use of an "
     "undeclared effect is checked against the first use, which declares it implicitly.",
     "domain Counter {\n  transition Bump(by: int) { }\n  transition T() { send Counter.Bump(b: 1) }   // error: no parameter `b`; did you mean `by`?\n}\n"},
    {"V-TYP-005", "unknown field",
     "The record or domain has no field by that name.",
     "type Worker { id: string }\nfn f(w: Worker) -> string { return w.name }   // error\n"},
    {"V-TYP-006", "unknown domain",
     "A `send`, `spawn`, `system`, `given`, `send_to` or migration names a domain that is not "
     "declared.",
     "transition T() { send Billing.Charge() }     // error if no domain `Billing`\n"},
    {"V-TYP-007", "unknown message",
     "The target domain has no transition by that name, so the message could never be "
     "delivered.",
     "send Ledger.Recrod(amount: 1)     // error: did you mean `Record`?\n"},
    {"V-TYP-008", "operator does not apply",
     "The operator is not defined for these operand types: arithmetic needs numbers (`+` "
     "also joins two strings), ordering needs two numbers or two strings, `&&`/`||` need "
     "bools, `??` needs an optional on its left.",
     "let x = \"a\" * 2      // error\n"},
    {"V-TYP-009", "not callable",
     "Only functions, built-ins, record types, effects and observations can be called. "
     "Messages to domains are sent with `send`, not called.",
     "transition T() { Ledger.Record(1) }    // error: write `send Ledger.Record(amount: 1)`\n"},
    {"V-TYP-010", "declared twice",
     "Two declarations in one namespace share a name: domains, transitions, fields, goals, "
     "functions, records, effects, parameters, locals of one block, or started instances.",
     "state { n: int  n: int }     // error\n"},
    {"V-TYP-011", "condition is not a bool",
     "Goal predicates, invariants, and the conditions of `if`, `while`, `assert` and `expect` "
     "must be `bool`.",
     "goal G { predicate: count }     // error if count is an int; write `count > 0`\n"},
    {"V-TYP-012", "bad return",
     "`return` is only allowed in functions and migrations; its value must have the declared "
     "result type; a function with a result must return on every path.",
     "fn f() -> int { }     // error: may finish without returning\n"},
    {"V-TYP-013", "bad index or iteration",
     "Lists and strings are indexed by int, maps by their key type; `for` iterates lists, maps "
     "and ranges `a..b`.",
     "let xs = [1, 2]\nlet y = xs[\"a\"]     // error\n"},
    {"V-TYP-014", "invalid goal setting",
     "A goal's priority is 0 to 255 or one of critical, high, normal, low, background; "
     "`terminate_after` needs a positive count (or `never`); `backoff` is `none` or "
     "`exponential(max: N)` with N at least 1.",
     "goal G { predicate: done  priority: 300 }     // error\n"},
    {"V-TYP-016", "bad outcome or start handler signature",
     "`on E.ok` handlers take one parameter of E's result type (none when it is `unit`); "
     "`on E.failed` handlers take one `EffectError`; start transitions take no parameters.",
     "effect Infra.Provision(size: string) -> string : infrastructure\n"
     "transition Done(n: int) on Infra.Provision.ok { }     // error: delivers `string`\n"},
    {"V-TYP-017", "not an effect intent",
     "`emit` takes an effect call (or a value made by one). An effect call on its own, "
     "outside `emit`, would be dropped.",
     "transition T() { Log.Info(msg: \"x\") }     // error: write `emit Log.Info(msg: \"x\")`\n"},
    {"V-TYP-018", "cannot infer a type",
     "Every value has one type when the program is compiled. An empty `[]` or `{}` whose "
     "element type nothing determines (a local initialised with it and never given a "
     "declared type) cannot be compiled. Declare the type.",
     "fn f() -> int { let xs = []  return len(xs) }   // error: write `let xs: list<int> = []`\n"},
    {"V-TYP-019", "record contains itself",
     "A record holds its fields' values inside it, so a record that contains itself through "
     "plain record fields, directly or through other records (`A` holds a `B` that holds an "
     "`A`), would be infinitely large: not even its zero value could be built. End the cycle "
     "with an optional, a list or a map, whose zero values (`none`, empty) have nothing inside; "
     "a record may hold itself that way.",
     "type Node { value: int, next: Node }      // error: every Node holds another Node\n"
     "type Node { value: int, next: Node? }     // fixed: `none` ends the chain\n"},
    // ---- Semantic errors (V-ERR) ---------------------------------------------------
    {"V-ERR-001", "upward mutation",
     "Code at one authority scope sent to or spawned a domain at a strictly higher scope. "
     "Mutations flow down the lattice (Tenant > Environment > Workspace > Target > "
     "Namespace). Route the request through a domain at or above the target's scope, answer "
     "with `reply` (which is exempt), or mark the transition "
     "`@escalate(reason: \"...\")`, which compiles with V-WRN-030 and journals every use. "
     "Also reported when a transition's `@scope` would widen its domain's scope.",
     "@scope Workspace(\"payments\") domain Api { transition T() { send Scaler.Bump() } }\n"
     "@scope Environment(\"prod\")   domain Scaler { transition Bump() { } }   // error at the send\n"},
    {"V-ERR-002", "wall clock or entropy",
     "Execution is deterministic: nothing may read the wall clock or OS randomness. Use "
     "`tick()` for logical time and `rand(n)` for the instance's seeded generator.",
     "transition T() { started = System.time() }     // error: use tick()\n"},
    {"V-ERR-003", "migration chain incomplete",
     "A domain at `@version N` needs migrations from version 1 up to N (each from an older "
     "to a newer version of the same domain, ending with `return D.State@M(...)`), so that "
     "stored instances of any older version can be loaded.",
     "@version 2 domain D { state { x: int } }     // error: no migration from D.State@1\n"},
    {"V-ERR-006", "unresolved scope",
     "A scope reference names a level that does not exist, or a `Level(\"name\")` that is not "
     "declared in the `authority` tree, or one that is ambiguous. The help lists the declared "
     "scopes of that level.",
     "@scope Workspace(\"paymnts\") domain Api { }     // error\n"},
    {"V-ERR-007", "lateral mutation",
     "Code at one scope sent to or spawned a domain at a scope that is neither its ancestor "
     "nor its descendant. The help names their nearest common ancestor: a domain there may "
     "send to both.",
     "@scope Workspace(\"payments\")  domain A { transition T() { send B.U() } }\n"
     "@scope Workspace(\"inventory\") domain B { transition U() { } }    // error at the send\n"},
    {"V-ERR-008", "privilege exceeded",
     "A domain emits an effect declared with a higher privilege than its own (`@privilege`, "
     "default `local`). Levels: pure < local < service < infrastructure < root.",
     "effect Infra.Provision() : infrastructure\n"
     "domain Pool { transition T() { emit Infra.Provision() } }    // error: add @privilege infrastructure\n"},
    {"V-ERR-009", "capability violation",
     "Once a domain or transition declares `capability { }`, `send` needs `messaging`, and "
     "if `send_to:` targets are listed the target must be one of them. A transition's "
     "capabilities must be a subset of its domain's.",
     "domain A { capability { messaging, send_to: B }  transition T() { send C.U() } }   // error\n"},
    {"V-ERR-010", "reading another domain's state",
     "Domains share nothing: `Other.field` outside a test would read another domain's state. "
     "Send it a message and have it `reply` with the value.",
     "transition T() { if Ledger.total > 3 { } }     // error\n"},
    {"V-ERR-011", "impure code where purity is required",
     "Goal predicates, invariants, functions, field defaults and migrations are pure: they do "
     "not write state, send, emit, spawn, schedule or draw `rand()`; functions do not read "
     "state; invariants and functions do not read observations.",
     "goal G { predicate: rand(10) > 5 }     // error\n"},
    {"V-ERR-012", "bad strategy",
     "Every transition named in a goal's `strategy` must exist in the domain and take no "
     "parameters (an attempt cannot supply arguments).",
     "goal G { predicate: done  strategy: Finsh }     // error: did you mean `Finish`?\n"},
    {"V-ERR-013", "deploy of an unknown domain",
     "`deploy service D to E` names a domain that is not declared.",
     "deploy service Billing to Prod     // error if no domain `Billing`\n"},
    {"V-ERR-014", "deploy to an undeclared environment",
     "`deploy service D to E` names an environment that is not declared with "
     "`environment E { }`.",
     "deploy service Api to Prod     // error if no `environment Prod`\n"},
    {"V-ERR-015", "malformed authority tree",
     "In an `authority { }` tree every scope is `Level(\"name\")`, a child is at a strictly "
     "lower level than its parent, and no scope is declared twice under one parent.",
     "authority { Workspace(\"a\") { Tenant(\"t\") } }     // error: Tenant cannot be inside a Workspace\n"},
    {"V-ERR-016", "bad annotation argument",
     "`@scope` needs a scope, `@version` a positive integer, `@privilege` a level (and `root` "
     "a reason: `@privilege root(reason: \"...\")`), `@escalate` a reason; effect "
     "declarations name a known privilege level.",
     "@privilege root domain Ops { }     // error: reason required\n"},
    {"V-ERR-017", "two start transitions",
     "A domain has at most one start transition: `on start`, or (corpus compatibility) a "
     "parameterless transition named `Boot` without an `on` clause.",
     "transition Boot { }\ntransition Init() on start { }     // error\n"},
    {"V-ERR-018", "unknown annotation",
     "Domains take `@scope`, `@version` and `@privilege`; transitions take `@scope` and "
     "`@escalate`.",
     "@owner(\"me\") domain A { }     // error\n"},
    {"V-ERR-019", "import cannot be resolved",
     "`import \"path.ved\"` names a file relative to the directory of the importing file, "
     "and `import std.NAME` a module of the standard library (stdlib/NAME.ved, compiled into "
     "vedc). The file does not exist or cannot be read, or there is no such module. Only "
     "std modules are imported by name; a file of your own is imported by its path in quotes.",
     "import \"lib/util.ved\"     // error if lib/util.ved is not beside this file\n"
     "import std.math            // a standard library module\n"},
    {"V-ERR-020", "import cycle",
     "Files import each other in a circle (a imports b, b imports a). A program's files form "
     "a tree or a DAG: the declarations two files share belong in a third file both import.",
     "// a.ved\nimport \"b.ved\"\n// b.ved\nimport \"a.ved\"     // error: cycle a -> b -> a\n"},
    {"V-ERR-021", "script-mode members in more than one file",
     "A program has one implicit domain `Main`, made of the top-level state, goals and "
     "transitions of a script-mode file. Two files of one program (its roots and imports) "
     "both have such members.",
     "// a.ved\nstate { n: int }\n// b.ved, imported by a.ved\nstate { m: int }     // error\n"},
    {"V-ERR-022", "migration reads a field the current schema lacks",
     "A migration reads the stored state as `from.<field>`. The stored schema belongs to the "
     "program that wrote it, so the compiler types each field read by the field of that name "
     "in the domain's current schema, and the upgrade fills it from the stored state by name "
     "(docs/upgrades.md). A field the current schema does not declare has no known type, "
     "unless it is passed on as is to a field of the new state (`full_name = from.name`, a "
     "rename), whose type it then has.",
     "@version 2 domain D { state { full_name: string } }\n"
     "migration rename { from: D.State@1  to: D.State@2\n"
     "    return D.State@2(full_name = upper(from.name)) }   // error: D has no field `name` now\n"
     "    return D.State@2(full_name = from.name) }          // fine: read as a string\n"},
    {"V-ERR-023", "message type changed incompatibly",
     "`vedc --against old.vedb` found a transition of the deployed program that the new one "
     "removes or whose parameters it changes. Messages for it may wait in a data dir's "
     "mailboxes, written with the old signature, and the new program could not deliver them.",
     "// deployed: transition Visit(n: int)\ntransition Visit(n: string) { }   // error with --against\n"},
    {"V-ERR-024", "another program",
     "`vedc --against old.vedb` compared programs of different names: a data dir holds the "
     "state of one program, named after its first source file, and no other takes it over.",
     "vedc --against app.vedb billing.ved    // error: `app` is not `billing`\n"},
    // ---- Warnings (V-WRN) ----------------------------------------------------------
    {"V-WRN-004", "undeclared effect",
     "The effect is emitted (or handled, or stubbed) without a declaration, so its privilege "
     "cannot be checked and its result is `unit`. Its first use declares its parameters (named "
     "arguments by name, positional ones as `arg0`, `arg1`, ...) and later uses must agree "
     "with it. At run time it fails with `NoAdapter` unless an adapter is bound with "
     "`--effect` or `--adapter`.",
     "transition T() { emit PerformTask() }     // warning unless `effect PerformTask()` is declared\n"},
    {"V-WRN-010", "conflicting goals",
     "Two goals of one domain have predicates that cannot both hold (shown by interval "
     "analysis of comparisons joined with `&&`), so the runtime would oscillate between them "
     "until one is terminated.",
     "goal High { predicate: x >= 10 }\ngoal Low { predicate: x <= 5 }     // warning\n"},
    {"V-WRN-012", "goal can never act",
     "The goal has no `strategy`, and the domain has no parameterless transition without an "
     "`on` clause to infer one from.",
     "domain A { state { done: bool }  goal G { predicate: done } }     // warning\n"},
    {"V-WRN-020", "expression statement has no effect",
     "A statement that only computes a value (not a call) does nothing.",
     "transition T() { count + 1 }     // warning: did you mean `count = count + 1`?\n"},
    {"V-WRN-030", "escalated upward mutation",
     "A transition marked `@escalate(reason: \"...\")` mutates a domain above its scope. It "
     "compiles, and every execution journals an Escalation record with the reason.",
     "@escalate(reason: \"incident 42\") transition T() { send Billing.Freeze() }\n"},
    // ---- Lints (V-LNT), with --lint --------------------------------------------------
    {"V-LNT-001", "effect without a derived idempotency key",
     "An effect of privilege `service` or higher is emitted without `idempotency_key:`, or "
     "with a constant one. A key built from state or parameters lets the service recognise "
     "a retried intent and tell it from a new one.",
     "emit Net.HttpPost(url: u, body: b)     // lint: add idempotency_key: format(\"order-{}\", id)\n"},
    {"V-LNT-002", "state field never read",
     "No goal, invariant or transition of the domain reads the field.",
     "state { unused: int }\n"},
    {"V-LNT-003", "transition never used",
     "No goal strategy (explicit or inferred), message, reply or timer invokes the "
     "transition, and it is neither a start transition nor an outcome handler.",
     "transition Orphan(n: int) { }\n"},
    {"V-LNT-004", "migration reads an optional without handling `none`",
     "Stored states may hold `none` in an optional field; give a fallback with `??`.",
     "return D.State@2(note = from.note)     // lint: from.note ?? \"\"\n"},
    {"V-LNT-005", "unreachable code",
     "Statements after `fail` or `return` in the same block never run.",
     "fail \"stop\"\nx = 1     // lint\n"},
    {"V-LNT-010", "bare assignment declares a local that looks like a field",
     "In the docs style `x = e` declares a new local when `x` is neither a field nor a local. "
     "When `x` is within two edits of a field name it was probably meant to be that field.",
     "state { count: int }\ntransition T() { cont = 3 }     // lint: did you mean `count`?\n"},
    // ---- Notes (V-NTE), with --lint ------------------------------------------------
    {"V-NTE-001", "inferred strategy",
     "A goal without `strategy` uses every transition of its domain that takes no "
     "parameters, has no `on` clause and is not the start transition, in declaration order.",
     "goal Healthy { predicate: configured && running }   // note: strategy `Configure, Start`\n"},
    // ---- Driver and I/O (V-ERR-1xx) ------------------------------------------------
    {"V-ERR-100", "source file cannot be read",
     "A file named on the command line does not exist or cannot be read.",
     "vedc missing.ved\n"},
    {"V-ERR-101", "output cannot be written",
     "The compiled bundle could not be written (the directory does not exist, is not "
     "writable, or the disk is full), or the program is too large for the bundle's "
     "encoding. Nothing was written: an existing bundle at that path is left as it was.",
     "vedc app.ved -o /no/such/dir/app.vedb\n"},
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
