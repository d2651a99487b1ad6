#!/usr/bin/env bash
# Fuzz smoke test: builds the libFuzzer targets with clang, ASan and UBSan in build-fuzz/,
# replays their saved regressions, then fuzzes each from a seed corpus made in a
# temporary directory.
#
#   fuzz_parser  the front end (tests/fuzz/fuzz_parser.cpp); regressions in
#                tests/fuzz/regressions/, seeds: the Ved programs of the shared corpus
#                (../shared/corpus, when it exists), tests/golden/ and examples/
#   fuzz_bundle  the VM's bundle loader and verifier, and the interpreter on what they
#                accept (tests/fuzz/fuzz_bundle.cpp); regressions in
#                tests/fuzz/regressions-bundle/, seeds: those programs compiled to
#                bundles by this build's vedc
#   fuzz_cluster_wire  the cluster's wire-message and journal-entry decoders
#                (tests/fuzz/fuzz_cluster_wire.cpp); regressions in
#                tests/fuzz/regressions-cluster-wire/, seeds: one sample of every message
#                and entry kind, written by the target itself (-write_seeds=DIR)
#
#   scripts/fuzz-smoke.sh [SECONDS]                      explore: a fresh random seed, SECONDS per target
#   scripts/fuzz-smoke.sh --runs N [--bundle-runs M] [--cluster-runs K] [--seed S]
#                                                        gate: exactly N parser inputs, M bundle
#                                                        inputs and K cluster inputs (default N)
#                                                        from seed S (default 1)
#   --target parser|bundle|cluster|all                   which targets to build and run (default all)
#
# The gate mode is what scripts/test.sh (and so CI) uses: the same commit fuzzes the same
# inputs every time, so a red CI is reproducible and a green one is not luck. Explore mode
# is for developers hunting new bugs; whatever it finds goes into the regressions.
#
# Exits non-zero on any finding (crash, sanitizer report, leak, timeout, out-of-memory,
# invariant violation) in a regression file or during fuzzing. New crash inputs are
# saved under build-fuzz/fuzz-artifacts/ (parser) and build-fuzz/fuzz-artifacts-bundle/
# (bundle); once diagnosed, copy them into the target's regressions directory so that
# every later run replays them.
#
# Environment: VED_FUZZ_JOBS (build parallelism, default 2), VED_FUZZ_ARGS (extra
# libFuzzer flags, both targets), VED_FUZZ_KEEP_CORPUS=1 (keep the temporary corpora and
# print their paths).
set -euo pipefail

usage() {
  echo "usage: $0 [SECONDS] | --runs N [--bundle-runs M] [--cluster-runs K] [--seed S]  [--target parser|bundle|cluster|all]" >&2
  echo "       (positive whole numbers; default 45 seconds per target)" >&2
  exit 2
}
duration=45
runs=""
bundle_runs=""
cluster_runs=""
seed=""
target=all
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) [ $# -ge 2 ] || usage; runs="$2"; shift 2 ;;
    --bundle-runs) [ $# -ge 2 ] || usage; bundle_runs="$2"; shift 2 ;;
    --cluster-runs) [ $# -ge 2 ] || usage; cluster_runs="$2"; shift 2 ;;
    --seed) [ $# -ge 2 ] || usage; seed="$2"; shift 2 ;;
    --target) [ $# -ge 2 ] || usage; target="$2"; shift 2 ;;
    -*) usage ;;
    *) duration="$1"; shift ;;
  esac
done
for n in "$duration" ${runs:+"$runs"} ${bundle_runs:+"$bundle_runs"} ${cluster_runs:+"$cluster_runs"} ${seed:+"$seed"}; do
  if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ]; then usage; fi
done
case "$target" in parser|bundle|cluster|all) ;; *) usage ;; esac
if [ -n "$seed" ] && [ -z "$runs" ]; then usage; fi
if [ -n "$bundle_runs" ] && [ -z "$runs" ]; then usage; fi
if [ -n "$cluster_runs" ] && [ -z "$runs" ]; then usage; fi
if [ -n "$runs" ]; then seed="${seed:-1}"; fi
targets=()
if [ "$target" = parser ] || [ "$target" = all ]; then targets+=(parser); fi
if [ "$target" = bundle ] || [ "$target" = all ]; then targets+=(bundle); fi
if [ "$target" = cluster ] || [ "$target" = all ]; then targets+=(cluster_wire); fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-fuzz"
fuzz_dir="$root/tests/fuzz"
shared_corpus="$(cd "$root/.." && pwd)/shared/corpus"
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
# fuzz_bundle's seeds are compiled by this build's vedc (instrumented too; that is fine).
build_targets=()
for t in "${targets[@]}"; do
  case "$t" in
    parser) build_targets+=(fuzz_parser) ;;
    bundle) build_targets+=(fuzz_bundle vedc) ;;
    cluster_wire) build_targets+=(fuzz_cluster_wire) ;;
  esac
