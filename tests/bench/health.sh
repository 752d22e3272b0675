#!/usr/bin/env bash
# GET /api/health throughput/latency: nginx (reference) vs crewshipd.
#
#   usage: tests/bench/health.sh [path/to/crewshipd]
#
# Each server is pinned to SERVER_CPU, the load tools (wrk, loadgen) to
# CLIENT_CPU. Without an argument only nginx is measured. Everything started
# here is stopped on exit; all files live in a temp dir.
#
# Environment knobs (defaults):
#   DURATION=10s CONNECTIONS=32 WARMUP=1s SERVER_CPU=0 CLIENT_CPU=1
#   LOADGEN=<repo>/build/bench/loadgen (built with build.sh if missing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
WARMUP="${WARMUP:-1s}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
LOADGEN="${LOADGEN:-$root/build/bench/loadgen}"
CREWSHIPD="${1:-}"

for tool in nginx wrk curl taskset; do
  command -v "$tool" >/dev/null || { echo "health.sh: $tool not found" >&2; exit 1; }
done
if [[ -n "$CREWSHIPD" && ! -x "$CREWSHIPD" ]]; then
  echo "health.sh: $CREWSHIPD is not executable" >&2
  exit 1
fi
if [[ ! -x "$LOADGEN" ]]; then
  "$here/build.sh" "$(dirname "$LOADGEN")" >&2
fi
if (( $(nproc) < 2 )); then
  echo "health.sh: warning: fewer than 2 CPUs, server and client share a core" >&2
  CLIENT_CPU="$SERVER_CPU"
fi

tmp="$(mktemp -d -t crewship-bench.XXXXXX)"
pids=()      # servers
tool_pid=""  # the load tool currently running

cleanup() {
  local pid
  [[ -n "$tool_pid" ]] && kill -TERM "$tool_pid" 2>/dev/null
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port on 127.0.0.1 nobody listens on (racy, but good enough here).
free_port() {
  local port
  for _ in $(seq 200); do
    port=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "health.sh: no free port found" >&2
  return 1
}

# wait_http URL PID LOG: poll until URL answers 2xx, or fail if PID exits.
wait_http() {
  local url="$1" pid="$2" log="$3"
  for _ in $(seq 200); do
    if curl -sf -o /dev/null --max-time 1 "$url"; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "health.sh: server exited before answering $url; log:" >&2
      cat "$log" >&2 || true
      return 1
    fi
    sleep 0.05
  done
  echo "health.sh: timeout waiting for $url" >&2
  return 1
}

# run_tool OUT CMD...: run a load tool as a background job and wait for it,
# so that a TERM/INT to this script is acted upon immediately.
run_tool() {
  local out="$1"
  shift
  "$@" >"$out" &
  tool_pid="$!"
  wait "$tool_pid"
  tool_pid=""
}

# Duration ("10s", "1500ms", "2m", "3") -> whole seconds, rounded up (wrk
# only takes integers).
whole_seconds() {
  awk -v d="$1" 'BEGIN {
    n = d + 0
    if (d ~ /ms$/) n /= 1000; else if (d ~ /m$/) n *= 60
    s = int(n); if (s < n) s++; if (s < 1) s = 1
    printf "%ds", s }'
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# wrk latency line value ("69.00us", "1.23ms", "2.00s") -> milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

json_num() {  # json_num KEY JSON  (flat numeric field of the loadgen JSON line)
  sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2"
}

results=()  # "server|tool|rps|p50|p99|errors"

run_wrk() {  # run_wrk NAME URL
  local out rps p50 p99 errs
  # Discarded warm-up so both tools see a warmed-up server.
  run_tool /dev/null taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" \
    -d"$(whole_seconds "$WARMUP")" "$2"
  run_tool "$tmp/wrk.out" taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" \
    -d"$(whole_seconds "$DURATION")" --latency "$2"
  out="$(<"$tmp/wrk.out")"
  echo "$out" >&2
  rps="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")"
  p50="$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")"
  p99="$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
  errs="$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')"
  results+=("$1|wrk|$rps|$p50|$p99|${errs:-0}")
}

