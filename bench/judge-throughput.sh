#!/usr/bin/env bash
# A judge run's throughput on the CPU runtime: SmolLM2-135M (the real demo model) judges two
# contestants' answers to a small bank in both orders, through a real worker and its runtime.
# Its own PostgreSQL and Redis. Prints a table; writes bench/results/judge-throughput-<date>.json.
#   bash bench/judge-throughput.sh [--questions 12] [--max-tokens 128] [--no-write]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BENCH_NAME=judge BENCH_PG_PORT="${LEITAI_BENCH_PG_PORT:-54359}" BENCH_REDIS_PORT="${LEITAI_BENCH_REDIS_PORT:-63819}"
source bench/lib/own-services.sh
node_modules/.bin/tsx scripts/demo-models.ts >/dev/null
node --import tsx bench/judge-throughput.ts "$@"
