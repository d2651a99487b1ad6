// Program evolution, the VM's pure parts (vm/upgrade/, docs/upgrades.md): migrations
// compiled into the bundle and run on one stored instance's state (a field added, a
// chain v1 -> v2 -> v3, a fault, fuel), and the compatibility decision between an old
// and a new program for what a data dir holds, with every refusal's message.
#include <doctest/doctest.h>

#include "exec_support.h"
#include "vm/upgrade/compatibility.h"
#include "vm/upgrade/migration_runner.h"

using namespace ved;
using namespace ved::exec;
using namespace ved::vm::upgrade;

namespace {

// Compiles `source` (as `name`, which names the program) and fails the test if it does not.
std::unique_ptr<vm::Program> build(const std::string& source, const std::string& name = "app.ved") {
  Compiled c = compile(source, name);
  REQUIRE_MESSAGE(c.ok(), c.describe());
  return std::move(c.program);
}

uint32_t domain_of(const vm::Program& p, const std::string& name) {
  for (uint32_t i = 0; i < p.domains.size(); ++i)
    if (p.domains[i].name == name) return i;
  FAIL("no domain " << name);
  return 0;
}

// A fresh instance's state (its initializer's result) with some fields set.
Value state_of(const vm::Program& p, const std::string& domain,
               const std::vector<std::pair<std::string, Value>>& fields = {}) {
  const uint32_t d = domain_of(p, domain);
  vm::Interpreter interp(p);
  vm::InstanceEnv env;
  vm::CallResult r = interp.call(p.domains[d].initializer, {}, 1'000'000, env);
  REQUIRE(r.ok);
  Value s = r.value;
  for (const auto& [f, v] : fields) s = with_field(p, d, s, f, v);
  return s;
}

DataDirContents holding(std::vector<StoredDomain> domains, std::vector<StoredMessage> messages = {}) {
  return DataDirContents{std::move(domains), std::move(messages)};
}

const char* kV1 = R"(domain Profile {
    state { name: string  visits: int }
    transition Visit(n: int) { visits = visits + n }
}
)";

const char* kV2 = R"(@version 2
domain Profile {
    state { name: string  visits: int  email: string }
    transition Visit(n: int) { visits = visits + n }
}

migration add_email {
    from: Profile.State@1
    to: Profile.State@2
    return Profile.State@2(name = from.name, visits = from.visits, email = lower(from.name) + "@example.org")
}
)";

// v3 renames nothing and adds `tier`; the chain goes v1 -> v2 (an intermediate state the
// program declares no schema for) -> v3.
const char* kV3 = R"(@version 3
domain Profile {
    state { name: string  visits: int  email: string  tier: string }
    transition Visit(n: int) { visits = visits + n }
}

migration add_email {
    from: Profile.State@1
    to: Profile.State@2
    return Profile.State@2(name = from.name, visits = from.visits, email = lower(from.name) + "@example.org")
}

migration add_tier {
    from: Profile.State@2
    to: Profile.State@3
    let tier = "bronze"
    if from.visits >= 10 { tier = "gold" }
    return Profile.State@3(name = from.name, visits = from.visits, email = from.email, tier = tier)
}
)";

}  // namespace

TEST_CASE("migrations are compiled into the bundle: one Migration function each, verified") {
  auto p = build(kV3);
  REQUIRE(p->migrations.size() == 2);
  for (const auto& m : p->migrations) {
    const vm::FunctionInfo& f = p->functions.at(m.function);
    CHECK(f.kind == vm::FunctionKind::Migration);
    CHECK(f.domain == static_cast<int32_t>(domain_of(*p, "Profile")));
    CHECK(f.param_count == 1);
  }
  CHECK(p->migrations[0].name == "add_email");
  CHECK(p->migrations[1].to_version == 3);
  // The last step returns the domain's state; the first an intermediate record.
  CHECK(p->functions[p->migrations[1].function].result == p->domains[0].state_type);
  CHECK(p->functions[p->migrations[0].function].result != p->domains[0].state_type);
}

