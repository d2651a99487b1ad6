// vedvm: the Ved virtual machine. Argument parsing and calls into the VM library only.
//
//   vedvm call BUNDLE NAME [ARG ...] [--fuel N] [--set FIELD=VALUE ...] [--seed S]
//       runs one piece of a program: a fn (`fib`), a transition slice by slice from the
//       domain's initial state (`Ledger.Transfer`), or a goal or invariant
//       (`Ledger.Drain`). Arguments and values are Ved literals: 42, -1.5, "text",
//       true, false, none.
//
// Exit codes (runtime.md §1): 0 success, 1 an error before running (bad bundle),
// 3 a fault, 64 usage error (among them a NAME the bundle does not have, or the wrong
// number of arguments for it).
#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "out_of_memory.h"
#include "tools/vedvm/cluster_commands.h"
#include "tools/vedvm/commands.h"
#include "vm/bundle_loader.h"
#include "vm/test_driver.h"

namespace {

using vedvm::kExitError;
using vedvm::kExitFault;
using vedvm::kExitOk;
using vedvm::kExitUsage;

using ved::vm::Value;

// A Ved literal from the command line.
std::optional<Value> parse_literal(const std::string& text) {
  if (text == "true") return Value::boolean(true);
  if (text == "false") return Value::boolean(false);
  if (text == "none") return Value::none();
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < text.size(); ++i) {
      if (text[i] == '\\' && i + 2 < text.size()) {
        char e = text[++i];
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        out += text[i];
      }
    }
    if (!ved::vm::is_valid_utf8(out)) return std::nullopt;
    return Value::string(std::move(out));
  }
  int64_t i = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
  if (ec == std::errc() && p == text.data() + text.size()) return Value::integer(i);
  double d = 0;
  auto [q, ec2] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec2 == std::errc() && q == text.data() + text.size()) return Value::floating(d);
  return std::nullopt;
}

struct CallOptions {
  std::string bundle;
  std::string name;
  std::vector<std::string> args;
  int64_t fuel = 1'000'000;
  std::vector<std::string> sets;
  uint64_t seed = 0;
  int64_t tick = 1;
};

// "a, b, c", at most `limit` of them and then how many more.
std::string name_list(const std::vector<std::string>& names, size_t limit = 20) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > limit) out += ", and " + std::to_string(names.size() - limit) + " more";
  return out;
}

std::vector<std::string> fn_names(const ved::vm::Program& p) {
  std::vector<std::string> names;
  for (const auto& f : p.functions)
    if (f.kind == ved::vm::FunctionKind::Fn) names.push_back(f.name);
  return names;
}

std::vector<std::string> domain_names(const ved::vm::Program& p) {
  std::vector<std::string> names;
  for (const auto& d : p.domains) names.push_back(d.name);
  return names;
}

// What `vedvm call` can run of domain `d`: `Domain.Member` for each transition, goal and
// invariant.
std::vector<std::string> member_names(const ved::vm::DomainInfo& d) {
  std::vector<std::string> names;
  for (const auto& t : d.transitions) names.push_back(d.name + "." + t.name);
  for (const auto& g : d.goals) names.push_back(d.name + "." + g.name);
  for (const auto& i : d.invariants) names.push_back(d.name + "." + i.name);
  return names;
}

std::string arguments(size_t n) { return std::to_string(n) + (n == 1 ? " argument" : " arguments"); }

