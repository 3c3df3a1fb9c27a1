#!/usr/bin/env bash
# The GPU benchmark in one command (about 8 minutes at most; installs nothing).
# Uses the system python3 with torch, triton and transformers; run from anywhere:
#   bash gpu-runtime/bench/device.sh            # on the GPU machine
#   DEVICE=cpu bash gpu-runtime/bench/device.sh # the same script on CPU, tiny shapes
# Extra arguments go to bench/device_bench.py (--only, --timeouts, --no-write, --cpu-smoke).
# RESULTS_DIR=DIR also puts the results JSON, the BENCHMARKS.md section and the full log in DIR.
set -euo pipefail
if [ -n "${RESULTS_DIR:-}" ]; then RESULTS_DIR="$(realpath -m "$RESULTS_DIR")"; fi
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1
export TOKENIZERS_PARALLELISM=false
"$PYTHON" - <<'PY'
import importlib.util, sys
missing = [m for m in ("torch", "triton", "transformers", "numpy") if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"device.sh: missing python packages: {', '.join(missing)}")
PY
if [ -n "${RESULTS_DIR:-}" ]; then
  mkdir -p "$RESULTS_DIR"
  "$PYTHON" -m bench.device_bench "$@" 2>&1 | tee "$RESULTS_DIR/device-run.log"
  exit "${PIPESTATUS[0]}"
fi
exec "$PYTHON" -m bench.device_bench "$@"
