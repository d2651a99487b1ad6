#!/usr/bin/env bash
# bench/cluster/run.sh: a 3-node Ved cluster and a 3-member etcd 3.4 on 127.0.0.1, both
# with fsync on, measured in the same run by build/bench/cluster_load: committed entries
# per second and commit latency (p50, p99) for entries of 100 B and 4 KB with 1 and 64
# proposals in flight; then the Ved cluster's failover time (kill -9 of the leader until
# a new leader commits) over N trials. Prints a table with the ratios Ved / etcd.
#
#   bench/cluster/run.sh [SECONDS]          (default 5 s per case; 20 failover trials)
#   bench/cluster/run.sh --smoke            forms the Ved cluster, commits for 1 s (CI)
#
# Both run plaintext on loopback (etcd without TLS, Ved with --insecure): the comparison
# is consensus and storage, not encryption. Ports are picked free at run time; every
# process started here is killed by pid on exit, also on failure.
# Environment: VEDVM, CLUSTER_LOAD (default build/vedvm, build/bench/cluster_load),
# FAILOVER_TRIALS (default 20).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
VEDVM="${VEDVM:-$root/build/vedvm}"
CLUSTER_LOAD="${CLUSTER_LOAD:-$root/build/bench/cluster_load}"
smoke=0
seconds=5
case "${1:-}" in
  --smoke) smoke=1; seconds=1 ;;
  "") ;;
  *) seconds="$1" ;;
esac
trials="${FAILOVER_TRIALS:-20}"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/ved-bench-cluster.XXXXXX")"
declare -A pid_of=()
cleanup() {
  for p in "${pid_of[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pid_of[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# ---- Ved: 3 nodes ---------------------------------------------------------------------
declare -A addr=()
for i in 1 2 3; do addr[$i]="127.0.0.1:$(free_port)"; done
start_node() {  # start_node I [ARGS...]
  local i="$1"; shift
  "$VEDVM" node --listen "${addr[$i]}" --data-dir "$scratch/ved$i" --insecure "$@" >>"$scratch/ved$i.log" 2>&1 &
  pid_of[ved$i]=$!
}
voters() {  # voters I: how many voters node I reports, 0 if it has no quorum
  "$VEDVM" status --join "${addr[$1]}" --json --insecure 2>/dev/null |
    json_field 'sum(m["voter"] for m in d["members"]) if d["asked"]["quorum"] else 0' 2>/dev/null || echo 0
}
wait_voters() {  # wait_voters I N
  for _ in $(seq 1 300); do [ "$(voters "$1")" = "$2" ] && return 0; sleep 0.1; done
  echo "bench/cluster: the Ved cluster did not form; logs in $scratch" >&2; cat "$scratch"/ved*.log >&2; exit 1
}
start_node 1 --bootstrap
wait_voters 1 1
start_node 2 --join "${addr[1]}"
wait_voters 1 2
start_node 3 --join "${addr[1]}"
wait_voters 1 3

if [ "$smoke" = 1 ]; then
  line="$("$CLUSTER_LOAD" ved "${addr[1]}" 100 8 1)"
  count="$(echo "$line" | awk '{print $4}')"
  echo "bench/cluster smoke: $line"
  [ "$count" -gt 0 ] || { echo "bench/cluster: nothing committed" >&2; exit 1; }
  echo "bench/cluster smoke: ok"
  exit 0
fi

# ---- etcd 3.4: 3 members ----------------------------------------------------------------
command -v etcd >/dev/null || { echo "bench/cluster: etcd not found (scripts/install-deps.sh installs etcd-server)" >&2; exit 2; }
declare -A client=() peer=()
for i in 1 2 3; do client[$i]="http://127.0.0.1:$(free_port)"; peer[$i]="http://127.0.0.1:$(free_port)"; done
initial="e1=${peer[1]},e2=${peer[2]},e3=${peer[3]}"
for i in 1 2 3; do
  etcd --name "e$i" --data-dir "$scratch/etcd$i" --listen-client-urls "${client[$i]}" \
    --advertise-client-urls "${client[$i]}" --listen-peer-urls "${peer[$i]}" \
    --initial-advertise-peer-urls "${peer[$i]}" --initial-cluster "$initial" \
    --initial-cluster-state new --initial-cluster-token ved-bench >"$scratch/etcd$i.log" 2>&1 &
  pid_of[etcd$i]=$!
done
for _ in $(seq 1 300); do
  ETCDCTL_API=3 etcdctl --endpoints "${client[1]},${client[2]},${client[3]}" endpoint health >/dev/null 2>&1 && break
  sleep 0.1
done
# Proposals go to each system's leader (a follower would forward them: one more hop).
etcd_leader="$(ETCDCTL_API=3 etcdctl --endpoints "${client[1]},${client[2]},${client[3]}" endpoint status -w json |
  json_field '[e["Endpoint"] for e in d if e["Status"]["leader"] == e["Status"]["header"]["member_id"]][0]')"

