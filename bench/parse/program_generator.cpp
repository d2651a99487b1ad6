#include "bench/parse/program_generator.h"

#include <string_view>
#include <vector>

#include "bench/parse/expression_generator.h"
#include "bench/parse/source_writer.h"
#include "bench/parse/split_mix.h"

// A note on determinism: C++ leaves the evaluation order of function arguments (and of
// the operands of `+`) unspecified, so a call such as `cat(expr(), expr())` could draw
// its random numbers in a different order under another compiler. Every string that
// consumes randomness is therefore computed in a statement of its own (or inside a
// braced list, which is evaluated left to right) before it is concatenated.

namespace ved::bench {

namespace {

// Names of one cluster's declarations; `k` makes them unique in the program.
struct Cluster {
  explicit Cluster(size_t k)
      : k(k),
        producer(cat("Producer", k)),
        worker(cat("Worker", k)),
        gateway(cat("Gateway", k)),
        ledger(cat("Ledger", k)),
        job(cat("Job", k)),
        infra(cat("Infra", k)),
        notify(cat("Notify", k)),
        probe(cat("Probe", k)),
        node(cat("Node", k)),
        score(cat("score", k)),
        find(cat("find", k)),
        workspace(cat("ws", k)),
        target(cat("t", k)),
        ns(cat("ns", k)) {}

  size_t k;
  std::string producer, worker, gateway, ledger, job, infra, notify, probe, node, score, find, workspace, target, ns;
};

class ProgramGenerator {
 public:
  explicit ProgramGenerator(const GeneratorOptions& options) : options_(options), rng_(options.seed), exprs_(rng_) {}

  GeneratedProgram run();

 private:
  // Top-level pieces.
  void header(SourceWriter& w);
  void authority(SourceWriter& w, size_t clusters);
  void auditor(SourceWriter& w);
  void cluster(SourceWriter& w, const Cluster& c);
  void records_and_effects(SourceWriter& w, const Cluster& c);
  void functions(SourceWriter& w, const Cluster& c);
  void producer(SourceWriter& w, const Cluster& c);
  void worker(SourceWriter& w, const Cluster& c);
  void gateway(SourceWriter& w, const Cluster& c);
  void ledger(SourceWriter& w, const Cluster& c);
  void orchestration(SourceWriter& w, const Cluster& c);
  void migrations(SourceWriter& w, const Cluster& c);
  void test(SourceWriter& w, const Cluster& c);
  void system(SourceWriter& w, size_t clusters);

  // The environments expressions are generated in.
  ExprEnv transition_env(const Cluster& c, std::vector<Var> fields) const;
  ExprEnv pure_env(const Cluster& c, std::vector<Var> vars) const;

  // Style B statements: every statement form, nested up to two blocks deep.
  void statements(SourceWriter& w, const Cluster& c, ExprEnv& env, size_t count, int nesting);
  void statement(SourceWriter& w, const Cluster& c, ExprEnv& env, int nesting);
  void assignment(SourceWriter& w, ExprEnv& env);
  void element_assignment(SourceWriter& w, ExprEnv& env);
  void let(SourceWriter& w, ExprEnv& env);
  void send(SourceWriter& w, const Cluster& c, ExprEnv& env);
  void emit(SourceWriter& w, const Cluster& c, ExprEnv& env);
  void if_statement(SourceWriter& w, const Cluster& c, ExprEnv& env, int nesting);
  void for_statement(SourceWriter& w, const Cluster& c, ExprEnv& env, int nesting);
  // Style A statements: the corpus's assignments, string sends and `if`s.
  std::string compact_statement(const ExprEnv& env, std::string_view peer);
  // Extra state fields of random types, each with a constant default.
  void extra_fields(SourceWriter& w, const Cluster& c, std::vector<Var>& fields, size_t count);

  std::string expr(const ExprEnv& env, Ty type, int depth = 2, int min_level = 0) {
    return exprs_.expr(env, type, depth, min_level);
  }
  std::string cond(const ExprEnv& env, int depth = 2, int min_level = 0) { return exprs_.condition(env, depth, min_level); }
  std::string fresh_local(ExprEnv& env, Ty type, bool writable = true, const char* prefix = "v") {
    std::string name = cat(prefix, next_local_++);
    env.vars.push_back(Var{name, type, false, writable});
    return name;
  }
  // A writable variable, spelled as it is assigned (`x`, `state.x`, `self.x`).
  const Var* pick_writable(const ExprEnv& env, bool (*accept)(Ty));
  std::string spelled(const Var& v) {
    if (v.field && rng_.chance(15)) return (rng_.chance(50) ? "state." : "self.") + v.name;
    return v.name;
  }

