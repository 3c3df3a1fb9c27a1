"""Split-KV ("flash-decoding") paged attention for decode-only batches, GQA-aware.

Decode reads every cached K/V once per step, and one program per (sequence, head) leaves
most of a Hopper idle when the batch is small. Here a program handles one (sequence, KV
head, context partition): it loads each K/V tile (64 keys gathered across paged blocks)
once for all query heads of the group, keeps a partial softmax (max, sum, weighted V), and
a second kernel merges the partitions. The products run on tensor cores (the group padded
to 16 rows) or as broadcast sums; which is faster, and the tile size, depend on the card
and the batch, so on a GPU `SplitKVAttention.tune` times a few configurations per batch
size on the real cache before the decode graphs are captured.
The grid depends only on tensor shapes (the padded block-table width), never on host
values, so the launch can be captured in a CUDA graph. Prefill and mixed batches fall
back to the one-program-per-token kernel in triton_attention.py.
"""

from __future__ import annotations

import functools

import torch
import triton
import triton.language as tl

from ..timing import time_call
from .attention import AttentionMetadata
from .splitkv_config import CANDIDATES, DEFAULT_CONFIG, SplitKVConfig
from .triton_attention import TritonAttention, load_kv_tile


def partition_tokens(num_seqs: int, num_kv_heads: int) -> int:
    """Keys per program. Few (sequence, KV head) pairs: short partitions, so the context is spread
    over more SMs; many: long ones, so less partial output to write and merge. Depends only on
    shapes, so a captured graph keeps its choice."""
    return 128 if num_seqs * num_kv_heads <= 512 else 512


@triton.jit
def _splitkv_kernel(
    part_out_ptr, part_m_ptr, part_l_ptr, out_ptr, q_ptr, k_cache_ptr, v_cache_ptr, block_tables_ptr,
    context_lens_ptr, scale,
    stride_qs, stride_qh, stride_os, stride_oh,
    stride_kb, stride_ks, stride_kh, stride_vb, stride_vs, stride_vh, stride_bt,
    stride_ps, stride_ph, stride_pp,
    GROUP: tl.constexpr, GROUP_PAD: tl.constexpr, HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr,
    BLOCK_SIZE: tl.constexpr, PART_TOKENS: tl.constexpr, TILE: tl.constexpr, NUM_PARTS: tl.constexpr,
    USE_DOT: tl.constexpr,
):
    seq = tl.program_id(0)
    kv_head = tl.program_id(1)
    part = tl.program_id(2)
    ctx = tl.load(context_lens_ptr + seq).to(tl.int32)  # int32 or int64 (graph buffers) in memory
    first = part * PART_TOKENS
    last = tl.minimum(first + PART_TOKENS, ctx)
    g = tl.arange(0, GROUP_PAD)
    g_mask = g < GROUP
    d = tl.arange(0, BLOCK_D)
    d_mask = d < HEAD_DIM
    heads = kv_head * GROUP + g
    q = tl.load(q_ptr + seq * stride_qs + heads[:, None] * stride_qh + d[None, :],
                mask=g_mask[:, None] & d_mask[None, :], other=0.0)
    j = tl.arange(0, TILE)
    m_i = tl.full([GROUP_PAD], float("-inf"), tl.float32)
    l_i = tl.zeros([GROUP_PAD], tl.float32)
    acc = tl.zeros([GROUP_PAD, BLOCK_D], tl.float32)
    for start in range(first, last, TILE):
        key = start + j
        key_mask = key < last
        k, v = load_kv_tile(k_cache_ptr, v_cache_ptr, block_tables_ptr + seq * stride_bt, key, key_mask, kv_head, d,
                            d_mask, stride_kb, stride_ks, stride_kh, stride_vb, stride_vs, stride_vh, BLOCK_SIZE)
        if USE_DOT:  # tensor cores: the group padded to a 16-row tile
            scores = tl.dot(q, tl.trans(k), input_precision="ieee") * scale
        else:
            scores = tl.sum(q.to(tl.float32)[:, None, :] * k.to(tl.float32)[None, :, :], axis=2) * scale
        scores = tl.where(key_mask[None, :], scores, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(scores, axis=1))
        p = tl.exp(scores - m_new[:, None])
        correction = tl.exp(m_i - m_new)
        l_i = l_i * correction + tl.sum(p, axis=1)
        if USE_DOT:
            pv = tl.dot(p.to(v.dtype), v, input_precision="ieee")
        else:
            pv = tl.sum(p[:, :, None] * v.to(tl.float32)[None, :, :], axis=1)
        acc = acc * correction[:, None] + pv
        m_i = m_new
    if NUM_PARTS == 1:  # the whole context in one program: finish here, no merge kernel
        tl.store(out_ptr + seq * stride_os + heads[:, None] * stride_oh + d[None, :],
                 (acc / l_i[:, None]).to(out_ptr.dtype.element_ty), mask=g_mask[:, None] & d_mask[None, :])
    else:
        base = seq * stride_ps + heads * stride_ph + part * stride_pp
        tl.store(part_m_ptr + base, m_i, mask=g_mask)
        tl.store(part_l_ptr + base, l_i, mask=g_mask)
        tl.store(part_out_ptr + base[:, None] * BLOCK_D + d[None, :], acc, mask=g_mask[:, None] & d_mask[None, :])