// Checks that NAME is something the bundle has, given the right number of arguments;
// otherwise says what is wrong and what there is, and returns false (a usage error: the
// program never runs, so there is no place in it to fault at).
bool check_call_name(const ved::vm::Program& p, const CallOptions& o) {
  auto usage = [&](const std::string& message) {
    std::cerr << "vedvm: error: " << message << "\n";
    return false;
  };
  const std::string bundle = "`" + o.bundle + "`";
  const size_t dot = o.name.find('.');
  if (dot == std::string::npos) {
    for (const auto& f : p.functions)
      if (f.kind == ved::vm::FunctionKind::Fn && f.name == o.name) {
        if (o.args.size() == f.param_count) return true;
        return usage("fn `" + o.name + "` takes " + arguments(f.param_count) + ", given " +
                     std::to_string(o.args.size()));
      }
    for (const auto& d : p.domains)
      if (d.name == o.name) {
        const auto members = member_names(d);
        return usage("`" + o.name + "` is a domain, not a fn: call one of its transitions, goals or invariants" +
                     (members.empty() ? std::string(" (it has none)") : ": " + name_list(members)));
      }
    const auto fns = fn_names(p);
    return usage("no fn `" + o.name + "` in " + bundle + "; " +
                 (fns.empty() ? std::string("it has no fns") : "its fns: " + name_list(fns)) +
                 " (a transition, goal or invariant is called as Domain.Name)");
  }
  const std::string domain = o.name.substr(0, dot), member = o.name.substr(dot + 1);
  const ved::vm::DomainInfo* d = nullptr;
  for (const auto& candidate : p.domains)
    if (candidate.name == domain) d = &candidate;
  if (!d) {
    const auto domains = domain_names(p);
    return usage("no domain `" + domain + "` in " + bundle + "; " +
                 (domains.empty() ? std::string("it has no domains") : "its domains: " + name_list(domains)));
  }
  for (const auto& t : d->transitions)
    if (t.name == member) {
      if (o.args.size() == t.params.size()) return true;
      std::string params;
      for (const auto& f : t.params) params += (params.empty() ? "" : ", ") + f.name;
      return usage("transition `" + o.name + "` takes " + arguments(t.params.size()) +
                   (params.empty() ? "" : " (" + params + ")") + ", given " + std::to_string(o.args.size()));
    }
  bool evaluable = false;
  for (const auto& g : d->goals) evaluable = evaluable || g.name == member;
  for (const auto& i : d->invariants) evaluable = evaluable || i.name == member;
  if (evaluable) {
    if (o.args.empty()) return true;
    return usage("`" + o.name + "` is a goal or invariant: it takes no arguments, given " + std::to_string(o.args.size()));
  }
  const auto members = member_names(*d);
  return usage("domain `" + domain + "` has no transition, goal or invariant `" + member + "`; " +
               (members.empty() ? std::string("it has none") : "it has: " + name_list(members)));
}

int print_fault(const ved::vm::Program& p, const ved::vm::Fault& f) {
  std::cerr << "fault[" << ved::bytecode::fault_kind_name(f.kind) << "] at " << ved::vm::describe_fault_location(p, f)
            << ": " << f.message << "\n";
  return kExitFault;
}

