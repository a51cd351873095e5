#!/usr/bin/env bash
# Benchmark: nearby center search against the health endpoint on the same server, on
# SQLite and on PostgreSQL, with the demo network loaded. Prints requests/s, p99 and
# their ratio. Usage: bench/nearby.sh [seconds per run, default 10] [connections, default 64]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNECTIONS="${2:-64}"
PG_ADMIN_URL="${OCOD_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT=18099

source bench/wrk.sh
cargo build --release --quiet
BIN=target/release/ocod
WORK=$(mktemp -d)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

run_backend() {
  local name="$1" url="$2"
  DATABASE_URL="$url" "$BIN" seed-demo >/dev/null
  DATABASE_URL="$url" OCOD_BIND="127.0.0.1:$PORT" OCOD_JWT_SECRET="bench-secret-bench-secret-bench-secret-01" \
    OCOD_LOG=warn "$BIN" serve >"$WORK/$name.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.2; done
  # Warm up both paths.
  wrk -t1 -c8 -d2s "http://127.0.0.1:$PORT/health/live" >/dev/null
  wrk -t1 -c8 -d2s -s bench/nearby.lua "http://127.0.0.1:$PORT" >/dev/null
  read -r health_rps health_p99 < <(measure "http://127.0.0.1:$PORT/health/live")
  read -r nearby_rps nearby_p99 < <(measure -s bench/nearby.lua "http://127.0.0.1:$PORT")
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
  awk -v n="$name" -v hr="$health_rps" -v hp="$health_p99" -v nr="$nearby_rps" -v np="$nearby_p99" 'BEGIN {
    printf "%-9s  health: %9.0f req/s  p99 %6.2f ms   nearby: %9.0f req/s  p99 %6.2f ms   nearby/health: %.2f\n", n, hr, hp, nr, np, nr / hr }'
}

echo "wrk: 2 threads, $CONNECTIONS connections, ${DURATION}s per run; demo network of 2,394 centers"
run_backend sqlite "$WORK/bench.db"
psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS ocod_bench" >/dev/null
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE ocod_bench" >/dev/null
run_backend postgres "${PG_ADMIN_URL%/*}/ocod_bench"
psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS ocod_bench" >/dev/null
