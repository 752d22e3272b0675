# shellcheck shell=bash
# Sourced: start and stop a private Podman API service (Debian's podman, its
# Docker-compatible API) on its own socket and storage, for the container
# tests. Configuration under DIR: storage.conf (graphroot DIR/root), a
# containers.conf (runc, cgroupfs, file events, default ulimits, netns none)
# and a registries.conf without search registries, so a short image name only
# ever means a local image. The Docker-compatible API ignores netns and puts
# a container without NetworkMode on the default network "podman": here that
# is a loopback-only CNI network, so no bridge or iptables rule on the host.
#   start_private_podman DIR   sets PODMAN_SOCKET and PODMAN_PID
#   stop_private_podman
# podman_env DIR prints the environment that points a local podman command
# at the same storage and configuration (e.g. env $(podman_env DIR) podman ps).

source "$(dirname "${BASH_SOURCE[0]}")/engine-lib.sh"

podman_env() {
  echo "CONTAINERS_CONF=$1/containers.conf CONTAINERS_STORAGE_CONF=$1/storage.conf" \
       "CONTAINERS_REGISTRIES_CONF=$1/registries.conf"
}

start_private_podman() {
  local dir="$1"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  PODMAN_SOCKET="$dir/podman.sock"
  PODMAN_PID=""
  engine_busy podman "$PODMAN_SOCKET" && return 1
  # Run state holds runtime sockets whose paths must stay short.
  local run
  run="/run/crewship-podman-$(echo -n "$dir" | sha1sum | cut -c1-8)"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" mkdir -p "$run"
  cat >"$dir/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$dir/root"
runroot = "$run/storage"
EOF
  cat >"$dir/containers.conf" <<EOF
[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[network]
network_backend = "cni"
network_config_dir = "$dir/cni"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
# An ended exec session's conmon waits this long (Docker-like default 300 s)
# before cleaning up; its exit code stays readable meanwhile.
exit_command_delay = 30
tmp_dir = "$run/libpod"
static_dir = "$dir/root/libpod"
volume_path = "$dir/root/volumes"
EOF
  mkdir -p "$dir/cni"
  cat >"$dir/cni/podman.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "podman", "plugins": [{"type": "loopback"}]}
EOF
  cat >"$dir/registries.conf" <<EOF
unqualified-search-registries = []
short-name-mode = "permissive"
EOF
  rm -f "$PODMAN_SOCKET"
  # shellcheck disable=SC2046
  "${sudo[@]}" env $(podman_env "$dir") podman system service --time=0 \
    "unix://$PODMAN_SOCKET" </dev/null >>"$dir/podman.log" 2>&1 &
  PODMAN_PID=$!
  echo "$PODMAN_PID" >"$dir/podman.pid"
  wait_engine podman "$PODMAN_SOCKET" "$PODMAN_PID" "$dir/podman.log" && return 0
  stop_private_podman
  return 1
}

# Containers run under conmon, outside the service: they outlive it, so
# callers remove them first (down.sh does).
stop_private_podman() {
  [[ -n "${PODMAN_PID:-}" ]] || return 0
  stop_pid "$PODMAN_PID"
  PODMAN_PID=""
}
