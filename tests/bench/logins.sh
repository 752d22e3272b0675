#!/usr/bin/env bash
# /api/health latency while sign-ins keep 20 Argon2id verifications in flight.
#
#   usage: tests/bench/logins.sh path/to/crewshipd
#
# Daemon pinned to SERVER_CPU (0), load to CLIENT_CPU (1). Knobs: DURATION=10s.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
CREWSHIPD="${1:?usage: logins.sh path/to/crewshipd}"
DURATION="${DURATION:-10s}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
LOADGEN="${LOADGEN:-$root/build/bench/loadgen}"
[[ -x "$LOADGEN" ]] || "$here/build.sh" "$(dirname "$LOADGEN")" >&2

tmp="$(mktemp -d -t crewship-logins.XXXXXX)"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
CREWSHIP_DATA_DIR="$tmp/data" CREWSHIP_HOST=127.0.0.1 CREWSHIP_PORT="$port" CREWSHIP_LOG_LEVEL=warning \
  CREWSHIP_LOGIN_MAX_FAILURES=1000 DOCKER_HOST="unix://$tmp/none.sock" ${BENCH_ENV:-} \
  taskset -c "$SERVER_CPU" "$CREWSHIPD" 2>"$tmp/log" &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.05; done
curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/api/v1/bootstrap" -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password"}'

# LOGIN_BODY overrides the sign-in (e.g. an unknown email: a hash, no write).
login_body="${LOGIN_BODY:-}"
[[ -n "$login_body" ]] || login_body='{"email":"bench@example.com","password":"bench-password"}'

run() { taskset -c "$CLIENT_CPU" "$LOADGEN" --port "$port" --json "$@"; }
run --path /api/health --connections 2 --rate 200 --duration "$DURATION" >"$tmp/idle.json"
run --method POST --path /api/auth/callback/credentials --connections 20 --duration "$DURATION" --timeout 30s \
  --body "$login_body" >"$tmp/logins.json" &
logins=$!
sleep 1
run --path /api/health --connections 2 --rate 200 --duration "$DURATION" >"$tmp/busy.json"
wait "$logins" || true

python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
idle, busy, logins = (json.load(open(f"{d}/{n}.json")) for n in ("idle", "busy", "logins"))
print("| what | req/s | p50 ms | p99 ms |")
print("|---|---:|---:|---:|")
for name, r in (("health, idle", idle), ("health, 20 sign-ins in flight", busy), ("sign-ins (Argon2id)", logins)):
    print(f"| {name} | {r['rps']:.0f} | {r['latency_ms']['p50']:.3f} | {r['latency_ms']['p99']:.3f} |")
PY