@triton.jit
def _merge_kernel(out_ptr, part_out_ptr, part_m_ptr, part_l_ptr, context_lens_ptr,
                  stride_os, stride_oh, stride_ps, stride_ph, stride_pp,
                  HEAD_DIM: tl.constexpr, BLOCK_D: tl.constexpr, PART_TOKENS: tl.constexpr,
                  NUM_PARTS: tl.constexpr, BLOCK_P: tl.constexpr):
    seq = tl.program_id(0)
    head = tl.program_id(1)
    ctx = tl.load(context_lens_ptr + seq).to(tl.int32)
    parts = tl.arange(0, BLOCK_P)
    used = (parts < NUM_PARTS) & (parts * PART_TOKENS < ctx)  # partitions past the context wrote nothing
    base = seq * stride_ps + head * stride_ph + parts * stride_pp
    m = tl.load(part_m_ptr + base, mask=used, other=float("-inf"))
    l_part = tl.load(part_l_ptr + base, mask=used, other=0.0)
    m_max = tl.max(m, axis=0)
    w = tl.where(used, tl.exp(m - m_max), 0.0)
    d = tl.arange(0, BLOCK_D)
    acc = tl.load(part_out_ptr + base[:, None] * BLOCK_D + d[None, :], mask=used[:, None], other=0.0)
    out = tl.sum(acc * w[:, None], axis=0) / tl.sum(l_part * w, axis=0)
    tl.store(out_ptr + seq * stride_os + head * stride_oh + d, out.to(out_ptr.dtype.element_ty),
             mask=d < HEAD_DIM)


