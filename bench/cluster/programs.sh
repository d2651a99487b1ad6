#!/usr/bin/env bash
# bench/cluster/programs.sh: a program running on a Ved cluster (docs/cluster.md "Running
# a program"), measured against one local `vedvm` in the same run:
#
#   1. the token ring (bench/runtime/ring.ved, 100 instances) and the fan-out
#      (bench/runtime/fanout.ved, 1,000 workers x 10 rounds) on 1, 3 and 5 cluster nodes,
#      Raft log fsynced, through `vedvm --join ... --follow`: seconds, ring ticks/s and
#      fan-out messages/s, next to one local `vedvm` (--sync=tick and --sync=none);
#   2. failover: a long ring on 3 nodes, its owner killed with kill -9; the time until
#      another node has committed ticks of it (status shows a new, live owner and the
#      committed frames moving on), over N trials: p50 and max.
#
#   bench/cluster/programs.sh [TRIALS]     (default 20 failover trials)
#   bench/cluster/programs.sh --smoke      one small ring on 3 nodes, 2 trials
#
# Plaintext on loopback (--insecure). Ports are picked free at run time; every process
# started here is killed by pid on exit, also on failure. VEDVM, VEDC: the binaries
# (default build/). RING_HOPS (default 100000). FAILOVER_ONLY=1: part 2 alone.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
VEDVM="${VEDVM:-$root/build/vedvm}"
VEDC="${VEDC:-$root/build/vedc}"
trials=20
hops="${RING_HOPS:-100000}"
case "${1:-}" in
  --smoke) trials=2; hops=5000 ;;
  "") ;;
  *) trials="$1" ;;
esac

scratch="$(mktemp -d "${TMPDIR:-/tmp}/ved-bench-programs.XXXXXX")"
declare -A pid_of=()
cleanup() {
  local status=$?
  for p in "${pid_of[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pid_of[@]}"; do wait "$p" 2>/dev/null || true; done
  # Kept when something went wrong: the nodes' logs are what says why.
  if [ "$status" = 0 ]; then rm -rf "$scratch"; else rm -rf "$scratch"/n*/ "$scratch"/local; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
now() { python3 -c 'import time; print(time.monotonic())'; }
ring() {  # ring HOPS OUT.vedb
  sed "s/@N@/100/g; s/@M@/$1/g" "$root/bench/runtime/ring.ved" >"$scratch/ring.ved"
  "$VEDC" "$scratch/ring.ved" -o "$2" >/dev/null
}

declare -A addr=()
start_node() {  # start_node I [ARGS...]
  local i="$1"; shift
  "$VEDVM" node --listen "${addr[$i]}" --data-dir "$scratch/n$i" --insecure "$@" >>"$scratch/n$i.log" 2>&1 &
  pid_of[n$i]=$!
}
voters() {
  "$VEDVM" status --join "${addr[$1]}" --json --insecure 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(m["voter"] for m in d["members"]) if d["asked"]["quorum"] else 0)' 2>/dev/null || echo 0
}
wait_voters() {  # wait_voters I N
  for _ in $(seq 1 300); do [ "$(voters "$1")" = "$2" ] && return 0; sleep 0.1; done
  echo "bench/cluster: the cluster did not form; logs in $scratch" >&2; exit 1
}
form() {  # form N: nodes 1..N (any running ones stopped and forgotten first)
  for p in "${pid_of[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pid_of=()
  rm -rf "$scratch"/n*
  for i in $(seq 1 "$1"); do addr[$i]="127.0.0.1:$(free_port)"; done
  start_node 1 --bootstrap
  wait_voters 1 1
  for i in $(seq 2 "$1"); do start_node "$i" --join "${addr[1]}"; wait_voters 1 "$i"; done
}

# ---- 1. throughput ------------------------------------------------------------------
if [ -z "${FAILOVER_ONLY:-}" ]; then
ring "$hops" "$scratch/ring.vedb"
sed "s/@K@/1000/g; s/@R@/10/g" "$root/bench/runtime/fanout.ved" >"$scratch/fanout.ved"
"$VEDC" "$scratch/fanout.ved" -o "$scratch/fanout.vedb" >/dev/null
fanout_messages=$(( 2 * 1000 * 10 ))
seconds() { local a b; a="$(now)"; "$@" >/dev/null; b="$(now)"; python3 -c "print($b - $a)"; }
row() {  # row LABEL RING-SECONDS FANOUT-SECONDS
  printf '%-26s %10.3f %12.0f %10.3f %12.0f\n' "$1" "$2" "$(python3 -c "print($hops / $2)")" "$3" \
    "$(python3 -c "print($fanout_messages / $3)")"
}
printf '%-26s %10s %12s %10s %12s\n' "" "ring s" "ticks/s" "fan-out s" "messages/s"
for sync in tick none; do
  rm -rf "$scratch/local"
  r="$(seconds "$VEDVM" "$scratch/ring.vedb" --data-dir "$scratch/local" --sync=$sync)"
  rm -rf "$scratch/local"
  f="$(seconds "$VEDVM" "$scratch/fanout.vedb" --data-dir "$scratch/local" --sync=$sync)"
  row "local vedvm --sync=$sync" "$r" "$f"
