#!/usr/bin/env bash
# Upload benchmark: how fast does the registry take in a large model, compared with a baseline that
# does only what cannot be avoided, and how much does the server's memory grow meanwhile?
#
#   bench/upload.sh [size-MiB=1024] [runs=3] [--backend sqlite|postgres-s3] [--smoke]
#
# Baselines, timed in the same run on the same file: on sqlite (the file system store), hashing the
# file with sha256sum; on postgres-s3, the AWS SDK putting the file into the same s3rver the way the
# store sends parts (`Registry.Bench s3put`), and apart from it the copy inside the bucket that the
# store makes at each commit. Each run then starts a fresh server (validation off, so no sandbox
# shares the cores) and uploads the file 3 times as new models: the first upload is the cold figure,
# the last the warm one. A freshly started .NET server spends whole seconds of CPU re-compiling the
# hot framework code of its first large upload (EF Core, Npgsql, the AWS SDK; measured with
# DOTNET_JitDisasmSummary: some 6,000 methods during one 512 MiB upload), which a running registry
# has long done. Prints, for each run and as medians: the baseline's seconds, the uploads', the
# throughput ratio upload/baseline warm (the issue's target is >= 0.8) and cold, and the server's
# largest peak RSS growth during an upload (target < 64 MiB). Everything runs on loopback; files go
# to a temporary folder. --smoke: a 12 MiB file (more than one S3 part), one run of 2 uploads on
# each back-end.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_args "$@"
if [ "$smoke" -eq 1 ]; then size_mib=12 runs=1 warm_uploads=1; else size_mib="${args[0]:-1024}" runs="${args[1]:-3}" warm_uploads=2; fi
bench_build

model="$work/model.onnx"
bench model "$model" "$size_mib"
bench model "$work/warm.onnx" 1 warm > /dev/null
bytes=$(stat -c %s "$model")
now() { date +%s.%N; }

# timed_upload <name>: uploads the model as a new model <name>; appends its seconds to upload_times
# and the server's peak RSS growth during it (MiB) to growths.
timed_upload() {
  local rss_before start end peak
  rss_before=$(bench rss "$server_pid")
  bench reset-peak "$server_pid"
  start=$(now)
  upload "$model" "$1" "$key"
  end=$(now)
  peak=$(bench peak "$server_pid")
  upload_times+=("$(calc "$end - $start")")
  growths+=("$(( (peak - rss_before) / 1024 ))")
}

upload_on() {  # backend
  local backend="$1" baseline_name start end out put copy
  local -a base_times copy_times cold_times warm_times upload_times growths all_growths
  if [ "$backend" = postgres-s3 ]; then baseline_name="SDK put"; else baseline_name="sha256sum"; fi
  echo "bench: $backend, $runs run(s) of $size_mib MiB, each: the baseline, then $((warm_uploads + 1)) uploads into one fresh server"
  for run in $(seq 1 "$runs"); do
    backend_fresh "$backend" "upload-$run"
    cat "$model" > /dev/null  # both contenders read from the page cache
    sync                      # and neither pays for writing back earlier files
    if [ "$backend" = postgres-s3 ]; then
      out=$(bench s3put "$model" "$REGISTRY_TEST_S3_URL" "${REGISTRY_TEST_S3_BUCKET:-registry-tests}" "bench-baseline-$$-$run/model.onnx")
      read -r put copy <<<"$out"
      [ -n "${copy:-}" ] || { echo "bench: s3put printed '$out', not two figures" >&2; exit 1; }
      base_times+=("$put"); copy_times+=("$copy")
    else
      start=$(now); sha256sum "$model" > /dev/null; end=$(now)
      base_times+=("$(calc "$end - $start")")
    fi

    # Validation is off: the sandbox runs of earlier uploads would share the cores with the timed ones.
    start_server --Registry:Validation:Enabled=false
    key=$(api_key read,write)
    upload "$work/warm.onnx" warm "$key"  # first-request costs
    upload_times=() growths=()
    for i in $(seq 0 "$warm_uploads"); do timed_upload "bench-$i"; done
    stop_server
    cold_times+=("${upload_times[0]}"); warm_times+=("${upload_times[-1]}")
    all_growths+=("$(printf '%s\n' "${growths[@]}" | sort -n | tail -n 1)")
    printf 'run %d: %s %.2f s' "$run" "$baseline_name" "${base_times[-1]}"
    [ "$backend" = postgres-s3 ] && printf ' (and the copy in the bucket %.2f s)' "${copy_times[-1]}"
    printf ', uploads %s s, ratio cold %.2f, warm %.2f, server peak RSS growth %.0f MiB\n' "$(printf '%.2f ' "${upload_times[@]}" | sed 's/ $//')" \
      "$(calc "${base_times[-1]} / ${cold_times[-1]}")" "$(calc "${base_times[-1]} / ${warm_times[-1]}")" "${all_growths[-1]}"
  done

  local b c w growth
  b=$(median "${base_times[@]}"); c=$(median "${cold_times[@]}"); w=$(median "${warm_times[@]}"); growth=$(median "${all_growths[@]}")
  echo
  printf '%s: file %d bytes (%d MiB), %d runs, medians:\n' "$backend" "$bytes" "$size_mib" "$runs"
  printf '  %-22s %.2f s (%.0f MiB/s)\n' "$baseline_name:" "$b" "$(calc "$bytes / 1048576 / $b")"
  if [ "$backend" = postgres-s3 ]; then
    local cp; cp=$(median "${copy_times[@]}")
    printf '  %-22s %.2f s (the store copies each upload into place at its commit; the baseline does not)\n' "copy in the bucket:" "$cp"
  fi
  printf '  %-22s %.2f s (%.0f MiB/s)\n' "upload, cold server:" "$c" "$(calc "$bytes / 1048576 / $c")"
  printf '  %-22s %.2f s (%.0f MiB/s)\n' "upload, warm server:" "$w" "$(calc "$bytes / 1048576 / $w")"
  local judge="(target >= 0.8)" judge_rss="(target < 64 MiB)"
  [ "$smoke" -eq 1 ] && judge="(smoke: not judged)" judge_rss="(smoke: not judged)"
  printf '  throughput ratio upload/%s: warm %.2f %s; cold %.2f\n' "$baseline_name" "$(calc "$b / $w")" "$judge" "$(calc "$b / $c")"
  printf '  server peak RSS growth, largest of each run: %.0f MiB %s\n' "$growth" "$judge_rss"
}

for backend in "${backends[@]}"; do upload_on "$backend"; done
