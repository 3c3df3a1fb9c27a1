#!/usr/bin/env bash
# Live battles' first-token latency with and without the whole demo bank being pre-generated,
# and pre-generation's throughput with and without live battles, in one run on the CPU runtime.
# Its own PostgreSQL and Redis (scripts/services.sh, own state dir and ports).
#   bash bench/live-latency.sh [--battles 12] [--interval-s 8] [--no-write]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BENCH_NAME=live BENCH_PG_PORT="${LEITAI_BENCH_PG_PORT:-54349}" BENCH_REDIS_PORT="${LEITAI_BENCH_REDIS_PORT:-63809}"
source bench/lib/own-services.sh
node_modules/.bin/tsx scripts/demo-models.ts >/dev/null
node --import tsx bench/live-latency.ts "$@"
