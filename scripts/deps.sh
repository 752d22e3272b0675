#!/usr/bin/env bash
# Installs the Debian packages crewshipd needs that are missing.
#   scripts/deps.sh build    compiler, CMake and the libraries
#   scripts/deps.sh test     build + Criterion, systemd's tools, the engines
#                            the container tests start (docker.io, podman, runc)
#                            and the browser the roster page's test drives
#                            (chromium, chromium-driver, python3-selenium);
#                            for the OpenAPI checks python3-jsonschema, nodejs
#                            and npm, and npm's @seriousme/openapi-schema-validator
#                            into <build dir>/tools (BUILD_DIR, default build/)
#   scripts/deps.sh run      build + a container engine (docker.io), curl and jq
#   scripts/deps.sh bench    build + the benchmarks' tools and peers (wrk,
#                            nginx-light, Go with go-sqlite3, sqlite3, perf)
# The sandbox image (scripts/sandbox-image.sh) takes its packages from apt
# and needs only the docker client (docker.io), curl, dpkg-deb and tar.
set -euo pipefail

build=(cmake g++ make pkg-config libuv1-dev node-llhttp libsqlite3-dev libsodium-dev
       libsystemd-dev rapidjson-dev libwslay-dev nettle-dev)
case "${1:-build}" in
  build) want=("${build[@]}") ;;
  # Podman runs rootful with native overlay and CNI's loopback plugin only:
  # no uidmap, fuse-overlayfs or netavark needed.
  test) want=("${build[@]}" libcriterion-dev systemd docker.io curl jq podman runc
              containernetworking-plugins chromium chromium-driver python3-selenium prometheus
              python3-jsonschema nodejs)
        # A nodejs from elsewhere (NodeSource's) brings its own npm and
        # conflicts with Debian's.
        command -v npm >/dev/null || want+=(npm) ;;
  run) want=("${build[@]}" docker.io curl jq) ;;
  bench) want=("${build[@]}" curl wrk nginx-light golang-go golang-github-mattn-go-sqlite3-dev sqlite3
               linux-perf) ;;
  *) echo "usage: $0 build|test|run|bench" >&2; exit 2 ;;
esac

missing=()
for pkg in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -gt 0 ]]; then
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The OpenAPI validator the tests run (tests/scripts/openapi_check.py).
if [[ "${1:-build}" == test ]]; then
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  tools="${BUILD_DIR:-$root/build}/tools"
  if [[ ! -x "$tools/node_modules/.bin/validate-api" ]]; then
    echo "installing: @seriousme/openapi-schema-validator into $tools" >&2
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-audit --no-fund --silent @seriousme/openapi-schema-validator@2 >/dev/null
  fi
fi
