#!/usr/bin/env bash
# CTest fixture cleanup (and up.sh's first step): removes the containers of
# the engines tests/engines/up.sh started in DIR and stops those engines.
# Safe to run when nothing runs, twice, or after a crash.
#   tests/engines/down.sh DIR
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ -d "$1" ]] || exit 0
dir="$(cd "$1" && pwd)"
source "$root/scripts/podman.sh"
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)

# The pid in FILE when that process is still the one its command line names
# (PATTERNS, all of them): a pid file of an old run may name another process.
live_pid() {
  local file="$1" pid cmd
  shift
  [[ -f "$file" ]] || return 1
  pid=$(cat "$file")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  for pattern in "$@"; do [[ "$cmd" == *"$pattern"* ]] || return 1; done
  echo "$pid"
}

# Docker: remove every container, then stop dockerd (dockerd writes its pid).
if pid=$(live_pid "$dir/docker/dockerd.pid" dockerd "$dir/docker/"); then
  cli=(timeout 30 docker -H "unix://$dir/docker/docker.sock")
  ids=$("${cli[@]}" ps -aq 2>/dev/null || true)
  # shellcheck disable=SC2086
  [[ -z "$ids" ]] || "${cli[@]}" rm -f $ids >/dev/null 2>&1 || true
  stop_pid "$pid"
  echo "stopped dockerd $pid" >&2
fi
rm -f "$dir/docker/dockerd.pid"

# Podman: containers run under conmon, outside the service, and outlive it;
# the local podman command removes them straight from the private storage
# (whether the service still runs or not). Then the service, then the conmon
# processes that wait out an ended exec session, all of this storage only.
if [[ -f "$dir/podman/containers.conf" ]] && command -v podman >/dev/null; then
  # shellcheck disable=SC2046
  "${sudo[@]}" env $(podman_env "$dir/podman") timeout 60 podman rm -af -t 0 \
    >/dev/null 2>&1 || echo "podman rm failed in $dir/podman" >&2
fi
if pid=$(live_pid "$dir/podman/podman.pid" podman "$dir/podman/podman.sock"); then
  stop_pid "$pid"
  echo "stopped podman $pid" >&2
fi
rm -f "$dir/podman/podman.pid"
for proc in /proc/[0-9]*; do
  cmd=$(tr '\0' ' ' 2>/dev/null <"$proc/cmdline") || continue
  if [[ "$cmd" == *conmon*" -b $dir/podman/root/"* ]]; then
    "${sudo[@]}" kill -KILL "${proc#/proc/}" 2>/dev/null || true
  fi
done
# Podman's overlay storage mounts itself (and what containers left) under
# DIR: unmount those, deepest first, so DIR can be removed.
awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
  "${sudo[@]}" umount "$m" 2>/dev/null || "${sudo[@]}" umount -l "$m" 2>/dev/null || true
done
exit 0
