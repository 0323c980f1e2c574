#!/usr/bin/env bash
# Starts, on loopback in a temporary folder, the servers the tests need beside SQLite and the file
# system: a real PostgreSQL (15 here) and an S3-compatible server (the npm package s3rver). Sourced by
# ./test.sh, which calls services_start before the tests and services_stop on exit. Installs what is
# missing: Debian's postgresql (when no /usr/lib/postgresql/*/bin exists) and s3rver from npm (into
# a cache folder outside the repository, reused by later runs).
#
# Exports for the tests:
#   REGISTRY_TEST_PG        an admin connection string (the tests create a database each)
#   REGISTRY_TEST_S3_URL    the S3 endpoint; REGISTRY_TEST_S3_BUCKET the bucket (credentials S3RVER/S3RVER)

services_dir=""
pg_bin=""

# The newest PostgreSQL server installed (15 on these machines; whatever Debian's postgresql brings elsewhere).
find_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port in 20000-39999 that nothing listens on (bash only: a fresh machine may lack python and curl).
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 20000 ))
    listening "$port" || { echo "$port"; return; }
  done
  echo "test.sh: found no free port" >&2; return 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "test.sh: '$*' needs root (run as root, or install sudo)" >&2; return 1
  fi
}

# PostgreSQL refuses to run as root: as root, its folder belongs to 'postgres' and it runs as that user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

services_start() {
  services_dir="$(mktemp -d /tmp/registry-test-services.XXXXXX)"
  chmod 755 "$services_dir"

  pg_bin="$(find_pg_bin)"
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/pg_ctl" ]; then
    echo "test.sh: installing Debian's postgresql for the PostgreSQL tests"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    pg_bin="$(find_pg_bin)"
  fi
  local pg_data="$services_dir/pg" pg_port
  pg_port="$(free_port)"
  mkdir -p "$pg_data"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$pg_data"; fi
  as_pg "$pg_bin/initdb" -D "$pg_data" -U registry --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$services_dir/initdb.log" 2>&1 \
    || { cat "$services_dir/initdb.log" >&2; return 1; }
  # Tuned for throw-away test databases: no fsync, a few more connections for parallel tests.
  as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_data -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$pg_data/server.log" >&2; return 1; }
  export REGISTRY_TEST_PG="Host=127.0.0.1;Port=$pg_port;Username=registry;Database=postgres"
  echo "test.sh: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"

  if ! command -v npm >/dev/null; then
    echo "test.sh: installing Debian's nodejs and npm for the S3-compatible test server"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  local tools="${XDG_CACHE_HOME:-$HOME/.cache}/registry-test-tools"
  if [ ! -f "$tools/node_modules/s3rver/bin/s3rver.js" ]; then
    echo "test.sh: installing s3rver 3.7.1 from npm into $tools"
    mkdir -p "$tools"
    (cd "$tools" && npm install --silent --no-audit --no-fund s3rver@3.7.1 >/dev/null)
  fi
  local s3_port
  s3_port="$(free_port)"
  mkdir -p "$services_dir/s3"
  # s3rver can die of an unhandled file-system race; it is started again (at most 10 times, each
  # logged and reported at the end) so that one crash fails the requests in flight, not the rest of the run.
  (
    for attempt in $(seq 1 11); do
      [ "$attempt" -eq 1 ] || echo "s3rver exited; start $attempt" >> "$services_dir/s3rver.restarts"
      node "$tools/node_modules/s3rver/bin/s3rver.js" --address 127.0.0.1 --port "$s3_port" --directory "$services_dir/s3" \
        --configure-bucket registry-tests --silent >>"$services_dir/s3rver.log" 2>&1 &
      echo $! > "$services_dir/s3rver.node.pid"
      wait $! || true
      [ -f "$services_dir/stopping" ] && break
    done
  ) &
  echo $! > "$services_dir/s3rver.pid"
  local up=""
  for _ in $(seq 1 300); do
    if listening "$s3_port"; then up=1; break; fi
    sleep 0.1
  done
  [ -n "$up" ] || { echo "test.sh: s3rver did not start within 30 s:" >&2; cat "$services_dir/s3rver.log" >&2; return 1; }
  export REGISTRY_TEST_S3_URL="http://127.0.0.1:$s3_port"
  export REGISTRY_TEST_S3_BUCKET="registry-tests"
  # s3rver cannot list unfinished multipart uploads: the S3 store tests look for them in its folder.
  export REGISTRY_TEST_S3_DIRECTORY="$services_dir/s3"
  echo "test.sh: s3rver on 127.0.0.1:$s3_port"
}

services_stop() {
  [ -n "$services_dir" ] && [ -d "$services_dir" ] || return 0
  touch "$services_dir/stopping"
  if [ -f "$services_dir/s3rver.pid" ]; then kill "$(cat "$services_dir/s3rver.pid")" 2>/dev/null || true; fi
  if [ -f "$services_dir/s3rver.node.pid" ]; then kill "$(cat "$services_dir/s3rver.node.pid")" 2>/dev/null || true; fi
  if [ -f "$services_dir/s3rver.restarts" ]; then
    echo "test.sh: s3rver crashed and was restarted $(wc -l < "$services_dir/s3rver.restarts") time(s) during the run:" >&2
    grep -m 3 -A 2 "Error" "$services_dir/s3rver.log" >&2 || true
  fi
  if [ -n "$pg_bin" ] && [ -f "$services_dir/pg/postmaster.pid" ]; then as_pg "$pg_bin/pg_ctl" -D "$services_dir/pg" -m immediate -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$services_dir"
}
