#!/usr/bin/env bash
# The whole-cluster simulation (tests/cluster/simulation/) over more seeds than CI runs:
# libraft's fixture, the state machine and the runtime in one process, each seed
# injecting crashes and power cuts, pauses, partitions, lost and late proposals and disk
# faults, and checking every invariant after every step.
#
#   scripts/soak.sh N [FIRST]   N seeds from seed FIRST (default: a random start above
#                               the 1..200 that CI runs)
#
# A failing seed prints what it broke; run it alone with its log to see how:
#   VED_SIM_LOG=1 VED_SIM_SEEDS=SEED:1 build/tests/ved_cluster_sim_tests -tc='*soak*'
# (VED_SIM_TRACE=1 prints the log as it happens, for a seed that crashes). Builds
# ved_cluster_sim_tests in build/ first.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:?usage: scripts/soak.sh N [FIRST]}"
first="${2:-$(( (RANDOM << 15 | RANDOM) + 201 ))}"
nice -n 10 cmake --build build -j2 --target ved_cluster_sim_tests >/dev/null
echo "soak: seeds ${first}..$(( first + n - 1 ))"
VED_SIM_SEEDS="${first}:${n}" ./build/tests/ved_cluster_sim_tests -tc='*soak*'