  const GeneratorOptions& options_;
  SplitMix64 rng_;
  ExpressionGenerator exprs_;
  size_t next_local_ = 0;
  size_t domains_ = 0;
};

bool any_type(Ty) { return true; }

GeneratedProgram ProgramGenerator::run() {
  // Clusters are written first so that the authority tree, which must name every
  // cluster's workspace, can be placed at the top where a reader expects it.
  SourceWriter body;
  size_t clusters = 0;
  // Lines the header, authority tree, auditor and system block add, in total and per cluster.
  constexpr size_t kFixedLines = 60, kLinesPerClusterOutsideBody = 4;
  while (clusters == 0 || kFixedLines + body.lines() + clusters * kLinesPerClusterOutsideBody < options_.target_lines) {
    cluster(body, Cluster(clusters));
    ++clusters;
  }

  SourceWriter out;
  header(out);
  authority(out, clusters);
  auditor(out);
  out.append(body);
  system(out, clusters);

  GeneratedProgram program;
  program.lines = out.lines();
  program.clusters = clusters;
  program.domains = domains_;
  program.text = out.take();
  return program;
}

ExprEnv ProgramGenerator::transition_env(const Cluster& c, std::vector<Var> fields) const {
  ExprEnv env;
  env.vars = std::move(fields);
  env.record = c.job;
  env.find_fn = c.find;
  env.probe = c.probe + ".healthy";
  env.observations = true;
  env.transition = true;
  return env;
}

ExprEnv ProgramGenerator::pure_env(const Cluster& c, std::vector<Var> vars) const {
  ExprEnv env;
  env.vars = std::move(vars);
  env.record = c.job;
  return env;
}

void ProgramGenerator::header(SourceWriter& w) {
  w.line("// Generated by bench/parse (program_generator.cpp) for the front-end benchmark.");
  w.line("/* Deterministic: the same options always give the same program. Every declaration,");
  w.line("   goal, transition and statement form appears in every cluster, and `vedc --check`");
  w.line("   accepts the whole program without a single diagnostic. */");
  w.blank();
  w.line("import std.time");
  w.line("import \"shared/common.ved\"");
  w.blank();
  w.line("effect Archive.Export(path: string, rows: int) -> int : service");
  w.line("observe Fleet.capacity(region: string) -> int");
  w.blank();
  w.open("fn clamp(x: int, lo: int, hi: int) -> int");
  w.line("if x < lo { return lo } else if x > hi { return hi }");
  w.line("return x");
  w.close();
  w.blank();
  w.open("fn label(n: Int) -> String");
  w.open("if n > 0");
  w.line("return \"positive\"");
  w.reopen("else");
  w.line("return \"other\"");
  w.close();
  w.close();
  w.blank();
}

void ProgramGenerator::authority(SourceWriter& w, size_t clusters) {
  w.open("authority");
  w.open("Tenant(\"acme\")");
  w.open("Environment(\"prod\")");
  for (size_t k = 0; k < clusters; ++k) {
    // Both separators the grammar allows between scope nodes: newline and comma.
    if (k % 2 == 0) w.line(cat("Workspace(\"ws", k, "\") { Target(\"t", k, "\") { Namespace(\"ns", k, "\") } }"));
    else w.line(cat("Workspace(\"ws", k, "\") { Target(\"t", k, "\") { Namespace(\"ns", k, "\"); }, }"));
  }
  w.close();
  w.line("Environment(\"staging\") { Workspace(\"sandbox\") }");
  w.close();
  w.line("Tenant(\"globex\")");
  w.close();
  w.blank();
}

// The one Tenant-level domain. Producers (at Root, above every tenant) report to it:
// a downward send.
void ProgramGenerator::auditor(SourceWriter& w) {
  ++domains_;
  w.line("@scope Tenant(\"acme\")");
  w.line("@privilege root(reason: \"runs the audit tooling of every tenant workspace\")");
  w.open("domain Auditor");
  w.open("state");
  w.line("flags: map<string, int>");
  w.line("last_source: String? = none");
  w.line("runs: int");
  w.close();
  w.open("transition Flag(source: string)");
  w.line("if contains(flags, source) { flags[source] += 1 } else { flags[source] = 1 }");
  w.line("last_source = source");
  w.line("emit Process.Run(argv: [\"audit\", source], idempotency_key: format(\"audit-{}-{}\", source, runs))");
  w.line("runs += 1");
  w.close();
  w.line("transition Ran(out: string) on Process.Run.ok { last_source = out }");
  w.line("transition RunFailed(e: EffectError) on Process.Run.failed { runs -= 1 }");
  w.close();
  w.blank();
}

void ProgramGenerator::cluster(SourceWriter& w, const Cluster& c) {
  w.line(cat("// ---- cluster ", c.k, " ----"));
  if (c.k % 5 == 0) w.line(cat("/* cluster ", c.k, ": a producer/worker pair (corpus style) and a payment flow (docs style) */"));
  w.blank();
  records_and_effects(w, c);
  functions(w, c);
  producer(w, c);
  worker(w, c);
  gateway(w, c);
  ledger(w, c);
  orchestration(w, c);
  migrations(w, c);
  test(w, c);
}

void ProgramGenerator::records_and_effects(SourceWriter& w, const Cluster& c) {
  if (rng_.chance(50)) {
    w.line(cat("type ", c.job, " { id: string, size: int, tags: list<string>, owner: string? }"));
  } else {
    w.open(cat("type ", c.job));
    w.line("id: String");
    w.line("size: Int; tags: list<String>");
    w.line("owner: String?,");
    w.close();
  }
  w.line(cat("effect ", c.infra, ".Provision(target: string, version: string) -> string : infrastructure"));
  w.line(cat("effect ", c.notify, "(msg: string, level: int,)"));
  w.line(cat("observe ", c.probe, ".healthy(host: string) -> bool"));
  w.blank();
}

void ProgramGenerator::functions(SourceWriter& w, const Cluster& c) {
  ExprEnv env = pure_env(c, {{"x", Ty::Int, false, false}, {"ys", Ty::ListInt, false, false},
                             {"limit", Ty::Int, false, false}, {"total", Ty::Int}});
  w.open(cat("fn ", c.score, "(x: int, ys: list<int>, limit: Int) -> int"));
  w.line("let total: int = 0");
  w.open("for y in ys");
  std::string literal = exprs_.int_literal();
  w.line(cat("if y > x { total += y } else if y == x { total -= ", literal, " } else { total *= 2 }"));
  w.close();
  w.open("while total > limit");
  w.line("total = total / 2");
  w.close();
  w.open("for i in 0..len(ys)");
  std::string e = expr(env, Ty::Int, 1, 7);  // the right operand of `-`
  w.line(cat("total = total + ys[i] % 7 - ", e));
  w.close();
  std::string fallback = exprs_.int_literal();
  w.line(cat("let adjusted = ", c.find, "(ys, clamp(total, 0, limit)) ?? ", fallback));
  w.line("return adjusted");
  w.close();
  w.blank();

  // An optional result, returned on every path.
  w.open(cat("fn ", c.find, "(xs: list<int>, x: int) -> int?"));
  w.open("for y in xs");
  w.line("if y == x { return y }");
  w.close();
  w.line("return none");
  w.close();
  w.blank();
}

// Style A, the compact corpus spelling: `scope { domain }`, string sends, `slice step`.
// At Root, it sends down to its worker (in Namespace nsK) and to the Tenant's auditor.
void ProgramGenerator::producer(SourceWriter& w, const Cluster& c) {
  ++domains_;
  ExprEnv env = transition_env(c, {{"jobs_dispatched", Ty::Int, true}, {"online", Ty::Bool, true}, {"backlog", Ty::Int, true}});
  w.open(cat("domain ", c.producer));
  w.line(c.k % 2 == 0 ? "scope { domain }" : "scope { root }");
  w.line(cat("capability { messaging, send_to:", c.worker, ", send_to:", c.producer, ", send_to:Auditor }"));
  w.blank();
  w.line("state { jobs_dispatched: int online: bool backlog: int }");
  w.blank();
  w.open("goal MaintainUptime");
  w.line("priority 10");
  w.line("target online == true");
  w.line("strategy { Boot }");
  w.close();
  w.line(cat("goal Drain { target backlog <= ", rng_.between(0, 9), " priority 20 strategy { DispatchJob, Tick, Report } }"));
  w.line("invariant Bounded { jobs_dispatched >= 0 }");
  w.blank();
  w.open("transition Boot");
  w.line(cat("capability { messaging, send_to:", c.producer, " }"));
  w.open("slice step");
  w.line("online = true");
  w.line(cat("send(\"", c.producer, "\", \"DispatchJob\")"));
  w.close();
  w.close();
  w.blank();
  w.open("transition DispatchJob");
  w.line(cat("capability { messaging, send_to:", c.worker, " }"));
  w.open("slice step");
  w.line("jobs_dispatched = jobs_dispatched + 1 + (2 * 0)");
  w.line(cat("send(\"", c.worker, "\", \"ProcessJob\")"));
  w.close();
  w.close();
  w.blank();
  // Several statements on one line, with and without separators.
  w.line(cat("transition Tick { step { backlog = backlog - 1 send(\"", c.worker, "\", \"ProcessJob\"); online = true } }"));
  w.line(cat("transition Report { step { send(\"Auditor\", \"Flag\", source: \"", c.producer,
             "\") emit Log.Info(msg: \"reported \" + str(jobs_dispatched)) } }"));
  size_t extra = rng_.between(1, 3);
  for (size_t i = 0; i < extra; ++i) {
    w.open(cat("transition Extra", i));
    w.open("slice step");
    size_t n = rng_.between(2, 5);
    for (size_t s = 0; s < n; ++s) w.line(compact_statement(env, c.worker));
    w.close();
    w.close();
  }
  w.close();
  w.blank();
}

// Style A, in Namespace nsK (the member form `scope X`): it answers its producer with
// `reply` (a send would go upward) and sends only to itself.
void ProgramGenerator::worker(SourceWriter& w, const Cluster& c) {
  ++domains_;
  ExprEnv env = transition_env(c, {{"jobs_completed", Ty::Int, true}, {"target_val", Ty::Int, true}, {"priority", Ty::Int, true}});
  w.open(cat("domain ", c.worker));
  w.line(cat("scope Namespace(\"", c.ns, "\")"));
  w.line(cat("capability { messaging, send_to:", c.worker, " }"));
  // Contextual words (`priority`, `target`) are ordinary names for fields.
  w.line(cat("state { jobs_completed: int target_val: int = ", rng_.between(1, 9), " priority: int }"));
  w.open("goal Converge");
  w.line("priority 5");
  w.line("predicate jobs_completed == target_val");
  w.close();
  w.open("transition ProcessJob");
  w.open("slice step");
  w.line("jobs_completed = jobs_completed + 1");
  w.line("if jobs_completed < target_val { reply DispatchJob() }");
  w.line(cat("emit System.AppendFile(path: \"", c.worker, ".log\", content: str(jobs_completed))"));
  size_t n = rng_.between(1, 4);
  for (size_t s = 0; s < n; ++s) w.line(compact_statement(env, c.worker));
  w.close();
  w.close();
  w.close();
  w.blank();
}

std::string ProgramGenerator::compact_statement(const ExprEnv& env, std::string_view peer) {
  const Var& field = env.vars[rng_.below(env.vars.size())];
  const bool is_bool = field.type == Ty::Bool;
  switch (rng_.below(4)) {
    case 0:
      if (is_bool) return cat(field.name, " = !", field.name);
      return cat(field.name, " = ", field.name, " + ", rng_.between(1, 9));
    case 1: {
      std::string value = expr(env, field.type, 2);
      return cat(field.name, " = ", value);
    }
    case 2: return cat("send(\"", peer, "\", \"ProcessJob\")");
    default: {
      std::string c = cond(env, 1);
      if (is_bool) return cat("if ", c, " { ", field.name, " = false }");
      return cat("if ", c, " { ", field.name, " = ", field.name, " - 1 }");
    }
  }
}

// Style B, the docs spelling: annotations, `name: value` goal items, typed parameters,
// statements directly in the transition's braces. At Workspace wsK, it sends to its
// ledger (same scope) and its worker (below), and narrows one transition to Target tK.
void ProgramGenerator::gateway(SourceWriter& w, const Cluster& c) {
  ++domains_;
  std::vector<Var> fields = {
      {"status", Ty::Str, true},     {"retries", Ty::Int, true},  {"pending", Ty::MapStrInt, true},
      {"history", Ty::ListInt, true}, {"enabled", Ty::Bool, true}, {"note", Ty::OptStr, true},
      {"ratio", Ty::Float, true},    {"owner", Ty::OptJob, true}, {"job", Ty::Job, true},
      {"tags", Ty::ListStr, true},   {"target", Ty::Int, true},   {"count", Ty::OptInt, true},
  };
  const int version = c.k % 2 == 0 ? 2 : 3;
  w.line(cat("@scope Workspace(\"", c.workspace, "\")"));
  w.line(cat("@version ", version));
  w.line("@privilege infrastructure");
  w.open(cat("domain ", c.gateway));
  w.line(cat("capability { messaging, send_to: ", c.ledger, ", send_to: ", c.worker, " }"));
  w.open("state");
  w.line("status: String = \"idle\"");
  w.line("retries: Int");
  std::string pending_a = exprs_.int_literal();
  w.line(cat("pending: map<string, Int> = {\"a\": ", pending_a, ", \"b\": 2,}"));
  w.line("history: list<int> = [1, 2, 3]");
  w.line("enabled: Boolean = true");
  w.line("note: string? = none");
  std::string ratio = exprs_.float_literal();
  w.line(cat("ratio: Float = ", ratio));
  w.line(cat("owner: ", c.job, "?"));
  w.line(cat("job: ", c.job));
  w.line("tags: list<String> = [\"blue\", \"green\"]");
  w.line("target: int = 0x1F");
  w.line("count: int?");
  extra_fields(w, c, fields, rng_.between(1, 4));
  w.close();
  w.blank();
  ExprEnv env = transition_env(c, fields);
  ExprEnv goal_env = env;
  goal_env.transition = false;
  ExprEnv invariant_env = goal_env;
  invariant_env.observations = false;

  w.open("goal Settled");
  w.line("priority: high");
  w.line("predicate: status == \"settled\"");
  w.line("strategy: Settle");
  w.line("terminate_after: 50 attempts");
  w.line("backoff: exponential(max: 8)");
  w.close();
  w.open("goal Drained");
  // The `||` keeps the random part out of the goal-conflict analysis (V-WRN-010).
  std::string drained = cond(goal_env, 2, 2);
  w.line(cat("target: len(pending) == 0 || not enabled || ", drained));
  w.line(cat("priority: ", rng_.between(0, 255)));
  w.line("strategy: Settle, Retry");
  w.line("terminate_after: 100 ticks");
  w.line("backoff: none");
  w.close();
  w.line(cat("goal Healthy { predicate: ", c.probe, ".healthy(host: \"edge-", c.k, "\"); terminate_after: never, }"));
  w.line("invariant NonNegative { retries >= 0 && state.retries < 1_000 }");
  std::string sane = cond(invariant_env, 2);
  w.line(cat("invariant Sane { ", sane, " || true }"));
  w.blank();

  w.open("transition Begin() on start");
  w.line("status = \"idle\"");
  w.line(cat("spawn ", c.worker, "[3] { jobs_completed = 1, target_val: 2 }"));
  w.line(cat("spawn ", c.ledger));
  w.close();

  w.open("transition Settle()");
  w.line(cat("capability { messaging, send_to: ", c.ledger, " }"));
  w.line(cat("budget: ", rng_.between(100, 900)));
  w.line("let total: int = 0");
  w.line("for key, amount in pending { total += amount }");
  w.line("if total > 10 { status = \"settled\" } else if total == 0 { status = \"empty\" } else { retries += 1 }");
  w.line(cat("send ", c.ledger, ".Record(amount: total, memo: \"settle \\\"", c.k, "\\\"\\n\")"));
  w.line("yield");
  w.line(cat("send ", c.ledger, "[retries] Record(amount = 2, memo = \"retry\")"));
  w.line(cat("send high ", c.ledger, ".Audit()"));
  w.line(cat("send ", c.ledger, "[\"eu\"].Audit()"));
  w.line(cat("send_high(\"", c.ledger, "\", \"Audit\")"));
  w.line(cat("send(\"", c.ledger, "\", \"Record\", amount: 1, memo: \"café\")"));
  w.line(cat("emit ", c.infra, ".Provision(target: \"", c.target,
             "\", version: str(retries), idempotency_key: \"deploy-\" + status)"));
  w.line(cat("let intent = ", c.notify, "(msg: \"tab\\there \\\\ \\u{1F600}\", level: -1)"));
  w.line("emit intent");
  w.line(cat("schedule Settle() after ", rng_.between(1, 9), " ticks"));
  w.close();

  w.open("transition Retry()");
  w.line("retries *= 2");
  w.line("history[0] = retries");
  w.line("pending[\"retry\"] = retries");
  w.line("state.ratio = ratio * 0.5");
  w.line("job.size = retries % 3");
  w.line("owner = job");
  w.line("note = (owner ?? job).id");
  w.close();

  w.open("transition Refund(order: string, amount: int,)");
  w.line("assert amount >= 0, \"negative refund\"");
  w.line("assert order != \"\"");
  w.line("if amount > 1000 { fail \"too large: \" + order }");
  w.line("if contains(pending, order) { pending[order] -= amount } else { pending[order] = -amount }");
  w.line("reply Refunded(order: order, amount: amount)");
  w.close();

  w.open("transition AuditResult(balance: int, count: Int)");
  w.line("retries = count");
  w.line("if balance < 0 { status = \"overdrawn\" }");
  w.close();

  w.line(cat("@scope Target(\"", c.target, "\")"));
  w.open("transition Narrow()");
  w.line(cat("send ", c.worker, ".ProcessJob()"));
  w.close();

  w.line(cat("transition Provisioned(r: string) on ", c.infra, ".Provision.ok { status = \"provisioned:\" + r }"));
  w.open(cat("transition ProvisionFailed(e: EffectError) on ", c.infra, ".Provision.failed"));
  w.line("status = e.message");
  w.line("retries += 1");
  w.line("if e.retryable { schedule Retry() after 2 ticks }");
  w.close();
  w.line(cat("transition Notified() on ", c.notify, ".ok { note = none }"));

  w.open("transition Deploy(version: string)");
  w.open("slice validate");
  w.line("if version == \"\" { fail \"empty version\" }");
  w.line("let n = len(version)");
  w.close();
  w.open("slice provision");
  w.line("for i in 0..n { emit Log.Info(msg: format(\"{}-{}\", version, i)) }");
  w.close();
  w.close();

  // A member function, named uniquely in the program (the checker may put functions
  // declared in domains into the one top-level namespace).
  w.open(cat("fn double", c.k, "(x: int) -> int"));
  w.line("return x * 2");
  w.close();

  // The bulk of the domain: transitions of random statements.
  size_t extra = rng_.between(2, 4);
  for (size_t i = 0; i < extra; ++i) {
    ExprEnv local = env;
    if (rng_.chance(50)) {
      w.open(cat("transition Work", i, "(limit: int, tag: String)"));
      local.vars.push_back(Var{"limit", Ty::Int, false, false});
      local.vars.push_back(Var{"tag", Ty::Str, false, false});
    } else {
      w.open(cat("transition Work", i, "()"));
    }
    statements(w, c, local, rng_.between(6, 14), 0);
    if (rng_.chance(40)) {
      w.line("yield");
      statements(w, c, local, rng_.between(2, 5), 0);
    }
    w.close();
  }
  w.close();
  w.blank();
}

void ProgramGenerator::extra_fields(SourceWriter& w, const Cluster& c, std::vector<Var>& fields, size_t count) {
  const ExprEnv constants = pure_env(c, {});  // a default is a constant expression
  for (size_t i = 0; i < count; ++i) {
    std::string name = cat("f", i);
    switch (rng_.below(8)) {
      case 0: {
        std::string value = expr(constants, Ty::Int, 1);
        w.line(cat(name, ": int = ", value));
        fields.push_back(Var{name, Ty::Int, true});
        break;
      }
      case 1: {
        std::string value = expr(constants, Ty::Str, 1);
        w.line(cat(name, ": string = ", value));
        fields.push_back(Var{name, Ty::Str, true});
        break;
      }
      case 2:
        w.line(cat(name, ": bool = ", rng_.chance(50) ? "true" : "false"));
        fields.push_back(Var{name, Ty::Bool, true});
        break;
      case 3: {
        std::string a = exprs_.int_literal();
        std::string b = exprs_.int_literal();
        w.line(cat(name, ": list<int> = [", a, ", ", b, "]"));
        fields.push_back(Var{name, Ty::ListInt, true});
        break;
      }
      case 4: {
        std::string value = exprs_.int_literal();
        w.line(cat(name, ": map<string, int> = {\"x\": ", value, "}"));
        fields.push_back(Var{name, Ty::MapStrInt, true});
        break;
      }
      case 5:
        w.line(cat(name, ": int? = none"));
        fields.push_back(Var{name, Ty::OptInt, true});
        break;
      case 6: {
        std::string value = expr(constants, Ty::Float, 1);
        w.line(cat(name, ": Float = ", value));
        fields.push_back(Var{name, Ty::Float, true});
        break;
      }
      default: w.line(cat(name, ": list<map<string, list<int>>>?")); break;  // declared, never used
    }
  }
}

void ProgramGenerator::statements(SourceWriter& w, const Cluster& c, ExprEnv& env, size_t count, int nesting) {
  size_t vars = env.vars.size();
  for (size_t i = 0; i < count; ++i) statement(w, c, env, nesting);
  env.vars.resize(vars);  // a block's locals end with it
}

void ProgramGenerator::statement(SourceWriter& w, const Cluster& c, ExprEnv& env, int nesting) {
  size_t kind = rng_.below(nesting < 2 ? 16 : 11);
  switch (kind) {
    case 0: case 1: assignment(w, env); return;
    case 2: element_assignment(w, env); return;
    case 3: let(w, env); return;
    case 4: send(w, c, env); return;
    case 5: emit(w, c, env); return;
    case 6: {
      std::string condition = cond(env);
      if (rng_.chance(50)) {
        std::string message = expr(env, Ty::Str, 1);
        w.line(cat("assert ", condition, ", ", message));
      } else {
        w.line(cat("assert ", condition));
      }
      return;
    }
    case 7:
      if (rng_.chance(50)) {
        w.line(cat("schedule Retry() after ", rng_.between(1, 20), " + retries % 3 ticks"));
      } else {
        std::string order = expr(env, Ty::Str, 1);
        std::string amount = expr(env, Ty::Int, 1);
        std::string delay = exprs_.block_head(env, Ty::Int, 1);
        w.line(cat("schedule Refund(order: ", order, ", amount: ", amount, ") after ", delay, " ticks"));
      }
      return;
    case 8: {
      std::string id = expr(env, rng_.chance(70) ? Ty::Int : Ty::Str, 1);
      std::string done = expr(env, Ty::Int, 1);
      std::string target = expr(env, Ty::Int, 1);
      w.line(cat("spawn ", c.worker, "[", id, "] { jobs_completed = ", done, "; target_val: ", target, " }"));
      return;
    }
    case 9: {  // docs style: a bare assignment to a new name declares a local
      static constexpr Ty kTypes[] = {Ty::Int, Ty::Str, Ty::Bool, Ty::Float};
      Ty type = kTypes[rng_.below(4)];
      std::string value = expr(env, type);
      std::string name = fresh_local(env, type, true, "temp");
      w.line(cat(name, " = ", value));
      return;
    }
    case 10: assignment(w, env); return;
    case 11: case 12: if_statement(w, c, env, nesting); return;
    case 13: {
      std::string counter = fresh_local(env, Ty::Int);  // declared by `let`, so it outlives the loop
      w.line(cat("let ", counter, " = 0"));
      size_t bound = rng_.between(2, 9);
      std::string condition = cond(env, 1, 3);
      w.open(cat("while ", counter, " < ", bound, " && ", condition));
      w.line(cat(counter, " += 1"));
      statements(w, c, env, rng_.between(1, 2), nesting + 1);
      w.close();
      return;
    }
    default: for_statement(w, c, env, nesting); return;
  }
}

const Var* ProgramGenerator::pick_writable(const ExprEnv& env, bool (*accept)(Ty)) {
  size_t count = 0;
  for (const auto& v : env.vars) count += v.writable && accept(v.type);
  if (count == 0) return nullptr;
  size_t pick = rng_.below(count);
  for (const auto& v : env.vars) {
    if (v.writable && accept(v.type) && pick-- == 0) return &v;
  }
  return nullptr;
}

void ProgramGenerator::assignment(SourceWriter& w, ExprEnv& env) {
  const Var* v = pick_writable(env, any_type);
  if (!v) return;
  Var var = *v;  // env may grow below
  std::string target = spelled(var);
  static constexpr std::string_view kNumericOps[] = {"=", "+=", "-=", "*=", "="};
  switch (var.type) {
    case Ty::Int: {
      std::string_view op = kNumericOps[rng_.below(5)];
      std::string value = expr(env, Ty::Int);
      w.line(cat(target, " ", op, " ", value));
      return;
    }
    case Ty::Float: {  // `+=`, `-=`, `*=` on a float take an int too (mixed arithmetic); `=` does not
      std::string_view op = kNumericOps[rng_.below(5)];
      std::string value = expr(env, op != "=" && rng_.chance(30) ? Ty::Int : Ty::Float);
      w.line(cat(target, " ", op, " ", value));
      return;
    }
    case Ty::Str: {
      std::string_view op = rng_.chance(30) ? "+=" : "=";
      std::string value = expr(env, Ty::Str);
      w.line(cat(target, " ", op, " ", value));
      return;
    }
    case Ty::OptInt:
    case Ty::OptStr:
    case Ty::OptJob: {
      if (rng_.chance(20)) {
        w.line(cat(target, " = none"));
        return;
      }
      Ty inner = var.type == Ty::OptInt ? Ty::Int : var.type == Ty::OptStr ? Ty::Str : Ty::Job;
      std::string value = expr(env, inner);
      w.line(cat(target, " = ", value));
      return;
    }
    default: {
      std::string value = expr(env, var.type);
      w.line(cat(target, " = ", value));
      return;
    }
  }
}

// `xs[i] = e`, `m[k] += e`, `r.f = e`: updates in place.
void ProgramGenerator::element_assignment(SourceWriter& w, ExprEnv& env) {
  auto container = [](Ty t) { return t == Ty::ListInt || t == Ty::MapStrInt || t == Ty::Job; };
  const Var* v = pick_writable(env, +container);
  if (!v) return assignment(w, env);
  Var var = *v;
  std::string base = spelled(var);
  static constexpr std::string_view kOps[] = {"=", "+=", "-=", "*=", "="};
  std::string_view op = kOps[rng_.below(5)];
  switch (var.type) {
    case Ty::ListInt: {
      std::string index = expr(env, Ty::Int, 1);
      std::string value = expr(env, Ty::Int);
      w.line(cat(base, "[", index, "] ", op, " ", value));
      return;
    }
    case Ty::MapStrInt: {
      std::string key = expr(env, Ty::Str, 1);
      std::string value = expr(env, Ty::Int);
      w.line(cat(base, "[", key, "] ", op, " ", value));
      return;
    }
    default:
      switch (rng_.below(4)) {
        case 0: {
          std::string value = expr(env, Ty::Int);
          w.line(cat(base, ".size ", op, " ", value));
          return;
        }
        case 1: {
          std::string value = expr(env, Ty::Str);
          w.line(cat(base, ".id = ", value));
          return;
        }
        case 2: {
          std::string value = expr(env, Ty::ListStr);
          w.line(cat(base, ".tags = ", value));
          return;
        }
        default: {
          std::string value = rng_.chance(30) ? std::string("none") : expr(env, Ty::Str);
          w.line(cat(base, ".owner = ", value));
          return;
        }
      }
  }
}

void ProgramGenerator::let(SourceWriter& w, ExprEnv& env) {
  static constexpr Ty kTypes[] = {Ty::Int, Ty::Int, Ty::Float, Ty::Bool, Ty::Str, Ty::Str,
                                  Ty::ListInt, Ty::ListStr, Ty::OptInt, Ty::Job};
  Ty type = kTypes[rng_.below(10)];
  if (type == Ty::OptInt) {  // an optional local needs its type written
    std::string value = rng_.chance(30) ? std::string("none") : expr(env, Ty::Int);
    std::string spelling = exprs_.type_name(Ty::OptInt, env.record);
    std::string name = fresh_local(env, Ty::OptInt);
    w.line(cat("let ", name, ": ", spelling, " = ", value));
    return;
  }
  std::string value = expr(env, type);
  const bool annotate = rng_.chance(30);
  std::string spelling = annotate ? exprs_.type_name(type, env.record) : "";
  std::string name = fresh_local(env, type);
  if (annotate) w.line(cat("let ", name, ": ", spelling, " = ", value));
  else w.line(cat("let ", name, " = ", value));
}

// Every spelling of `send`, with arguments of the right types.
void ProgramGenerator::send(SourceWriter& w, const Cluster& c, ExprEnv& env) {
  switch (rng_.below(8)) {
    case 0: w.line(cat("send(\"", c.ledger, "\", \"Audit\")")); return;
    case 1: {
      std::string amount = exprs_.int_literal();
      w.line(cat("send_high(\"", c.ledger, "\", \"Record\", amount: ", amount, ", memo: \"hi\")"));
      return;
    }
    case 2: {
      std::string amount = expr(env, Ty::Int, 1);
      std::string memo = expr(env, Ty::Str, 1);
      w.line(cat("send ", c.ledger, ".Record(amount: ", amount, ", memo: ", memo, ")"));
      return;
    }
    case 3: {
      std::string id = expr(env, rng_.chance(50) ? Ty::Int : Ty::Str, 1);
      std::string amount = expr(env, Ty::Int, 1);
      std::string memo = exprs_.string_literal();
      w.line(cat("send ", c.ledger, "[", id, "] Record(amount = ", amount, ", memo = ", memo, ",)"));
      return;
    }
    case 4: w.line(cat("send high ", c.worker, ".ProcessJob()")); return;
    case 5: w.line(cat("send ", c.worker, "[", rng_.between(0, 7), "].ProcessJob()")); return;
    case 6: {  // positional arguments
      std::string amount = expr(env, Ty::Int, 1);
      std::string memo = expr(env, Ty::Str, 1);
      w.line(cat("send ", c.ledger, ".Record(", amount, ", ", memo, ")"));
      return;
    }
    default: {
      std::string order = expr(env, Ty::Str, 1);
      std::string amount = expr(env, Ty::Int, 1);
      w.line(cat("send high ", c.ledger, ".Refunded(order: ", order, ", amount: ", amount, ")"));
      return;
    }
  }
}

// Effects up to the gateway's privilege (infrastructure).
void ProgramGenerator::emit(SourceWriter& w, const Cluster& c, ExprEnv& env) {
  switch (rng_.below(7)) {
    case 0: {
      std::string version = expr(env, Ty::Str, 1);
      std::string key = expr(env, rng_.chance(50) ? Ty::Int : Ty::Str, 1);
      w.line(cat("emit ", c.infra, ".Provision(target: \"", c.target, "\", version: ", version,
                 ", idempotency_key: \"k-\" + str(retries) + str(", key, "))"));
      return;
    }
    case 1: {
      std::string msg = expr(env, Ty::Str, 1);
      if (rng_.chance(50)) w.line(cat("emit Log.Info(msg: ", msg, ")"));
      else w.line(cat("emit Log.Warn(", msg, ")"));
      return;
    }
    case 2: {
      std::string msg = expr(env, Ty::Str, 1);
      std::string level = expr(env, Ty::Int, 1);
      w.line(cat("emit ", c.notify, "(msg: ", msg, ", level: ", level, ")"));
      return;
    }
    case 3: {  // an intent value, emitted later
      std::string msg = expr(env, Ty::Str, 1);
      std::string name = cat("i", next_local_++);
      w.line(cat("let ", name, " = ", c.notify, "(", msg, ", 3)"));
      w.line(cat("emit ", name));
      return;
    }
    case 4: {
      std::string rows = expr(env, Ty::Int, 1);
      std::string key = expr(env, Ty::Int, 1);
      w.line(cat("emit Archive.Export(path: \"", c.ledger, ".csv\", rows: ", rows, ", idempotency_key: format(\"exp-{}-{}\", target, ",
                 key, "))"));
      return;
    }
    case 5: {
      std::string url = expr(env, Ty::Str, 1);
      w.line(cat("emit Net.HttpGet(url: format(\"https://{}\", ", url, "), idempotency_key: status)"));
      return;
    }
    default: {
      std::string content = expr(env, Ty::Str, 1);
      w.line(cat("emit System.WriteFile(\"", c.gateway, ".txt\", ", content, ")"));
      return;
    }
  }
}

void ProgramGenerator::if_statement(SourceWriter& w, const Cluster& c, ExprEnv& env, int nesting) {
  std::string condition = cond(env);
  w.open(cat("if ", condition));
  statements(w, c, env, rng_.between(1, 3), nesting + 1);
  if (rng_.chance(50)) {
    std::string other = cond(env);
    w.reopen(cat("else if ", other));
    statements(w, c, env, rng_.between(1, 2), nesting + 1);
  }
  if (rng_.chance(50)) {
    w.reopen("else");
    if (rng_.chance(30)) {
      std::string reason = rng_.chance(50) ? exprs_.string_literal() : expr(env, Ty::Str, 1);
      w.line(cat("fail ", reason));
    } else {
      statements(w, c, env, rng_.between(1, 2), nesting + 1);
    }
  }
  w.close();
}

void ProgramGenerator::for_statement(SourceWriter& w, const Cluster& c, ExprEnv& env, int nesting) {
  // The iterated expression is generated before the loop variables come into scope.
  size_t vars = env.vars.size();
  std::string head;
  switch (rng_.below(4)) {
    case 0: {
      std::string var = fresh_local(env, Ty::Int, false);
      head = cat(var, " in history");
      break;
    }
    case 1: {
      std::string var = fresh_local(env, Ty::Str, false);
      head = cat(var, " in tags");
      break;
    }
    case 2: {
      std::string key = fresh_local(env, Ty::Str, false);
      std::string value = fresh_local(env, Ty::Int, false);
      head = cat(key, ", ", value, " in pending");
      break;
    }
    default: {
      std::string from = rng_.chance(50) ? exprs_.int_literal() : std::string("retries");
      std::string to = exprs_.block_head(env, Ty::Int, 1);
      std::string var = fresh_local(env, Ty::Int, false);
      head = cat(var, " in ", from, "..", to);
      break;
    }
  }
  w.open(cat("for ", head));
  statements(w, c, env, rng_.between(1, 3), nesting + 1);
  w.close();
  env.vars.resize(vars);  // the loop variables end with the loop
}

// Style B, a second shape: no capability block, `priority: critical`, `strategy:`,
// service privilege with an effect of that level and its outcome handlers.
void ProgramGenerator::ledger(SourceWriter& w, const Cluster& c) {
  ++domains_;
  w.line(cat("@scope Workspace(\"", c.workspace, "\")"));
  w.line("@privilege service");
  w.open(cat("domain ", c.ledger));
  w.open("state");
  w.line("balance: int");
  w.line("entries: list<int>");
  w.line("last_memo: String?");
  w.line("exported: int");
  w.close();
  w.line("goal Balanced { predicate: balance >= 0; priority: critical; strategy: Reconcile }");
  w.line(cat("goal Exported { predicate: System.file_exists(\"", c.ledger, ".csv\") || exported > 0 || Fleet.capacity(region: \"eu\") > 3 }"));
  w.open("transition Record(amount: int, memo: string)");
  w.line("balance += amount");
  w.line("entries = append(entries, amount)");
  w.line("last_memo = memo");
  w.line(cat("emit Net.HttpPost(url: \"https://ledger.example/", c.k,
             "\", body: format(\"{}:{}\", memo, amount), idempotency_key: format(\"rec-{}-{}\", memo, len(entries)))"));
  w.close();
  w.line("transition Audit() { reply AuditResult(balance: balance, count: len(entries)) }");
  w.open("transition Reconcile()");
  w.line("while balance < 0 and not (balance < -1000 or len(entries) == 0) { balance += 10 }");
  w.close();
  w.open("transition Refunded(order: string, amount: int)");
  w.line("balance -= amount");
  w.line("last_memo = \"refund \" + order");
  w.close();
  w.line("transition Export() { emit Archive.Export(path: \"ledger.csv\", rows: len(entries), idempotency_key: str(balance)) }");
  w.line("transition Posted(body: string) on Net.HttpPost.ok { exported += 1 }");
  w.line("transition PostFailed(e: EffectError) on Net.HttpPost.failed { last_memo = e.code + \": \" + e.message }");
  w.line("transition ExportDone(rows: int) on Archive.Export.ok { exported = rows }");
  w.close();
  w.blank();
}

void ProgramGenerator::orchestration(SourceWriter& w, const Cluster& c) {
  w.open(cat("environment ", c.node));
  switch (c.k % 3) {
    case 0: w.line("scope { root }"); break;
    case 1: w.line(cat("scope Workspace(\"", c.workspace, "\")")); break;
    default: w.line("scope Namespace"); break;  // the anonymous Namespace under Root
  }
  w.line(cat("capability { messaging, send_to:", c.worker, ", send_to:", c.producer, " }"));
  w.line(cat("host = \"edge-", c.k, "\""));
  w.line(cat("replicas: ", rng_.between(1, 5)));
  w.close();
  w.line(cat("deploy service ", c.producer, " to ", c.node));
  w.line(cat("deploy ", c.worker, " to ", c.node));
  w.blank();
}

// The chain from version 1 to the gateway's `@version` (2 or 3). Only the last step
// builds the current schema, whose fields the checker knows; every step reads only
// fields the current schema declares (their stored type is otherwise unknown, V-ERR-022).
void ProgramGenerator::migrations(SourceWriter& w, const Cluster& c) {
  const int version = c.k % 2 == 0 ? 2 : 3;
  w.open(cat("migration gateway", c.k, "_v1_to_v2"));
  w.line(cat("from: ", c.gateway, ".State@1"));
  w.line(cat("to: ", c.gateway, ".State@2"));
  w.line("let carried = from.retries");
  if (version == 2) {
    w.line(cat("return ", c.gateway,
               ".State@2(status = from.status, retries: carried, target = 0x1F, note = from.note ?? \"migrated\")"));
  } else {
    w.line(cat("return ", c.gateway, ".State@2(status = from.status, retries: carried, legacy = from.retries * 2)"));
  }
  w.close();
  w.blank();
  if (version == 3) {
    w.open(cat("migration gateway", c.k, "_v2_to_v3"));
    w.line(cat("from: ", c.gateway, ".State@2"));
    w.line(cat("to: ", c.gateway, ".State@3"));
    w.line(cat("return ", c.gateway,
               ".State@3(status = from.status, retries: from.retries + 1, note = from.note ?? \"\", ratio = float(from.retries))"));
    w.close();
    w.blank();
  }
}

void ProgramGenerator::test(SourceWriter& w, const Cluster& c) {
  w.open(cat("test \"cluster ", c.k, " settles when provisioning \\\"times out\\\"\""));
  w.open("given");
  w.line(cat("domain ", c.gateway, " { status = \"idle\", retries = 0 }"));
  w.line(cat(c.worker, "[2] { jobs_completed: 1 }"));
  w.close();
  w.open("simulate");
  if (c.k % 2 == 0) w.line(cat("effect ", c.infra, ".Provision { fail \"timeout\" }"));
  else w.line(cat("effect ", c.infra, ".Provision { return \"vm-", c.k, "\" }"));
  w.line(cat("effect ", c.notify, " { return }"));
  w.line("effect Net.HttpPost { return \"ok\" }");
  w.line(cat("advance_ticks(", rng_.between(10, 500), ")"));
  w.line(cat("send ", c.gateway, ".Settle()"));
  w.line(cat("advance_ticks(", rng_.between(1, 50), ")"));
  w.close();
  w.open("expect");
  w.line(cat("always ", c.gateway, ".retries >= 0"));
  w.line(cat("eventually ", c.gateway, ".status == \"settled\""));
  w.line(cat(c.worker, ".jobs_completed > 0 && ", c.ledger, ".balance >= 0"));
  w.close();
  w.close();
  w.blank();
}

void ProgramGenerator::system(SourceWriter& w, size_t clusters) {
  w.open("system Main");
  w.line("start domain Auditor");
  for (size_t k = 0; k < clusters; ++k) {
    w.line(cat("start domain Producer", k, " { online = false, jobs_dispatched = 0 }"));
    w.line(cat("start Worker", k, "[", k % 4, "] { jobs_completed = 0; target_val: ", k % 7 + 1, " }"));
    w.line(cat("start Gateway", k));
  }
  w.close();
}

}  // namespace

GeneratedProgram generate_program(const GeneratorOptions& options) { return ProgramGenerator(options).run(); }

}  // namespace ved::bench
