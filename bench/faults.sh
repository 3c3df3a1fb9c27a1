#!/usr/bin/env bash
# The failure model as a benchmark: each trial streams live answers and a pre-generation run
# through a real worker and its CPU gpu-runtime, kills or wipes one part, and counts what was
# lost, duplicated or left stuck, and how long the arena took to converge back.
# It runs its own PostgreSQL and Redis (scripts/services.sh, own state dir and ports), so the
# faults touch nothing else on the machine.
#   bash bench/faults.sh [--live N] [--trials worker,runtime,redis-restart,redis-wipe,postgres] [--no-write]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BENCH_NAME=faults BENCH_PG_PORT="${LEITAI_BENCH_PG_PORT:-54339}" BENCH_REDIS_PORT="${LEITAI_BENCH_REDIS_PORT:-63799}"
source bench/lib/own-services.sh
MODEL_DIR="$LEITAI_STATE_DIR/models/bench-tiny"
if [[ ! -f "$MODEL_DIR/config.json" ]]; then
  (cd gpu-runtime && .venv/bin/python -m leitai_runtime.demo --out "$MODEL_DIR" --seed 7 --name bench-tiny >/dev/null)
fi
LEITAI_BENCH_MODEL_DIR="$MODEL_DIR" node --import tsx bench/faults.ts "$@"
