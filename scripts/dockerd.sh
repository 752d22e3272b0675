# Sourced: start and stop a private dockerd (Debian's docker.io) on its own
# socket, data root and exec root, for the run script and the container tests.
# No bridge, NAT or iptables rules (containers get --network none or host),
# and default ulimits so containers never inherit the host's huge ones.
#   start_private_dockerd DIR   sets DOCKERD_SOCKET and DOCKERD_PID
#   stop_private_dockerd

start_private_dockerd() {
  local dir="$1"
  mkdir -p "$dir"
  DOCKERD_SOCKET="$dir/docker.sock"
  # The exec root holds runtime sockets whose paths must stay short.
  local exec_root
  exec_root="/run/crewship-dockerd-$(echo -n "$dir" | sha1sum | cut -c1-8)"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" dockerd --host "unix://$DOCKERD_SOCKET" --data-root "$dir/root" \
    --exec-root "$exec_root" --pidfile "$dir/dockerd.pid" \
    --bridge=none --iptables=false --ip-masq=false \
    --default-ulimit nofile=1024:1024 --default-ulimit nproc=4096:4096 \
    </dev/null >"$dir/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  local i
  for i in $(seq 1 100); do
    if curl -sf --max-time 1 --unix-socket "$DOCKERD_SOCKET" http://engine/_ping >/dev/null 2>&1; then
      [[ $(id -u) -eq 0 ]] || "${sudo[@]}" chmod 0666 "$DOCKERD_SOCKET"
      echo "private dockerd on $DOCKERD_SOCKET (log $dir/dockerd.log)" >&2
      return 0
    fi
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "dockerd did not start; see $dir/dockerd.log" >&2
  tail -n 20 "$dir/dockerd.log" >&2 || true
  return 1
}

stop_private_dockerd() {
  [[ -n "${DOCKERD_PID:-}" ]] || return 0
  kill -TERM "$DOCKERD_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$DOCKERD_PID" 2>/dev/null || true
  DOCKERD_PID=""
}
