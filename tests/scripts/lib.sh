# shellcheck shell=bash
# Sourced by the script tests: named checks, counted, and the closing line
# ("N passed, N failed") the test runner reads.
failures=0 passed=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $name" >&2; failures=$((failures + 1)); fi
}
summary() {  # exits non-zero when a check failed
  echo "$passed passed, $failures failed"
  [[ $failures -eq 0 ]]
}
