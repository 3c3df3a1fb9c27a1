"""Attention over a flattened batch of prefill chunks and decode tokens, on a paged KV cache.

Every backend reads the same `AttentionMetadata` and the same cache layout, per layer:
K and V of shape [num_blocks, block_size, num_kv_heads, head_dim]. Token t of the batch
belongs to sequence `token_seq[t]`, sits at `positions[t]` and attends to that sequence's
keys at positions 0..positions[t] (causal within the chunk, full over the cached prefix).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import torch


@dataclass
class AttentionMetadata:
    positions: torch.Tensor      # [T] int64, position of each token in its sequence
    token_seq: torch.Tensor      # [T] int64, index of each token's sequence in the batch
    slot_mapping: torch.Tensor   # [T] int64, block_id * block_size + offset for the KV write
    block_tables: torch.Tensor   # [S, max_blocks] int32 (int64 in graph buffers), padded with 0
    context_lens: torch.Tensor   # [S] int32 (int64 in graph buffers), tokens in cache after this step
    query_lens: list[int]        # per sequence, tokens fed this step (host copy, no sync)
    context_lens_host: list[int]
    block_size: int
    # Backends may cache per-step derived tensors here (built at the first layer, reused by the rest).
    query_tiles: torch.Tensor | None = field(default=None, repr=False)


def write_kv(k: torch.Tensor, v: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
             slot_mapping: torch.Tensor) -> None:
    """Scatter this step's K/V [T, KVH, D] into their cache slots."""
    kvh, d = k.shape[1], k.shape[2]
    k_cache.view(-1, kvh, d).index_copy_(0, slot_mapping, k.to(k_cache.dtype))
    v_cache.view(-1, kvh, d).index_copy_(0, slot_mapping, v.to(v_cache.dtype))


class AttentionBackend(Protocol):
    name: str

    def forward(self, q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                meta: AttentionMetadata, scale: float) -> torch.Tensor:
        """q [T, H, D] -> out [T, H, D]; this step's K/V are already in the cache."""
        ...


def _torch_backend() -> AttentionBackend:
    from .torch_attention import TorchAttention

    return TorchAttention()


def _triton_backend() -> AttentionBackend:
    # Imported lazily: TRITON_INTERPRET must be set before triton is first imported.
    from .triton_attention import TritonAttention

    return TritonAttention()


def _triton_splitkv_backend() -> AttentionBackend:
    from .triton_splitkv import SplitKVAttention

    return SplitKVAttention()


ATTENTION_BACKENDS: dict[str, Callable[[], AttentionBackend]] = {
    "torch": _torch_backend,
    "triton": _triton_backend,
    "triton-splitkv": _triton_splitkv_backend,
}


def get_attention_backend(name: str) -> AttentionBackend:
    factory = ATTENTION_BACKENDS.get(name)
    if factory is None:
        raise ValueError(f"unknown attention backend {name!r}; valid: {', '.join(sorted(ATTENTION_BACKENDS))}")
    return factory()
