// `vedc --against old.vedb new.ved` (docs/upgrades.md): before anyone deploys, every
// domain whose schema changed without a migration (V-ERR-003, with the field
// differences) and every message type changed incompatibly (V-ERR-023) is an error at
// its place in the new source; a program that can take over compiles as usual.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "test_support.h"

using namespace ved::test;
namespace fs = std::filesystem;

namespace {

struct Scratch {
  fs::path dir;
  Scratch() {
    dir = fs::temp_directory_path() / ("ved-against-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "old");
    fs::create_directories(dir / "new");
  }
  ~Scratch() { fs::remove_all(dir); }
};

CommandResult vedc_run(const std::string& args) { return run(shell_quote(vedc()) + " --color=never " + args); }

const char* kOld = R"(domain Profile {
    state { name: string  visits: int }
    goal Seen { predicate: visits > 0  strategy: Visit }
    transition Visit() { visits = visits + 1 }
    transition Rename(n: string) { name = n }
}
)";

}  // namespace

TEST_CASE("vedc --against: schema and message changes a data dir could not survive are errors") {
  Scratch s;
  write_file(s.dir / "old" / "app.ved", kOld);
  const std::string old_bundle = (s.dir / "old.vedb").string();
  REQUIRE(vedc_run(shell_quote((s.dir / "old" / "app.ved").string()) + " -o " + shell_quote(old_bundle)).exit_code == 0);
  const fs::path app = s.dir / "new" / "app.ved";
  auto against = [&](const std::string& source, const std::string& mode = "--check ") {
    write_file(app, source);
    return vedc_run(mode + "--against " + shell_quote(old_bundle) + " " + shell_quote(app.string()));
  };

  // A code-only change: fine.
  auto same = against(std::string(kOld).replace(std::string(kOld).find("visits + 1"), 10, "1 + visits"));
  CHECK_MESSAGE(same.exit_code == 0, same.err);

  // A field added, no version bump: V-ERR-003 on the domain, naming the field.
  auto added = against(R"(domain Profile {
    state { name: string  visits: int  email: string }
    goal Seen { predicate: visits > 0  strategy: Visit }
    transition Visit() { visits = visits + 1 }
    transition Rename(n: string) { name = n }
}
)");
  CHECK(added.exit_code == 1);
  CHECK(added.err.find("error[V-ERR-003]: the state of domain `Profile` changed (field `email: string` added) and its "
                       "`@version` is still 1") != std::string::npos);
  CHECK(added.err.find("app.ved:1:8") != std::string::npos);
  CHECK(added.err.find("help: add `@version 2` to `domain Profile` and a migration, e.g. `migration profile_v2 { from: "
                       "Profile.State@1  to: Profile.State@2  return Profile.State@2(name = from.name, visits = "
                       "from.visits, email = ...) }`; or start over with --fresh") != std::string::npos);

  // The same with the bump and the migration: fine, and the bundle is written.
  auto migrated = against(R"(@version 2
domain Profile {
    state { name: string  visits: int  email: string }
    goal Seen { predicate: visits > 0  strategy: Visit }
    transition Visit() { visits = visits + 1 }
    transition Rename(n: string) { name = n }
}
migration add_email {
    from: Profile.State@1
    to: Profile.State@2
    return Profile.State@2(name = from.name, visits = from.visits, email = "")
}
)", "");
  CHECK_MESSAGE(migrated.exit_code == 0, migrated.err);
  CHECK(fs::exists(s.dir / "new" / "app.vedb"));
  fs::remove(s.dir / "new" / "app.vedb");

  // A message type changed and another removed: V-ERR-023 each; nothing written.
  auto messages = against(R"(domain Profile {
    state { name: string  visits: int }
    goal Seen { predicate: visits > 0  strategy: Bump }
    transition Bump() { visits = visits + 1 }
    transition Rename(n: int) { name = str(n) }
}
)", "");
  CHECK(messages.exit_code == 1);
  CHECK(messages.err.find("error[V-ERR-023]: message `Profile.Visit` is in 1 stored mailbox entry, and the new program "
                          "has no transition `Visit` in `Profile`") != std::string::npos);
  CHECK(messages.err.find("error[V-ERR-023]: message `Profile.Rename` changed (parameter `n` string -> int)") !=
        std::string::npos);
  CHECK(messages.err.find("app.ved:5:16") != std::string::npos);  // at `Rename`
  CHECK_FALSE(fs::exists(s.dir / "new" / "app.vedb"));

  // A domain removed: V-ERR-003 at the start of the program.
  auto removed = against("domain Other { state { n: int } }\n");
  CHECK(removed.exit_code == 1);
  CHECK(removed.err.find("error[V-ERR-003]: domain `Profile` is not in the new program") != std::string::npos);

  // Another program: V-ERR-024.
  write_file(s.dir / "new" / "billing.ved", kOld);
  auto other = vedc_run("--check --against " + shell_quote(old_bundle) + " " +
                        shell_quote((s.dir / "new" / "billing.ved").string()));
  CHECK(other.exit_code == 1);
  CHECK(other.err.find("error[V-ERR-024]: the data dir holds the state of program `app`, and this program is "
                       "`billing`") != std::string::npos);
}

TEST_CASE("vedc --against: a missing or bad bundle is a coded error, --emit is a usage error") {
  Scratch s;
  write_file(s.dir / "new" / "app.ved", kOld);
  const std::string app = shell_quote((s.dir / "new" / "app.ved").string());
  auto missing = vedc_run("--check --against " + shell_quote((s.dir / "nope.vedb").string()) + " " + app);
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("error[V-ERR-100]: cannot read") != std::string::npos);
  write_file(s.dir / "text.vedb", "not a bundle");
  auto bad = vedc_run("--check --against " + shell_quote((s.dir / "text.vedb").string()) + " " + app);
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("error[V-ERR-100]") != std::string::npos);
  CHECK(bad.err.find("is not a bundle this vedc reads") != std::string::npos);
  CHECK(vedc_run("--emit=ir --against x.vedb " + app).exit_code == 2);
}
