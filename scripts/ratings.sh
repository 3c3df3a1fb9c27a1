#!/usr/bin/env bash
# `npm run ratings -- …`: the ratings CLI, bundled once into plain JavaScript (esbuild ships
# with tsx) so a run does not pay TypeScript compilation at every start.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/.leitai/build/ratings.cjs"
if [[ ! -f "$OUT" || -n "$(find "$ROOT/scripts/ratings.ts" "$ROOT/lib/ratings" -newer "$OUT" -print -quit)" ]]; then
  mkdir -p "$(dirname "$OUT")"
  "$ROOT/node_modules/.bin/esbuild" "$ROOT/scripts/ratings.ts" --bundle --platform=node --target=node20 \
    --outfile="$OUT" --log-level=warning
fi
exec node "$OUT" "$@"
