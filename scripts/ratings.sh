#!/usr/bin/env bash
# `npm run ratings -- …`: the ratings CLI, bundled once into plain JavaScript (esbuild ships
# with tsx) so a run does not pay TypeScript compilation at every start.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/.leitai/build/ratings.cjs"
# Stale when a source is newer than the bundle (tested in bash: no process per run).
stale=0
[[ -f "$OUT" ]] || stale=1
for src in "$ROOT/scripts/ratings.ts" "$ROOT"/lib/ratings/*.ts "$ROOT"/lib/ratings/*/*.ts; do
  [[ "$src" -nt "$OUT" ]] && stale=1
done
if ((stale)); then
  mkdir -p "$(dirname "$OUT")"
  "$ROOT/node_modules/.bin/esbuild" "$ROOT/scripts/ratings.ts" --bundle --platform=node --target=node20 \
    --outfile="$OUT" --log-level=warning
fi
exec node "$OUT" "$@"
