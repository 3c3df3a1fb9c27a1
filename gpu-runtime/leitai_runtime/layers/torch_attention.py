"""Reference paged attention in plain PyTorch: gather each sequence's keys, mask, softmax.

Small batches (every decode step, short prefills) run as one padded, batched computation
over all tokens; when the padded gather would be large, it falls back to one sequence at
a time so a long prefill does not materialise [tokens x context] copies of the cache.
"""

from __future__ import annotations

import torch

from .attention import AttentionMetadata

BATCHED_MAX_ELEMENTS = 1 << 23  # padded K elements gathered for the batched path (32 MiB fp32)


class TorchAttention:
    name = "torch"

    def forward(self, q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                meta: AttentionMetadata, scale: float) -> torch.Tensor:
        num_tokens = q.shape[0]
        padded = meta.block_tables.shape[1] * meta.block_size
        if num_tokens * padded * k_cache.shape[2] * k_cache.shape[3] <= BATCHED_MAX_ELEMENTS:
            return self._batched(q, k_cache, v_cache, meta, scale)
        return self._per_sequence(q, k_cache, v_cache, meta, scale)

    def _batched(self, q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                 meta: AttentionMetadata, scale: float) -> torch.Tensor:
        t, num_heads, head_dim = q.shape
        num_seqs, num_kv_heads = meta.block_tables.shape[0], k_cache.shape[2]
        group = num_heads // num_kv_heads
        tables = meta.block_tables.long()
        length = tables.shape[1] * meta.block_size
        k = k_cache[tables].reshape(num_seqs, length, num_kv_heads, head_dim)
        v = v_cache[tables].reshape(num_seqs, length, num_kv_heads, head_dim)
        if t != num_seqs:  # some sequence feeds several tokens: one key row set per token
            k, v = k[meta.token_seq], v[meta.token_seq]
        # GQA: query head h uses kv head h // group.
        qg = q.float().view(t, num_kv_heads, group, head_dim)
        scores = torch.einsum("tkgd,tlkd->tkgl", qg, k.float()) * scale
        hidden = torch.arange(length, device=q.device)[None, :] > meta.positions[:, None]
        scores = scores.masked_fill(hidden[:, None, None, :], float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        out = torch.einsum("tkgl,tlkd->tkgd", probs, v.float())
        return out.reshape(t, num_heads, head_dim).to(q.dtype)

    def _per_sequence(self, q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                      meta: AttentionMetadata, scale: float) -> torch.Tensor:
        num_heads, head_dim = q.shape[1], q.shape[2]
        num_kv_heads = k_cache.shape[2]
        group = num_heads // num_kv_heads
        bs = meta.block_size
        out = torch.empty_like(q)
        start = 0
        for i, (n, ctx) in enumerate(zip(meta.query_lens, meta.context_lens_host, strict=True)):
            blocks = meta.block_tables[i, : (ctx + bs - 1) // bs].long()
            k = k_cache[blocks].reshape(-1, num_kv_heads, head_dim)[:ctx]
            v = v_cache[blocks].reshape(-1, num_kv_heads, head_dim)[:ctx]
            if group > 1:  # GQA: kv head j serves query heads j*group .. (j+1)*group-1
                k = k.repeat_interleave(group, dim=1)
                v = v.repeat_interleave(group, dim=1)
            qi = q[start:start + n].float().transpose(0, 1)            # [H, n, D]
            scores = qi @ k.float().permute(1, 2, 0) * scale            # [H, n, ctx]
            # Query r of the chunk sits at position ctx - n + r and sees keys 0..that position.
            q_pos = torch.arange(ctx - n, ctx, device=q.device)[:, None]
            k_pos = torch.arange(ctx, device=q.device)[None, :]
            scores = scores.masked_fill(k_pos > q_pos, float("-inf"))
            probs = torch.softmax(scores, dim=-1)
            out[start:start + n] = (probs @ v.float().transpose(0, 1)).transpose(0, 1).to(q.dtype)
            start += n
        return out
