# shellcheck shell=bash
# Sourced by dockerd.sh and podman.sh: what starting and stopping a private
# engine has in common.

# wait_engine NAME SOCKET PID LOG: 0 once SOCKET answers /_ping (opened to
# every user when we are not root), 1 when PID died or 20 s went by.
wait_engine() {
  local name="$1" socket="$2" pid="$3" log="$4" _
  for _ in $(seq 1 100); do
    # Our engine answers only while it lives: another one on the socket is not ours.
    kill -0 "$pid" 2>/dev/null || break
    if curl -sf --max-time 1 --unix-socket "$socket" http://engine/_ping >/dev/null 2>&1; then
      [[ $(id -u) -eq 0 ]] || sudo chmod 0666 "$socket"
      echo "private $name on $socket (log $log)" >&2
      return 0
    fi
    sleep 0.2
  done
  echo "$name did not start; see $log" >&2
  tail -n 20 "$log" >&2 || true
  return 1
}

# engine_busy NAME SOCKET: 0 (and a message) when an engine already answers
# on SOCKET, so a second start must neither touch its files nor claim it.
engine_busy() {
  if curl -sf --max-time 1 --unix-socket "$2" http://engine/_ping >/dev/null 2>&1; then
    echo "a $1 already serves $2: not starting another" >&2
    return 0
  fi
  return 1
}

# stop_pid PID: TERM, up to 10 s to go, then KILL (through sudo when we are
# not root: the engines run as root).
stop_pid() {
  local pid="$1" _ sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    [[ -d "/proc/$pid" ]] || return 0
    sleep 0.1
  done
  "${sudo[@]}" kill -KILL "$pid" 2>/dev/null || true
}
