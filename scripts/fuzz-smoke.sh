#!/usr/bin/env bash
# Fuzz smoke test for the Ved front end: builds tests/fuzz/fuzz_parser with clang,
# libFuzzer, ASan and UBSan in build-fuzz/, replays tests/fuzz/regressions/, then fuzzes
# for SECONDS (default 45) from a seed corpus copied into a temporary directory.
#
#   scripts/fuzz-smoke.sh [SECONDS]          explore: a fresh random seed every run
#   scripts/fuzz-smoke.sh --runs N [--seed S]  gate: exactly N inputs from seed S (default 1)
#
# The gate mode is what scripts/test.sh (and so CI) uses: the same commit fuzzes the same
# inputs every time, so a red CI is reproducible and a green one is not luck. Explore mode
# is for developers hunting new bugs; whatever it finds goes into regressions/.
#
# Exits non-zero on any finding (crash, sanitizer report, leak, timeout, out-of-memory,
# invariant violation) in a regression file or during fuzzing. New crash inputs are
# saved under build-fuzz/fuzz-artifacts/; once diagnosed, copy them into
# tests/fuzz/regressions/ so that every later run replays them.
#
# Environment: VED_FUZZ_JOBS (build parallelism, default 2), VED_FUZZ_ARGS (extra
# libFuzzer flags), VED_FUZZ_KEEP_CORPUS=1 (keep the temporary corpus and print its path).
set -euo pipefail

usage() {
  echo "usage: $0 [SECONDS] | --runs N [--seed S]   (positive whole numbers; default 45 seconds)" >&2
  exit 2
}
duration=45
runs=""
seed=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) [ $# -ge 2 ] || usage; runs="$2"; shift 2 ;;
    --seed) [ $# -ge 2 ] || usage; seed="$2"; shift 2 ;;
    *) duration="$1"; shift ;;
  esac
done
for n in "$duration" ${runs:+"$runs"} ${seed:+"$seed"}; do
  if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ]; then usage; fi
done
if [ -n "$seed" ] && [ -z "$runs" ]; then usage; fi
if [ -n "$runs" ]; then
  seed="${seed:-1}"
  budget=(-runs="$runs" -seed="$seed")
  budget_text="$runs inputs from seed $seed"
else
  budget=(-max_total_time="$duration")
  budget_text="${duration}s"
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-fuzz"
fuzz_dir="$root/tests/fuzz"
shared_corpus="$(cd "$root/.." && pwd)/shared/corpus"
artifacts="$build/fuzz-artifacts"
log="$build/fuzz-smoke.log"
jobs="${VED_FUZZ_JOBS:-2}"

for tool in clang clang++ cmake ninja; do
  command -v "$tool" >/dev/null || { echo "fuzz-smoke: \`$tool\` not found (scripts/install-deps.sh)" >&2; exit 2; }
done

