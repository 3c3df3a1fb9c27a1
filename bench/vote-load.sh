#!/usr/bin/env bash
# Runs bench/vote-load.ts against the built site on its own database (leitai_bench).
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
[[ -f .next/BUILD_ID ]] || node_modules/.bin/next build >/dev/null
node ${LEITAI_BENCH_NODE_OPTIONS:-} node_modules/next/dist/bin/next start -p "$PORT" > .leitai/bench-site.log 2>&1 &
SITE=$!
trap 'kill $SITE 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -fsS "http://localhost:$PORT/api/health" >/dev/null 2>&1 && break; sleep 0.5; done
LEITAI_BENCH_BASE_URL="http://localhost:$PORT" node --import tsx bench/vote-load.ts "${1:-5000}" "${2:-32}"
