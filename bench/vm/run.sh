#!/usr/bin/env bash
# The VM benchmark: four workloads (fib, loop, strings, maps), each written in Ved, Lua
# 5.4 (also run on LuaJIT, with and without its JIT) and C, timed in one go. Prints a
# markdown table of the fastest (min) wall-clock seconds of N runs (a shared machine's
# load only ever adds time) and of Ved's time relative to each peer.
# See README.md beside this script.
#
#   bench/vm/run.sh             full sizes, hyperfine --warmup 1 --runs 3 per cell
#   bench/vm/run.sh --smoke     tiny sizes, one run per cell: only proves that every
#                               implementation runs and that all of them agree
#   bench/vm/run.sh --skip-ved  the peers alone (the Ved columns read "skipped")
#
# Exit status: 0 when all ran and agreed; 1 when a program failed or the results of a
# workload disagree (and, in --smoke mode, when a tool is missing); 2 when a tool is
# missing in full mode.
set -euo pipefail
shopt -s inherit_errexit  # a failing command inside $(...) stops the script too

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

usage() {
  cat <<EOF
usage: bench/vm/run.sh [--smoke] [--skip-ved] [--vedc PATH] [--vedvm PATH]

  --smoke        tiny sizes, one run per implementation, no hyperfine
  --skip-ved     run the peers only; the Ved columns read "skipped"
  --vedc PATH    the compiler (default: \$VEDC, else $repo/build/vedc)
  --vedvm PATH   the VM (default: \$VEDVM, else $repo/build/vedvm)

Environment: VEDC, VEDVM; BENCH_VM_RUNS (3) and BENCH_VM_WARMUP (1) in full mode;
BENCH_VM_FIB_N, BENCH_VM_LOOP_N, BENCH_VM_STRINGS_N, BENCH_VM_MAPS_N override a size.
EOF
}

smoke=0
skip_ved=0
vedc="${VEDC:-$repo/build/vedc}"
vedvm="${VEDVM:-$repo/build/vedvm}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --skip-ved) skip_ved=1 ;;
    --vedc) vedc="${2:?--vedc needs a path}"; shift ;;
    --vedvm) vedvm="${2:?--vedvm needs a path}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# A missing tool is exit 2 in full mode, but a failure (1) in smoke mode, which is
# registered as a test.
missing_status=2
if [[ $smoke -eq 1 ]]; then missing_status=1; fi

say() { echo "run.sh: $*" >&2; }
fail() { say "error: $*"; exit 1; }

# --- sizes -----------------------------------------------------------------------------
workloads=(fib loop strings maps)
declare -A size
if [[ $smoke -eq 1 ]]; then
  size=([fib]=15 [loop]=10000 [strings]=1000 [maps]=10000)
else
  size=([fib]=30 [loop]=100000000 [strings]=1000000 [maps]=1000000)
fi
size[fib]="${BENCH_VM_FIB_N:-${size[fib]}}"
size[loop]="${BENCH_VM_LOOP_N:-${size[loop]}}"
size[strings]="${BENCH_VM_STRINGS_N:-${size[strings]}}"
size[maps]="${BENCH_VM_MAPS_N:-${size[maps]}}"
for w in "${workloads[@]}"; do
  [[ "${size[$w]}" =~ ^[0-9]+$ ]] || fail "the size of $w is not a whole number: ${size[$w]}"
done
# maps prints m[7], which exists only after 8 updates.
(( size[maps] >= 8 )) || fail "the size of maps must be at least 8"

runs="${BENCH_VM_RUNS:-3}"
warmup="${BENCH_VM_WARMUP:-1}"
if [[ $smoke -eq 1 ]]; then runs=1; warmup=0; fi
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || fail "BENCH_VM_RUNS must be a positive whole number"
[[ "$warmup" =~ ^[0-9]+$ ]] || fail "BENCH_VM_WARMUP must be a whole number"

# What every implementation must print, computed here so that five implementations that
# agree on a wrong answer still fail.
reference_of() {
  local n="$1"
  case "$2" in
    fib)
      local a=0 b=1 t i
      for ((i = 0; i < n; i++)); do t=$((a + b)); a=$b; b=$t; done
      echo "$a" ;;
    loop) echo $(( n * (n - 1) / 2 )) ;;
    strings) echo "$n" ;;                         # one digit per step
    maps) echo $(( (n - 1 - 7) / 1000 + 1 )) ;;   # the i < n with i % 1000 == 7
  esac
}

# --- tools -----------------------------------------------------------------------------
impls=(ved ved_tiered ved_jit lua luajit_joff luajit c)
declare -A label=([ved]="Ved --interp" [ved_tiered]="Ved --jit" [ved_jit]="Ved --jit=all" [lua]="Lua 5.4" [luajit_joff]="LuaJIT -joff" [luajit]="LuaJIT" [c]="C -O2")

for tool in gcc lua5.4 luajit; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "error: $tool is not installed (scripts/install-deps.sh installs it)"
    exit "$missing_status"
  fi
