"""Triton paged attention, two kernels; both run under TRITON_INTERPRET=1 on CPU for tests.

Decode (every query length 1): one program per (token, query head), online softmax over the
sequence's KV blocks. Batches with a prefill chunk: one program per (query tile, head), a
tile being up to TILE_M consecutive tokens of one sequence, so each K/V tile is loaded once
for all of them and both products run on tensor cores. One program per token there read
each sequence's whole cache once per prompt token and made prefill steps attention-bound.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .attention import AttentionMetadata


@triton.jit
def load_kv_tile(k_cache_ptr, v_cache_ptr, table_ptr, key, key_mask, kv_head, d, d_mask,
                 stride_kb, stride_ks, stride_kh, stride_vb, stride_vs, stride_vh, BLOCK_SIZE: tl.constexpr):
    """K and V [keys, BLOCK_D] of one KV head for key positions `key` of one sequence (its block
    table row at `table_ptr`): each key's block id is gathered, so a tile may span several
    paged blocks. Masked keys and dims read 0."""
    block_id = tl.load(table_ptr + key // BLOCK_SIZE, mask=key_mask, other=0).to(tl.int64)
    slot = key % BLOCK_SIZE
    tile_mask = key_mask[:, None] & d_mask[None, :]
    k = tl.load(k_cache_ptr + block_id[:, None] * stride_kb + slot[:, None] * stride_ks + kv_head * stride_kh
                + d[None, :], mask=tile_mask, other=0.0)
    v = tl.load(v_cache_ptr + block_id[:, None] * stride_vb + slot[:, None] * stride_vs + kv_head * stride_vh
                + d[None, :], mask=tile_mask, other=0.0)
    return k, v


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
        key = b * BLOCK_SIZE + slots  # one paged block per iteration
        key_mask = key < n_keys
        k, v = load_kv_tile(k_cache_ptr, v_cache_ptr, block_tables_ptr + seq * stride_bt, key, key_mask, kv_head, d,
                            d_mask, stride_kb, stride_ks, stride_kh, stride_vb, stride_vs, stride_vh, BLOCK_SIZE)
        k = k.to(tl.float32)
        v = v.to(tl.float32)
        scores = tl.sum(k * q[None, :], axis=1) * scale
        scores = tl.where(key_mask, scores, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(scores, axis=0))
        p = tl.exp(scores - m_new)
        correction = tl.exp(m_i - m_new)
        l_i = l_i * correction + tl.sum(p, axis=0)
        acc = acc * correction + tl.sum(p[:, None] * v, axis=0)
        m_i = m_new
    out = acc / l_i
    tl.store(out_ptr + t * stride_ot + h * stride_oh + d, out.to(out_ptr.dtype.element_ty), mask=d_mask)


TILE_M = 64  # query tokens of one sequence per program (prefill kernel)
TILE_N = 64  # keys per loop iteration, gathered across paged blocks


@triton.jit
def _prefill_attention_kernel(
    out_ptr, q_ptr, k_cache_ptr, v_cache_ptr, block_tables_ptr, positions_ptr,
    tile_seq_ptr, tile_start_ptr, tile_len_ptr,
    scale,
    stride_qt, stride_qh, stride_ot, stride_oh,
    stride_kb, stride_ks, stride_kh,
    stride_vb, stride_vs, stride_vh,
    stride_bt,
    GROUP: tl.constexpr, HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_SIZE: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
):
    tile = tl.program_id(0)
    h = tl.program_id(1)
    kv_head = h // GROUP
    seq = tl.load(tile_seq_ptr + tile)
    start = tl.load(tile_start_ptr + tile)
    n = tl.load(tile_len_ptr + tile)
    rows = tl.arange(0, BLOCK_M)
    row_mask = rows < n
    d = tl.arange(0, BLOCK_D)
    d_mask = d < HEAD_DIM
    tokens = (start + rows).to(tl.int64)
    # Padding rows sit at position 0: key 0 keeps their softmax finite; they are never stored.
    pos = tl.load(positions_ptr + tokens, mask=row_mask, other=0)
    q = tl.load(q_ptr + tokens[:, None] * stride_qt + h * stride_qh + d[None, :],
                mask=row_mask[:, None] & d_mask[None, :], other=0.0)
    n_keys = tl.max(pos, axis=0) + 1
    j = tl.arange(0, BLOCK_N)
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
    for key_start in range(0, n_keys, BLOCK_N):
        key = key_start + j
        key_mask = key < n_keys
        k, v = load_kv_tile(k_cache_ptr, v_cache_ptr, block_tables_ptr + seq * stride_bt, key, key_mask, kv_head, d,
                            d_mask, stride_kb, stride_ks, stride_kh, stride_vb, stride_vs, stride_vh, BLOCK_SIZE)
        scores = tl.dot(q, tl.trans(k), input_precision="ieee") * scale
        visible = (key[None, :] <= pos[:, None]) & key_mask[None, :]
        scores = tl.where(visible, scores, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(scores, axis=1))
        p = tl.exp(scores - m_new[:, None])
        correction = tl.exp(m_i - m_new)
        l_i = l_i * correction + tl.sum(p, axis=1)
        acc = acc * correction[:, None] + tl.dot(p.to(v.dtype), v, input_precision="ieee")
        m_i = m_new
    out = acc / l_i[:, None]
    tl.store(out_ptr + tokens[:, None] * stride_ot + h * stride_oh + d[None, :], out.to(out_ptr.dtype.element_ty),
             mask=row_mask[:, None] & d_mask[None, :])


def query_tiles(query_lens: list[int], tile: int, device: torch.device) -> torch.Tensor:
    """[3, num_tiles] int64: each tile's sequence index, first flat token and length (<= tile);
    a sequence's tokens are consecutive in the batch, in batch order."""
    seqs: list[int] = []
    starts: list[int] = []
    lens: list[int] = []
    offset = 0
    for i, n in enumerate(query_lens):
        for s in range(0, n, tile):
            seqs.append(i)
            starts.append(offset + s)
            lens.append(min(tile, n - s))
        offset += n
    return torch.tensor([seqs, starts, lens], dtype=torch.int64).to(device, non_blocking=True)


