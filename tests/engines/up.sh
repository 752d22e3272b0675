#!/usr/bin/env bash
# CTest fixture setup: starts a private dockerd in DIR/docker and, when Podman
# is installed and starts, a private Podman service in DIR/podman, imports the
# sandbox image into each, and writes DIR/engines.env:
#   DOCKER_SOCKET=DIR/docker/docker.sock
#   PODMAN_SOCKET=DIR/podman/podman.sock   (empty when Podman is unavailable)
#   SANDBOX_IMAGE=crewship-sandbox:latest
# The engines keep running after it exits (tests/engines/down.sh DIR stops
# them); engines of an earlier run in DIR are stopped first. Installs nothing
# (scripts/test.sh does). Gives up after about 60 s.
#   tests/engines/up.sh DIR
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
# A session of its own, so that signals to the caller's process group (ctest,
# a terminal's Ctrl-C) miss the engines (-w waits and returns our status), and
# a time limit: at 60 s, timeout sends TERM to this script and all it started.
if [[ -z "${CREWSHIP_ENGINES_BOUNDED:-}" ]]; then
  CREWSHIP_ENGINES_BOUNDED=1 exec setsid -w timeout -k 30 60 "$0" "$@"
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mkdir -p "$1"
dir="$(cd "$1" && pwd)"
image=crewship-sandbox:latest
fail() {
  echo "engines: $*; giving up" >&2
  "$here/down.sh" "$dir" || true
  exit 1
}
trap 'fail "timed out after 60 s"' TERM
# Unix socket paths have a 108-byte limit.
[[ ${#dir} -le 80 ]] || fail "DIR too long for socket paths (${#dir} > 80 bytes): $dir"

"$here/down.sh" "$dir"
rm -f "$dir/engines.env"
source "$root/scripts/dockerd.sh"
source "$root/scripts/podman.sh"

start_private_dockerd "$dir/docker" || fail "dockerd did not start (log $dir/docker/dockerd.log)"
"$root/scripts/sandbox-image.sh" --engine docker --force "$DOCKERD_SOCKET" "$image" \
  || fail "no sandbox image in dockerd"

podman_socket=""
if ! command -v podman >/dev/null; then
  echo "engines: podman is not installed; Podman tests will skip" >&2
elif start_private_podman "$dir/podman" \
    && "$root/scripts/sandbox-image.sh" --engine podman --force "$PODMAN_SOCKET" "$image"; then
  podman_socket="$PODMAN_SOCKET"
else
  echo "engines: podman did not start or took no image (log $dir/podman/podman.log);" \
       "Podman tests will skip" >&2
  stop_private_podman
fi

cat >"$dir/engines.env.tmp" <<EOF
DOCKER_SOCKET=$DOCKERD_SOCKET
PODMAN_SOCKET=$podman_socket
SANDBOX_IMAGE=$image
EOF
mv "$dir/engines.env.tmp" "$dir/engines.env"
echo "engines up in $((SECONDS)) s: $dir/engines.env" >&2
