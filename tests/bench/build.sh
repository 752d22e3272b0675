#!/usr/bin/env bash
# Build the standalone benchmark load generator.
#   usage: tests/bench/build.sh [OUT_DIR]      (default: build/bench)
# Produces OUT_DIR/loadgen. Needs g++/gcc, libuv1-dev and node-llhttp.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/build/bench}"
mkdir -p "$out/obj"

LLHTTP_SRC="${LLHTTP_SRC:-/usr/share/llhttp}"
LLHTTP_INC="${LLHTTP_INC:-/usr/share/include/llhttp}"
CXX="${CXX:-g++}"
CC="${CC:-gcc}"

uv_cflags="$(pkg-config --cflags libuv 2>/dev/null || true)"
uv_libs="$(pkg-config --libs libuv 2>/dev/null || echo -luv)"

objs=()
for src in llhttp api http; do
  obj="$out/obj/llhttp_$src.o"
  "$CC" -O2 -fPIC -I"$LLHTTP_INC" -c "$LLHTTP_SRC/$src.c" -o "$obj"
  objs+=("$obj")
done

# shellcheck disable=SC2086
"$CXX" -O2 -std=c++20 -Wall -Wextra -Wpedantic -I"$LLHTTP_INC" $uv_cflags \
  "$here/loadgen.cc" "${objs[@]}" $uv_libs -o "$out/loadgen"

echo "built $out/loadgen"