done
sizes="1 3 5"
[ "$trials" -le 2 ] && sizes="3"
for n in $sizes; do
  form "$n"
  r="$(seconds "$VEDVM" --join "${addr[1]}" "$scratch/ring.vedb" --insecure --follow)"
  f="$(seconds "$VEDVM" --join "${addr[1]}" "$scratch/fanout.vedb" --insecure --follow)"
  row "cluster of $n, fsync on" "$r" "$f"
done
fi

# ---- 2. failover ----------------------------------------------------------------------
# Long enough to be caught running. Every trial has a cluster of its own: a cluster's
# Raft snapshots copy every committed frame of every program (docs/cluster.md, "Not
# yet"), so twenty long runs in one cluster would measure that, not failover.
ring 200000 "$scratch/long.vedb"
# owner_and_frames I PROGRAM: "OWNER FRAMES" as node I reports them ("- 0" if it does not answer)
owner_and_frames() {
  "$VEDVM" status --join "${addr[$1]}" --json --insecure 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
p = [p for p in d["programs"] if str(p["id"]) == sys.argv[1]]
print((str(p[0]["owner"]) if p and p[0]["owner"] else "-") + " " + (str(p[0]["frames"]) if p else "0"))' "$2" 2>/dev/null || echo "- 0"
}
node_of() {  # node_of NODE-ID: the index of the node whose log names it
  for i in 1 2 3; do grep -q "vedvm node $1:" "$scratch/n$i.log" && { echo "$i"; return; }; done
  echo 0
}
# count_commits I ID: how many times node I's log says it committed ticks of program ID
count_commits() { grep -c "program $2: ticks committed from frame" "$scratch/n$1.log" || true; }
times=()
for t in $(seq 1 "$trials"); do
  form 3
  id="$("$VEDVM" --join "${addr[1]}" "$scratch/long.vedb" --insecure | awk '{print $NF}')"
  owner=-; frames=0
  for _ in $(seq 1 200); do
    read -r owner frames < <(owner_and_frames 1 "$id")
    [ "$owner" != - ] && [ "$frames" -gt 1000 ] && break
    sleep 0.05
  done
  victim="$(node_of "$owner")"
  [ "$victim" != 0 ] || { echo "bench/cluster: no owner for trial $t" >&2; exit 1; }
  survivors=(); for i in 1 2 3; do [ "$i" != "$victim" ] && survivors+=("$i"); done
  # The clock starts at the kill and stops when a surviving node's log says it committed
  # ticks of the program (its runner logs its first committed group): read every 5 ms.
  ms="$(python3 - "$scratch" "$id" "${pid_of[n$victim]}" "${survivors[@]}" <<'PY'
import os, signal, sys, time
scratch, program, pid, survivors = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
line = f"program {program}: ticks committed from frame"
def count():
    return sum(open(f"{scratch}/n{i}.log", errors="replace").read().count(line) for i in survivors)
before = count()
start = time.monotonic()
os.kill(pid, signal.SIGKILL)
while count() == before:
    if time.monotonic() - start > 30:
        print("timeout"); sys.exit(0)
    time.sleep(0.005)
print(f"{(time.monotonic() - start) * 1000:.0f}")
PY
)"
  wait "${pid_of[n$victim]}" 2>/dev/null || true
  [ "$ms" != timeout ] || { echo "bench/cluster: trial $t: the program did not move within 30 s; logs in $scratch" >&2; exit 1; }
  times+=("$ms")
done
python3 - "${times[@]}" <<'PY'
import statistics, sys
t = sorted(float(x) for x in sys.argv[1:])
print(f"program failover (kill -9 of its owner -> another node commits its ticks), {len(t)} trials: "
      f"p50 {statistics.median(t):.0f} ms, max {max(t):.0f} ms, min {min(t):.0f} ms")
PY
