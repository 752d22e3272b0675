#!/usr/bin/env bash
# Checks crewshipd's systemd files without installing anything:
#   1. systemd-analyze verify of crewshipd.service, crewshipd.socket and
#      crewshipd-api.socket; any warning fails the check;
#   2. sysusers.d and (as root) tmpfiles.d entries applied to a scratch root,
#      with the owners and modes they must produce;
#   3. systemd-analyze security --offline=yes of the service; prints the
#      overall exposure line and fails above MAX_EXPOSURE (default 2.0).
#
# verify insists that ExecStart= names an existing executable. Rather than
# placing a stand-in under /usr/local/bin, the check runs against a scratch
# root (--root=) holding the host's unit library, these units and a stand-in
# binary; the scratch root is removed on exit, so nothing is left behind.
#
# Works from any directory. Exit status: 0 all good, 1 a check failed,
# 77 systemd-analyze is missing (a skip for test runners).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
units=(crewshipd.service crewshipd.socket crewshipd-api.socket)

fail() {
  echo "check-units: $*" >&2
  exit 1
}

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "check-units: systemd-analyze not found, skipped" >&2
  exit 77
fi

scratch=$(mktemp -d)
trap 'rm -rf -- "$scratch"' EXIT

# --- 1. verify ---------------------------------------------------------------
unit_lib=""
for d in /usr/lib/systemd/system /lib/systemd/system; do
  if [[ -e $d/sysinit.target ]]; then
    unit_lib=$d
    break
  fi
done
[[ -n $unit_lib ]] || fail "no systemd unit library found (sysinit.target)"

mkdir -p "$scratch/usr/lib/systemd/system" "$scratch/etc/systemd/system"
cp -a "$unit_lib/." "$scratch/usr/lib/systemd/system/"
cp -- "${units[@]}" "$scratch/etc/systemd/system/"

exec_path=$(sed -n 's/^ExecStart=[-@:+!]*\([^[:space:]]*\).*/\1/p' crewshipd.service | head -n1)
[[ $exec_path == /* ]] || fail "no absolute ExecStart= in crewshipd.service"
mkdir -p "$scratch$(dirname "$exec_path")"
printf '#!/bin/sh\nexit 0\n' >"$scratch$exec_path"
chmod 0755 "$scratch$exec_path"

if ! out=$(systemd-analyze verify --root="$scratch" "${units[@]}" 2>&1); then
  printf '%s\n' "$out" >&2
  fail "systemd-analyze verify failed"
fi
if [[ -n $out ]]; then
  printf '%s\n' "$out" >&2
  fail "systemd-analyze verify printed warnings"
fi
echo "verify: OK (${units[*]})"

# --- 2. sysusers.d / tmpfiles.d ---------------------------------------------
mkdir -p "$scratch/etc" "$scratch/usr/lib/sysusers.d" "$scratch/usr/lib/tmpfiles.d"
cp sysusers.d/crewshipd.conf "$scratch/usr/lib/sysusers.d/"
cp tmpfiles.d/crewshipd.conf "$scratch/usr/lib/tmpfiles.d/"

out=$(systemd-sysusers --root="$scratch" 2>&1) || {
  printf '%s\n' "$out" >&2
  fail "systemd-sysusers failed"
}
if unexpected=$(grep -Ev "^(Creating (user|group) 'crewship'.*)?$" <<<"$out"); then
  printf '%s\n' "$unexpected" >&2
  fail "systemd-sysusers printed warnings"
fi
pw=$(grep '^crewship:' "$scratch/etc/passwd") || fail "sysusers created no crewship user"
IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
[[ $home == /var/lib/crewshipd ]] || fail "crewship home is $home"
[[ $shell == */nologin ]] || fail "crewship shell is $shell"
grep -q "^crewship:x:$gid:" "$scratch/etc/group" || fail "no crewship group with gid $gid"
echo "sysusers: OK (crewship uid $uid gid $gid)"

if [[ $(id -u) -eq 0 ]]; then
  out=$(systemd-tmpfiles --create --root="$scratch" 2>&1) || {
    printf '%s\n' "$out" >&2
    fail "systemd-tmpfiles failed"
  }
  [[ -z $out ]] || {
    printf '%s\n' "$out" >&2
    fail "systemd-tmpfiles printed warnings"
  }
  expect() { # path mode uid gid
    local got
    got=$(stat -c '%a %u %g' "$scratch$1") || fail "tmpfiles did not create $1"
    [[ $got == "$2 $3 $4" ]] || fail "$1 is '$got' (mode uid gid), expected '$2 $3 $4'"
  }
  expect /etc/crewshipd 750 0 "$gid"
  expect /var/lib/crewshipd 750 "$uid" "$gid"
  expect /run/crewshipd 750 "$uid" "$gid"
  echo "tmpfiles: OK"
else
  echo "tmpfiles: skipped (setting owners needs root)"
fi

# --- 3. security exposure ----------------------------------------------------
threshold=$(awk -v m="$MAX_EXPOSURE" 'BEGIN { printf "%d", m * 10 + 0.5 }')
rc=0
report=$(systemd-analyze security --offline=yes --no-pager --threshold="$threshold" \
  "$PWD/crewshipd.service" 2>&1) || rc=$?
line=$(grep 'Overall exposure level' <<<"$report") || {
  printf '%s\n' "$report" >&2
  fail "systemd-analyze security printed no exposure level"
}
echo "$line"
if [[ $rc -ne 0 ]]; then
  printf '%s\n' "$report" >&2
  fail "exposure above $MAX_EXPOSURE"
fi