TEST_CASE("a migration adding a field: the migrated state is what the migration says") {
  auto v1 = build(kV1);
  auto v2 = build(kV2);
  MigrationRunner runner(*v1, *v2);
  MigrationResult r = runner.run(domain_of(*v2, "Profile"), 1, state_of(*v1, "Profile", {{"name", S("Ada")}, {"visits", I(4)}}),
                                 100'000);
  REQUIRE_MESSAGE(r.ok, r.error);
  CHECK(show(*v2, r.state) == R"(Profile.State(name: "Ada", visits: 4, email: "ada@example.org"))");
  CHECK(r.applied == std::vector<std::string>{"add_email"});
  CHECK(r.fuel_used > 0);
}

TEST_CASE("a chain v1 -> v2 -> v3, and v2 -> v3 alone, each state as the migrations say") {
  auto v1 = build(kV1);
  auto v2 = build(kV2);
  auto v3 = build(kV3);
  const uint32_t d = domain_of(*v3, "Profile");
  MigrationRunner from_v1(*v1, *v3);
  MigrationResult a = from_v1.run(d, 1, state_of(*v1, "Profile", {{"name", S("Bo")}, {"visits", I(12)}}), 100'000);
  REQUIRE_MESSAGE(a.ok, a.error);
  CHECK(show(*v3, a.state) == R"(Profile.State(name: "Bo", visits: 12, email: "bo@example.org", tier: "gold"))");
  CHECK(a.applied == std::vector<std::string>{"add_email", "add_tier"});
  // A data dir that v2 already migrated: only the last step runs, reading v2's schema.
  MigrationRunner from_v2(*v2, *v3);
  MigrationResult b = from_v2.run(
      d, 2, state_of(*v2, "Profile", {{"name", S("Cy")}, {"visits", I(1)}, {"email", S("cy@home")}}), 100'000);
  REQUIRE_MESSAGE(b.ok, b.error);
  CHECK(show(*v3, b.state) == R"(Profile.State(name: "Cy", visits: 1, email: "cy@home", tier: "bronze"))");
  CHECK(b.applied == std::vector<std::string>{"add_tier"});
  // Deterministic: the same input, the same state and fuel.
  MigrationResult again = from_v1.run(d, 1, state_of(*v1, "Profile", {{"name", S("Bo")}, {"visits", I(12)}}), 100'000);
  CHECK(show(*v3, again.state) == show(*v3, a.state));
  CHECK(again.fuel_used == a.fuel_used);
  // Already at the program's version with the same schema: the state as is.
  MigrationRunner same(*v3, *v3);
  MigrationResult c = same.run(d, 3, a.state, 100'000);
  REQUIRE_MESSAGE(c.ok, c.error);
  CHECK(c.applied.empty());
  CHECK(show(*v3, c.state) == show(*v3, a.state));
}

TEST_CASE("a faulting migration stops with its name, kind and source position") {
  auto v1 = build(kV1);
  auto v2 = build(R"(@version 2
domain Profile {
    state { name: string  visits: int  per_char: int }
}

migration average {
    from: Profile.State@1
    to: Profile.State@2
    let per = from.visits / len(from.name)
    return Profile.State@2(name = from.name, visits = from.visits, per_char = per)
}
)");
  MigrationRunner runner(*v1, *v2);
  const uint32_t d = domain_of(*v2, "Profile");
  MigrationResult ok = runner.run(d, 1, state_of(*v1, "Profile", {{"name", S("abc")}, {"visits", I(9)}}), 100'000);
  REQUIRE_MESSAGE(ok.ok, ok.error);
  MigrationResult r = runner.run(d, 1, state_of(*v1, "Profile", {{"name", S("")}, {"visits", I(9)}}), 100'000);
  CHECK_FALSE(r.ok);
  CHECK(r.fault.kind == vm::FaultKind::DivisionByZero);
  CHECK(r.migration == "average");
  CHECK(r.location == "app.ved:9:27");
  CHECK(r.error == "migration `average` of `Profile` (version 1 -> 2) faulted at app.ved:9:27: division by zero");
  CHECK(r.applied.empty());
}

TEST_CASE("migrations are fuel-bounded: a long one stops with a budget fault") {
  auto v1 = build(kV1);
  auto v2 = build(R"(@version 2
domain Profile {
    state { name: string  visits: int  total: int }
}

migration count {
    from: Profile.State@1
    to: Profile.State@2
    let i = 0
    let t = 0
    while i < from.visits { t = t + i  i = i + 1 }
    return Profile.State@2(name = from.name, visits = from.visits, total = t)
}
)");
  MigrationRunner runner(*v1, *v2);
  const uint32_t d = domain_of(*v2, "Profile");
  MigrationResult small = runner.run(d, 1, state_of(*v1, "Profile", {{"visits", I(10)}}), 100'000);
  REQUIRE_MESSAGE(small.ok, small.error);
  CHECK(show(*v2, small.state) == R"(Profile.State(name: "", visits: 10, total: 45))");
  MigrationResult big = runner.run(d, 1, state_of(*v1, "Profile", {{"visits", I(1'000'000)}}), 10'000);
  CHECK_FALSE(big.ok);
  CHECK(big.fault.kind == vm::FaultKind::Budget);
  CHECK(big.error.find("migration `count` of `Profile` (version 1 -> 2) faulted at app.ved:") == 0);
}

TEST_CASE("a rename: a field the current schema dropped is passed on as the new field") {
  auto v1 = build(kV1);
  auto v2 = build(R"(@version 2
domain Profile {
    state { full_name: string  visits: int }
}

migration rename {
    from: Profile.State@1
    to: Profile.State@2
    return Profile.State@2(full_name = from.name, visits = from.visits)
}
)");
  MigrationRunner runner(*v1, *v2);
  MigrationResult r = runner.run(domain_of(*v2, "Profile"), 1, state_of(*v1, "Profile", {{"name", S("Di")}, {"visits", I(2)}}),
                                 100'000);
  REQUIRE_MESSAGE(r.ok, r.error);
  CHECK(show(*v2, r.state) == R"(Profile.State(full_name: "Di", visits: 2))");
  auto report = check_compatibility(*v1, *v2, holding({{"Profile", 1, 1}}));
  CHECK(report.verdict == Verdict::MigrationsNeeded);
}

TEST_CASE("the runner refuses a stored state a migration cannot read, and a missing chain") {
  // The old program has `visits` as a string: the migration reads it as an int.
  auto old = build("domain Profile {\n    state { name: string  visits: string }\n}\n");
  auto v2 = build(kV2);
  MigrationRunner runner(*old, *v2);
  MigrationResult r = runner.run(domain_of(*v2, "Profile"), 1, state_of(*old, "Profile"), 100'000);
  CHECK_FALSE(r.ok);
  CHECK(r.fault.kind == vm::FaultKind::None);
  CHECK(r.error ==
        "migration `add_email` of `Profile` (version 1 -> 2) reads `from.visits` as int, and the state at version 1 "
        "holds string (string -> int)");
  auto no_name = build("domain Profile {\n    state { visits: int }\n}\n");
  MigrationRunner runner2(*no_name, *v2);
  MigrationResult r2 = runner2.run(domain_of(*v2, "Profile"), 1, state_of(*no_name, "Profile"), 100'000);
  CHECK(r2.error ==
        "migration `add_email` of `Profile` (version 1 -> 2) reads `from.name`, and the state at version 1 has no such field");
  MigrationResult newer = runner.run(domain_of(*v2, "Profile"), 5, state_of(*old, "Profile"), 100'000);
  CHECK(newer.error == "stored instances of `Profile` are at version 5, newer than this program's version 2");
}

TEST_CASE("migration bodies that cannot be compiled are refused with a code") {
  run_compile_error_cases({
      // A field of an intermediate version must be named: the program declares no schema for it.
      {"@version 3\ndomain D { state { a: int  b: int } }\n"
       "migration m1 { from: D.State@1  to: D.State@2  return D.State@2(from.a) }\n"
       "migration m2 { from: D.State@2  to: D.State@3  return D.State@3(a = from.a, b = 0) }\n",
       "V-TYP-004 at 3:65"},
      // A migration builds the state of its own `to:`.
      {"@version 2\ndomain D { state { a: int } }\n"
       "migration m1 { from: D.State@1  to: D.State@2  return D.State@1(a = 1) }\n",
       "V-TYP-012 at 3:55"},
  });
}

// ---- compatibility ------------------------------------------------------------------

namespace {

Refusal only_refusal(const CompatibilityReport& r) {
  REQUIRE(r.verdict == Verdict::Refused);
  REQUIRE(r.refusals.size() == 1);
  return r.refusals[0];
}

}  // namespace

TEST_CASE("compatible: code-only changes resume with nothing to run") {
  auto v1 = build(kV1);
  // The transition body rewritten, a new transition, a new domain, a new goal.
  auto edited = build(R"(domain Profile {
    state { name: string  visits: int }
    goal Busy { predicate: visits > 3  strategy: Bump }
    transition Visit(n: int) { visits += n }
    transition Bump() { visits = visits + 1 }
}
domain Audit { state { seen: int } }
)");
  auto r = check_compatibility(*v1, *edited, holding({{"Profile", 3, 1}}, {{"Profile", "Visit", 2}}));
  CHECK(r.verdict == Verdict::Compatible);
  CHECK(r.refusals.empty());
  CHECK(r.migrations.empty());
  CHECK(r.describe().empty());
}

TEST_CASE("migrations needed: a version bump with a chain from the stored version") {
  auto v1 = build(kV1);
  auto v3 = build(kV3);
  auto r = check_compatibility(*v1, *v3, holding({{"Profile", 7, 1}}));
  REQUIRE(r.verdict == Verdict::MigrationsNeeded);
  REQUIRE(r.migrations.size() == 1);
  CHECK(r.migrations[0].domain == "Profile");
  CHECK(r.migrations[0].from_version == 1);
  CHECK(r.migrations[0].to_version == 3);
  CHECK(r.migrations[0].chain.size() == 2);
  CHECK(r.migrations[0].instances == 7);
  // A domain without instances needs nothing, whatever changed.
  CHECK(check_compatibility(*v1, *v3, holding({{"Profile", 0, 1}})).verdict == Verdict::Compatible);
}

TEST_CASE("refused: another program") {
  auto v1 = build(kV1, "app.ved");
  auto other = build(kV1, "billing.ved");
  const Refusal f = only_refusal(check_compatibility(*v1, *other, holding({{"Profile", 1, 1}})));
  CHECK(f.kind == Refusal::Kind::ProgramRenamed);
  CHECK(f.message == "the data dir holds the state of program `app`, and this program is `billing`");
  CHECK(f.hint == "run `billing` on a data dir of its own (--data-dir), or start over with --fresh");
}

TEST_CASE("refused: a domain removed while it has instances") {
  auto v1 = build(kV1 + std::string("domain Audit { state { seen: int } }\n"));
  auto v2 = build(kV1);
  const Refusal f = only_refusal(check_compatibility(*v1, *v2, holding({{"Profile", 1, 1}, {"Audit", 2, 1}})));
  CHECK(f.kind == Refusal::Kind::DomainRemoved);
  CHECK(f.subject == "Audit");
  CHECK(f.message == "domain `Audit` is not in the new program, and the data dir holds 2 stored instances of it");
  CHECK(f.hint == "keep `domain Audit` in the program (its state schema unchanged), or start over with --fresh");
  // Removed with no instances: fine.
  CHECK(check_compatibility(*v1, *v2, holding({{"Profile", 1, 1}, {"Audit", 0, 1}})).verdict == Verdict::Compatible);
}

TEST_CASE("refused: a changed schema without a version bump, naming the field differences") {
  auto v1 = build(kV1);
  auto changed = build(R"(domain Profile {
    state { name: int  email: string }
    transition Visit(n: int) { }
}
)");
  const Refusal f = only_refusal(check_compatibility(*v1, *changed, holding({{"Profile", 1, 1}})));
  CHECK(f.kind == Refusal::Kind::SchemaChanged);
  CHECK(f.message ==
        "the state of domain `Profile` changed (field `name` string -> int; field `email: string` added; field "
        "`visits` removed) and its `@version` is still 1, with 1 stored instance of the old schema");
  CHECK(f.hint ==
        "add `@version 2` to `domain Profile` and a migration, e.g. `migration profile_v2 { from: Profile.State@1  to: "
        "Profile.State@2  return Profile.State@2(name = ..., email = ...) }`; or start over with --fresh");
}

TEST_CASE("refused: no migration chain from the stored version") {
  // 1 -> 3 directly: complete from version 1 (the compiler's rule), not from 2.
  auto v3 = build(R"(@version 3
domain Profile {
    state { name: string  visits: int  email: string  tier: string }
}
migration jump {
    from: Profile.State@1
    to: Profile.State@3
    return Profile.State@3(name = from.name, visits = from.visits, email = "", tier = "")
}
)");
  auto v2 = build(kV2);
  const Refusal f = only_refusal(check_compatibility(*v2, *v3, holding({{"Profile", 4, 2}})));
  CHECK(f.kind == Refusal::Kind::NoMigrationChain);
  CHECK(f.message ==
        "domain `Profile` is at `@version 3`, and the data dir holds 4 stored instances at version 2: no migration of "
        "`Profile` starts at version 2 (the chain from 2 to 3 is incomplete)");
  CHECK(f.hint.find("add a migration from Profile.State@2, e.g. `migration profile_v3 { from: Profile.State@2  to: "
                    "Profile.State@3  return Profile.State@3(name = from.name, visits = from.visits, email = "
                    "from.email, tier = ...) }`") == 0);
}

TEST_CASE("refused: stored instances newer than the program") {
  auto v2 = build(kV2);
  auto v1 = build(kV1);
  const Refusal f = only_refusal(check_compatibility(*v2, *v1, holding({{"Profile", 1, 2}})));
  CHECK(f.kind == Refusal::Kind::VersionDowngraded);
  CHECK(f.message ==
        "domain `Profile` is at `@version 1`, and the data dir holds 1 stored instance at version 2, written by a newer "
        "program");
}

TEST_CASE("refused: a migration that reads a stored field as another type") {
  auto old = build("domain Profile {\n    state { name: string  visits: string }\n}\n");
  auto v2 = build(kV2);
  const Refusal f = only_refusal(check_compatibility(*old, *v2, holding({{"Profile", 1, 1}})));
  CHECK(f.kind == Refusal::Kind::MigrationInputMismatch);
  CHECK(f.message ==
        "migration `add_email` of domain `Profile` reads `from.visits` of Profile.State@1, and it is stored as string "
        "and read as int");
}

TEST_CASE("refused: a message type in stored mailboxes removed or changed") {
  auto v1 = build(kV1);
  auto removed = build("domain Profile {\n    state { name: string  visits: int }\n}\n");
  const Refusal gone =
      only_refusal(check_compatibility(*v1, *removed, holding({{"Profile", 1, 1}}, {{"Profile", "Visit", 3}})));
  CHECK(gone.kind == Refusal::Kind::MessageRemoved);
  CHECK(gone.subject == "Profile.Visit");
  CHECK(gone.message ==
        "message `Profile.Visit` is in 3 stored mailbox entries, and the new program has no transition `Visit` in "
        "`Profile`");
  CHECK(gone.hint.find("let the old program deliver them first") == 0);
  auto changed = build(R"(domain Profile {
    state { name: string  visits: int }
    transition Visit(n: string) { name = n }
}
)");
  const Refusal& f =
      only_refusal(check_compatibility(*v1, *changed, holding({{"Profile", 1, 1}}, {{"Profile", "Visit", 1}})));
  CHECK(f.kind == Refusal::Kind::MessageChanged);
  CHECK(f.message ==
        "message `Profile.Visit` changed (parameter `n` int -> string) and is in 1 stored mailbox entry written with "
        "the old signature");
  // The same change with no entry in any mailbox: fine.
  CHECK(check_compatibility(*v1, *changed, holding({{"Profile", 1, 1}}, {{"Profile", "Visit", 0}})).verdict ==
        Verdict::Compatible);
}

TEST_CASE("several refusals are all reported, in the order of the data dir's contents") {
  auto v1 = build(kV1 + std::string("domain Audit { state { seen: int } }\n"), "app.ved");
  auto v2 = build("domain Profile {\n    state { name: int }\n}\n", "app.ved");
  auto r = check_compatibility(*v1, *v2, holding({{"Profile", 1, 1}, {"Audit", 1, 1}}, {{"Profile", "Visit", 1}}));
  REQUIRE(r.verdict == Verdict::Refused);
  REQUIRE(r.refusals.size() == 3);
  CHECK(r.refusals[0].subject == "Profile");
  CHECK(r.refusals[1].subject == "Audit");
  CHECK(r.refusals[2].subject == "Profile.Visit");
  CHECK(r.describe().find("domain `Audit` is not in the new program") != std::string::npos);
}
