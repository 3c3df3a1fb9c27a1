"""Random paged-attention problems shared by the torch and Triton backend tests."""

from __future__ import annotations

import torch

from leitai_runtime.layers.attention import AttentionMetadata


def random_case(seed: int, *, num_heads: int = 4, num_kv_heads: int = 2, head_dim: int = 16,
                block_size: int = 4, num_blocks: int = 48,
                seqs: tuple[tuple[int, int], ...] = ((9, 9), (14, 1), (5, 3), (1, 1), (23, 6))):
    """seqs: (context length after this step, tokens fed this step). Block tables are random
    permutations, last blocks are partial. Returns q, caches, metadata and dense K/V per seq."""
    gen = torch.Generator().manual_seed(seed)
    k_cache = torch.randn(num_blocks, block_size, num_kv_heads, head_dim, generator=gen)
    v_cache = torch.randn(num_blocks, block_size, num_kv_heads, head_dim, generator=gen)
    free = torch.randperm(num_blocks, generator=gen).tolist()
    tables: list[list[int]] = []
    positions: list[int] = []
    token_seq: list[int] = []
    dense: list[tuple[torch.Tensor, torch.Tensor]] = []
    for i, (ctx, n) in enumerate(seqs):
        blocks = [free.pop() for _ in range((ctx + block_size - 1) // block_size)]
        tables.append(blocks)
        positions.extend(range(ctx - n, ctx))
        token_seq.extend([i] * n)
        idx = torch.tensor(blocks)
        dense.append((k_cache[idx].reshape(-1, num_kv_heads, head_dim)[:ctx],
                      v_cache[idx].reshape(-1, num_kv_heads, head_dim)[:ctx]))
    width = max(len(t) for t in tables)
    meta = AttentionMetadata(
        positions=torch.tensor(positions),
        token_seq=torch.tensor(token_seq),
        slot_mapping=torch.zeros(len(positions), dtype=torch.long),
        block_tables=torch.tensor([t + [0] * (width - len(t)) for t in tables], dtype=torch.int32),
        context_lens=torch.tensor([c for c, _ in seqs], dtype=torch.int32),
        query_lens=[n for _, n in seqs],
        context_lens_host=[c for c, _ in seqs],
        block_size=block_size,
    )
    q = torch.randn(len(positions), num_heads, head_dim, generator=gen)
    return q, k_cache, v_cache, meta, dense


def dense_reference(q: torch.Tensor, meta: AttentionMetadata, dense, scale: float) -> torch.Tensor:
    """Plain causal attention per token, written independently of the backends."""
    out = torch.empty_like(q)
    group = q.shape[1] // dense[0][0].shape[1]
    for t in range(q.shape[0]):
        k, v = dense[int(meta.token_seq[t])]
        n = int(meta.positions[t]) + 1
        for h in range(q.shape[1]):
            w = torch.softmax((k[:n, h // group] @ q[t, h]) * scale, dim=0)
            out[t, h] = w @ v[:n, h // group]
    return out