done
if [[ $skip_ved -eq 0 ]]; then
  for pair in "vedc:$vedc" "vedvm:$vedvm"; do
    name="${pair%%:*}"
    path="${pair#*:}"
    if [[ ! -x "$path" || -d "$path" ]]; then
      say "error: $name not found at $path"
      say "  build it (cmake --build build --target $name), point to it with --$name PATH"
      say "  or ${name^^}=PATH, or run the peers alone with --skip-ved"
      exit "$missing_status"
    fi
  done
fi
use_hyperfine=0
if [[ $smoke -eq 0 ]]; then
  if command -v hyperfine >/dev/null 2>&1; then
    use_hyperfine=1
  else
    say "hyperfine is not installed: timing with date +%s%N instead"
  fi
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ved-bench-vm.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# --- build -----------------------------------------------------------------------------
for w in "${workloads[@]}"; do
  say "building $w (n = ${size[$w]})"
  gcc -O2 -o "$tmp/$w" "$here/$w.c" || fail "gcc could not compile $w.c"
  if [[ $skip_ved -eq 0 ]]; then
    # Ved programs take no input: the size goes into the source.
    sed "s/@N@/${size[$w]}/g" "$here/$w.ved" >"$tmp/$w.ved"
    if ! "$vedc" "$tmp/$w.ved" -o "$tmp/$w.vedb" >"$tmp/$w.vedc.log" 2>&1; then
      cat "$tmp/$w.vedc.log" >&2
      fail "vedc could not compile $w.ved (n = ${size[$w]})"
    fi
  fi
done

# Sets the array `cmd` to the command line of implementation $1 on workload $2.
command_of() {
  local impl="$1" w="$2" n="${size[$2]}"
  case "$impl" in
    ved) cmd=("$vedvm" --interp call "$tmp/$w.vedb" main --fuel 1000000000000) ;;
    ved_tiered) cmd=("$vedvm" --jit call "$tmp/$w.vedb" main --fuel 1000000000000) ;;
    ved_jit) cmd=("$vedvm" --jit=all call "$tmp/$w.vedb" main --fuel 1000000000000) ;;
    lua) cmd=(lua5.4 "$here/$w.lua" "$n") ;;
    luajit_joff) cmd=(luajit -joff "$here/$w.lua" "$n") ;;
    luajit) cmd=(luajit "$here/$w.lua" "$n") ;;
    c) cmd=("$tmp/$w" "$n") ;;
  esac
}

now_ns() { date +%s%N; }

# Runs the command in `cmd` $warmup + $runs times and prints the fewest seconds of the
# timed runs (the fallback when hyperfine is absent).
time_with_date() {
  local i start end best=0
  for ((i = 0; i < warmup; i++)); do "${cmd[@]}" >/dev/null; done
  for ((i = 0; i < runs; i++)); do
    start=$(now_ns)
    "${cmd[@]}" >/dev/null
    end=$(now_ns)
    if (( best == 0 || end - start < best )); then best=$((end - start)); fi
  done
  awk -v t="$best" 'BEGIN { printf "%.9f\n", t / 1e9 }'
}

# Times the command in `cmd` with hyperfine and prints the min seconds from its JSON
# export. The JSON is read with sed: jq and python are not on every CI machine.
time_with_hyperfine() {
  local json="$1" line
  line="$(printf '%q ' "${cmd[@]}")"
  hyperfine --shell=none --style none --warmup "$warmup" --runs "$runs" \
    --export-json "$json" "$line" >/dev/null
  sed -n 's/^ *"min": *\([-+0-9.eE]*\).*/\1/p' "$json" | head -n 1
}

