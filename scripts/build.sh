#!/usr/bin/env bash
# Configures and builds crewshipd into build/ (BUILD_DIR to change it).
#   scripts/build.sh [--target NAME] [CMAKE_ARGS...]
# e.g. scripts/build.sh -DCREWSHIP_ASAN=ON -DCREWSHIP_UBSAN=ON
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
target=()
if [[ "${1:-}" == "--target" ]]; then
  target=(--target "$2")
  shift 2
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" "${target[@]}"
