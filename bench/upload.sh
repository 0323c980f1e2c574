#!/usr/bin/env bash
# Upload benchmark: how fast does the registry take in a large model, compared with a baseline that
# does only what cannot be avoided, and how much does the server's memory grow meanwhile?
#
#   bench/upload.sh [size-MiB=1024] [runs=3] [--backend sqlite|postgres-s3] [--smoke]
#
# Baselines, timed in the same run on the same file: on sqlite (the file system store), hashing the
# file with sha256sum; on postgres-s3, the AWS SDK putting the file into the same s3rver the way the
# store sends parts (`Registry.Bench s3put`). Prints, for each run and as medians: the baseline's
# seconds, the upload's, the throughput ratio upload/baseline (the issue's target is >= 0.8) and
# the server's peak RSS growth during the upload (target < 64 MiB). Everything runs on loopback;
# files go to a temporary folder. --smoke: a 12 MiB file (more than one S3 part), one run on each
# back-end.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_args "$@"
if [ "$smoke" -eq 1 ]; then size_mib=12 runs=1; else size_mib="${args[0]:-1024}" runs="${args[1]:-3}"; fi
bench_build

model="$work/model.onnx"
bench model "$model" "$size_mib"
bench model "$work/warm.onnx" 1 warm > /dev/null
bytes=$(stat -c %s "$model")
now() { date +%s.%N; }

upload_on() {  # backend
  local backend="$1" baseline_name start end
  local -a base_times upload_times growths
  if [ "$backend" = postgres-s3 ]; then baseline_name="SDK put"; else baseline_name="sha256sum"; fi
  echo "bench: $backend, $runs run(s) of $size_mib MiB"
  for run in $(seq 1 "$runs"); do
    backend_fresh "$backend" "upload-$run"
    cat "$model" > /dev/null  # both contenders read from the page cache
    sync                      # and neither pays for writing back earlier files
    if [ "$backend" = postgres-s3 ]; then
      base_times+=("$(bench s3put "$model" "$REGISTRY_TEST_S3_URL" "${REGISTRY_TEST_S3_BUCKET:-registry-tests}" "bench-baseline-$$-$run/model.onnx")")
    else
      start=$(now); sha256sum "$model" > /dev/null; end=$(now)
      base_times+=("$(calc "$end - $start")")
    fi

    start_server
    key=$(api_key read,write)
    # Warm the upload path with a small model so JIT and first-request costs are not counted.
    upload "$work/warm.onnx" warm "$key"

    rss_before=$(bench rss "$server_pid")
    bench reset-peak "$server_pid"
    start=$(now)
    upload "$model" bench "$key"
    end=$(now)
    peak=$(bench peak "$server_pid")
    upload_times+=("$(calc "$end - $start")")
    growths+=("$(( (peak - rss_before) / 1024 ))")
    stop_server
    printf 'run %d: %s %.2f s, upload %.2f s, ratio %.2f, server peak RSS growth %d MiB\n' "$run" "$baseline_name" \
      "${base_times[-1]}" "${upload_times[-1]}" "$(calc "${base_times[-1]} / ${upload_times[-1]}")" "${growths[-1]}"
  done

  local b u growth
  b=$(median "${base_times[@]}"); u=$(median "${upload_times[@]}"); growth=$(median "${growths[@]}")
  echo
  printf '%s: file %d bytes (%d MiB), %d runs, medians:\n' "$backend" "$bytes" "$size_mib" "$runs"
  printf '  %-10s %.2f s (%.0f MiB/s)\n' "$baseline_name:" "$b" "$(calc "$bytes / 1048576 / $b")"
  printf '  %-10s %.2f s (%.0f MiB/s)\n' "upload:" "$u" "$(calc "$bytes / 1048576 / $u")"
  if [ "$smoke" -eq 1 ]; then
    printf '  throughput ratio upload/%s: %.2f; server peak RSS growth: %d MiB (smoke: targets not judged)\n' "$baseline_name" "$(calc "$b / $u")" "$growth"
  else
    printf '  throughput ratio upload/%s: %.2f (target >= 0.8)\n' "$baseline_name" "$(calc "$b / $u")"
    printf '  server peak RSS growth: %d MiB (target < 64 MiB)\n' "$growth"
  fi
}

for backend in "${backends[@]}"; do upload_on "$backend"; done