# ---- Build ------------------------------------------------------------------------
# A build dir configured by another generator or compiler cannot be reused.
if [ -f "$build/CMakeCache.txt" ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$build/CMakeCache.txt"; then
  echo "fuzz-smoke: $build was not configured with Ninja; remove it and rerun" >&2
  exit 2
fi

# Debian 12's ANTLR 4.9 runtime headers do not compile with clang: misc/
# InterpreterDataReader.h default-constructs a dfa::Vocabulary, whose defaulted
# constructor clang deletes (const std::vector members, [class.default.ctor]/2; GCC
# accepts it). If clang rejects the installed headers, use a copy in the build dir
# with that one constructor fixed; it is never called, so nothing else changes.
antlr_include=""
for d in /usr/include/antlr4-runtime /usr/local/include/antlr4-runtime; do
  if [ -f "$d/antlr4-runtime.h" ]; then antlr_include="$d"; break; fi
done
if [ -z "$antlr_include" ]; then
  echo "fuzz-smoke: antlr4-runtime.h not found (install libantlr4-runtime-dev)" >&2
  exit 2
fi
mkdir -p "$build"
probe="$build/antlr4-probe.cpp"
echo '#include "antlr4-runtime.h"' >"$probe"
if ! clang++ -std=c++20 -fsyntax-only -w -I"$antlr_include" "$probe" 2>"$build/antlr4-probe.log"; then
  compat="$build/antlr4-compat/antlr4-runtime"
  stamp="$build/antlr4-compat/.stamp"
  if [ ! -f "$stamp" ] || [ -n "$(find "$antlr_include" -newer "$stamp" -print -quit)" ]; then
    rm -rf "$build/antlr4-compat"
    mkdir -p "$build/antlr4-compat"
    cp -rp "$antlr_include" "$compat"
    sed -i 's|^\( *\)InterpreterData() {};.*$|\1InterpreterData() : vocabulary(std::vector<std::string>(), std::vector<std::string>()) {}  // fuzz-smoke: clang fix|' \
      "$compat/misc/InterpreterDataReader.h"
    touch "$stamp"
  fi
  if ! clang++ -std=c++20 -fsyntax-only -w -I"$compat" "$probe" 2>>"$build/antlr4-probe.log"; then
    echo "fuzz-smoke: clang cannot compile the ANTLR runtime headers; see $build/antlr4-probe.log" >&2
    exit 2
  fi
  echo "fuzz-smoke: using clang-compatible copy of the ANTLR headers in ${compat#"$root"/}"
  antlr_include="$compat"
fi

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# -Wno-unknown-warning-option: VED_WARNINGS carries GCC's -Wno-maybe-uninitialized.
echo "fuzz-smoke: configuring $build"
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVED_FUZZ=ON -DVED_TESTS=ON -DVED_BENCH=OFF \
  -DANTLR4_INCLUDE_DIR="$antlr_include" \
  -DCMAKE_CXX_FLAGS="-Wno-unknown-warning-option" \
  "${launcher[@]}" >/dev/null
echo "fuzz-smoke: building fuzz_parser (-j$jobs)"
cmake --build "$build" --target fuzz_parser -j "$jobs"
fuzzer="$build/fuzz_parser"

# ---- Sanitizer settings -----------------------------------------------------------
# LeakSanitizer is on. The ANTLR runtime's caches (the generated parser's static DFA and
# prediction-context cache) stay reachable from globals, so LSan does not report them and
# no suppressions are needed today. Should that change, put narrowly scoped entries in
# tests/fuzz/lsan.supp (see tests/fuzz/README.md); it is picked up automatically.
export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if [ -f "$fuzz_dir/lsan.supp" ]; then
  export LSAN_OPTIONS="suppressions=$fuzz_dir/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi

unit_timeout=10
common_flags=(-timeout="$unit_timeout" -rss_limit_mb=2048)
mkdir -p "$artifacts"
: >"$log"
findings=0

# ---- Regressions: every saved reproducer must now pass ---------------------------------
regressions=()
if [ -d "$fuzz_dir/regressions" ]; then
  while IFS= read -r -d '' f; do regressions+=("$f"); done \
    < <(find "$fuzz_dir/regressions" -type f ! -name '*.md' ! -name '.*' -print0 | sort -z)
fi
if [ ${#regressions[@]} -gt 0 ]; then
  echo "fuzz-smoke: replaying ${#regressions[@]} regression input(s)"
  mkdir -p "$build/regressions"
  for f in "${regressions[@]}"; do
    # One process per file, so that one failure does not hide the next.
    # -detect_leaks=0 only stops libFuzzer from running the input a second time to look
    # for leaks; LSan's own check at exit (ASAN_OPTIONS=detect_leaks=1) still runs and
    # fails the process on any leak. libFuzzer's -timeout alarm ticks every timeout/2+1
    # seconds and can miss a unit slightly over the limit, so the time is checked here too.
    rlog="$build/regressions/$(basename "$f").log"
    why=""
    if ! "$fuzzer" "${common_flags[@]}" -runs=1 -detect_leaks=0 "$f" >"$rlog" 2>&1; then
      why="$(grep -m1 -E 'SUMMARY: |invariant violated' "$rlog" || echo "exit status nonzero")"
      why="${why#*SUMMARY: }"
    else
      ms="$(sed -n -E 's/^Executed .* in ([0-9]+) ms$/\1/p' "$rlog" | tail -1)"
      if [ -n "$ms" ] && [ "$ms" -gt "$((unit_timeout * 1000))" ]; then
        why="timeout: took ${ms} ms (limit ${unit_timeout} s)"
      fi
    fi
    if [ -z "$why" ]; then
      echo "  ok    ${f#"$root"/}"
    else
      echo "  FAIL  ${f#"$root"/}: $why"
      echo "        log: ${rlog#"$root"/}; rerun: ${fuzzer#"$root"/} ${f#"$root"/}"
      findings=$((findings + 1))
    fi
  done
fi

# ---- Seed corpus: copied at run time, never committed --------------------------------
corpus="$(mktemp -d "${TMPDIR:-/tmp}/ved-fuzz-corpus.XXXXXX")"
if [ "${VED_FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
  echo "fuzz-smoke: corpus kept in $corpus"
else
  trap 'rm -rf "$corpus"' EXIT
fi
seeds=0
copy_seeds() {  # copy_seeds DIR PATTERN: flatten into $corpus, prefixing the subdir
  local dir="$1" pattern="$2" f rel
  [ -d "$dir" ] || return 0
  while IFS= read -r -d '' f; do
    rel="${f#"$dir"/}"
    cp "$f" "$corpus/$(basename "$dir")--${rel//\//--}"
    seeds=$((seeds + 1))
  done < <(find "$dir" -type f -name "$pattern" -print0)
}
copy_seeds "$shared_corpus/upstream" '*.lxm'
copy_seeds "$shared_corpus/docs" '*.ved'
copy_seeds "$root/tests/golden" '*.ved'
echo "fuzz-smoke: $seeds seed file(s) in $corpus"
if [ "$seeds" -eq 0 ]; then
  echo "fuzz-smoke: warning: no seeds found (expected $shared_corpus); fuzzing from scratch" >&2
fi

# ---- Fuzz ---------------------------------------------------------------------------
echo "fuzz-smoke: fuzzing $budget_text (log: ${log#"$root"/})"
set +e
# shellcheck disable=SC2086  # VED_FUZZ_ARGS is a list of flags
"$fuzzer" "${common_flags[@]}" \
  "${budget[@]}" \
  -dict="$fuzz_dir/ved.dict" \
  -artifact_prefix="$artifacts/" \
  -print_final_stats=1 \
  ${VED_FUZZ_ARGS:-} \
  "$corpus" >>"$log" 2>&1
status=$?
set -e

# libFuzzer prints `stat::number_of_executed_units: N` (also after a crash) and
# status lines like `#1234 ... cov: 567 ft: 890 corp: 12/3456b ...`.
executions="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)"
last_status="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
if [ -z "$executions" ]; then executions="$(sed -E -n 's/^#([0-9]+).*/\1/p' <<<"$last_status")"; fi
cov="$(grep -o 'cov: [0-9]*' <<<"$last_status" | grep -o '[0-9]*' || true)"
ft="$(grep -o 'ft: [0-9]*' <<<"$last_status" | grep -o '[0-9]*' || true)"
corp="$(grep -o 'corp: [0-9]*/[0-9a-zA-Z]*' <<<"$last_status" | sed 's/corp: //' || true)"

if [ "$status" -ne 0 ]; then
  findings=$((findings + 1))
  echo "fuzz-smoke: FINDING (libFuzzer exit $status). Summary from the log:" >&2
  grep -E 'ERROR: |SUMMARY: |invariant violated|==fuzz_parser==|runtime error|Test unit written to|ALARM|out-of-memory|Timeout' \
    "$log" | head -20 >&2 || true
  echo "fuzz-smoke: full report in $log; reproduce with: $fuzzer <artifact>" >&2
fi

if [ "$findings" -ne 0 ]; then
  echo "fuzz-smoke: FAILED with $findings finding(s); ${executions:-0} executions ran (cov ${cov:-?}, ft ${ft:-?})"
  exit 1
fi
echo "fuzz-smoke: no findings; ${executions:-0} executions ran ($budget_text; cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?})"
