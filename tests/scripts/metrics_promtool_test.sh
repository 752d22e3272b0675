#!/usr/bin/env bash
# A real scrape of both /metrics endpoints, after some traffic, passes
# `promtool check metrics` (Debian's prometheus package).
# Usage: metrics_promtool_test.sh <crewshipd binary>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=$1
command -v promtool >/dev/null || { echo "promtool missing: scripts/deps.sh test installs prometheus" >&2; exit 1; }
dir=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
CREWSHIP_DATA_DIR=$dir/data CREWSHIP_PORT=0 CREWSHIP_METRICS_ADDR=127.0.0.1:0 \
  DOCKER_HOST=unix://$dir/no-engine.sock "$bin" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q ' ready$' "$dir/log" && break; sleep 0.1; done
api=$(sed -n 's/.*api listening on [^:]*:\([0-9]*\).*/\1/p' "$dir/log")
port=$(sed -n 's/.*metrics listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/log")
for path in /api/health /api/health /api/v1/agents/x /nope; do curl -s -o /dev/null "localhost:$api$path"; done
curl -s -o /dev/null --unix-socket "$dir/data/crewshipd.sock" http://x/api/v1/internal/health
curl -sf "localhost:$port/metrics" >"$dir/tcp.txt"
curl -sf --unix-socket "$dir/data/crewshipd.sock" -H "X-Internal-Token: $(cat "$dir/data/internal-token")" \
  http://x/metrics >"$dir/ipc.txt"
for f in tcp ipc; do
  check "promtool check metrics ($f)" promtool check metrics <"$dir/$f.txt"
  check "requests counted ($f)" grep -q '^crewshipd_http_requests_total{listener="api",route="/api/health",method="GET",code="200"} 2$' "$dir/$f.txt"
done
summary