int call(const CallOptions& o) {
  std::ifstream in(o.bundle, std::ios::binary);
  if (!in) {
    std::cerr << "vedvm: error: cannot read `" << o.bundle << "`\n";
    return kExitError;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  ved::vm::Program program;
  std::string error;
  if (!ved::vm::load_bundle(buffer.str(), program, error)) {
    std::cerr << "vedvm: error: `" << o.bundle << "` rejected: " << error << "\n";
    return kExitError;
  }
  std::vector<Value> args;
  for (const auto& a : o.args) {
    auto v = parse_literal(a);
    if (!v) {
      std::cerr << "vedvm: error: `" << a << "` is not a literal (42, 1.5, \"text\", true, false, none)\n";
      return kExitUsage;
    }
    args.push_back(std::move(*v));
  }
  if (!check_call_name(program, o)) return kExitUsage;
  ved::vm::TestDriver driver(program);
  auto context = program.builtin_context();
  auto show = [&](const Value& v) { return ved::vm::format_value(v, context.records, context.effect_names); };

  const size_t dot = o.name.find('.');
  if (dot == std::string::npos) {
    auto r = driver.call(o.name, args, o.fuel);
    // VED_JIT_REPORT=1: what the JIT compiled, on stderr (bench/vm reads the compile time).
    if (const char* report = std::getenv("VED_JIT_REPORT"); report && *report == '1') {
      const ved::vm::EngineStats s = driver.interpreter().engine_stats();
      std::cerr << "jit: " << s.engine << ", " << s.functions_compiled << " functions, " << s.instructions_compiled
                << " instructions, " << s.compile_seconds << " s compiling" << (s.error.empty() ? "" : ", " + s.error)
                << "\n";
    }
    if (!r.ok) return print_fault(program, r.fault);
    std::cout << show(r.value) << "\n";
    return kExitOk;
  }
  const std::string domain = o.name.substr(0, dot), member = o.name.substr(dot + 1);
  auto init = driver.initial_state(domain);
  if (!init.ok) return print_fault(program, init.fault);
  Value state = init.value;
  auto d = driver.domain_index(domain);
  for (const auto& s : o.sets) {
    size_t eq = s.find('=');
    const auto& layout = program.records[program.domains[*d].state_record];
    auto field = eq == std::string::npos ? layout.fields.end()
                                         : std::find(layout.fields.begin(), layout.fields.end(), s.substr(0, eq));
    auto v = eq == std::string::npos ? std::nullopt : parse_literal(s.substr(eq + 1));
    if (field == layout.fields.end() || !v) {
      std::cerr << "vedvm: error: `--set " << s << "` must be FIELD=LITERAL with a field of " << domain << "\n";
      return kExitUsage;
    }
    const size_t index = static_cast<size_t>(field - layout.fields.begin());
    const uint32_t type = program.record_field_types[program.domains[*d].state_record][index];
    const auto& t = program.types[type];
    if (v->tag() == ved::vm::Tag::Int && (t.kind == ved::vm::TypeKind::Float ||
                                          (t.kind == ved::vm::TypeKind::Optional &&
                                           program.types[t.x].kind == ved::vm::TypeKind::Float)))
      v = Value::floating(static_cast<double>(v->as_int()));
    if (!ved::vm::value_conforms(program, *v, type)) {
      std::cerr << "vedvm: error: `--set " << s << "`: the value does not fit the type of field `" << *field << "`\n";
      return kExitUsage;
    }
    state.mutable_record_fields()[index] = *v;
  }
  bool is_transition = false;
  for (const auto& t : program.domains[*d].transitions) is_transition = is_transition || t.name == member;
  if (!is_transition) {
    auto r = driver.evaluate(domain, member, state, o.fuel, o.tick);
    if (!r.ok) return print_fault(program, r.fault);
    std::cout << show(r.value) << "\n";
    return kExitOk;
  }
  auto run = driver.run_transition(domain, member, args, state, o.fuel, o.tick, o.seed);
  for (size_t i = 0; i < run.slices.size(); ++i) {
    const char* what = run.slices[i] == ved::vm::SliceResult::Status::Faulted ? "faulted (rolled back)" : "committed";
    std::cout << "slice " << i << ": " << what << "\n";
  }
  std::cout << "state: " << show(run.state) << "\n";
  for (const auto& m : run.outputs.sends) {
    const auto& info = program.messages[m.message];
    std::cout << "send " << (info.domain < 0 ? "reply" : program.domains[info.domain].name) << "."
              << info.name << "(";
    for (size_t k = 0; k < m.args.size(); ++k) std::cout << (k ? ", " : "") << show(m.args[k]);
    std::cout << ")\n";
  }
  for (const auto& i : run.outputs.intents) std::cout << "emit " << show(i) << "\n";
  if (run.faulted) return print_fault(program, run.fault);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  vedvm::stop_cleanly_on_out_of_memory();
  CLI::App app{"vedvm: the Ved virtual machine.\nRun a program with `vedvm app.vedb` (or `vedvm app.ved`)."};
  app.name("vedvm");
  app.set_version_flag("--version", std::string("vedvm ") + VED_VERSION);
  app.require_subcommand(0, 1);
  // The engine (docs/jit.md): given before or after a subcommand, it applies to every
  // interpreter the command makes. Results are the same under each.
  app.fallthrough();
  bool interp = false;
  std::string jit;
  app.add_flag("--interp", interp, "Run on the bytecode interpreter only");
  app.add_flag("--jit{tiered}", jit,
               "Compile with the LLVM JIT: --jit (the default) compiles functions once they have used enough "
               "fuel, --jit=all compiles everything before the first tick");

  vedvm::RunOptions run;
  app.add_option("program", run.program, "A bundle (.vedb) or a source file (.ved, .lxm) to run");
  app.add_option("--data-dir", run.data_dir, "Where the run's state lives (default .ved/<program>)");
  app.add_flag("--fresh", run.fresh, "Start over, discarding the data dir's state");
  app.add_option("--max-ticks", run.max_ticks,
                 "Stop at this tick: absolute, so a resumed run stops at the same tick number, not this many more")->check(CLI::Range(int64_t{1}, INT64_MAX));
  auto* trace = app.add_option("--trace", run.trace, "Print one line per event: --trace (text) or --trace=json")
                    ->expected(0, 1)
                    ->default_str("text")
                    ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--quiet", run.quiet, "No summary");
  auto* seed_option = app.add_option("--seed", run.seed, "The determinism seed (random generators); a resumed run keeps its own");
  auto* budget_option = app.add_option("--slice-budget", run.slice_budget,
                                       "Fuel per slice (default 1,000,000); a resumed run keeps its own")
                            ->check(CLI::Range(int64_t{1}, INT64_MAX));
  app.add_option("--effect", run.effects, "NAME=ok[:VALUE], NAME=fail[:MESSAGE] or NAME=script:FILE: a simulated adapter");
  app.add_option("--adapter", run.adapters, "NAME=tcp://HOST:PORT: an external adapter serving effect or observation NAME");
  app.add_option("--fs-root", run.fs_root, "The directory file effects and observations are confined to (default: .)");
  app.add_flag("--allow-exec", run.allow_exec, "Let Process.Run start programs");
  app.add_flag("--serve", run.serve, "Keep running when every goal holds, re-evaluating observations and timers");
  app.add_option("--tick-ms", run.tick_ms, "The tick period when serving (default 100)")
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}));
  app.add_option("--sync", run.sync, "tick (every committed tick is fsynced before it is seen outside, the default) or none")
      ->check(CLI::IsMember({"tick", "none"}));
  app.add_option("--group-ms", run.group_ms,
                 "Group commit: the longest a committed tick waits in memory before its group is written (default 5; "
                 "0: every tick is written as it commits)")
      ->check(CLI::Range(int64_t{0}, int64_t{60'000}));

  CallOptions o;
  CLI::App* call_cmd = app.add_subcommand("call", "Run one fn, transition or goal of a bundle, in isolation");
  call_cmd->add_option("bundle", o.bundle, "The bundle (.vedb)")->required();
  call_cmd->add_option("name", o.name, "fn name, Domain.Transition, or Domain.Goal / Domain.Invariant")->required();
  call_cmd->add_option("args", o.args, "Arguments: Ved literals");
  call_cmd->add_option("--fuel", o.fuel, "Fuel for the call (per slice for transitions; default 1,000,000)")
      ->check(CLI::Range(int64_t{1}, INT64_MAX));
  call_cmd->add_option("--set", o.sets, "FIELD=LITERAL: a state field before a transition or goal");
  call_cmd->add_option("--seed", o.seed, "Seed of the instance's random generator");
  call_cmd->add_option("--tick", o.tick, "The logical tick tick() returns (default 1)");

  std::string dir, instance;
  bool json = false;
  CLI::App* inspect_cmd = app.add_subcommand("inspect", "Show a data dir's instances, goals and mailboxes, offline");
  inspect_cmd->add_option("dir", dir, "The data dir (or --join HOST:PORT --program NAME: a cluster's run)");
  inspect_cmd->add_flag("--json", json, "One JSON document (shapes: docs/json.md)");
  int64_t at_tick = -1;
  inspect_cmd->add_option("--tick", at_tick, "Print the journal records of this tick instead")
      ->check(CLI::Range(int64_t{0}, INT64_MAX));
  std::string only;
  inspect_cmd->add_option("--instance", only, "Only this instance: Type or Type[id]");
  vedvm::InspectClusterOptions inspect_cluster;
  inspect_cmd->add_option("--join", inspect_cluster.join, "HOST:PORT of a cluster member: inspect a program's run there");
  inspect_cmd->add_option("--program", inspect_cluster.program, "With --join: the program (its name or id)");
  CLI::App* stats_cmd = app.add_subcommand("stats", "Count a data dir's journal events by kind");
  stats_cmd->add_option("dir", dir, "The data dir")->required();
  CLI::App* resume_cmd = app.add_subcommand("resume", "Clear a FAULTED instance so that it runs again");
  resume_cmd->add_option("dir", dir, "The data dir")->required();
  resume_cmd->add_option("instance", instance, "The instance: Type or Type[id]")->required();
  vedvm::ReplayCommandOptions replay;
  CLI::App* replay_cmd = app.add_subcommand("replay", "Re-execute a data dir's run from its journal and verify every tick");
  replay_cmd->add_option("dir", replay.data_dir, "The data dir")->required();
  replay_cmd->add_option("--from", replay.from, "Compare from this tick on");
  replay_cmd->add_option("--to", replay.to, "Stop after this tick");
  replay_cmd->add_option("--program", replay.program, "Replay against this build (.vedb or source) instead");
  replay_cmd->add_option("--trace", replay.trace, "Print the replayed run's events as the run printed them: --trace or --trace=json")
      ->expected(0, 1)
      ->default_str("text")
      ->check(CLI::IsMember({"text", "json"}));
  vedvm::UpgradeCommandOptions upgrade;
  CLI::App* upgrade_cmd = app.add_subcommand(
      "upgrade", "Take a data dir over to a new build of its program (migrating stored state); a serving run takes it at its next tick");
  upgrade_cmd->add_option("dir", upgrade.data_dir, "The data dir")->required();
  upgrade_cmd->add_option("program", upgrade.program, "The new build (.vedb or source)")->required();
  upgrade_cmd->add_option("--wait", upgrade.wait_seconds, "Seconds to wait for a serving run to take it (default 60)")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));
  vedvm::TimelineOptions timeline;
  CLI::App* timeline_cmd = app.add_subcommand(
      "timeline", "Write a data dir's run as one self-contained HTML page: a lane per instance, messages, effects, goals, faults");
  timeline_cmd->add_option("dir", timeline.data_dir, "The data dir")->required();
  timeline_cmd->add_option("-o,--output", timeline.output, "The page to write (default: timeline.html)");
  timeline_cmd->add_option("--from", timeline.from, "The first tick shown")->check(CLI::Range(int64_t{0}, INT64_MAX));
  timeline_cmd->add_option("--to", timeline.to, "The last tick shown")->check(CLI::Range(int64_t{0}, INT64_MAX));
  // The cluster (cluster.md): `vedvm --join HOST:PORT app.vedb` submits; node, status,
  // leave and keygen are subcommands. Every participant takes --key/--trust or --insecure.
  auto add_security = [](CLI::App* cmd, vedvm::SecurityFlags& flags) {
    cmd->add_option("--key", flags.key_dir, "This participant's CURVE key pair (a dir made by `vedvm keygen`)");
    cmd->add_option("--trust", flags.trust_dir, "The public keys allowed in (public.key or *.pub files, in sub-folders too)");
    cmd->add_flag("--insecure", flags.insecure, "Plaintext, unauthenticated: only if every participant runs --insecure");
  };
  vedvm::SecurityFlags inspect_security;
  add_security(inspect_cmd, inspect_security);
  vedvm::SubmitOptions submit;
  app.add_option("--join", submit.join, "HOST:PORT of a cluster member: submit PROGRAM to that cluster instead of running it");
  add_security(&app, submit.security);
  app.add_flag("--follow", submit.follow,
               "With --join: wait for the run to end on the cluster, print its summary and exit with its exit code");
  app.add_option("--timeout", submit.timeout_ms, "With --join: milliseconds to wait for a quorum (default 10000)")
      ->check(CLI::Range(1u, 3'600'000u));
  app.add_flag("--upgrade", submit.upgrade,
               "With --join: PROGRAM is a new build of the program of its name running there; its owner takes it at a "
               "tick boundary (migrating stored state), or refuses it and says why");
  vedvm::NodeCommandOptions node;
  CLI::App* node_cmd = app.add_subcommand("node", "Run a cluster node");
  node_cmd->add_option("--listen", node.listen, "HOST:PORT where peers and clients reach this node")->required();
  node_cmd->add_option("--data-dir", node.data_dir, "The node's data dir (its id, journal and state)")->required();
  node_cmd->add_flag("--bootstrap", node.bootstrap, "Start a new cluster with this node as its first member");
  node_cmd->add_option("--join", node.join, "HOST:PORT of any member of the cluster to join");
  node_cmd->add_option("--group", node.group, "The node's group (deploy environment)");
  node_cmd->add_option("--adapter", node.adapters,
                       "NAME=tcp://HOST:PORT: an external adapter serving effect or observation NAME for the programs this node runs");
  node_cmd->add_option("--fs-root", node.fs_root,
                       "Where the programs this node runs read and write files (default: DATA-DIR/files)");
  node_cmd->add_option("--failure-timeout", node.failure_timeout_ms,
                       "Milliseconds of silence after which the leader reports a member DOWN (default 1000)")
      ->check(CLI::Range(10u, 3'600'000u));
  node_cmd->add_option("--rebalance-after", node.rebalance_after_ms,
                       "Milliseconds a member back from DOWN must stay up before it receives programs again (default 5000)")
      ->check(CLI::Range(0u, 3'600'000u));
  node_cmd->add_option("--election-timeout", node.election_timeout_ms, "Raft's election timeout in ms (default 1000)")
      ->check(CLI::Range(50u, 60'000u));
  node_cmd->add_option("--snapshot-threshold", node.snapshot_threshold,
                       "Journal entries between snapshots; older ones are compacted away (default 8192; an eighth of them are kept)")
      ->check(CLI::Range(4u, 1'000'000u));
  node_cmd->add_flag("--no-sync", node.no_sync, "Do not fsync the journal (benchmarks only: a crash may lose commits)");
  node_cmd->add_option("--partition-file", node.partition_file,
                       "Testing only: a file of member ids or HOST:PORTs whose Raft traffic this node drops both ways, "
                       "re-read when it changes (docs/cluster.md, Partitions)");
  add_security(node_cmd, node.security);
  vedvm::StatusOptions status;
  CLI::App* status_cmd = app.add_subcommand("status", "Show a cluster's members, leader, indexes and programs");
  status_cmd->add_option("--join", status.join, "HOST:PORT of any member")->required();
  status_cmd->add_flag("--json", status.json, "One JSON document (docs/json.md)");
  add_security(status_cmd, status.security);
  vedvm::LeaveOptions leave;
  CLI::App* leave_cmd = app.add_subcommand("leave", "Remove a node from its cluster (leadership is handed over first)");
  leave_cmd->add_option("--join", leave.join, "HOST:PORT of any member")->required();
  leave_cmd->add_option("node", leave.node, "The node id (see vedvm status)")->required();
  add_security(leave_cmd, leave.security);
  std::string keygen_dir;
  CLI::App* keygen_cmd = app.add_subcommand("keygen", "Make a CURVE key pair: DIR/secret.key and DIR/public.key");
  keygen_cmd->add_option("--out", keygen_dir, "Where to write the pair")->required();
  vedvm::TestCommandOptions test;
  CLI::App* test_cmd = app.add_subcommand("test", "Run the program's `test` blocks in memory");
  test_cmd->add_option("program", test.program, "A source file (.ved) or bundle (.vedb)")->required();
  test_cmd->add_option("--filter", test.filter, "Only tests whose name contains this");
  test_cmd->add_option("--seed", test.seed, "The determinism seed (random generators)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  {
    // The tiered JIT is the default: it opens libved_jit.so (LLVM) only when a function
    // has spent enough fuel to be compiled, so a short run starts and runs as the
    // interpreter alone would; --interp never opens it.
    ved::vm::EngineOptions engine;
    engine.mode = interp ? ved::vm::EngineOptions::Mode::Interpret : ved::vm::EngineOptions::Mode::Tiered;
    if (!jit.empty() && interp) {
      std::cerr << "vedvm: error: --interp and --jit choose different engines: give one\n";
      return kExitUsage;
    }
    if (jit == "tiered") {
      engine.mode = ved::vm::EngineOptions::Mode::Tiered;
    } else if (jit == "all") {
      engine.mode = ved::vm::EngineOptions::Mode::All;
    } else if (!jit.empty()) {
      std::cerr << "vedvm: error: --jit takes no value or `all`, not `" << jit << "`\n";
      return kExitUsage;
    }
    ved::vm::set_default_engine(engine);
  }
  if (*call_cmd) return call(o);
  if (*inspect_cmd && !inspect_cluster.join.empty()) {
    if (!dir.empty() || inspect_cluster.program.empty() || at_tick >= 0) {
      std::cerr << "vedvm: error: inspect --join HOST:PORT takes --program NAME, and no data dir or --tick\n";
      return kExitUsage;
    }
    inspect_cluster.json = json;
    inspect_cluster.instance = only;
    inspect_cluster.security = inspect_security;
    return vedvm::inspect_cluster(inspect_cluster);
  }
  if (*inspect_cmd && dir.empty()) {
    std::cerr << "vedvm: error: inspect takes a data dir (or --join HOST:PORT --program NAME)\n";
    return kExitUsage;
  }
  if (*inspect_cmd) return at_tick >= 0 ? vedvm::journal(dir, at_tick, json) : vedvm::inspect(dir, json, only);
  if (*stats_cmd) return vedvm::stats(dir);
  if (*resume_cmd) return vedvm::resume(dir, instance);
  if (*replay_cmd) {
    if (replay_cmd->count("--trace") > 0 && replay.trace.empty()) replay.trace = "text";
    return vedvm::replay(replay);
  }
  if (*upgrade_cmd) return vedvm::upgrade(upgrade);
  if (*test_cmd) return vedvm::test(test);
  if (*timeline_cmd) return vedvm::timeline(timeline);
  if (*node_cmd) return vedvm::node(node);
  if (*status_cmd) return vedvm::status(status);
  if (*leave_cmd) return vedvm::leave(leave);
  if (*keygen_cmd) return vedvm::keygen(keygen_dir);
  if (!submit.join.empty()) {
    if (run.program.empty()) {
      std::cerr << "vedvm: error: --join HOST:PORT submits a program: give the bundle (.vedb) or source (.ved)\n";
      return kExitUsage;
    }
    if (trace->count() > 0 && !submit.follow) {
      std::cerr << "vedvm: error: --trace goes with --follow when submitting to a cluster (the trace is streamed as the "
                   "cluster commits the run)\n";
      return kExitUsage;
    }
    submit.trace = trace->count() > 0 ? (run.trace.empty() ? "text" : run.trace) : "";
    if (submit.upgrade && seed_option->count() > 0) {
      std::cerr << "vedvm: error: --seed goes with a submission; an upgrade keeps the seed the run began with\n";
      return kExitUsage;
    }
    submit.program = run.program;
    submit.seed = run.seed;
    return vedvm::submit(submit);
  }
  if (!submit.security.key_dir.empty() || !submit.security.trust_dir.empty() || submit.security.insecure ||
      app.count("--timeout") > 0 || submit.follow || submit.upgrade) {
    std::cerr << "vedvm: error: --key, --trust, --insecure, --timeout, --follow and --upgrade go with --join HOST:PORT "
                 "(submitting to a cluster); a local run takes none of them (`vedvm upgrade DIR app.vedb` upgrades a "
                 "data dir)\n";
    return kExitUsage;
  }
  if (!run.program.empty()) {
    if (trace->count() > 0 && run.trace.empty()) run.trace = "text";
    run.seed_given = seed_option->count() > 0;
    run.slice_budget_given = budget_option->count() > 0;
    return vedvm::run(run);
  }
  std::cerr << app.help();
  return kExitUsage;
}
