#!/usr/bin/env bash
# Installs Ved as a user would and runs the installed programs on an example:
#  1. `cmake --install` into a scratch prefix: vedc, vedvm, their man pages and the docs
#     land in the usual places, and the installed binaries compile and run hello.ved;
#  2. `cpack -G DEB`: the package names the shared libraries the binaries need (leveldb,
#     zeromq, ...), holds the same files under /usr, and its binaries, unpacked into a
#     scratch root with `dpkg -x`, run the example too.
# Everything is written under one mktemp directory, removed at the end.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "install test: FAILED: $*" >&2
  exit 1
}

# Compiles and runs hello.ved with the vedc and vedvm found under $1/bin.
run_example() {
  local bin=$1 where=$2
  "$bin/vedc" "$src/examples/hello.ved" -o "$tmp/$where.vedb" || fail "$where: vedc failed"
  local out
  out=$("$bin/vedvm" "$tmp/$where.vedb" --data-dir "$tmp/$where-data") || fail "$where: vedvm exited $?"
  grep -q "Counter.State(value: 3)" <<<"$out" || fail "$where: unexpected output: $out"
  "$bin/vedvm" --version | grep -q "^vedvm " || fail "$where: vedvm --version"
}

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || fail "cmake --install: $(cat "$tmp/install.log")"
for f in bin/vedc bin/vedvm share/man/man1/vedc.1 share/man/man1/vedvm.1 share/doc/ved/README.md \
  share/doc/ved/runtime.md share/doc/ved/examples/hello.ved; do
  [ -f "$prefix/$f" ] || fail "cmake --install did not install $f"
done
# Man pages that man can render, and nothing of the build's internals.
MANWIDTH=80 man -l "$prefix/share/man/man1/vedvm.1" 2>/dev/null | grep -q "run Ved programs" ||
  grep -q "run Ved programs" "$prefix/share/man/man1/vedvm.1" || fail "vedvm.1 does not read as a man page"
[ -z "$(find "$prefix" -name '*.a' -o -name '*.h' | head -1)" ] || fail "libraries or headers were installed"
run_example "$prefix/bin" installed

(cd "$tmp" && cpack -G DEB -B "$tmp/pkg" --config "$build/CPackConfig.cmake" >"$tmp/cpack.log" 2>&1) ||
  fail "cpack: $(tail -20 "$tmp/cpack.log")"
deb=$(ls "$tmp"/pkg/ved_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "cpack made no ved_*.deb: $(ls "$tmp/pkg")"
depends=$(dpkg-deb -f "$deb" Depends)
# libcurl4 and libzmq5 are opened with dlopen (packaging/CMakeLists.txt names them); the
# ANTLR runtime is linked statically, so the package must not pull it in.
for lib in libleveldb libzmq5 libcurl4 libc6; do
  grep -q "$lib" <<<"$depends" || fail "the package does not depend on $lib: Depends: $depends"
done
grep -q "libantlr4-runtime" <<<"$depends" && fail "the package depends on libantlr4-runtime, which is linked in: Depends: $depends"
listing=$(dpkg-deb -c "$deb")
grep -q "\./usr/bin/vedvm$" <<<"$listing" || fail "the package has no /usr/bin/vedvm"
grep -q "\./usr/share/man/man1/vedc.1" <<<"$listing" || fail "the package has no vedc(1)"
dpkg -x "$deb" "$tmp/root"
run_example "$tmp/root/usr/bin" packaged

echo "install test: cmake --install and $(basename "$deb") both run the example"
