#!/usr/bin/env bash
# Runs every benchmark in its smoke mode (tiny sizes, one run, both back-ends), so that the
# benchmarks keep working as the code changes: any failure exits non-zero; no target is judged.
# Builds once (bench/lib.sh's Release build of the helper, then a publish of the server from it) and
# hands the folders to every script. Uses ./test.sh's PostgreSQL and s3rver when REGISTRY_TEST_PG
# and REGISTRY_TEST_S3_URL are set, else starts its own for the whole run.
#
#   bench/smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_args "$@"
bench_build
services_ensure
started=$(date +%s)
for script in upload search validation; do
  echo "bench/smoke.sh: $script.sh --smoke"
  REGISTRY_BENCH_WEB="$web_dir" REGISTRY_BENCH_TOOL="$tool_dir" "bench/$script.sh" --smoke \
    || { echo "bench/smoke.sh: $script.sh --smoke failed" >&2; exit 1; }
done
echo "bench/smoke.sh: every benchmark ran ($(( $(date +%s) - started )) s after the build)"
