#!/usr/bin/env bash
# Local PostgreSQL and Redis for Leitai, used when DATABASE_URL / REDIS_URL are not given.
# Their data lives under .leitai/ (ignored by git).
#   scripts/services.sh install   apt-install what is missing (postgresql, redis-server; chromium and a CJK font with --browser)
#   scripts/services.sh start     start both (idempotent), print nothing but errors
#   scripts/services.sh stop      stop both (Redis saves first)
#   scripts/services.sh start-redis | stop-redis | start-pg | stop-pg   one of them
#   scripts/services.sh status    exit 0 when both answer
#   scripts/services.sh env       print DATABASE_URL=... and REDIS_URL=... for the local servers
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${LEITAI_STATE_DIR:-$ROOT/.leitai}"
PG_PORT="${LEITAI_PG_PORT:-54329}"
REDIS_PORT="${LEITAI_REDIS_PORT:-63790}"
PG_DATA="$STATE/pg"
PG_RUN="$STATE/pg-run"
REDIS_DIR="$STATE/redis"

log() { echo "[services] $*" >&2; }

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  [[ -n "$dir" && -x "$dir/initdb" ]] && echo "$dir"
}

# initdb and postgres refuse to run as root; Debian's package creates the postgres user.
as_pg() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

apt_install() {
  if [[ "$(id -u)" != 0 ]]; then
    log "missing packages: $*; install them (apt-get install $*) or run as root"; exit 1
  fi
  log "installing $* with apt-get"
  if [[ -z "$(find /var/lib/apt/lists -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]]; then
    apt-get update -qq >/dev/null
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

install() {
  local need=()
  [[ -z "$(pg_bin || true)" ]] && need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  if [[ "${1:-}" == "--browser" ]] && ! command -v chromium >/dev/null; then need+=(chromium); fi
  # Without a CJK font, Chinese text in headless Chromium's screenshots renders as boxes.
  if [[ "${1:-}" == "--browser" ]] && ! fc-list 2>/dev/null | grep -qi "wqy-microhei"; then need+=(fonts-wqy-microhei); fi
  if ((${#need[@]})); then apt_install "${need[@]}"; fi
  return 0
}

pg_ready() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }
redis_ready() { redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

start_pg() {
  local bin; bin="$(pg_bin)"
  if pg_ready; then return 0; fi
  mkdir -p "$STATE" "$PG_RUN"
  chmod 755 "$STATE"
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    mkdir -p "$PG_DATA"
    [[ "$(id -u)" == 0 ]] && chown postgres:postgres "$PG_DATA" "$PG_RUN"
    # Trust on loopback only: this cluster is a local development/test server.
    as_pg "$bin/initdb" -D "$PG_DATA" -U leitai --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  [[ "$(id -u)" == 0 ]] && chown postgres:postgres "$PG_RUN"
  as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_RUN/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_RUN -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U leitai -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='leitai'" | grep -q 1 ||
    "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U leitai leitai
}

redis_cli() { redis-cli -p "$REDIS_PORT" "$@"; }

# BullMQ keeps every queued generation in Redis, so it runs with append-only persistence (fsync
# once a second, as BullMQ's production guide asks) and noeviction: a restart or a crash loses
# at most a second of work and memory pressure never drops a job key.
start_redis() {
  if ! redis_ready; then
    mkdir -p "$REDIS_DIR"
    # Redis 7.0 started with appendonly yes on a dir without an AOF begins EMPTY and ignores a
    # dump.rdb there (the old no-persistence setup's dir, or a `shutdown save`): start without the
    # AOF then, so the snapshot loads, and let ensure_aof write the AOF from it.
    local aof=no
    [[ -f "$REDIS_DIR/appendonlydir/appendonly.aof.manifest" ]] && aof=yes
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" --save "" \
      --appendonly "$aof" --appendfsync everysec --maxmemory-policy noeviction \
      --daemonize yes --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log"
    local up=""
    for _ in $(seq 50); do redis_ready && { up=1; break; }; sleep 0.1; done
    [[ -n "$up" ]] || { log "redis did not start; see $STATE/redis.log"; exit 1; }
  fi
  ensure_aof
}

# Turns on the AOF of a server that runs without it (started above from an old dir, or still
# running from the old setup) and waits until the rewrite that creates it from the data is done.
ensure_aof() {
  [[ "$(redis_cli config get appendonly | tail -1)" == yes ]] && return 0
  redis_cli config set appendfsync everysec >/dev/null
  redis_cli config set appendonly yes >/dev/null
  local info
  for _ in $(seq 600); do
    info="$(redis_cli info persistence | tr -d '\r')"
    if grep -qx 'aof_rewrite_in_progress:0' <<<"$info" && grep -qx 'aof_rewrite_scheduled:0' <<<"$info"; then
      grep -qx 'aof_last_bgrewrite_status:ok' <<<"$info" && return 0
      log "redis could not write its append-only file; see $STATE/redis.log"; exit 1
    fi
    sleep 0.1
  done
  log "redis is still writing its append-only file; see $STATE/redis.log"
}

stop_redis() {
  redis_ready || return 0
  # save: a dump beside the AOF, and the AOF fsynced, before the server exits.
  redis_cli shutdown save >/dev/null 2>&1 || true
  if redis_ready; then log "redis refused to shut down with a save; see $STATE/redis.log"; return 1; fi
}

stop_all() {
  local bin; bin="$(pg_bin || true)"
  if [[ -n "$bin" && -f "$PG_DATA/postmaster.pid" ]]; then
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  stop_redis
}

case "${1:-}" in
  install) shift; install "$@" ;;
  start) install; start_pg; start_redis ;;
  stop) stop_all ;;
  start-pg) install; start_pg ;;
  start-redis) install; start_redis ;;
  stop-redis) stop_redis ;;
  stop-pg) as_pg "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null ;;
  status) pg_ready && redis_ready ;;
  env)
    echo "DATABASE_URL=postgresql://leitai@127.0.0.1:$PG_PORT/leitai"
    echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    ;;
  *) echo "usage: $0 install [--browser] | start | stop | start-pg | stop-pg | start-redis | stop-redis | status | env" >&2; exit 2 ;;
esac
