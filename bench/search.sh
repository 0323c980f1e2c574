#!/usr/bin/env bash
# Search at scale: a catalogue of 1,000 models, 100,000 versions (one model with 1,000) and
# 1,000,000 metrics, made by `Registry.Web generate-catalogue`, served by a Release build.
#
#   bench/search.sh [runs=200]
#   REGISTRY_BENCH_DATA=/some/folder bench/search.sh   # keep (and reuse) the generated data folder
#
# Prints p50/p95 of the server's answer time over loopback (one keep-alive connection, sequential)
# for a filtered model search, the versions list of the 1,000-version model and stages/production,
# each as a ratio against GET /api/v1/keys (a trivial authenticated read) measured in the same run;
# and the time until the 1,000-version model's page shows its versions table in headless Chromium,
# against the same page of a 99-version model. Targets: API p95 < 20 ms, page < 1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-200}"
source bench/lib.sh
[ -x /usr/bin/chromium ] || { echo "bench: needs Debian's chromium (./test.sh installs it)" >&2; exit 1; }
data="${REGISTRY_BENCH_DATA:-$work/data}"
password="bench-password-$RANDOM$RANDOM"
web() { dotnet "$work/web/Registry.Web.dll" "$@" --Registry:Storage:DataDirectory="$data"; }

if [ ! -f "$data/registry.db" ]; then
  echo "bench: generating the catalogue"
  web generate-catalogue --models 1000 --versions 100000 --metrics 1000000 --big 1000
fi

port=$(( 20000 + RANDOM % 20000 ))
base="http://127.0.0.1:$port"
ASPNETCORE_ENVIRONMENT=Production dotnet "$work/web/Registry.Web.dll" --urls "$base" --contentRoot "$work/web" --Registry:Storage:DataDirectory="$data" \
  --Registry:Admin:InitialPassword="$password" --Registry:Validation:Enabled=false --Registry:RateLimit:PermitsPerMinute=1000000 \
  --Logging:LogLevel:Default=Warning > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do curl -s -o /dev/null "$base/login" && break; sleep 0.1; done
key=$(web apikey create --user admin --scopes read --name "bench-$RANDOM")

echo "bench: API, $runs sequential requests each after 20 warm-ups (ms)"
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
awk -v b="$baseline" '{ printf "%-95s %8.2f %8.2f %14.2f %8s\n", $1, $2, $3, $3 / b, (NR == 1 ? "baseline" : ($3 < 20 ? "< 20 ok" : "> 20 MISS")) }' "$work/api.txt"

echo "bench: pages in headless Chromium, time until the table shows its first row, 10 loads each after 2 warm-ups (ms)"
bench page "$base" admin "$password" 10 "/models/model-0001" "/models/model-0000" "/" > "$work/pages.txt"
page_baseline=$(awk 'NR == 1 { print $3 }' "$work/pages.txt")
printf '%-40s %8s %8s %14s %8s\n' page p50 p95 "p95/baseline" target
awk -v b="$page_baseline" '{ printf "%-40s %8d %8d %14.2f %8s\n", $1, $2, $3, $3 / b, (NR == 1 ? "baseline" : ($3 < 1000 ? "< 1 s ok" : "> 1 s MISS")) }' "$work/pages.txt"
