#!/usr/bin/env bash
# Installs every Debian package Ved needs to build, test and benchmark.
# Non-interactive and idempotent: packages already present are left alone.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  dpkg-dev man-db                     # packaging: dpkg-shlibdeps for cpack -G DEB; man for the man pages test
  clang libclang-rt-14-dev            # libFuzzer + sanitizers for tests/fuzz
  # parser generator and runtime (grammar/Ved.g4 is generated at build time)
  antlr4 libantlr4-runtime-dev uuid-dev
  # JIT
  llvm-16-dev
  # messaging, serialization, storage, consensus
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libleveldb-dev libsnappy-dev
  libcurl4-openssl-dev                # HTTP effects (Net.HttpGet, Net.HttpPost)
  libxxhash-dev libpcg-cpp-dev       # hash(x) and program hashes; rand(n)
  libabsl-dev                         # hash index of Ved maps (vm/ordered_map.h)
  libraft-dev libuv1-dev
  # tests
  doctest-dev
  chromium                            # headless, loads `vedvm timeline` pages (tests/runtime/timeline_test.cpp)
  python3-jsonschema                  # validates vedvm's JSON against docs/json/ (tests/runtime)
  # command lines and JSON output
  libcli11-dev nlohmann-json3-dev
  # benchmark peers (compared against, never linked)
  lua5.4 luajit erlang-base hyperfine time   # time: /usr/bin/time for peak memory in bench/runtime
  etcd-server etcd-client             # bench/cluster: a 3-member etcd 3.4 beside a 3-node Ved cluster
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
