#!/usr/bin/env bash
# `npm test`: type check, lint, unit tests, integration tests against real PostgreSQL and
# Redis, the gpu-runtime's pytest, and Playwright end-to-end tests in Chromium against the
# built site. Starts whatever it needs; a fresh test database every run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PORT="${LEITAI_TEST_PORT:-3210}"
SERVER_PID=""
step() { printf '\n=== %s ===\n' "$*"; }
cleanup() { if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT

step "dependencies"
if [[ ! -x node_modules/.bin/next ]]; then npm ci --no-audit --no-fund; fi
bash scripts/python-env.sh
bash scripts/services.sh install --browser

set -a
eval "$(node_modules/.bin/tsx scripts/lib/local-env.ts test "$PORT")"
set +a
export LEITAI_TEST_BASE_URL="http://localhost:$PORT"

step "services and a fresh test database"
if [[ "$LEITAI_USES_LOCAL_SERVICES" == 1 ]]; then
  bash scripts/services.sh start
  psql "${DATABASE_URL%/*}/postgres" -qtAc "DROP DATABASE IF EXISTS leitai_test WITH (FORCE)" >/dev/null
  psql "${DATABASE_URL%/*}/postgres" -qtAc "CREATE DATABASE leitai_test" >/dev/null
else
  psql "$DATABASE_URL" -qtAc "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public" >/dev/null
fi
redis-cli -u "$REDIS_URL" flushdb >/dev/null
node_modules/.bin/prisma migrate deploy >/dev/null
node_modules/.bin/tsx prisma/seed.ts

step "type check"
node_modules/.bin/tsc --noEmit

step "lint"
node_modules/.bin/eslint .
gpu-runtime/.venv/bin/ruff check gpu-runtime

step "unit tests"
node_modules/.bin/vitest run --project unit

step "gpu-runtime pytest"
(cd gpu-runtime && .venv/bin/python -m pytest)

step "build"
node_modules/.bin/next build

step "start the built site on :$PORT"
node node_modules/next/dist/bin/next start -p "$PORT" > .leitai/test-server.log 2>&1 &
SERVER_PID=$!
for _ in $(seq 120); do
  if curl -fsS "http://localhost:$PORT/api/health" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
curl -fsS "http://localhost:$PORT/api/health" >/dev/null || { cat .leitai/test-server.log; exit 1; }

step "integration tests"
node_modules/.bin/vitest run --project integration

step "end-to-end tests (Chromium)"
node_modules/.bin/playwright test

step "all tests passed"
