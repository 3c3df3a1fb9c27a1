#!/usr/bin/env bash
# `npm run up` on a fresh machine: npm dependencies first (the orchestrator is TypeScript),
# then scripts/up.ts does the rest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -x node_modules/.bin/tsx || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[up] installing npm dependencies"
  npm ci --no-audit --no-fund
fi
# exec, here and in package.json's `exec bash scripts/up.sh`: npm relays SIGINT/SIGTERM only to the
# process it started, and a shell waiting on a child does not pass them on, so `kill -INT` of
# npm's pid reaches up.ts only when nothing stands between them.
exec node --import tsx scripts/up.ts
