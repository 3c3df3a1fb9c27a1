#!/usr/bin/env bash
# The GPU benchmark in one command (about 8 minutes at most; installs nothing).
# Uses the system python3 with torch, triton and transformers; run from anywhere:
#   bash gpu-runtime/bench/device.sh            # on the GPU machine
#   DEVICE=cpu bash gpu-runtime/bench/device.sh # the same script on CPU, tiny shapes
# Extra arguments go to bench/device_bench.py (--only, --timeouts, --no-write, --cpu-smoke).
set -euo pipefail
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
exec "$PYTHON" -m bench.device_bench "$@"
