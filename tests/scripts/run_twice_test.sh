#!/usr/bin/env bash
# scripts/run.sh started twice on one data dir, and a private engine started
# twice on one directory: the second start must refuse, leave the first's
# files alone and never claim the first's engine as its own. And the scripts
# the README runs directly can be run so.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tmp="$(mktemp -d /tmp/crewship-runtwice.XXXXXX)"
source "$root/tests/scripts/lib.sh"
cleanup() {
  [[ -n "${DOCKERD_PID:-}" ]] && stop_private_dockerd
  # dockerd leaves its data root bind-mounted on itself
  awk -v d="$tmp/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# 1. A data dir whose lock a live crewshipd holds (here: flock standing in).
mkdir -p "$tmp/data"
exec 9<>"$tmp/data/crewshipd.lock"
flock -n 9
echo 4242 >"$tmp/data/crewshipd.lock"
out=$(cd "$tmp" && CREWSHIP_DATA_DIR="$tmp/data" timeout 20 "$root/scripts/run.sh" 9>&- 2>&1); rc=$?
check "run.sh on a locked data dir exits 1 (got $rc: $out)" test "$rc" -eq 1
check "run.sh names the holder" grep -q "another crewshipd uses $tmp/data (pid 4242)" <<<"$out"
check "run.sh started no engine there" test ! -e "$tmp/data/engine"
exec 9>&-

# 2. A private dockerd started twice on one directory.
if command -v dockerd >/dev/null; then
  source "$root/scripts/dockerd.sh"
  if start_private_dockerd "$tmp/e" 2>/dev/null; then
    first_pid=$DOCKERD_PID
    echo "marker line of the first dockerd" >>"$tmp/e/dockerd.log"
    out=$(start_private_dockerd "$tmp/e" 2>&1); rc=$?
    check "second dockerd start fails (got $rc)" test "$rc" -ne 0
    check "it says why" grep -q "already serves $tmp/e/docker.sock" <<<"$out"
    check "it does not claim the first one" bash -c "! grep -q 'private dockerd on' <<<\"\$1\"" _ "$out"
    check "the first one's log is kept" grep -q "marker line of the first dockerd" "$tmp/e/dockerd.log"
    check "the first one still answers" curl -sf -o /dev/null --max-time 2 --unix-socket "$tmp/e/docker.sock" http://e/_ping
    DOCKERD_PID=$first_pid
  else
    echo "FAIL: the first private dockerd did not start" >&2
    failures=$((failures + 1))
  fi
fi
# The README runs the benchmark scripts directly.
for script in "$root"/tests/bench/*.sh; do
  check "$(basename "$script") is executable" test -x "$script"
done

summary
