# Shared by the benchmark scripts: a work folder removed on exit (with the server it started),
# Release builds of the server and the helper program, and a median.
work="$(mktemp -d "${TMPDIR:-/tmp}/registry-bench.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
command -v curl >/dev/null || { echo "bench: curl is required" >&2; exit 1; }

echo "bench: building (Release)"
dotnet publish Registry.Web -c Release -o "$work/web" --nologo -v quiet >/dev/null
dotnet build bench/Registry.Bench -c Release -o "$work/bench" --nologo -v quiet >/dev/null
bench() { dotnet "$work/bench/Registry.Bench.dll" "$@"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { print $* }"; }
