"""Checkpoint loading: Hugging Face directories (safetensors / .bin, sharded or not) and GGUF files.

    ckpt = load_checkpoint("models/chinese-alpaca-2-7b", dtype=torch.float16, device="cuda")
    ckpt.hf_config["num_key_value_heads"], ckpt.state_dict["lm_head.weight"], ckpt.tokenizer.encode("你好")
"""

from __future__ import annotations

from pathlib import Path

import torch

from leitai_runtime.loader.common import Checkpoint, CheckpointError
from leitai_runtime.loader.gguf import load_gguf
from leitai_runtime.loader.hf import load_hf_dir

__all__ = ["Checkpoint", "CheckpointError", "load_checkpoint"]

_GGUF_MAGIC = b"GGUF"


def load_checkpoint(
    path: str | Path, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
) -> Checkpoint:
    """Load a Llama checkpoint from an HF directory, a .gguf file, or a directory holding one .gguf.

    Tensors are created directly in `dtype` on `device` (GGUF tensors are dequantized first).
    Raises CheckpointError, naming the file and the problem, for anything that cannot be served.
    """
    source = Path(path)
    device = torch.device(device)
    if source.is_file():
        if not _is_gguf(source):
            raise CheckpointError(source, "not a GGUF file; pass a .gguf file or a Hugging Face model directory")
        return load_gguf(source, dtype, device)
    if not source.is_dir():
        raise CheckpointError(source, "no such file or directory")
    ggufs = sorted(source.glob("*.gguf"))
    if not (source / "config.json").exists() and ggufs:
        if len(ggufs) > 1:
            names = ", ".join(g.name for g in ggufs)
            raise CheckpointError(source, f"holds several GGUF files ({names}); pass the one to serve")
        return load_gguf(ggufs[0], dtype, device)
    return load_hf_dir(source, dtype, device)


def _is_gguf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == _GGUF_MAGIC
