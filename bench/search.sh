#!/usr/bin/env bash
# Search at scale: a catalogue of 1,000 models, 100,000 versions (one model with 1,000) and
# 1,000,000 metrics, made by `Registry.Bench generate-catalogue` on the chosen back-end, served by a
# Release build.
#
#   bench/search.sh [runs=200] [--backend sqlite|postgres-s3] [--smoke]
#   REGISTRY_BENCH_DATA=/some/folder bench/search.sh   # sqlite: keep (and reuse) the generated data folder
#
# Prints p50/p95 of the server's answer time over loopback (one keep-alive connection, sequential)
# for a filtered model search, the versions list of the 1,000-version model and stages/production,
# each as a ratio against GET /api/v1/keys (a trivial authenticated read) measured in the same run;
# and the time until the 1,000-version model's page shows its versions table in headless Chromium,
# against the same page of a 99-version model. Targets: API p95 < 20 ms, page < 1 s.
# --smoke: 20 models, 200 versions, 2,000 metrics, 3 requests each on each back-end, and one page
# (3 loads) on the first.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_args "$@"
[ -x /usr/bin/chromium ] || { echo "bench: needs Debian's chromium (./test.sh installs it)" >&2; exit 1; }
if [ "$smoke" -eq 1 ]; then
  runs=3 page_runs=1 size=(--models 20 --versions 200 --metrics 2000 --big 20) pages=("/models/model-0000")
else
  runs="${args[0]:-200}" page_runs=10 size=(--models 1000 --versions 100000 --metrics 1000000 --big 1000)
  pages=("/models/model-0001" "/models/model-0000" "/")
fi
bench_build

search_on() {  # backend
  local backend="$1"
  backend_fresh "$backend" search
  if [ "$backend" = sqlite ] && [ -n "${REGISTRY_BENCH_DATA:-}" ]; then
    data="$REGISTRY_BENCH_DATA"; settings=(--Registry:Storage:DataDirectory="$data")
  fi
  if [ ! -f "$data/registry.db" ]; then
    echo "bench: $backend: generating the catalogue (${size[*]})"
    bench generate-catalogue "${size[@]}" "${settings[@]}"
  fi

  start_server --Registry:Validation:Enabled=false --Registry:RateLimit:PermitsPerMinute=1000000
  local key baseline page_baseline judge=1
  [ "$smoke" -eq 0 ] || judge=0
  key=$(api_key read)

  echo "bench: $backend: API, $runs sequential requests each after 20 warm-ups (ms)"
  bench http "$base" "$key" "$runs" \
    "/api/v1/keys" \
    "/api/v1/models?metric=auc&dataset=holdout&min=0.9&sort=metric&order=desc" \
    "/api/v1/models?stage=Production&metric=auc&dataset=holdout&on=production&min=0.7&pageSize=50" \
    "/api/v1/models?tag=team%3Drisk&sort=updated&order=desc" \
    "/api/v1/models/model-0000/versions" \
    "/api/v1/models/model-0000/versions?page=50" \
    "/api/v1/models/model-0000/stages/production" > "$work/api.txt"
  baseline=$(awk 'NR == 1 { print $3 }' "$work/api.txt")
  printf '%-95s %8s %8s %14s %8s\n' endpoint p50 p95 "p95/baseline" target
  awk -v b="$baseline" -v judge="$judge" '{ printf "%-95s %8.2f %8.2f %14.2f %8s\n", $1, $2, $3, $3 / b,
    (NR == 1 ? "baseline" : !judge ? "-" : ($3 < 20 ? "< 20 ok" : "> 20 MISS")) }' "$work/api.txt"

  # The browser sees the same pages whatever the back-end: a smoke run checks them once, on the first.
  if [ "$smoke" -eq 1 ] && [ "$backend" != "${backends[0]}" ]; then stop_server; return; fi
  echo "bench: $backend: pages in headless Chromium, time until the table shows its first row, $page_runs load(s) each after 2 warm-ups (ms)"
  bench page "$base" admin "$password" "$page_runs" "${pages[@]}" > "$work/pages.txt"
  page_baseline=$(awk 'NR == 1 { print $3 }' "$work/pages.txt")
  printf '%-40s %8s %8s %14s %8s\n' page p50 p95 "p95/baseline" target
  awk -v b="$page_baseline" -v judge="$judge" '{ printf "%-40s %8d %8d %14.2f %8s\n", $1, $2, $3, $3 / b,
    (NR == 1 ? "baseline" : !judge ? "-" : ($3 < 1000 ? "< 1 s ok" : "> 1 s MISS")) }' "$work/pages.txt"
  stop_server
}

for backend in "${backends[@]}"; do search_on "$backend"; done