def splitkv_decode(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor, block_tables: torch.Tensor,
                   context_lens: torch.Tensor, block_size: int, scale: float,
                   partition: int | None = None, tile: int | None = None,
                   config: SplitKVConfig = DEFAULT_CONFIG) -> torch.Tensor:
    """q [S, H, D], one query token per sequence at position context_lens[s] - 1 -> out [S, H, D].
    The number of partitions comes from the block-table width (the longest context it can hold)."""
    num_seqs, num_heads, head_dim = q.shape
    num_kv_heads = k_cache.shape[2]
    group = num_heads // num_kv_heads
    part_tokens = partition or partition_tokens(num_seqs, num_kv_heads)
    tile = min(tile or config.tile, part_tokens)
    if part_tokens % tile:
        raise ValueError(f"partition ({part_tokens}) must be a multiple of {tile} keys")
    num_parts = triton.cdiv(block_tables.shape[1] * block_size, part_tokens)
    block_d = triton.next_power_of_2(head_dim)
    use_dot = (group > 1 if config.dot is None else config.dot) and tile >= 16
    group_pad = max(16, triton.next_power_of_2(group)) if use_dot else triton.next_power_of_2(group)
    out = torch.empty_like(q)
    part_m = torch.empty(num_seqs, num_heads, num_parts, dtype=torch.float32, device=q.device)
    part_l = torch.empty_like(part_m)
    part_out = torch.empty(num_seqs, num_heads, num_parts, block_d, dtype=torch.float32, device=q.device)
    _splitkv_kernel[(num_seqs, num_kv_heads, num_parts)](
        part_out, part_m, part_l, out, q, k_cache, v_cache, block_tables, context_lens, scale,
        q.stride(0), q.stride(1), out.stride(0), out.stride(1),
        k_cache.stride(0), k_cache.stride(1), k_cache.stride(2),
        v_cache.stride(0), v_cache.stride(1), v_cache.stride(2), block_tables.stride(0),
        part_m.stride(0), part_m.stride(1), part_m.stride(2),
        GROUP=group, GROUP_PAD=group_pad, HEAD_DIM=head_dim, BLOCK_D=block_d, BLOCK_SIZE=block_size,
        PART_TOKENS=part_tokens, TILE=tile, NUM_PARTS=num_parts, USE_DOT=use_dot,
        num_warps=config.num_warps, **({"num_stages": config.num_stages} if config.num_stages else {}),
    )
    if num_parts > 1:
        _merge_kernel[(num_seqs, num_heads)](
            out, part_out, part_m, part_l, context_lens, out.stride(0), out.stride(1),
            part_m.stride(0), part_m.stride(1), part_m.stride(2),
            HEAD_DIM=head_dim, BLOCK_D=block_d, PART_TOKENS=part_tokens,
            NUM_PARTS=num_parts, BLOCK_P=triton.next_power_of_2(num_parts))
    return out


class SplitKVAttention:
    """Decode-only batches through the split-KV kernel; anything else through TritonAttention."""

    name = "triton-splitkv"

    def __init__(self) -> None:
        self._fallback = TritonAttention()
        self.configs: dict[int, SplitKVConfig] = {}  # by batch size, from tune(); DEFAULT_CONFIG otherwise

    def forward(self, q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                meta: AttentionMetadata, scale: float) -> torch.Tensor:
        decode_only = q.shape[0] == meta.block_tables.shape[0] and all(n == 1 for n in meta.query_lens)
        if not decode_only or k_cache.stride(-1) != 1 or q.stride(-1) != 1:
            return self._fallback.forward(q, k_cache, v_cache, meta, scale)
        return splitkv_decode(q, k_cache, v_cache, meta.block_tables.contiguous(), meta.context_lens,
                              meta.block_size, scale, config=self.configs.get(q.shape[0], DEFAULT_CONFIG))

    def tune(self, k_cache: torch.Tensor, v_cache: torch.Tensor, batch_sizes: list[int], max_blocks: int,
             block_size: int, num_heads: int, reps: int = 3) -> dict[int, dict[str, float]]:
        """Time every candidate at each batch size, each sequence at the longest context the block
        tables hold (up to 2048 keys), and keep the fastest per batch size. Returns the seconds per
        call of each candidate, for the log. A candidate that fails to build is skipped."""
        device = k_cache.device
        num_blocks = k_cache.shape[0]
        keys = min(max_blocks * block_size, 2048)
        timings: dict[int, dict[str, float]] = {}
        for bs in batch_sizes:
            # Distinct blocks while the pool has them, wrapping after: the timing needs realistic
            # cache misses, not these sequences' contents.
            tables = (torch.arange(bs * max_blocks, device=device, dtype=torch.int64) % num_blocks).view(bs, max_blocks)
            ctx = torch.full((bs,), keys, dtype=torch.int64, device=device)
            q = torch.randn(bs, num_heads, k_cache.shape[3], device=device, dtype=k_cache.dtype)
            results: dict[str, float] = {}
            best: tuple[float, SplitKVConfig] | None = None
            for cand in CANDIDATES:
                try:
                    call = functools.partial(splitkv_decode, q, k_cache, v_cache, tables, ctx, block_size, 1.0,
                                             config=cand)
                    seconds = time_call(call, reps, device)
                except Exception:  # e.g. out of shared memory for this card: not a candidate here
                    continue
                results[str(cand)] = seconds
                if best is None or seconds < best[0]:
                    best = (seconds, cand)
            if best is not None:
                self.configs[bs] = best[1]
            timings[bs] = results
        return timings

