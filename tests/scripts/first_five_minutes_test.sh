#!/usr/bin/env bash
# The README's "First five minutes", run as a new user would: scripts/run.sh
# in a fresh directory (its own private engine when the machine has none),
# then every command of the README's `sh five-minutes` block, on the port the
# daemon got instead of 8080. Passes when each command succeeds and the
# answers show what the README says they show.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tmp="$(mktemp -d /tmp/crewship-5min.XXXXXX)"
source "$root/tests/scripts/lib.sh"
runner=""
cleanup() {
  if [[ -n "$runner" ]] && kill -0 "$runner" 2>/dev/null; then
    kill -TERM "$runner"
    for _ in $(seq 1 150); do kill -0 "$runner" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$runner" 2>/dev/null
  fi
  awk -v d="$tmp/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
awk '/^```sh five-minutes$/{on=1; next} /^```$/{on=0} on' "$root/README.md" \
  | sed "s/localhost:8080/localhost:$port/g" >"$tmp/five-minutes.sh"
check "the README has the block" test -s "$tmp/five-minutes.sh"

# As the README says: run.sh from the directory the commands run in.
(cd "$tmp" && CREWSHIP_PORT=$port CREWSHIP_HOST=127.0.0.1 CREWSHIP_ALLOW_SIGNUP=true \
   exec setsid "$root/scripts/run.sh" </dev/null >"$tmp/run.log" 2>&1) &
runner=$!
ready=0
for _ in $(seq 1 600); do  # the first run builds the sandbox image
  grep -q ' ready$' "$tmp/run.log" 2>/dev/null && { ready=1; break; }
  kill -0 "$runner" 2>/dev/null || break
  sleep 0.2
done
check "scripts/run.sh serves (log: $(tail -n 5 "$tmp/run.log" | tr '\n' ' '))" test "$ready" -eq 1

if [[ $ready -eq 1 ]]; then
  (cd "$tmp" && timeout 120 bash -euo pipefail five-minutes.sh) >"$tmp/out.txt" 2>"$tmp/err.txt"
  rc=$?
  check "every command runs (exit $rc; stderr: $(tail -n 5 "$tmp/err.txt" | tr '\n' ' '))" test "$rc" -eq 0
  out="$(cat "$tmp/out.txt")"
  check "the bootstrap answers the workspace" grep -q '"workspace":{"id":' <<<"$out"
  check "the container runs" grep -q '"state":"running"' <<<"$out"
  check "the run succeeded" grep -qx 'SUCCEEDED' <<<"$out"
  check "the workspace holds notes.txt" grep -qx 'notes.txt' <<<"$out"
  check "the container lists /home/agent/todo.md" grep -qx 'agent/todo.md' <<<"$out"
  check "the git log has the commit" grep -qx 'First notes' <<<"$out"
  check "Bob became a member" grep -qx 'MEMBER' <<<"$out"
  [[ $failures -eq 0 ]] || { echo "--- output"; cat "$tmp/out.txt"; echo "--- stderr"; cat "$tmp/err.txt"; echo "--- log"; tail -n 30 "$tmp/run.log"; } >&2
fi

# run.sh stops the daemon and its private engine on TERM.
kill -TERM "$runner" 2>/dev/null
stopped=0
for _ in $(seq 1 150); do kill -0 "$runner" 2>/dev/null || { stopped=1; break; }; sleep 0.1; done
check "scripts/run.sh stops on TERM" test "$stopped" -eq 1
wait "$runner" 2>/dev/null
runner=""
check "the daemon is gone (its lock is free)" flock -n "$tmp/data/crewshipd.lock" true
check "its private engine is gone" bash -c "! pgrep -f '[d]ockerd.*$tmp/data/engine' >/dev/null"
summary
