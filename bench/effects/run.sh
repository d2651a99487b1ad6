#!/usr/bin/env bash
# The effects benchmark: what an intent costs in `vedvm`, from emission through the
# adapter to the handled outcome, measured in one go:
#
#   1. simulated adapter (--effect Bench.Work=ok:1), --sync=none and --sync=tick   intents/s
#   2. built-in file adapter (System.AppendFile), --sync=none and --sync=tick,
#      against a plain-C floor (append_floor.c: append + a journal record fdatasynced)  intents/s
#   3. external adapter (examples/adapter's ved-example-adapter over TCP), --sync=none  intents/s
#   4. replay (`vedvm replay DIR`) of the --sync=none runs, against the runs' own time  seconds
#
# Every run is checked before its time counts: exit status 0, the final state through
# `vedvm inspect DIR --json`, the journal's emit and outcome counts through `vedvm stats`,
# the lines the file and the adapter's log hold, and replay's verdict. Prints markdown
# tables and ratios. See README.md beside this script.
#
#   bench/effects/run.sh            full sizes (under a minute on 2 cores)
#   bench/effects/run.sh --smoke    tiny sizes, one run each: does everything run and
#                                   check out? (registered as bench_effects_smoke)
#
# Exit status: 0 when everything ran and checked out; 1 when a program failed or a result
# was wrong (and, in --smoke mode, when a tool is missing); 2 when a tool is missing in
# full mode.
set -euo pipefail
shopt -s inherit_errexit  # a failing command inside $(...) stops the script too

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

usage() {
  cat <<EOF
usage: bench/effects/run.sh [--smoke] [--vedc PATH] [--vedvm PATH] [--adapter PATH]

  --smoke         tiny sizes, one run per cell, no warm-up
  --vedc PATH     the compiler (default: \$VEDC, else $repo/build/vedc)
  --vedvm PATH    the VM (default: \$VEDVM, else $repo/build/vedvm)
  --adapter PATH  the example adapter (default: \$VED_EXAMPLE_ADAPTER, else
                  $repo/build/examples/adapter/ved-example-adapter)

Environment: VEDC, VEDVM, VED_EXAMPLE_ADAPTER; CC (the C compiler for the floor, default
cc); BENCH_FX_RUNS (3) and BENCH_FX_WARMUP (1) in full mode; BENCH_FX_DIR (where data
dirs and files go; default a temporary directory in \$TMPDIR or /tmp); sizes (each a
multiple of BENCH_FX_BATCH): BENCH_FX_N (simulated and external, --sync=none: 20000),
BENCH_FX_FILE_N (file adapter --sync=none and the C floor: 8000), BENCH_FX_N_SYNC (the
--sync=tick runs: 4000), BENCH_FX_BATCH (intents per goal attempt: 8).
EOF
}

smoke=0
vedc="${VEDC:-$repo/build/vedc}"
vedvm="${VEDVM:-$repo/build/vedvm}"
adapter="${VED_EXAMPLE_ADAPTER:-$repo/build/examples/adapter/ved-example-adapter}"
cc="${CC:-cc}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --vedc) vedc="${2:?--vedc needs a path}"; shift ;;
    --vedvm) vedvm="${2:?--vedvm needs a path}"; shift ;;
    --adapter) adapter="${2:?--adapter needs a path}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# A missing tool is exit 2 in full mode, but a failure (1) in smoke mode, which is a test.
missing_status=2
if [[ $smoke -eq 1 ]]; then missing_status=1; fi

say() { echo "run.sh: $*" >&2; }
fail() { say "error: $*"; exit 1; }

# --- sizes -----------------------------------------------------------------------------
declare -A size
if [[ $smoke -eq 1 ]]; then
  size=([n]=80 [file_n]=40 [n_sync]=16 [batch]=8)
else
  size=([n]=20000 [file_n]=8000 [n_sync]=4000 [batch]=8)