run_loadgen() {  # run_loadgen NAME PORT
  local out rps p50 p99 errs non2xx
  run_tool "$tmp/loadgen.out" taskset -c "$CLIENT_CPU" "$LOADGEN" --host 127.0.0.1 \
    --port "$2" --path /api/health --connections "$CONNECTIONS" \
    --duration "$DURATION" --warmup "$WARMUP" --json
  out="$(<"$tmp/loadgen.out")"
  echo "$out" >&2
  rps="$(printf '%.0f' "$(json_num rps "$out")")"
  p50="$(json_num p50 "$out")"
  p99="$(json_num p99 "$out")"
  errs="$(json_num total "$out")"
  non2xx=$(( $(json_num requests "$out") - $(json_num 2xx "$out") ))
  (( non2xx > 0 )) && errs="$errs (+$non2xx non-2xx)"
  results+=("$1|loadgen|$rps|$p50|$p99|$errs")
}

# --- nginx -------------------------------------------------------------------
nginx_port="$(free_port)"
mkdir -p "$tmp/nginx"
sed -e "s#@TMPDIR@#$tmp/nginx#g" -e "s#@PORT@#$nginx_port#g" \
  "$here/nginx.conf.in" >"$tmp/nginx/nginx.conf"
taskset -c "$SERVER_CPU" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" \
  -e "$tmp/nginx/error.log" >"$tmp/nginx/stdout.log" 2>&1 &
pids+=("$!")
wait_http "http://127.0.0.1:$nginx_port/api/health" "$!" "$tmp/nginx/error.log"
echo "== nginx on 127.0.0.1:$nginx_port (cpu $SERVER_CPU)" >&2
run_wrk nginx "http://127.0.0.1:$nginx_port/api/health"
run_loadgen nginx "$nginx_port"

# --- crewshipd ---------------------------------------------------------------
rss_idle="" rss_after="" hwm_after=""
if [[ -n "$CREWSHIPD" ]]; then
  cs_port="$(free_port)"
  mkdir -p "$tmp/crewshipd/data"
  CREWSHIP_PORT="$cs_port" CREWSHIP_HOST=127.0.0.1 \
    CREWSHIP_DATA_DIR="$tmp/crewshipd/data" CREWSHIP_LOG_LEVEL=warning \
    taskset -c "$SERVER_CPU" "$CREWSHIPD" >"$tmp/crewshipd/out.log" 2>&1 &
  cs_pid="$!"
  pids+=("$cs_pid")
  wait_http "http://127.0.0.1:$cs_port/api/health" "$cs_pid" "$tmp/crewshipd/out.log"
  sleep 0.2
  rss_idle="$(rss_kb "$cs_pid")"
  echo "== crewshipd on 127.0.0.1:$cs_port (pid $cs_pid, cpu $SERVER_CPU)" >&2
  run_wrk crewshipd "http://127.0.0.1:$cs_port/api/health"
  run_loadgen crewshipd "$cs_port"
  rss_after="$(rss_kb "$cs_pid")"
  hwm_after="$(hwm_kb "$cs_pid")"
fi

# --- report ------------------------------------------------------------------
echo
echo "GET /api/health, $CONNECTIONS connections, $DURATION (server cpu $SERVER_CPU, client cpu $CLIENT_CPU)"
echo
echo "| server | tool | req/s | p50 ms | p99 ms | errors |"
echo "|---|---|---:|---:|---:|---|"
declare -A rps_of
for r in "${results[@]}"; do
  IFS='|' read -r server tool rps p50 p99 errs <<<"$r"
  echo "| $server | $tool | $rps | $p50 | $p99 | $errs |"
  rps_of["$server/$tool"]="$rps"
done
if [[ -n "$CREWSHIPD" ]]; then
  echo
  for tool in wrk loadgen; do
    awk -v t="$tool" -v a="${rps_of[crewshipd/$tool]:-0}" -v b="${rps_of[nginx/$tool]:-0}" \
      'BEGIN { if (b > 0) printf "ratio crewshipd/nginx req/s (%s): %.2f\n", t, a / b }'
  done
  echo
  echo "crewshipd VmRSS: idle ${rss_idle} kB, after load ${rss_after} kB (peak VmHWM ${hwm_after} kB)"
fi
