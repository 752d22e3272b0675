# Sourced: start and stop a private dockerd (Debian's docker.io) on its own
# socket, data root and exec root, for the run script and the container tests.
# No bridge, NAT or iptables rules (containers get --network none or host),
# and default ulimits so containers never inherit the host's huge ones.
#   start_private_dockerd DIR   sets DOCKERD_SOCKET and DOCKERD_PID
#   stop_private_dockerd

source "$(dirname "${BASH_SOURCE[0]}")/engine-lib.sh"

start_private_dockerd() {
  local dir="$1"
  mkdir -p "$dir"
  DOCKERD_SOCKET="$dir/docker.sock"
  DOCKERD_PID=""
  engine_busy dockerd "$DOCKERD_SOCKET" && return 1
  # The exec root holds runtime sockets whose paths must stay short.
  local exec_root
  exec_root="/run/crewship-dockerd-$(echo -n "$dir" | sha1sum | cut -c1-8)"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" dockerd --host "unix://$DOCKERD_SOCKET" --data-root "$dir/root" \
    --exec-root "$exec_root" --pidfile "$dir/dockerd.pid" \
    --bridge=none --iptables=false --ip-masq=false \
    --default-ulimit nofile=1024:1024 --default-ulimit nproc=4096:4096 \
    </dev/null >>"$dir/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  wait_engine dockerd "$DOCKERD_SOCKET" "$DOCKERD_PID" "$dir/dockerd.log"
}

stop_private_dockerd() {
  [[ -n "${DOCKERD_PID:-}" ]] || return 0
  stop_pid "$DOCKERD_PID"
  DOCKERD_PID=""
}
