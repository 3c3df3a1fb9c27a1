"""Reference paged attention in plain PyTorch: gather each sequence's keys, mask, softmax."""

from __future__ import annotations

import torch

from .attention import AttentionMetadata


class TorchAttention:
    name = "torch"

    def forward(self, q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
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