fi
for key in "${!size[@]}"; do
  var="BENCH_FX_${key^^}"
  size[$key]="${!var:-${size[$key]}}"
  [[ "${size[$key]}" =~ ^[1-9][0-9]*$ ]] || fail "$var must be a positive whole number: ${size[$key]}"
done
batch="${size[batch]}"
for key in n file_n n_sync; do
  # Whole rounds: every goal attempt emits `batch` intents.
  (( size[$key] % batch == 0 )) || fail "BENCH_FX_${key^^} (${size[$key]}) must be a multiple of BENCH_FX_BATCH ($batch)"
done

runs="${BENCH_FX_RUNS:-3}"
warmup="${BENCH_FX_WARMUP:-1}"
if [[ $smoke -eq 1 ]]; then runs=1; warmup=0; fi
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || fail "BENCH_FX_RUNS must be a positive whole number"
[[ "$warmup" =~ ^[0-9]+$ ]] || fail "BENCH_FX_WARMUP must be a whole number"

# --- tools -----------------------------------------------------------------------------
for pair in "vedc:$vedc:--target vedc" "vedvm:$vedvm:--target vedvm" \
            "ved-example-adapter:$adapter:--target ved-example-adapter"; do
  IFS=: read -r name path build <<<"$pair"
  if [[ ! -x "$path" || -d "$path" ]]; then
    say "error: $name not found at $path"
    say "  build it (cmake --build build $build), or point to it with a flag or variable (see --help)"
    exit "$missing_status"
  fi
done
if ! command -v "$cc" >/dev/null 2>&1; then
  say "error: no C compiler ($cc) for the floor program; set CC"
  exit "$missing_status"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ved-bench-effects.XXXXXX")"
