#!/usr/bin/env bash
# Presence under load: IPC upserts (group commit vs one transaction per write),
# /api/health latency while those writes run, and the roster (whole workspace
# of 1000 agents, one crew of 50, and 304 revalidation).
#
#   usage: tests/bench/presence.sh path/to/crewshipd
#
# The daemon is pinned to SERVER_CPU (default 0), the load to CLIENT_CPU (1).
# 1000 agents in 20 crews are seeded straight into the database (ids
# agent-0 ... agent-999) so request bodies can be templated.
# Paced writes (--rate) are open-loop: each is due on a fixed schedule and its
# latency counts from then, on PACED_CONNECTIONS connections (as many hooks
# writing at once) so a slow answer delays no later write.
# Knobs: DURATION=10s CONNECTIONS=32 PACED_CONNECTIONS=32 SERVER_CPU=0 CLIENT_CPU=1
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
CREWSHIPD="${1:?usage: presence.sh path/to/crewshipd}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
PACED_CONNECTIONS="${PACED_CONNECTIONS:-32}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
LOADGEN="${LOADGEN:-$root/build/bench/loadgen}"
for tool in curl sqlite3 taskset; do
  command -v "$tool" >/dev/null || { echo "presence.sh: $tool not found (apt-get install $tool)" >&2; exit 1; }
done
[[ -x "$LOADGEN" ]] || "$here/build.sh" "$(dirname "$LOADGEN")" >&2

tmp="$(mktemp -d -t crewship-presence.XXXXXX)"
daemon_pid=""
cleanup() {
  [[ -n "$daemon_pid" ]] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
token="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

start() {  # start [extra env...]
  env CREWSHIP_DATA_DIR="$tmp/data" CREWSHIP_HOST=127.0.0.1 CREWSHIP_PORT="$port" \
    CREWSHIP_LOG_LEVEL=warning CREWSHIP_INTERNAL_TOKEN="$token" DOCKER_HOST="unix://$tmp/none.sock" \
    "$@" taskset -c "$SERVER_CPU" "$CREWSHIPD" 2>>"$tmp/daemon.log" &
  daemon_pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "crewshipd did not start" >&2
  cat "$tmp/daemon.log" >&2
  exit 1
}
stop() {
  kill -TERM "$daemon_pid"
  wait "$daemon_pid" || true
  daemon_pid=""
}

# Seed: bootstrap a user (for a session token), then 20 crews x 50 agents.
start
session=$(curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$port/api/v1/bootstrap" \
  -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password","workspace_name":"Bench"}' |
  sed -n 's/^Set-Cookie: authjs.session-token=\([^;]*\);.*/\1/p')
stop
ws=$(sqlite3 "$tmp/data/crewship.db" "SELECT id FROM workspaces LIMIT 1")
sqlite3 "$tmp/data/crewship.db" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19)
INSERT INTO crews(id, workspace_id, name, slug, created_at, updated_at)
  SELECT 'crew-' || i, '$ws', 'Crew ' || i, 'crew-' || i, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
INSERT INTO agents(id, workspace_id, crew_id, name, slug, created_at, updated_at)
  SELECT 'agent-' || i, '$ws', 'crew-' || (i / 50), 'Agent ' || i, 'agent-' || i,
         '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM n;
COMMIT;
SQL

load() {  # load LABEL loadgen-args...
  local label="$1"
  shift
  taskset -c "$CLIENT_CPU" "$LOADGEN" --connections "$CONNECTIONS" --duration "$DURATION" --warmup 1s --json "$@" \
    >"$tmp/$label.json"
  echo "$label $(cat "$tmp/$label.json")" >&2
}
row() {  # row LABEL
  python3 - "$tmp/$1.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
errs = d["errors"]["total"] + d["status"]["4xx"] + d["status"]["5xx"]
print(f"| {sys.argv[2]} | {d['rps']:.0f} | {d['latency_ms']['p50']:.3f} | {d['latency_ms']['p99']:.3f} | {errs} |")
PY
}

upsert=(--unix "$tmp/data/crewshipd.sock" --method POST --path /api/v1/internal/presence
        --header "X-Internal-Token: $token" --keys 1000
        --body-template '{"agent_id":"agent-{i}","status":"busy","details":{"current_task_id":"T-{i}"}}')

# 1. Baseline: one transaction (and one sync) per write.
start CREWSHIP_WRITER_BATCH=1
load upsert_baseline "${upsert[@]}"
stop

# 2. Group commit, with /api/health measured alongside on a few connections.
start
load upsert_group "${upsert[@]}" &
writer=$!
sleep 1.5
taskset -c "$CLIENT_CPU" "$LOADGEN" --port "$port" --path /api/health --connections 2 --rate 200 \
  --duration 5s --json >"$tmp/health_during_writes.json"
wait "$writer"
rss_kb=$(awk '/VmHWM/{print $2}' /proc/"$daemon_pid"/status)

# 3. Roster: whole workspace (1000 rows), one crew (50 rows), and 304s.
roster=(--port "$port" --header "Authorization: Bearer $session")
load roster_workspace "${roster[@]}" --path "/api/v1/presence/roster?workspace_id=$ws"
load roster_crew "${roster[@]}" --path "/api/v1/presence/roster?workspace_id=$ws&crew_id=crew-3"
etag=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $session" \
  "http://127.0.0.1:$port/api/v1/presence/roster?workspace_id=$ws" | sed -n 's/^ETag: \(.*\)\r$/\1/p')
load roster_304 "${roster[@]}" --path "/api/v1/presence/roster?workspace_id=$ws" --header "If-None-Match: $etag"
# The uncached path: 1000 writes/s keep invalidating the cached roster.
taskset -c "$CLIENT_CPU" "$LOADGEN" "${upsert[@]}" --connections "$PACED_CONNECTIONS" --rate 1000 --duration "$DURATION" --warmup 1s \
  --json >"$tmp/writes_1000.json" &
writes=$!
load roster_during_writes "${roster[@]}" --path "/api/v1/presence/roster?workspace_id=$ws"
wait "$writes"
stop

echo
echo "Presence, $CONNECTIONS connections, $DURATION (server cpu $SERVER_CPU, client cpu $CLIENT_CPU)"
echo
echo "| what | req/s | p50 ms | p99 ms | errors |"
echo "|---|---:|---:|---:|---|"
row upsert_baseline
row upsert_group
row health_during_writes
row roster_workspace
row roster_crew
row roster_304
row roster_during_writes
row writes_1000
echo
echo "peak RSS of the daemon (VmHWM) after the write run: ${rss_kb} kB"
