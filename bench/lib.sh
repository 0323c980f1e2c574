# Shared by the benchmark scripts (sourced from the repository root): a work folder removed on exit
# with the servers started into it, the arguments every script takes, Release builds of the server
# and the helper program, the back-ends, the server's start and stop, and a median.
#
# Every script takes, besides its own positional arguments:
#   --smoke             tiny sizes and 1-3 runs on every back-end the script has; checks that the
#                       benchmark works (any failure exits non-zero), judges no target
#   --backend NAME      sqlite (SQLite and the file system, the default) or postgres-s3 (PostgreSQL
#                       and s3rver); also BENCH_BACKEND=NAME
# and honours REGISTRY_BENCH_WEB=<published Registry.Web folder> and REGISTRY_BENCH_TOOL=<built
# Registry.Bench folder> (set by bench/smoke.sh, which builds once for all), and REGISTRY_TEST_PG,
# REGISTRY_TEST_S3_URL and REGISTRY_TEST_S3_BUCKET (set by ./test.sh): when set, the PostgreSQL and
# S3 servers named there are used, else scripts/test-services.sh starts them for the run.
work="$(mktemp -d "${TMPDIR:-/tmp}/registry-bench.XXXXXX")"
server_pid=""
own_services=0
databases=()
source scripts/test-services.sh

cleanup() {
  stop_server
  if [ "$own_services" -eq 1 ]; then
    services_stop
  else
    for db in ${databases[@]+"${databases[@]}"}; do psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
command -v curl >/dev/null || { echo "bench: curl is required" >&2; exit 1; }

# bench_args "$@": sets smoke (0/1), backends (the list to run) and args (the positional arguments).
bench_args() {
  smoke=0 args=()
  local chosen="${BENCH_BACKEND:-}"
  while [ $# -gt 0 ]; do
    case "$1" in
      --smoke) smoke=1 ;;
      --backend) [ $# -ge 2 ] || { echo "bench: --backend needs sqlite or postgres-s3" >&2; exit 2; }; chosen="$2"; shift ;;
      --backend=*) chosen="${1#--backend=}" ;;
      *) args+=("$1") ;;
    esac
    shift
  done
  case "$chosen" in
    "") if [ "$smoke" -eq 1 ]; then backends=(sqlite postgres-s3); else backends=(sqlite); fi ;;
    sqlite|postgres-s3) backends=("$chosen") ;;
    *) echo "bench: unknown back-end '$chosen' (sqlite or postgres-s3)" >&2; exit 2 ;;
  esac
}

# Builds the helper in Release (which builds the server's projects too), then publishes the server
# from that build: one compilation, and the published server serves its static assets in Production.
bench_build() {
  web_dir="${REGISTRY_BENCH_WEB:-}" tool_dir="${REGISTRY_BENCH_TOOL:-}"
  if [ -z "$tool_dir" ]; then
    echo "bench: building (Release)"
    dotnet build bench/Registry.Bench -c Release --nologo -v quiet >/dev/null
    tool_dir="$PWD/bench/Registry.Bench/bin/Release/net10.0"
  fi
  if [ -z "$web_dir" ]; then
    [ -n "${REGISTRY_BENCH_TOOL:-}" ] && dotnet build Registry.Web -c Release --nologo -v quiet >/dev/null
    dotnet publish Registry.Web -c Release --no-build -o "$work/web" --nologo -v quiet >/dev/null
    web_dir="$work/web"
  fi
}
bench() { dotnet "$tool_dir/Registry.Bench.dll" "$@"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { print $* }"; }

# A field of the admin connection string (Host, Port, …).
pg_field() { tr ';' '\n' <<<"$REGISTRY_TEST_PG" | sed -n "s/^$1=//Ip" | head -n 1; }
psql_admin() { "${pg_bin:-$(find_pg_bin)}/psql" -h "$(pg_field Host)" -p "$(pg_field Port)" -U "$(pg_field Username)" -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

services_ensure() {
  if [ -n "${REGISTRY_TEST_PG:-}" ] && [ -n "${REGISTRY_TEST_S3_URL:-}" ]; then return; fi
  services_start >/dev/null
  own_services=1
}

# backend_fresh <backend> <name>: an empty registry (its data folder; on postgres-s3 also a database
# and a bucket prefix of its own), named in settings — the arguments for the server, its commands and
# the generator. Sets data to the data folder.
backend_fresh() {
  local id; id="$(echo "$2" | tr -c 'a-z0-9\n' '_')_$$"
  data="$work/data-$2"
  rm -rf "$data"; mkdir -p "$data"
  settings=(--Registry:Storage:DataDirectory="$data")
  [ "$1" = postgres-s3 ] || return 0
  services_ensure
  psql_admin -c "CREATE DATABASE \"bench_$id\""
  databases+=("bench_$id")
  settings+=(
    --Registry:Database:Provider=PostgreSql
    "--Registry:Database:ConnectionString=Host=$(pg_field Host);Port=$(pg_field Port);Username=$(pg_field Username);Database=bench_$id"
    --Registry:Storage:Provider=S3
    --Registry:Storage:S3:ServiceUrl="$REGISTRY_TEST_S3_URL"
    --Registry:Storage:S3:BucketName="${REGISTRY_TEST_S3_BUCKET:-registry-tests}"
    --Registry:Storage:S3:Prefix="bench-$id/"
    --Registry:Storage:S3:Region=us-east-1
    --Registry:Storage:S3:AccessKey=S3RVER
    --Registry:Storage:S3:SecretKey=S3RVER
    --Registry:Storage:S3:ForcePathStyle=true
  )
}

# start_server [setting…]: the published server in Production on a free loopback port, on the
# registry named by settings, with an admin account; sets base and server_pid and waits until it answers.
password="bench-password-$RANDOM$RANDOM"
start_server() {
  base="http://127.0.0.1:$(free_port)"
  ASPNETCORE_ENVIRONMENT=Production dotnet "$web_dir/Registry.Web.dll" --urls "$base" --contentRoot "$web_dir" "${settings[@]}" \
    --Registry:Admin:InitialPassword="$password" --Logging:LogLevel:Default=Warning "$@" > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    curl -s -o /dev/null "$base/login" && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: the server did not start; its log:" >&2; tail -n 30 "$work/server.log" >&2; exit 1
}
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi
}

# A command of the server (apikey create …) on the same registry as the server.
web() { dotnet "$web_dir/Registry.Web.dll" "$@" "${settings[@]}"; }
# api_key <scopes>: a new API key of the admin account (the server must have started once, to create it).
api_key() { web apikey create --user admin --scopes "$1" --name "bench-$RANDOM$RANDOM"; }

# upload <file> <model> <key>: uploads a new version; fails with the server's answer unless it is 201.
upload() {
  local status
  status=$(curl -s -o "$work/response.json" -w '%{http_code}' -H "Authorization: Bearer $3" -F "file=@$1" "$base/api/v1/models/$2/versions")
  [ "$status" = "201" ] || { echo "bench: uploading $1 as $2 answered $status: $(cat "$work/response.json")" >&2; exit 1; }
}
