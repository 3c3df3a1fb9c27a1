# Sourced by the benchmarks that kill services or load the runtime: a PostgreSQL and a Redis of
# their own (scripts/services.sh with a state dir under .leitai/ and ports of their own), a fresh
# migrated and seeded database, and the environment exported. Stops both on exit.
#   BENCH_NAME=faults BENCH_PG_PORT=54339 BENCH_REDIS_PORT=63799 source bench/lib/own-services.sh
export LEITAI_STATE_DIR="$PWD/.leitai/bench-$BENCH_NAME"
export LEITAI_PG_PORT="$BENCH_PG_PORT" LEITAI_REDIS_PORT="$BENCH_REDIS_PORT"
bash scripts/services.sh start
set -a
eval "$(node_modules/.bin/tsx scripts/lib/local-env.ts test 3399)"
DATABASE_URL="postgresql://leitai@127.0.0.1:$LEITAI_PG_PORT/leitai"
REDIS_URL="redis://127.0.0.1:$LEITAI_REDIS_PORT"
set +a
redis-cli -u "$REDIS_URL" flushall >/dev/null
psql "${DATABASE_URL%/*}/postgres" -qtAc "DROP DATABASE IF EXISTS leitai WITH (FORCE)" >/dev/null
psql "${DATABASE_URL%/*}/postgres" -qtAc "CREATE DATABASE leitai" >/dev/null
node_modules/.bin/prisma migrate deploy >/dev/null
node_modules/.bin/tsx prisma/seed.ts >/dev/null
trap 'bash scripts/services.sh stop' EXIT
