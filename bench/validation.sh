#!/usr/bin/env bash
# Validation benchmark: how long from uploading a 10 MB model to its Passed verdict, compared with
# what the sandbox does at its core — an ONNX Runtime session plus 20 runs — done in-process, in
# the same run and on the same machine. Also measures the sandbox's fixed start-up (a process that
# starts .NET and ONNX Runtime and checks a one-node model), in the namespace sandbox (the default)
# and, as its baseline, as a plain child process (Registry:Validation:Isolation=Process).
#
#   bench/validation.sh [runs=5] [--backend sqlite|postgres-s3] [--smoke]
#
# Prints medians and two ratios: pipeline / in-process, and (pipeline − start-up) / in-process
# (the issue's target: at most 1.5 plus the fixed start-up). --smoke: one run of a small model on
# each back-end.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_args "$@"
if [ "$smoke" -eq 1 ]; then runs=1 shape=(16 64 64); else runs="${args[0]:-5}" shape=(256 1024 2560); fi
bench_build
now() { date +%s%N; }
ms() { awk "BEGIN { printf \"%.1f\", ($2 - $1) / 1000000 }"; }

# 10 MB of weights (1024 × 2560 floats) and a batch of 256 rows: compute, not I/O, dominates a run.
for i in $(seq 1 "$runs"); do bench linear "$work/m$i.onnx" "${shape[@]}" "run-$i" >/dev/null; done
bench linear "$work/tiny.onnx" 1 4 2 tiny >/dev/null
echo "bench: model $(stat -c %s "$work/m1.onnx") bytes"

declare -a baseline
for i in $(seq 1 "$runs"); do baseline+=("$(bench ort "$work/m$i.onnx" 21 1)"); done  # 1 warm-up (the smoke run) + 20 timed

validate_on() {  # backend
  local backend="$1" key
  local -a startup pipeline
  backend_fresh "$backend" validation
  start_server --Registry:Validation:Concurrency=1 --Registry:Validation:PollSeconds=5
  key=$(api_key read,write)

  wait_passed() {  # model → waits (at most 5 minutes) until its version 1 is Passed
    local status=""
    for _ in $(seq 1 30000); do
      status=$(curl -s -H "Authorization: Bearer $key" "$base/api/v1/models/$1/versions/1/validation" | sed -n 's/.*"status":"\([A-Za-z]*\)".*/\1/p')
      case "$status" in Passed|Failed) break ;; esac
      sleep 0.01
    done
    [ "$status" = "Passed" ] || { echo "bench: $backend: $1 ended '${status:-without a verdict}'" >&2; exit 1; }
  }

  # Warm the server's own code paths (first upload, first validation) before measuring; a smoke run only checks that it works.
  if [ "$smoke" -eq 0 ]; then upload "$work/tiny.onnx" warm "$key"; wait_passed warm; fi

  echo "bench: $backend"
  for i in $(seq 1 "$runs"); do
    # Fixed start-up: the whole pipeline on a one-node model (upload, queue, process, checks, verdict).
    start=$(now)
    upload "$work/tiny.onnx" "tiny-$i" "$key"
    wait_passed "tiny-$i"
    startup+=("$(ms "$start" "$(now)")")

    start=$(now)
    upload "$work/m$i.onnx" "linear-$i" "$key"
    wait_passed "linear-$i"
    pipeline+=("$(ms "$start" "$(now)")")
    printf 'run %d: in-process %s ms, start-up %s ms, upload to Passed %s ms\n' "$i" "${baseline[$((i - 1))]}" "${startup[-1]}" "${pipeline[-1]}"
  done
  stop_server

  # What the namespace walls add: the same fixed start-up with the sandbox as a plain child process
  # (Registry:Validation:Isolation=Process), measured by a second server on the same registry.
  local -a plain
  start_server --Registry:Validation:Concurrency=1 --Registry:Validation:PollSeconds=5 --Registry:Validation:Isolation=Process
  if [ "$smoke" -eq 0 ]; then upload "$work/tiny.onnx" warm-plain "$key"; wait_passed warm-plain; fi
  for i in $(seq 1 "$runs"); do
    start=$(now)
    upload "$work/tiny.onnx" "tiny-plain-$i" "$key"
    wait_passed "tiny-plain-$i"
    plain+=("$(ms "$start" "$(now)")")
    printf 'run %d: start-up without namespaces %s ms\n' "$i" "${plain[-1]}"
  done
  stop_server

  local b s p n
  b=$(median "${baseline[@]}"); s=$(median "${startup[@]}"); p=$(median "${pipeline[@]}"); n=$(median "${plain[@]}")
  echo
  echo "$backend: medians over $runs runs:"
  echo "  in-process ONNX Runtime (session + 21 runs): $b ms"
  echo "  sandbox fixed start-up (one-node model, upload to Passed): $s ms"
  echo "  the same without namespaces (Isolation=Process): $n ms; the walls add $(calc "$s - $n") ms (ratio $(calc "$s / $n"))"
  echo "  $(stat -c %s "$work/m1.onnx")-byte model, upload to Passed: $p ms"
  local target="(target <= 1.5)"
  [ "$smoke" -eq 0 ] || target="(smoke: target not judged)"
  awk "BEGIN { printf \"  ratio upload-to-Passed / in-process: %.2f\n  ratio (upload-to-Passed - start-up) / in-process: %.2f $target\n\", $p / $b, ($p - $s) / $b }"
}

for backend in "${backends[@]}"; do validate_on "$backend"; done
