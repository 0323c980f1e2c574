#!/usr/bin/env bash
# Upload benchmark: how fast does the registry take in a large model, compared with simply hashing
# the same file with sha256sum, and how much does the server's memory grow meanwhile?
#
#   bench/upload.sh [size-MiB=1024] [runs=3]
#
# Prints, for each run and as medians: sha256sum seconds, upload seconds, the throughput ratio
# upload/sha256sum (the issue's target is >= 0.8) and the server's peak RSS growth during the
# upload (target < 64 MiB). Everything runs on loopback; files go to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib="${1:-1024}"
runs="${2:-3}"
source bench/lib.sh

model="$work/model.onnx"
bench model "$model" "$size_mib"
bytes=$(stat -c %s "$model")
cat "$model" > /dev/null  # both contenders read from the page cache
sync                      # and neither pays for writing back the generated file

now() { date +%s.%N; }
port=$(( 20000 + RANDOM % 20000 ))
declare -a sha_times upload_times growths

for run in $(seq 1 "$runs"); do
  start=$(now); sha256sum "$model" > /dev/null; end=$(now)
  sha_times+=("$(calc "$end - $start")")

  rm -rf "$work/data"
  sync
  ASPNETCORE_ENVIRONMENT=Production dotnet "$work/web/Registry.Web.dll" --urls "http://127.0.0.1:$port" \
    --Registry:Storage:DataDirectory="$work/data" --Logging:LogLevel:Default=Warning > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/v1/models" >/dev/null && break; sleep 0.1; done
  # Warm the upload path with a small model so JIT and first-request costs are not counted.
  bench model "$work/warm.onnx" 1 warm > /dev/null
  curl -sf -o /dev/null -F "file=@$work/warm.onnx" "http://127.0.0.1:$port/api/v1/models/warm/versions"

  rss_before=$(bench rss "$server_pid")
  bench reset-peak "$server_pid"
  start=$(now)
  status=$(curl -s -o "$work/response.json" -w '%{http_code}' -F "file=@$model" "http://127.0.0.1:$port/api/v1/models/bench/versions")
  end=$(now)
  peak=$(bench peak "$server_pid")
  [ "$status" = "201" ] || { echo "bench: upload failed with $status: $(cat "$work/response.json")" >&2; exit 1; }
  upload_times+=("$(calc "$end - $start")")
  growths+=("$(( (peak - rss_before) / 1024 ))")

  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  printf 'run %d: sha256sum %.2f s, upload %.2f s, ratio %.2f, server peak RSS growth %d MiB\n' "$run" \
    "${sha_times[-1]}" "${upload_times[-1]}" "$(calc "${sha_times[-1]} / ${upload_times[-1]}")" "${growths[-1]}"
done

sha=$(median "${sha_times[@]}")
up=$(median "${upload_times[@]}")
growth=$(median "${growths[@]}")
echo
printf 'file: %d bytes (%d MiB), %d runs, medians:\n' "$bytes" "$size_mib" "$runs"
printf '  sha256sum:  %.2f s (%.0f MiB/s)\n' "$sha" "$(calc "$bytes / 1048576 / $sha")"
printf '  upload:     %.2f s (%.0f MiB/s)\n' "$up" "$(calc "$bytes / 1048576 / $up")"
printf '  throughput ratio upload/sha256sum: %.2f (target >= 0.8)\n' "$(calc "$sha / $up")"
printf '  server peak RSS growth: %d MiB (target < 64 MiB)\n' "$growth"
