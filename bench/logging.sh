#!/usr/bin/env bash
# Benchmark: what `info` logging (one JSON access line per request, written to a file as
# journald or a container runtime would take it) costs a small endpoint, against logs
# off, on the same server binary and machine, in interleaved rounds. Prints requests/s and
# p99 of each round and the ratio of the medians; the goal is info ≥ 0.85 of off.
# Usage: bench/logging.sh [seconds per run, default 10] [connections, default 64] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNECTIONS="${2:-64}"
ROUNDS="${3:-3}"
PORT=18098

source bench/wrk.sh
cargo build --release --quiet
BIN=target/release/ocod
WORK=$(mktemp -d)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# Starts the server with the log filter $1, stderr to a file; measures; stops it.
round() {
  local filter="$1"
  DATABASE_URL="$WORK/ocod.db" OCOD_BIND="127.0.0.1:$PORT" OCOD_LOG="$filter" OCOD_LOG_FORMAT=json \
    OCOD_JWT_SECRET="bench-secret-bench-secret-bench-secret-01" \
    "$BIN" serve 2>"$WORK/server-$filter.log" &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done
  wrk -t1 -c8 -d2s "http://127.0.0.1:$PORT/health/live" >/dev/null
  measure "http://127.0.0.1:$PORT/health/live"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

DATABASE_URL="$WORK/ocod.db" "$BIN" migrate >/dev/null
echo "logging cost: GET /health/live, wrk -t2 -c$CONNECTIONS, ${DURATION}s per run, $ROUNDS interleaved rounds"
: >"$WORK/off" ; : >"$WORK/info"
for r in $(seq 1 "$ROUNDS"); do
  for filter in off info; do
    read -r rps p99 < <(round "$filter")
    echo "$rps" >>"$WORK/$filter"
    printf '  round %d  OCOD_LOG=%-4s %10.0f req/s  p99 %6.2f ms\n' "$r" "$filter" "$rps" "$p99"
  done
done
off=$(median <"$WORK/off"); info=$(median <"$WORK/info")
lines=$(wc -l <"$WORK/server-info.log")
printf '  median: off %.0f req/s, info %.0f req/s: info/off %.2f (goal >= 0.85); %d log lines in the last info round\n' \
  "$off" "$info" "$(awk -v a="$info" -v b="$off" 'BEGIN {print a / b}')" "$lines"
