"""Triton paged attention: one program per (query token, query head), online softmax over
the sequence's KV blocks up to the token's own position. Serves decode tokens and prefill
chunks alike; runs under TRITON_INTERPRET=1 on CPU for tests.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .attention import AttentionMetadata


@triton.jit
def _paged_attention_kernel(
    out_ptr, q_ptr, k_cache_ptr, v_cache_ptr, block_tables_ptr, token_seq_ptr, positions_ptr,
    scale,
    stride_qt, stride_qh, stride_ot, stride_oh,
    stride_kb, stride_ks, stride_kh,
    stride_vb, stride_vs, stride_vh,
    stride_bt,
    GROUP: tl.constexpr, HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_SIZE: tl.constexpr,
):
    t = tl.program_id(0)
    h = tl.program_id(1)
    kv_head = h // GROUP
    seq = tl.load(token_seq_ptr + t)
    n_keys = tl.load(positions_ptr + t) + 1
    d = tl.arange(0, BLOCK_D)
    d_mask = d < HEAD_DIM
    slots = tl.arange(0, BLOCK_SIZE)
    q = tl.load(q_ptr + t * stride_qt + h * stride_qh + d, mask=d_mask, other=0.0).to(tl.float32)
    m_i = tl.full([1], float("-inf"), tl.float32)
    l_i = tl.zeros([1], tl.float32)
    acc = tl.zeros([BLOCK_D], tl.float32)
    num_blocks = tl.cdiv(n_keys, BLOCK_SIZE)
    for b in range(0, num_blocks):
        block_id = tl.load(block_tables_ptr + seq * stride_bt + b).to(tl.int64)
        key_mask = (b * BLOCK_SIZE + slots) < n_keys
        tile_mask = key_mask[:, None] & d_mask[None, :]
        k = tl.load(k_cache_ptr + block_id * stride_kb + slots[:, None] * stride_ks + kv_head * stride_kh
                    + d[None, :], mask=tile_mask, other=0.0).to(tl.float32)
        scores = tl.sum(k * q[None, :], axis=1) * scale
        scores = tl.where(key_mask, scores, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(scores, axis=0))
        p = tl.exp(scores - m_new)
        correction = tl.exp(m_i - m_new)
        v = tl.load(v_cache_ptr + block_id * stride_vb + slots[:, None] * stride_vs + kv_head * stride_vh
                    + d[None, :], mask=tile_mask, other=0.0).to(tl.float32)
        l_i = l_i * correction + tl.sum(p, axis=0)
        acc = acc * correction + tl.sum(p[:, None] * v, axis=0)
        m_i = m_new
    out = acc / l_i
    tl.store(out_ptr + t * stride_ot + h * stride_oh + d, out.to(out_ptr.dtype.element_ty), mask=d_mask)


class TritonAttention:
    name = "triton"

    def forward(self, q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                meta: AttentionMetadata, scale: float) -> torch.Tensor:
        num_tokens, num_heads, head_dim = q.shape
        if k_cache.stride(-1) != 1 or q.stride(-1) != 1:
            raise ValueError("paged attention needs a contiguous last (head_dim) dimension")
        out = torch.empty_like(q)
        block_tables = meta.block_tables.contiguous()
        _paged_attention_kernel[(num_tokens, num_heads)](
            out, q, k_cache, v_cache, block_tables, meta.token_seq, meta.positions,
            scale,
            q.stride(0), q.stride(1), out.stride(0), out.stride(1),
            k_cache.stride(0), k_cache.stride(1), k_cache.stride(2),
            v_cache.stride(0), v_cache.stride(1), v_cache.stride(2),
            block_tables.stride(0),
            GROUP=num_heads // k_cache.shape[2], HEAD_DIM=head_dim,
            BLOCK_D=triton.next_power_of_2(head_dim), BLOCK_SIZE=meta.block_size,
        )
        return out