class TritonAttention:
    name = "triton"

    def forward(self, q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                meta: AttentionMetadata, scale: float) -> torch.Tensor:
        num_tokens, num_heads, head_dim = q.shape
        if k_cache.stride(-1) != 1 or q.stride(-1) != 1:
            raise ValueError("paged attention needs a contiguous last (head_dim) dimension")
        out = torch.empty_like(q)
        block_tables = meta.block_tables.contiguous()
        if any(n > 1 for n in meta.query_lens):
            return self._prefill(q, k_cache, v_cache, meta, scale, block_tables, out)
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

    @staticmethod
    def _prefill(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor, meta: AttentionMetadata,
                 scale: float, block_tables: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        num_heads, head_dim = q.shape[1], q.shape[2]
        # The same for every layer of the step: built once and kept on the metadata.
        if meta.query_tiles is None:
            meta.query_tiles = query_tiles(meta.query_lens, TILE_M, q.device)
        tiles = meta.query_tiles
        _prefill_attention_kernel[(tiles.shape[1], num_heads)](
            out, q, k_cache, v_cache, block_tables, meta.positions, tiles[0], tiles[1], tiles[2],
            scale,
            q.stride(0), q.stride(1), out.stride(0), out.stride(1),
            k_cache.stride(0), k_cache.stride(1), k_cache.stride(2),
            v_cache.stride(0), v_cache.stride(1), v_cache.stride(2),
            block_tables.stride(0),
            GROUP=num_heads // k_cache.shape[2], HEAD_DIM=head_dim,
            BLOCK_D=max(16, triton.next_power_of_2(head_dim)), BLOCK_SIZE=meta.block_size,
            BLOCK_M=TILE_M, BLOCK_N=TILE_N,
        )
        return out
