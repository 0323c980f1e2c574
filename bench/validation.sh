#!/usr/bin/env bash
# Validation benchmark: how long from uploading a 10 MB model to its Passed verdict, compared with
# what the sandbox does at its core — an ONNX Runtime session plus 20 runs — done in-process, in
# the same run and on the same machine. Also measures the sandbox's fixed start-up (a process that
# starts .NET and ONNX Runtime and checks a one-node model).
#
#   bench/validation.sh [runs=5]
#
# Prints medians and two ratios: pipeline / in-process, and (pipeline − start-up) / in-process
# (the issue's target: at most 1.5 plus the fixed start-up).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
source bench/lib.sh
now() { date +%s%N; }
ms() { awk "BEGIN { printf \"%.1f\", ($2 - $1) / 1000000 }"; }

# 10 MB of weights (1024 × 2560 floats) and a batch of 256 rows: compute, not I/O, dominates a run.
for i in $(seq 1 "$runs"); do bench linear "$work/m$i.onnx" 256 1024 2560 "run-$i" >/dev/null; done
bench linear "$work/tiny.onnx" 1 4 2 tiny >/dev/null
echo "bench: model $(stat -c %s "$work/m1.onnx") bytes"

declare -a baseline startup pipeline
for i in $(seq 1 "$runs"); do baseline+=("$(bench ort "$work/m$i.onnx" 21 1)"); done  # 1 warm-up (the smoke run) + 20 timed

port=$(( 20000 + RANDOM % 20000 ))
ASPNETCORE_ENVIRONMENT=Production dotnet "$work/web/Registry.Web.dll" --urls "http://127.0.0.1:$port" \
  --Registry:Storage:DataDirectory="$work/data" --Logging:LogLevel:Default=Warning \
  --Registry:Validation:Concurrency=1 --Registry:Validation:PollSeconds=5 > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/v1/models" >/dev/null && break; sleep 0.1; done

wait_passed() {  # model → prints ms from now until Passed
  local start; start=$(now)
  while true; do
    status=$(curl -s "http://127.0.0.1:$port/api/v1/models/$1/versions/1/validation" | sed -n 's/.*"status":"\([A-Za-z]*\)".*/\1/p')
    case "$status" in Passed|Failed) break ;; esac
    sleep 0.01
  done
  [ "$status" = "Passed" ] || { echo "bench: $1 ended $status" >&2; exit 1; }
}

# Warm the server's own code paths (first upload, first validation) before measuring.
curl -sf -o /dev/null -F "file=@$work/tiny.onnx" "http://127.0.0.1:$port/api/v1/models/warm/versions"; wait_passed warm

for i in $(seq 1 "$runs"); do
  # Fixed start-up: the whole pipeline on a one-node model (upload, queue, process, checks, verdict).
  start=$(now)
  curl -sf -o /dev/null -F "file=@$work/tiny.onnx" "http://127.0.0.1:$port/api/v1/models/tiny-$i/versions"
  wait_passed "tiny-$i"
  startup+=("$(ms "$start" "$(now)")")

  start=$(now)
  curl -sf -o /dev/null -F "file=@$work/m$i.onnx" "http://127.0.0.1:$port/api/v1/models/linear-$i/versions"
  wait_passed "linear-$i"
  pipeline+=("$(ms "$start" "$(now)")")
  printf 'run %d: in-process %s ms, start-up %s ms, upload to Passed %s ms\n' "$i" "${baseline[$((i - 1))]}" "${startup[-1]}" "${pipeline[-1]}"
done

b=$(median "${baseline[@]}"); s=$(median "${startup[@]}"); p=$(median "${pipeline[@]}")
echo
echo "medians over $runs runs:"
echo "  in-process ONNX Runtime (session + 21 runs): $b ms"
echo "  sandbox fixed start-up (one-node model, upload to Passed): $s ms"
echo "  10 MB model, upload to Passed: $p ms"
awk "BEGIN { printf \"  ratio upload-to-Passed / in-process: %.2f\n  ratio (upload-to-Passed - start-up) / in-process: %.2f (target <= 1.5)\n\", $p / $b, ($p - $s) / $b }"