printf '%-6s %-5s | %12s %8s %8s | %12s %8s %8s | %8s %8s\n' size procs "ved/s" "p50 ms" "p99 ms" "etcd/s" "p50 ms" "p99 ms" "rate x" "p99 x"
for size in 100 4096; do
  for procs in 1 64; do
    read -r v_rate v_p50 v_p99 _ < <("$CLUSTER_LOAD" ved "${addr[1]}" "$size" "$procs" "$seconds")
    read -r e_rate e_p50 e_p99 _ < <("$CLUSTER_LOAD" etcd "$etcd_leader" "$size" "$procs" "$seconds")
    ratio="$(python3 -c "print(f'{$v_rate / $e_rate:.2f}')")"
    p99r="$(python3 -c "print(f'{$v_p99 / $e_p99:.2f}')")"
    printf '%-6s %-5s | %12s %8s %8s | %12s %8s %8s | %8s %8s\n' "$size" "$procs" "$v_rate" "$v_p50" "$v_p99" "$e_rate" "$e_p50" "$e_p99" "$ratio" "$p99r"
  done
done
echo "(rate x = Ved entries/s over etcd's: above 1 is faster; p99 x = Ved's p99 over etcd's: below 1 is better)"

# ---- Failover: kill -9 the leader, time until a new leader commits ---------------------
leader_index() {
  for i in 1 2 3; do
    local a
    a="$("$VEDVM" status --join "${addr[$i]}" --json --insecure 2>/dev/null | json_field 'd["leader"]["address"] if d["asked"]["quorum"] else ""' 2>/dev/null || true)"
    for j in 1 2 3; do [ -n "$a" ] && [ "$a" = "${addr[$j]}" ] && { echo "$j"; return 0; }; done
  done
  echo 0
}
times=()
for t in $(seq 1 "$trials"); do
  l="$(leader_index)"
  [ "$l" != 0 ] || { echo "bench/cluster: no leader before trial $t" >&2; exit 1; }
  other=$(( l % 3 + 1 ))
  kill -9 "${pid_of[ved$l]}"; wait "${pid_of[ved$l]}" 2>/dev/null || true
  ms="$("$CLUSTER_LOAD" commit-once "${addr[$other]}" 30000)"
  times+=("$ms")
  start_node "$l"   # same data dir: it rejoins
  wait_voters "$other" 3
  for _ in $(seq 1 100); do [ "$(voters "$l")" = 3 ] && break; sleep 0.1; done
done
python3 - "${times[@]}" <<'PY'
import statistics, sys
t = sorted(float(x) for x in sys.argv[1:])
print(f"failover (kill -9 of the leader -> a new leader commits), {len(t)} trials: "
      f"p50 {statistics.median(t):.0f} ms, max {max(t):.0f} ms, min {min(t):.0f} ms")
PY
