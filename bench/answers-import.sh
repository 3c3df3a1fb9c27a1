#!/usr/bin/env bash
# Answer set import at a lab's scale: 10,000 questions imported into the bank, then an offline
# model's 10,000 answers (dry run, commit, a second version) and the export, on a PostgreSQL of
# its own. Prints a table; writes bench/results/answers-import-<date>.json.
#   bash bench/answers-import.sh [--rows N] [--no-write]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BENCH_NAME=answers BENCH_PG_PORT="${LEITAI_BENCH_PG_PORT:-54349}" BENCH_REDIS_PORT="${LEITAI_BENCH_REDIS_PORT:-63809}"
source bench/lib/own-services.sh
node --import tsx bench/answers-import.ts "$@"
