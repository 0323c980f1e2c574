#!/usr/bin/env bash
# Runs every test of Registry (unit, API, component, browser, real-process and multi-instance) on
# both back-ends: first on SQLite with the file system (the embedded default), then the registry's
# tests again on PostgreSQL with an S3-compatible store. Installs and starts what the tests need
# when it is missing: Debian's chromium and bubblewrap, PostgreSQL 15 and s3rver on loopback
# in a temporary folder (scripts/test-services.sh), stopped again at the end. The last line is
# "N passed, N failed, N skipped", summed from the test results of both passes.
# Extra arguments go to both `dotnet test` passes (a --filter given here replaces the pass's own).
set -euo pipefail
cd "$(dirname "$0")"

# Debian's packages the tests need: chromium for the browser tests, bubblewrap for the validation
# sandbox's namespaces (the default isolation, whose walls the tests prove).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/bwrap ] || missing+=(bubblewrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing Debian's ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d ../shared/testdata/onnx-backend ]; then
  echo "test.sh: ../shared/testdata/onnx-backend is missing; the tests that use real ONNX models will fail and say so." >&2
fi

source scripts/test-services.sh
results="$(mktemp -d)"
trap 'services_stop; rm -rf "$results"' EXIT
services_start

status=0
if ! dotnet build Registry.sln -nologo -v quiet; then
  echo "test.sh: the build failed (see above); no test ran."
  echo "0 passed, 0 failed, 0 skipped"
  exit 1
fi
run_pass() { # name, filter, then the extra arguments
  local name="$1" filter=(); [ -z "$2" ] || filter=(--filter "$2"); shift 2
  echo "test.sh: pass '$name'"
  set +e
  dotnet test Registry.sln --no-build --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results/$name" "${filter[@]}" "$@"
  local code=$?
  set -e
  [ "$code" -eq 0 ] || status=$code
}

# Everything on the embedded default, including the tests that need the servers themselves (the S3
# store, several instances on one PostgreSQL database).
REGISTRY_TEST_BACKEND=Sqlite run_pass sqlite "" "$@"
# Every test of the registry again on PostgreSQL and S3 (the pure parsing and sandbox unit tests
# have no back-end and ran above).
REGISTRY_TEST_BACKEND=PostgreSqlS3 run_pass postgresql-s3 "FullyQualifiedName~Registry.Tests.Web&Backend!=SqliteOnly&Backend!=ServersOnly" "$@"

# Every benchmark in its smoke mode, on the servers started above: keeps the benchmarks from rotting.
if ! bench/smoke.sh; then
  echo "test.sh: the benchmarks' smoke run failed (see above)." >&2
  status=1
fi

# Name every failed test with the first lines of its message, just above the summary, so that a log
# cut to its tail still says what failed and in which pass.
for trx in $(find "$results" -name '*.trx' | sort); do
  awk -v pass="$(basename "$(dirname "$trx")")" '
    function unxml(s) { gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s); gsub(/&#xD;/, "", s); gsub(/&#xA;/, " ", s); gsub(/&amp;/, "\\&", s); return s }
    /<UnitTestResult / && /outcome="(Failed|Error|Timeout|Aborted)"/ { match($0, /testName="[^"]*"/); name = unxml(substr($0, RSTART + 10, RLENGTH - 11)); failed = 1; lines = 0; inmsg = 0; print "FAILED [" pass "] " name }
    failed && /<Message>/ { inmsg = 1; sub(/.*<Message>/, "") }
    failed && inmsg { done = sub(/<\/Message>.*/, ""); if (lines < 8 && length($0) > 0) { print "    " substr(unxml($0), 1, 300); lines++ } if (done) inmsg = 0 }
    failed && /<\/UnitTestResult>/ { failed = 0; inmsg = 0 }
  ' "$trx" || true
done

# Sum the counters of every results file (one per project and pass).
summary="$(find "$results" -name '*.trx' -exec cat {} + 2>/dev/null | grep -o '<Counters [^>]*>' | awk '
  { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"|\/|>/, "", kv[2]); c[kv[1]] += kv[2] } }
  END { printf "%d passed, %d failed, %d skipped\n", c["passed"], c["failed"] + c["error"] + c["timeout"] + c["aborted"], c["notExecuted"] }')"
[ -n "$summary" ] || summary="0 passed, 0 failed, 0 skipped"
if [ "$status" -ne 0 ] && [ "$summary" = "0 passed, 0 failed, 0 skipped" ]; then
  echo "test.sh: dotnet test exited with $status before any test ran (see the build output above)." >&2
fi
echo "$summary"
exit "$status"