done
echo "fuzz-smoke: building ${build_targets[*]} (-j$jobs)"
cmake --build "$build" --target "${build_targets[@]}" -j "$jobs"

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

# Per input. The slowest saved regression (a 250 KB line, timeout-long-line-ast-dump.ved)
# takes about 9 s under ASan+UBSan on an idle 2-core machine and more under load, while
# the blow-ups these regressions guard against (quadratic parsing, dumping) take minutes:
# 25 s tells the two apart without failing on a busy machine.
unit_timeout=25
common_flags=(-timeout="$unit_timeout" -rss_limit_mb=2048)
findings=0
summary=()

# ---- Regressions: every saved reproducer must now pass ---------------------------------
replay() {  # replay FUZZER DIR
  local fuzzer="$1" dir="$2" f rlog why ms name
  name="$(basename "$fuzzer")"
  local regressions=()
  if [ -d "$dir" ]; then
    while IFS= read -r -d '' f; do regressions+=("$f"); done \
      < <(find "$dir" -type f ! -name '*.md' ! -name '.*' -print0 | sort -z)
  fi
  [ ${#regressions[@]} -gt 0 ] || return 0
  echo "fuzz-smoke: $name: replaying ${#regressions[@]} regression input(s)"
  mkdir -p "$build/regressions"
  for f in "${regressions[@]}"; do
    # One process per file, so that one failure does not hide the next.
    # -detect_leaks=0 only stops libFuzzer from running the input a second time to look
    # for leaks; LSan's own check at exit (ASAN_OPTIONS=detect_leaks=1) still runs and
    # fails the process on any leak. libFuzzer's -timeout alarm ticks every timeout/2+1
    # seconds and can miss a unit slightly over the limit, so the time is checked here too.
    rlog="$build/regressions/$name--$(basename "$f").log"
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
}

# ---- Seed corpora: made at run time, never committed ----------------------------------
corpus_root="$(mktemp -d "${TMPDIR:-/tmp}/ved-fuzz-corpus.XXXXXX")"
if [ "${VED_FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
  echo "fuzz-smoke: corpora kept in $corpus_root"
else
  trap 'rm -rf "$corpus_root"' EXIT
fi
# The Ved programs: every seed of fuzz_parser, and the sources of fuzz_bundle's seeds.
programs=()
add_programs() {  # add_programs DIR PATTERN
  local dir="$1" pattern="$2" f
  [ -d "$dir" ] || return 0
  while IFS= read -r -d '' f; do programs+=("$dir|$f"); done < <(find "$dir" -type f -name "$pattern" -print0 | sort -z)
}
add_programs "$shared_corpus/upstream" '*.lxm'
add_programs "$shared_corpus/docs" '*.ved'
add_programs "$root/tests/golden" '*.ved'
add_programs "$root/examples" '*.ved'
if [ ! -d "$shared_corpus" ]; then
  echo "fuzz-smoke: no shared corpus at $shared_corpus (a clone of this repository alone):" \
    "seeds from tests/golden/ and examples/ only"
fi
seed_name() {  # seed_name DIR FILE: a flat name, prefixed with the subdirectory
  local dir="$1" f="$2" rel
  rel="${f#"$dir"/}"
  echo "$(basename "$dir")--${rel//\//--}"
}

parser_seeds() {  # copies the programs into $1
  local out="$1" p
  for p in "${programs[@]}"; do cp "${p#*|}" "$out/$(seed_name "${p%%|*}" "${p#*|}")"; done
}

bundle_seeds() {  # compiles every program that compiles into a bundle in $1
  local out="$1" p src name tried=0 made=0
  for p in "${programs[@]}"; do
    src="${p#*|}"
    name="$(seed_name "${p%%|*}" "$src")"
    tried=$((tried + 1))
    # Programs with errors (the golden negative tests) give no bundle; that is expected.
    # The compiler's own leaks are not this target's business.
    if ASAN_OPTIONS=detect_leaks=0 "$build/vedc" --color=never -o "$out/${name%.*}.vedb" "$src" \
        >/dev/null 2>&1; then
      made=$((made + 1))
    else
      rm -f "$out/${name%.*}.vedb"
    fi
  done
  echo "fuzz-smoke: fuzz_bundle: $made of $tried program(s) compiled to seed bundles"
}

# ---- Fuzz ---------------------------------------------------------------------------
fuzz() {  # fuzz NAME RUNS
  local name="$1" target_runs="$2" fuzzer="$build/fuzz_$1" corpus="$corpus_root/$1"
  local log artifacts dict=() budget budget_text status executions last_status cov ft corp count
  if [ "$name" = parser ]; then
    log="$build/fuzz-smoke.log"
    artifacts="$build/fuzz-artifacts"
    dict=(-dict="$fuzz_dir/ved.dict")
    replay "$fuzzer" "$fuzz_dir/regressions"
  elif [ "$name" = cluster_wire ]; then
    log="$build/fuzz-smoke-cluster-wire.log"
    artifacts="$build/fuzz-artifacts-cluster-wire"
    replay "$fuzzer" "$fuzz_dir/regressions-cluster-wire"
  else
    log="$build/fuzz-smoke-bundle.log"
    artifacts="$build/fuzz-artifacts-bundle"
    dict=(-dict="$fuzz_dir/vedb.dict")
    replay "$fuzzer" "$fuzz_dir/regressions-bundle"
  fi
  mkdir -p "$artifacts" "$corpus"
  : >"$log"
  case "$name" in
    parser) parser_seeds "$corpus" ;;
    bundle) bundle_seeds "$corpus" ;;
    cluster_wire) "$fuzzer" -write_seeds="$corpus" ;;
  esac
  count="$(find "$corpus" -type f | wc -l)"
  echo "fuzz-smoke: fuzz_$name: $count seed file(s)"
  if [ "$count" -eq 0 ]; then
    echo "fuzz-smoke: warning: no seeds for fuzz_$name (expected $shared_corpus); fuzzing from scratch" >&2
  fi
  if [ -n "$target_runs" ]; then
    budget=(-runs="$target_runs" -seed="$seed")
    budget_text="$target_runs inputs from seed $seed"
  else
    budget=(-max_total_time="$duration")
    budget_text="${duration}s"
  fi
  echo "fuzz-smoke: fuzz_$name: fuzzing $budget_text (log: ${log#"$root"/})"
  local started=$SECONDS
  set +e
  # shellcheck disable=SC2086  # VED_FUZZ_ARGS is a list of flags
  "$fuzzer" "${common_flags[@]}" \
    "${budget[@]}" \
    "${dict[@]}" \
    -artifact_prefix="$artifacts/" \
    -print_final_stats=1 \
    ${VED_FUZZ_ARGS:-} \
    "$corpus" >>"$log" 2>&1
  status=$?
  set -e
  local elapsed=$((SECONDS - started))

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
    echo "fuzz-smoke: fuzz_$name: FINDING (libFuzzer exit $status). Summary from the log:" >&2
    grep -E 'ERROR: |SUMMARY: |invariant violated|==fuzz_[a-z]*==|runtime error|Test unit written to|ALARM|out-of-memory|Timeout' \
      "$log" | head -20 >&2 || true
    echo "fuzz-smoke: full report in $log; reproduce with: $fuzzer <artifact>" >&2
  fi
  summary+=("fuzz_$name: ${executions:-0} executions in ${elapsed}s ($budget_text; cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?})")
}

for t in "${targets[@]}"; do
  case "$t" in
    parser) fuzz parser "$runs" ;;
    bundle) fuzz bundle "${bundle_runs:-$runs}" ;;
    cluster_wire) fuzz cluster_wire "${cluster_runs:-$runs}" ;;
  esac
done

for line in "${summary[@]}"; do echo "fuzz-smoke: $line"; done
if [ "$findings" -ne 0 ]; then
  echo "fuzz-smoke: FAILED with $findings finding(s)"
  exit 1
fi
echo "fuzz-smoke: no findings"
