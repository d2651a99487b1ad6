#!/usr/bin/env bash
# How long an upgrade takes (issue 13): N idle instances (idle.ved) are stored, then
# `vedvm upgrade` takes the data dir over to idle_v2.ved, whose migration runs on every
# Cell; the time is the whole process (load the run, migrate, write it back, fsync).
#
#   bench/runtime/upgrade.sh [--vedc PATH] [--vedvm PATH] [N]     (N: 100000)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
vedc="$here/../../build/vedc"
vedvm="$here/../../build/vedvm"
while [[ $# -gt 0 && "$1" == --* ]]; do
  case "$1" in
    --vedc) vedc="$2"; shift 2 ;;
    --vedvm) vedvm="$2"; shift 2 ;;
    *) echo "upgrade.sh: unknown option $1" >&2; exit 64 ;;
  esac
done
n="${1:-100000}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for v in idle idle_v2; do
  mkdir -p "$tmp/$v"
  sed "s/@N@/$n/g; s/@B@/1000/g" "$here/$v.ved" >"$tmp/$v/cells.ved"
  "$vedc" "$tmp/$v/cells.ved" -o "$tmp/$v/cells.vedb"
done
"$vedvm" "$tmp/idle/cells.vedb" --data-dir "$tmp/data" --quiet --sync=none >/dev/null
for run in 1 2 3; do
  rm -rf "$tmp/copy" && cp -r "$tmp/data" "$tmp/copy"
  start=$(date +%s%N)
  "$vedvm" upgrade "$tmp/copy" "$tmp/idle_v2/cells.vedb" >"$tmp/upgrade.out"
  end=$(date +%s%N)
  echo "upgrade of $n instances, run $run: $(( (end - start) / 1000000 )) ms ($(cat "$tmp/upgrade.out"))"
done
"$vedvm" inspect "$tmp/copy" --json --instance 'Cell[7]'
