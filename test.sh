#!/usr/bin/env bash
# Runs every test of Registry: unit, API, component (bUnit) and browser (Playwright).
# Installs what the tests need when it is missing (Debian's chromium for the browser tests),
# then prints a last line "N passed, N failed, N skipped" taken from the test results.
# Extra arguments go to `dotnet test` (for example --filter "FullyQualifiedName~Api").
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  echo "test.sh: installing Debian's chromium for the browser tests"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

if [ ! -d ../shared/testdata/onnx-backend ]; then
  echo "test.sh: ../shared/testdata/onnx-backend is missing; the tests that use real ONNX models will fail and say so." >&2
fi

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

set +e
dotnet test Registry.sln --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
  --results-directory "$results" "$@"
status=$?
set -e

# Sum the counters of every results file (one per test project).
summary="$(cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*>' | awk '
  { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"|\/|>/, "", kv[2]); c[kv[1]] += kv[2] } }
  END { printf "%d passed, %d failed, %d skipped\n", c["passed"], c["failed"] + c["error"] + c["timeout"] + c["aborted"], c["notExecuted"] }')"
[ -n "$summary" ] || summary="0 passed, 0 failed, 0 skipped"
if [ "$status" -ne 0 ] && [ "$summary" = "0 passed, 0 failed, 0 skipped" ]; then
  echo "test.sh: dotnet test exited with $status before any test ran (see the build output above)." >&2
fi
echo "$summary"
exit "$status"
