#!/usr/bin/env bash
# The vote endpoint under load, side by side: the production server's anonymous-vote fast
# path, then the same requests through the Next.js route handler (LEITAI_VOTE_FAST_PATH=false).
# Each run gets a freshly started site on its own database (leitai_bench).
# Per path: a closed-loop run (concurrency votes in flight: the most it serves), then an
# open-loop run (votes sent at a fixed rate: the latency at that load).
#   bash bench/vote-load.sh [votes] [concurrency] [rate]     defaults 8000 32 500
# LEITAI_BENCH_MODELS=N spreads the battles over N models (default 2: every vote on one pair).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PORT=3300
bash scripts/services.sh start
set -a
eval "$(node_modules/.bin/tsx scripts/lib/local-env.ts test "$PORT")"
DATABASE_URL="${DATABASE_URL%/*}/leitai_bench"
LEITAI_VOTE_LIMIT_PER_IP=1000000000
set +a
psql "${DATABASE_URL%/*}/postgres" -qtAc "DROP DATABASE IF EXISTS leitai_bench WITH (FORCE)" >/dev/null
psql "${DATABASE_URL%/*}/postgres" -qtAc "CREATE DATABASE leitai_bench" >/dev/null
node_modules/.bin/prisma migrate deploy >/dev/null
node_modules/.bin/tsx prisma/seed.ts >/dev/null
node_modules/.bin/next build >/dev/null

SITE=""
trap '[[ -n "$SITE" ]] && kill "$SITE" 2>/dev/null || true' EXIT
for path in fast-path next.js; do
  fast=true; [[ "$path" == next.js ]] && fast=false
  LEITAI_VOTE_FAST_PATH=$fast node ${LEITAI_BENCH_NODE_OPTIONS:-} --import tsx scripts/web.ts -p "$PORT" > ".leitai/bench-site-$path.log" 2>&1 &
  SITE=$!
  for _ in $(seq 120); do curl -fsS "http://localhost:$PORT/api/health" >/dev/null 2>&1 && break; sleep 0.5; done
  for rate in 0 "${3:-500}"; do
    LEITAI_BENCH_PATH="$path" LEITAI_BENCH_BASE_URL="http://localhost:$PORT" node --import tsx bench/vote-load.ts "${1:-8000}" "${2:-32}" "$rate"
  done
  kill "$SITE"; wait "$SITE" 2>/dev/null || true; SITE=""
done
