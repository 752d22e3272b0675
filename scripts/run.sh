#!/usr/bin/env bash
# Installs what is missing, builds, and runs crewshipd in the foreground with
# its embedded defaults: data in ./data (SQLite, internal token, IPC socket
# ./data/crewshipd.sock), public API on 0.0.0.0:8080. Any CREWSHIP_* variable
# or flag (see build/crewshipd --help) changes that; arguments go to crewshipd.
#
# Container engine: the one discovery finds (DOCKER_HOST, /var/run/docker.sock,
# Podman's sockets); when none answers, a private dockerd is started on
# ./data/engine/docker.sock and stopped when crewshipd exits. The engine then
# gets the crew sandbox image (scripts/sandbox-image.sh, skipped when it has
# it) unless CREWSHIP_SANDBOX_IMAGE names one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${CREWSHIP_DATA_DIR:-$PWD/data}"
# crewshipd holds this lock while it runs: a second run.sh must not start
# (or claim) an engine for a data dir that is in use.
if [[ -e "$data/crewshipd.lock" ]] && ! flock -n "$data/crewshipd.lock" true 2>/dev/null; then
  echo "another crewshipd uses $data (pid $(cat "$data/crewshipd.lock" 2>/dev/null))" >&2
  exit 1
fi
"$root/scripts/deps.sh" run
build="${BUILD_DIR:-$root/build}"
# A run before crewship-hook was built let the engine bind-mount its missing
# path, which made it a root-owned directory there: no build could write it.
if [[ -d "$build/crewship-hook" ]]; then
  echo "removing the directory $build/crewship-hook an engine made in place of the hook" >&2
  rmdir "$build/crewship-hook" 2>/dev/null || sudo rmdir "$build/crewship-hook"
fi
# crewshipd and what it mounts into crew containers: crewship-hook.
"$root/scripts/build.sh" --target crewshipd
cmake --build "$build" -j"$(nproc)" --target crewship-hook

mkdir -p "$data"
export CREWSHIP_DATA_DIR="$data"

engine_answers() {
  curl -sf --max-time 2 --unix-socket "$1" http://engine/_ping >/dev/null 2>&1
}

engine_pid=""
socket=""
if [[ -n "${DOCKER_HOST:-}" ]]; then
  # the operator chose one
  [[ "$DOCKER_HOST" == unix://* ]] && socket="${DOCKER_HOST#unix://}"
elif engine_answers /var/run/docker.sock; then
  socket=/var/run/docker.sock  # crewshipd's discovery finds it
elif engine_answers /run/podman/podman.sock; then
  socket=/run/podman/podman.sock
else
  source "$root/scripts/dockerd.sh"
  start_private_dockerd "$data/engine"
  trap 'stop_private_dockerd' EXIT
  export DOCKER_HOST="unix://$DOCKERD_SOCKET"
  engine_pid="$DOCKERD_PID"
  socket="$DOCKERD_SOCKET"
fi

# The crew sandbox image, built from Debian packages unless the operator
# names one (CREWSHIP_SANDBOX_IMAGE) that the engine has.
if [[ -z "${CREWSHIP_SANDBOX_IMAGE:-}" ]]; then
  export CREWSHIP_SANDBOX_IMAGE=crewship-sandbox:latest
  if [[ -n "$socket" ]]; then
    "$root/scripts/sandbox-image.sh" "$socket" "$CREWSHIP_SANDBOX_IMAGE"
  else
    echo "DOCKER_HOST=$DOCKER_HOST is no Unix socket: not building the sandbox image" >&2
  fi
fi

if [[ -z "$engine_pid" ]]; then
  exec "${BUILD_DIR:-$root/build}/crewshipd" "$@"
fi
trap 'kill -TERM "$daemon_pid" 2>/dev/null' INT TERM
"${BUILD_DIR:-$root/build}/crewshipd" "$@" &
daemon_pid=$!
wait "$daemon_pid" || status=$?
wait "$daemon_pid" 2>/dev/null || true
exit "${status:-0}"
