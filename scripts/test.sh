#!/usr/bin/env bash
# Runs every test: builds the project, runs the CTest suite (unit, golden and
# end-to-end tests against the real binaries, benchmarks in smoke mode), and a
# short fuzzing run of the parser and of the bundle loader under ASan/UBSan. Exits
# non-zero on any failure.
# Usage: scripts/test.sh   (FUZZ_RUNS=N parser inputs, FUZZ_BUNDLE_RUNS=M bundle inputs,
#                           FUZZ_CLUSTER_RUNS=K cluster wire inputs, FUZZ_SEED=S change
#                           the fuzzing budget)
#
# The fuzzing run is deterministic (a fixed seed and a fixed number of inputs), so the
# same commit always gives the same verdict; it takes about a minute (parser ~35 s, bundle
# ~25 s on 2 cores). Open-ended fuzzing is `scripts/fuzz-smoke.sh SECONDS`.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2

log=$(mktemp)
trap 'rm -f "$log"' EXIT
(cd build && ctest --output-on-failure -j2) 2>&1 | tee "$log" || true
total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$log" | tail -1)
failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
total=${total:-0}
failed=${failed:-1}

# The fuzzing run counts as one test (the benchmark smoke run is a CTest test).
echo "== parser, bundle and cluster wire fuzzing (smoke)"
total=$((total + 1))
scripts/fuzz-smoke.sh --runs "${FUZZ_RUNS:-15000}" --bundle-runs "${FUZZ_BUNDLE_RUNS:-500000}" \
  --cluster-runs "${FUZZ_CLUSTER_RUNS:-200000}" \
  --seed "${FUZZ_SEED:-1}" || failed=$((failed + 1))

echo "tests: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