# --- run -------------------------------------------------------------------------------
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
declare -A result seconds compile
for w in "${workloads[@]}"; do
  expected="$(reference_of "${size[$w]}" "$w")"
  for impl in "${impls[@]}"; do
    if [[ $impl == ved* && $skip_ved -eq 1 ]]; then continue; fi
    command_of "$impl" "$w"
    say "$w: ${label[$impl]}"
    # One run whose output is checked; in smoke mode it is also the one timed.
    start=$(now_ns)
    if ! "${cmd[@]}" >"$tmp/$w.$impl.out" 2>"$tmp/$w.$impl.err"; then
      cat "$tmp/$w.$impl.err" >&2
      fail "$w: ${label[$impl]} failed: ${cmd[*]}"
    fi
    end=$(now_ns)
    result[$w.$impl]="$(tr -d '\r' <"$tmp/$w.$impl.out")"
    if [[ $smoke -eq 1 ]]; then
      seconds[$w.$impl]="$(awk -v t="$((end - start))" 'BEGIN { printf "%.9f\n", t / 1e9 }')"
    elif [[ $use_hyperfine -eq 1 ]]; then
      seconds[$w.$impl]="$(time_with_hyperfine "$tmp/$w.$impl.json")"
      [[ -n "${seconds[$w.$impl]}" ]] || fail "no min in hyperfine's JSON for $w: ${label[$impl]}"
    else
      seconds[$w.$impl]="$(time_with_date)"
    fi
  done

  # Every implementation of the workload must print the reference result.
  wrong=()
  for impl in "${impls[@]}"; do
    if [[ $impl == ved* && $skip_ved -eq 1 ]]; then continue; fi
    if [[ "${result[$w.$impl]}" != "$expected" ]]; then
      wrong+=("${label[$impl]} printed '${result[$w.$impl]}'")
    fi
  done
  if [[ ${#wrong[@]} -gt 0 ]]; then
    say "error: $w (n = ${size[$w]}): the implementations disagree; expected $expected, but"
    for line in "${wrong[@]}"; do say "  $line"; done
    exit 1
  fi
  result[$w]="$expected"
  # The JIT's compile time alone (what --jit=all spends before the program runs).
  if [[ $skip_ved -eq 0 ]]; then
    compile[$w]="$(VED_JIT_REPORT=1 "$vedvm" --jit=all call "$tmp/$w.vedb" main --fuel 1000000000000 2>&1 >/dev/null |
      sed -n 's/^jit: .*, \([0-9]*\) instructions, \([0-9.e-]*\) s compiling.*/\1 \2/p')"
  fi
done

# --- report ----------------------------------------------------------------------------
first_line() { "$@" 2>&1 | head -n 1; }
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"

echo "# Ved VM benchmark ($([[ $smoke -eq 1 ]] && echo "smoke: tiny sizes, 1 run, times mean nothing" || echo "full"))"
echo
echo "- machine: ${cpu:-unknown CPU}, $(nproc 2>/dev/null || echo '?') cores, $(uname -sm)"
echo "- peers: $(first_line lua5.4 -v | cut -d' ' -f1-2), $(first_line luajit -v | cut -d' ' -f1-2), $(first_line gcc --version)"
if [[ $smoke -eq 1 ]]; then
  echo "- timing: one run per cell, date +%s%N"
elif [[ $use_hyperfine -eq 1 ]]; then
  echo "- timing: $(first_line hyperfine --version) --shell=none --warmup $warmup --runs $runs; min wall-clock seconds"
else
  echo "- timing: date +%s%N, $warmup warm-up and $runs timed runs; min wall-clock seconds"
fi
if [[ $skip_ved -eq 1 ]]; then
  echo "- Ved: skipped (--skip-ved)"
else
  echo "- Ved: $vedvm --interp call FILE.vedb main --fuel 1000000000000 (the interpreter); Ved --jit: the"
  echo "  same with the default tiered engine; Ved --jit=all: with --jit=all (the whole process, LLVM's"
  echo "  compilation included; the compile time alone is in its own table)"
fi
echo

cell_time() {
  if [[ $1 == ved* && $skip_ved -eq 1 ]]; then echo "skipped"; return; fi
  awk -v s="${seconds[$2.$1]}" 'BEGIN { printf "%.4f\n", s }'
}
cell_ratio() {  # peer, workload[, which Ved: ved (default) or ved_jit]
  if [[ $skip_ved -eq 1 ]]; then echo "skipped"; return; fi
  awk -v a="${seconds[$2.${3:-ved}]}" -v b="${seconds[$2.$1]}" \
    'BEGIN { if (b + 0 > 0) printf "%.2f\n", a / b; else print "n/a" }'
}

echo "| workload | n | result | Ved interp s | Ved --jit s | Ved --jit=all s | Lua 5.4 s | LuaJIT -joff s | LuaJIT s | C -O2 s | interp/Lua5.4 | interp/LuaJIT-joff | interp/LuaJIT | interp/C | jit=all/LuaJIT | jit=all/C |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for w in "${workloads[@]}"; do
  row="| $w | ${size[$w]} | ${result[$w]}"
  for impl in "${impls[@]}"; do row+=" | $(cell_time "$impl" "$w")"; done
  for impl in lua luajit_joff luajit c; do row+=" | $(cell_ratio "$impl" "$w")"; done
  for impl in luajit c; do row+=" | $(cell_ratio "$impl" "$w" ved_jit)"; done
  echo "$row |"
done
if [[ $skip_ved -eq 0 ]]; then
  echo
  echo "JIT compile time (--jit=all, LLVM -O2, every function of the program):"
  echo
  echo "| workload | bytecode instructions | compile ms | ms per 1,000 instructions |"
  echo "|---|---:|---:|---:|"
  for w in "${workloads[@]}"; do
    read -r instructions secs <<<"${compile[$w]:-0 0}"
    awk -v w="$w" -v i="$instructions" -v s="$secs" \
      'BEGIN { printf "| %s | %d | %.1f | %s |\n", w, i, s * 1000, (i > 0 ? sprintf("%.1f", s * 1e6 / i) : "n/a") }'
  done
fi
echo
echo "- load average before the runs: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Times are the min seconds per process, start-up included. A ratio is Ved's time divided"
echo "by the peer's: 2.00 means Ved took twice as long, 0.50 half as long."