adapter_pid=""
cleanup() {
  if [[ -n "$adapter_pid" ]]; then kill "$adapter_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
if [[ -n "${BENCH_FX_DIR:-}" ]]; then
  mkdir -p "$BENCH_FX_DIR"
  data="$(mktemp -d "$BENCH_FX_DIR/ved-bench-effects-data.XXXXXX")"
  trap 'cleanup; rm -rf "$data"' EXIT
else
  data="$tmp/data"
  mkdir -p "$data"
fi
data_fs="$(df --output=fstype "$data" 2>/dev/null | tail -n 1 || true)"
data_fs="${data_fs:-unknown}"
if [[ "$data_fs" == tmpfs || "$data_fs" == ramfs ]]; then
  say "warning: the data dirs are on $data_fs, where fsync costs nothing: --sync=tick,"
  say "  the file adapter's flush and the C floor's fdatasync measure nothing (set BENCH_FX_DIR)"
fi

# --- build -----------------------------------------------------------------------------
# Ved programs take no input: the sizes go into the source. `compile NAME TEMPLATE N`
# writes $tmp/NAME.ved from TEMPLATE.ved with @N@ and @B@ replaced and compiles it.
compile() {
  local name="$1" template="$2" n="$3"
  sed "s/@N@/$n/g; s/@B@/$batch/g" "$here/$template.ved" >"$tmp/$name.ved"
  if grep -q '@[A-Z]*@' "$tmp/$name.ved"; then fail "$name.ved: a size was not substituted"; fi
  if ! "$vedc" "$tmp/$name.ved" -o "$tmp/$name.vedb" >"$tmp/$name.vedc.log" 2>&1; then
    cat "$tmp/$name.vedc.log" >&2
    fail "vedc could not compile $name.ved (from $template.ved, n = $n)"
  fi
}
say "compiling the Ved programs and the C floor"
compile sim_none sim "${size[n]}"
compile sim_tick sim "${size[n_sync]}"
compile file_none file "${size[file_n]}"
compile file_tick file "${size[n_sync]}"
compile ext_none external "${size[n]}"
if ! "$cc" -O2 -o "$tmp/append_floor" "$here/append_floor.c" >"$tmp/cc.log" 2>&1; then
  cat "$tmp/cc.log" >&2
  fail "$cc could not compile append_floor.c"
fi

# --- helpers ---------------------------------------------------------------------------
now_ns() { date +%s%N; }

# `clocked CMD...`: runs CMD once, its output in $tmp/out.log and $tmp/err.log; sets
# `run_ns` (wall clock), `run_cpu` (user + system seconds) and `rc` (its exit status).
clocked() {
  local start end
  start=$(now_ns)
  rc=0
  TIMEFORMAT='%U %S'
  { time "$@" >"$tmp/out.log" 2>"$tmp/err.log"; } 2>"$tmp/cpu.log" || rc=$?
  end=$(now_ns)
  run_ns=$((end - start))
  run_cpu="$(awk '{ printf "%.6f\n", $1 + $2 }' <(tail -n 1 "$tmp/cpu.log"))"
}
show_failure() {  # show_failure WHAT: prints the last run's output and fails
  cat "$tmp/out.log" "$tmp/err.log" >&2
  if (( rc > 128 )); then fail "$1 (killed by signal $((rc - 128)))"; fi
  fail "$1"
}

# `inspect DIR`: the data dir as one JSON line in $tmp/inspect.json; sets `ticks`.
inspect() {
  "$vedvm" inspect "$1" --json >"$tmp/inspect.json" 2>"$tmp/inspect.err" || {
    cat "$tmp/inspect.err" >&2
    fail "vedvm inspect $1 failed"
  }
  ticks="$({ grep -o '"tick":[0-9]*' "$tmp/inspect.json" || true; } | head -n 1 | cut -d: -f2)"
  [[ -n "$ticks" ]] || fail "vedvm inspect $1 --json printed no tick"
  if grep -q '"status":"FAULTED"' "$tmp/inspect.json"; then fail "$1: an instance is FAULTED"; fi
}
# The states of the inspected instances, one line each, as the VM prints them:
# `Node.State(seen: 3)`, from `"state":{"$record":"Node.State","seen":3}` (docs/json.md).
# Flat records of scalars only (what these programs keep); others are left out.
states() {
  { grep -o '"state":{[^{}]*}' "$tmp/inspect.json" || true; } |
    sed -E 's/^"state":\{"\$record":"([^"]*)",?/\1(/; s/\}$/)/; s/"([A-Za-z_][A-Za-z0-9_]*)":/\1: /g; s/,([A-Za-z_])/, \1/g'
}
# How many instances of the inspected data dir have exactly this state text (a pattern).
count_state() { { states | grep -x -- "$1" || true; } | wc -l | tr -d ' '; }
expect() {  # expect WHAT ACTUAL EXPECTED
  [[ "$2" == "$3" ]] || fail "$1: expected $3, got $2"
}
# `stat_count DIR KIND`: the number of KIND records in the data dir's journal.
stat_count() {
  "$vedvm" stats "$1" >"$tmp/stats.txt" 2>&1 || { cat "$tmp/stats.txt" >&2; fail "vedvm stats $1 failed"; }
  awk -v k="$2" '$1 == k ":" { n = $2 } END { print n + 0 }' "$tmp/stats.txt"
}

# `check_run WHAT DIR N EXACT_TICKS`: a finished Driver run of N intents: exit 0 (already
# checked), Driver{round: N / batch, done: N, failed: 0}, no open intent, N emits and N
# outcomes journaled, and the tick count: N / batch rounds of one emitting tick and
# `batch` handler ticks (an instance runs one slice per tick), plus the last goal check.
# The external adapter's outcomes arrive on their own schedule, so there EXACT_TICKS is 0
# and the count is only a lower bound.
check_run() {
  local what="$1" dir="$2" n="$3" exact="$4" rounds want_ticks
  rounds=$((n / batch))
  want_ticks=$((rounds * (batch + 1) + 1))
  inspect "$dir"
  expect "$what: Driver" "$(count_state "Driver.State(round: $rounds, done: $n, failed: 0)")" 1
  grep -q '"open_intents":\[\]' "$tmp/inspect.json" || fail "$what: intents are still open in $dir"
  if [[ $exact -eq 1 ]]; then
    expect "$what: ticks" "$ticks" "$want_ticks"
  elif (( ticks < want_ticks )); then
    fail "$what: ticks: expected at least $want_ticks, got $ticks"
  fi
  expect "$what: emit records" "$(stat_count "$dir" emit)" "$n"
  expect "$what: outcome records" "$(stat_count "$dir" outcome)" "$n"
}
# `check_lines WHAT FILE N PREFIX FIELD`: FILE has N lines whose FIELD-th field (0: the
# whole line) is PREFIX<k>, each k in 0 .. N-1 exactly once.
check_lines() {
  local what="$1" file="$2" n="$3" prefix="$4" field="$5" verdict
  [[ -f "$file" ]] || fail "$what: $file does not exist"
  verdict="$(awk -v n="$n" -v p="$prefix" -v f="$field" '
    { lines++; s = $f
      if (index(s, p) != 1) { bad++; next }
      k = substr(s, length(p) + 1)
      if (k !~ /^[0-9]+$/ || k + 0 >= n) { bad++; next }
      if (seen[k + 0]++) dup++ }
    END { printf "%d lines, %d malformed, %d repeated\n", lines, bad, dup }' "$file")"
  expect "$what: $file" "$verdict" "$n lines, 0 malformed, 0 repeated"
}

# `start_adapter LOG CAPACITY`: starts the example adapter on a free port (port 0: it
# prints the endpoint it bound as its first line); sets `adapter_pid` and `endpoint`.
start_adapter() {
  local i
  "$adapter" --bind tcp://127.0.0.1:0 --log "$1" --capacity "$2" >"$tmp/adapter.out" 2>"$tmp/adapter.err" &
  adapter_pid=$!
  endpoint=""
  for ((i = 0; i < 500; i++)); do
    endpoint="$(head -n 1 "$tmp/adapter.out" 2>/dev/null || true)"
    if [[ "$endpoint" == tcp://* ]]; then return; fi
    kill -0 "$adapter_pid" 2>/dev/null || { cat "$tmp/adapter.err" >&2; adapter_pid=""; fail "the adapter exited at start"; }
    sleep 0.01
  done
  cat "$tmp/adapter.out" "$tmp/adapter.err" >&2
  fail "the adapter printed no endpoint within 5 s"
}
# `stop_adapter`: reads the adapter's CPU seconds (user + system, from /proc) into
# `adapter_cpu`, stops it with SIGTERM and checks that it exits 0.
stop_adapter() {
  local hz stat arc=0
  hz="$(getconf CLK_TCK)"
  stat="$(cat "/proc/$adapter_pid/stat" 2>/dev/null || true)"
  # utime and stime are fields 14 and 15; the command name (field 2) has no spaces here.
  adapter_cpu="$(awk -v hz="$hz" '{ printf "%.6f\n", ($14 + $15) / hz }' <<<"$stat")"
  kill -TERM "$adapter_pid"
  wait "$adapter_pid" || arc=$?
  adapter_pid=""
  [[ $arc -eq 0 ]] || { cat "$tmp/adapter.err" >&2; fail "the adapter exited with status $arc after SIGTERM"; }
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s + 0 > 0) printf "%.0f\n", n / s; else print "n/a" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%.2f\n", a / b; else print "n/a" }'; }
fmt() { awk -v x="$1" -v d="${2:-3}" 'BEGIN { if (x == "") print "n/a"; else printf "%.*f\n", d, x }'; }
thousands() {
  awk -v x="$1" 'BEGIN {
    if (x == "" || x == "n/a") { print "n/a"; exit }
    s = sprintf("%.0f", x); o = ""
    while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
    print s o }'
}
per_intent_us() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.1f\n", s * 1e6 / n }'; }

# Results per cell: mean and min wall-clock seconds, mean CPU seconds, intents, ticks,
# and (external) the adapter's mean CPU seconds.
declare -A sec best cpus count tks acpu

# `measure CELL LABEL N`: runs `attempt_CELL` warmup + runs times. Each attempt prepares
# its run, calls `clocked`, and checks everything (failing the script on anything wrong)
# before the time is taken into account.
measure() {
  local cell="$1" label="$2" n="$3" i total=0 cpu_total=0 acpu_total=0 min=""
  say "$label ($warmup warm-up, $runs timed)"
  for ((i = 0; i < warmup + runs; i++)); do
    adapter_cpu=0
    "attempt_$cell" "$n"
    if (( i >= warmup )); then
      total=$((total + run_ns))
      cpu_total="$(awk -v a="$cpu_total" -v b="$run_cpu" 'BEGIN { printf "%.6f\n", a + b }')"
      acpu_total="$(awk -v a="$acpu_total" -v b="$adapter_cpu" 'BEGIN { printf "%.6f\n", a + b }')"
      if [[ -z "$min" || $run_ns -lt $min ]]; then min=$run_ns; fi
    fi
  done
  sec[$cell]="$(awk -v t="$total" -v r="$runs" 'BEGIN { printf "%.9f\n", t / r / 1e9 }')"
  best[$cell]="$(awk -v t="$min" 'BEGIN { printf "%.9f\n", t / 1e9 }')"
  cpus[$cell]="$(awk -v t="$cpu_total" -v r="$runs" 'BEGIN { printf "%.6f\n", t / r }')"
  acpu[$cell]="$(awk -v t="$acpu_total" -v r="$runs" 'BEGIN { printf "%.6f\n", t / r }')"
  count[$cell]="$n"
  tks[$cell]="${ticks:-}"
}

# --- the attempts ----------------------------------------------------------------------
# 1. The simulated adapter: every intent of Bench.Work is answered ok with the value 1.
attempt_sim() {  # attempt_sim N SYNC
  local n="$1" sync="$2" dir="$data/sim_$2"
  rm -rf "$dir"
  clocked "$vedvm" "$tmp/sim_$sync.vedb" --data-dir "$dir" --fresh --quiet --sync="$sync" \
    --effect Bench.Work=ok:1
  [[ $rc -eq 0 ]] || show_failure "simulated adapter, --sync=$sync: vedvm exited $rc"
  check_run "simulated adapter, --sync=$sync" "$dir" "$n" 1
}
attempt_sim_none() { attempt_sim "$1" none; }
attempt_sim_tick() { attempt_sim "$1" tick; }

# 2. The built-in file adapter: N lines appended to out.log under a fresh --fs-root.
attempt_file() {  # attempt_file N SYNC
  local n="$1" sync="$2" dir="$data/file_$2" root="$data/file_$2-root"
  rm -rf "$dir" "$root"
  mkdir -p "$root"
  clocked "$vedvm" "$tmp/file_$sync.vedb" --data-dir "$dir" --fresh --quiet --sync="$sync" \
    --fs-root "$root"
  [[ $rc -eq 0 ]] || show_failure "file adapter, --sync=$sync: vedvm exited $rc"
  check_run "file adapter, --sync=$sync" "$dir" "$n" 1
  check_lines "file adapter, --sync=$sync" "$root/out.log" "$n" "job " 0
}
attempt_file_none() { attempt_file "$1" none; }
attempt_file_tick() { attempt_file "$1" tick; }

# The C floor: the same N lines, each followed by a journal record made durable.
attempt_floor_common() {  # attempt_floor_common N [--sync-data]
  local n="$1" dir="$data/floor"
  rm -rf "$dir"
  mkdir -p "$dir"
  clocked "$tmp/append_floor" "$dir/out.log" "$dir/journal" "$n" "${@:2}"
  [[ $rc -eq 0 ]] || show_failure "append_floor $*: exited $rc"
  check_lines "C floor" "$dir/out.log" "$n" "job " 0
  check_lines "C floor" "$dir/journal" "$n" "done " 0
  ticks=""
}
attempt_floor() { attempt_floor_common "$1"; }
attempt_floor_sync() { attempt_floor_common "$1" --sync-data; }

# 3. The external adapter: a fresh ved-example-adapter for every run (its log, which it
# reads back at start to deduplicate, must start empty), with exactly N machines of
# capacity: an intent executed twice would make the last one fail with `quota`.
attempt_ext_none() {  # attempt_ext_none N
  local n="$1" dir="$data/ext_none" log="$data/ext_none-adapter.log"
  rm -rf "$dir" "$log"
  start_adapter "$log" "$n"
  clocked "$vedvm" "$tmp/ext_none.vedb" --data-dir "$dir" --fresh --quiet --sync=none \
    --adapter "Infra.Provision=$endpoint"
  stop_adapter
  [[ $rc -eq 0 ]] || show_failure "external adapter: vedvm exited $rc"
  check_run "external adapter" "$dir" "$n" 0
  # The log's lines are `intent_id key Infra.Provision`: one per execution.
  check_lines "external adapter" "$log" "$n" job- 2
}

# 4. Replay of a finished run's data dir: no adapter is contacted (the external run's
# adapter is stopped by then), every tick must match the journal.
attempt_replay() {  # attempt_replay CELL
  local dir="$data/$1" want
  inspect "$dir"
  want="$ticks"
  clocked "$vedvm" replay "$dir"
  [[ $rc -eq 0 ]] || show_failure "vedvm replay $dir exited $rc"
  grep -q "^replay: $want ticks match the journal$" "$tmp/out.log" "$tmp/err.log" ||
    show_failure "vedvm replay $dir: expected \"replay: $want ticks match the journal\""
}
attempt_replay_sim_none() { attempt_replay sim_none; }
attempt_replay_file_none() { attempt_replay file_none; }
attempt_replay_ext_none() { attempt_replay ext_none; }

# --- the runs --------------------------------------------------------------------------
n="${size[n]}"; file_n="${size[file_n]}"; n_sync="${size[n_sync]}"
measure sim_none "simulated adapter, --sync=none, $n intents" "$n"
measure sim_tick "simulated adapter, --sync=tick, $n_sync intents" "$n_sync"
measure file_none "file adapter, --sync=none, $file_n appends" "$file_n"
measure file_tick "file adapter, --sync=tick, $n_sync appends" "$n_sync"
measure floor "C floor, $file_n appends" "$file_n"
measure floor_sync "C floor with --sync-data, $file_n appends" "$file_n"
measure ext_none "external adapter, --sync=none, $n intents" "$n"
# The replays reuse the last timed run of each --sync=none cell.
for cell in sim_none file_none ext_none; do
  measure "replay_$cell" "replay of the $cell run" "${count[$cell]}"
  tks[replay_$cell]="${tks[$cell]}"
done

# --- report ----------------------------------------------------------------------------
cpu_model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
mode_text="full"
if [[ $smoke -eq 1 ]]; then mode_text="smoke: tiny sizes, 1 run, numbers mean nothing"; fi
cc_version="$("$cc" --version 2>/dev/null | head -n 1 || echo '?')"

echo "# Ved effects benchmark ($mode_text)"
echo
echo "- machine: ${cpu_model:-unknown CPU}, $(nproc 2>/dev/null || echo '?') cores, $(uname -sm); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
echo "- data dirs and files on: $data_fs"
echo "- timing: $warmup warm-up and $runs timed run(s) per row, each checked before it counts; wall-clock seconds of the whole process (\`vedvm\` start-up included), date +%s%N; CPU = user + system of that process"
echo "- $batch intents per goal attempt; C floor: $cc_version, -O2"
echo

per() { awk -v s="${sec[$1]}" -v n="${count[$1]}" 'BEGIN { print s / n }'; }  # seconds per intent
declare -A label=(
  [sim_none]="simulated (\`--effect Bench.Work=ok:1\`) | none"
  [sim_tick]="simulated (\`--effect Bench.Work=ok:1\`) | tick"
  [file_none]="built-in file (\`System.AppendFile\`) | none"
  [file_tick]="built-in file (\`System.AppendFile\`) | tick"
  [floor]="C floor: append, journal record + fdatasync | –"
  [floor_sync]="C floor, \`--sync-data\`: append + fdatasync, journal record + fdatasync | –"
  [ext_none]="external (\`ved-example-adapter\`, TCP) | none")
echo "## Intents"
echo
echo "| adapter | --sync | intents | ticks | seconds | min s | CPU s | intents/s | µs per intent |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for cell in sim_none sim_tick file_none file_tick floor floor_sync ext_none; do
  t="–"; if [[ -n "${tks[$cell]}" ]]; then t="$(thousands "${tks[$cell]}")"; fi
  echo "| ${label[$cell]} | $(thousands "${count[$cell]}") | $t | $(fmt "${sec[$cell]}" 4) | $(fmt "${best[$cell]}" 4) | $(fmt "${cpus[$cell]}" 4) | $(thousands "$(rate "${count[$cell]}" "${sec[$cell]}")") | $(per_intent_us "${sec[$cell]}" "${count[$cell]}") |"
done
echo
echo "The external adapter's own process used $(fmt "${acpu[ext_none]}" 4) CPU s per run on top of \`vedvm\`'s (from /proc)."
echo "Each goal attempt emits $batch intents in one tick; their outcomes come back as $batch"
echo "messages to the one \`Driver\`, which handles one per tick: $((batch + 1)) ticks per $batch intents."
echo

echo "## Replay"
echo
echo "| run replayed | intents | ticks | run seconds | replay seconds | replay CPU s | replay ÷ run |"
echo "|---|---:|---:|---:|---:|---:|---:|"
declare -A rlabel=([sim_none]="simulated, --sync=none" [file_none]="built-in file, --sync=none" [ext_none]="external, --sync=none")
for cell in sim_none file_none ext_none; do
  echo "| ${rlabel[$cell]} | $(thousands "${count[$cell]}") | $(thousands "${tks[$cell]}") | $(fmt "${sec[$cell]}" 4) | $(fmt "${sec[replay_$cell]}" 4) | $(fmt "${cpus[replay_$cell]}" 4) | $(ratio "${sec[replay_$cell]}" "${sec[$cell]}") |"
done
echo

echo "## Ratios (time per intent)"
echo
echo "- simulated adapter: --sync=tick ÷ --sync=none = $(ratio "$(per sim_tick)" "$(per sim_none)") ($(thousands "$(rate "${count[sim_none]}" "${sec[sim_none]}")") vs $(thousands "$(rate "${count[sim_tick]}" "${sec[sim_tick]}")") intents/s)"
echo "- file adapter: --sync=tick ÷ --sync=none = $(ratio "$(per file_tick)" "$(per file_none)")"
echo "- file adapter ÷ C floor: --sync=none $(ratio "$(per file_none)" "$(per floor)"), --sync=tick $(ratio "$(per file_tick)" "$(per floor)"); against the floor with --sync-data: $(ratio "$(per file_none)" "$(per floor_sync)") and $(ratio "$(per file_tick)" "$(per floor_sync)")"
echo "- external ÷ simulated adapter (--sync=none, same n): $(ratio "$(per ext_none)" "$(per sim_none)")"
echo "- replay ÷ run (simulated, --sync=none): $(ratio "${sec[replay_sim_none]}" "${sec[sim_none]}"); file $(ratio "${sec[replay_file_none]}" "${sec[file_none]}"); external $(ratio "${sec[replay_ext_none]}" "${sec[ext_none]}")"
