#!/usr/bin/env bash
# Differential fuzzing of the JIT against the interpreter (tests/jit/differential_test.cpp):
# N random well-typed programs, each run under --interp, --jit=all and the tiered --jit,
# compared exactly (value or fault kind, message, position, instruction; fuel).
#
#   scripts/fuzz-jit.sh N [FIRST]   N programs from seed FIRST (default: a random start
#                                   above the 1..5000 that CI runs)
#
# A finding prints its seed, arguments, fuel, both outcomes and the program; cut it down
# and make it a row of an ved_exec_tests table, which runs under every engine (docs/jit.md,
# "Debugging a divergence"). Builds ved_jit_tests in build/ first.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:?usage: scripts/fuzz-jit.sh N [FIRST]}"
first="${2:-$(( (RANDOM << 15 | RANDOM) + 5001 ))}"
nice -n 10 cmake --build build -j2 --target ved_jit_tests >/dev/null
echo "fuzz-jit: seeds ${first}..$(( first + n - 1 ))"
VED_JIT_FUZZ_FIRST="$first" VED_JIT_FUZZ_COUNT="$n" ./build/tests/ved_jit_tests -tc='differential*'
