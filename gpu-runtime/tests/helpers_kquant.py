"""K-quant encoders (Q2_K to Q6_K) written from ggml's block layouts (gguf-py only decodes these).

Each returns the packed bytes and the values a correct decoder must produce from them, so
a test can check a dequantizer against the layout itself, not against another decoder.
The scale choice is simple (no search as in llama.cpp); only the layout has to be exact.
"""

from __future__ import annotations

import numpy as np

QK_K = 256


def _blocks(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.shape[-1] % QK_K:
        raise ValueError(f"row length {x.shape[-1]} is not a multiple of {QK_K}")
    return x.reshape(-1, QK_K)


def _f16(values: np.ndarray) -> np.ndarray:
    return values.astype(np.float16)


def _affine_sub_blocks(x: np.ndarray, subs: int, size: int, levels: int, scale_max: int) -> tuple[np.ndarray, ...]:
    """value = d*sc*q - dmin*m per sub-block (Q2_K, Q4_K, Q5_K): f16 d/dmin, integer sc/m in 0..scale_max.

    Returns d, dmin, sc, m, q (0..levels, per value) and the values a decoder must produce.
    """
    blocks = _blocks(x)
    n = len(blocks)
    sub = blocks.reshape(n, subs, size)
    low = np.minimum(sub.min(axis=2), 0.0)
    sub_scale = (sub.max(axis=2) - low) / levels
    sub_min = -low
    d = _f16(sub_scale.max(axis=1) / scale_max)
    dmin = _f16(sub_min.max(axis=1) / scale_max)
    d32, dmin32 = d.astype(np.float32)[:, None], dmin.astype(np.float32)[:, None]
    sc = np.clip(np.round(np.divide(sub_scale, d32, out=np.zeros_like(sub_scale), where=d32 > 0)), 0, scale_max)
    m = np.clip(np.round(np.divide(sub_min, dmin32, out=np.zeros_like(sub_min), where=dmin32 > 0)), 0, scale_max)
    step = (d32 * sc)[:, :, None]
    offset = (dmin32 * m)[:, :, None]
    q = np.clip(np.round(np.divide(sub + offset, step, out=np.zeros_like(sub), where=step > 0)), 0, levels)
    expected = (step * q - offset).reshape(np.shape(x)).astype(np.float32)
    return d, dmin, sc, m, q, expected


def _scale_min_blocks(x: np.ndarray, levels: int) -> tuple[np.ndarray, ...]:
    """Shared by Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins under f16 d, dmin."""
    d, dmin, sc, m, q, expected = _affine_sub_blocks(x, 8, 32, levels, 63)
    n = len(q)
    sc, m = sc.astype(np.uint8), m.astype(np.uint8)
    scales = np.zeros((n, 12), dtype=np.uint8)
    scales[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
    scales[:, 4:8] = m[:, 0:4] | ((m[:, 4:8] >> 4) << 6)
    scales[:, 8:12] = (sc[:, 4:8] & 0xF) | ((m[:, 4:8] & 0xF) << 4)
    header = np.concatenate([d.view(np.uint8).reshape(n, 2), dmin.view(np.uint8).reshape(n, 2), scales], axis=1)
    return header, q.astype(np.uint8).reshape(n, QK_K), expected


def _crumbs(q: np.ndarray) -> np.ndarray:
    """qs[64] of Q2_K/Q3_K: bits 2s..2s+1 of qs[32c + l] hold the low 2 bits of value 128c + 32s + l."""
    chunks = (q & 3).astype(np.uint8).reshape(len(q), 2, 4, 32)
    qs = np.zeros((len(q), 2, 32), dtype=np.uint8)
    for s in range(4):
        qs |= chunks[:, :, s] << (2 * s)
    return qs.reshape(len(q), 64)


def quantize_q2_k(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """block_q2_K = {u8 scales[16], u8 qs[64], f16 d, f16 dmin}; value = d*sc*q - dmin*m.

    16 sub-blocks of 16 values; scales[j] holds sub-block j's 4-bit scale (low) and min (high).
    """
    d, dmin, sc, m, q, expected = _affine_sub_blocks(x, 16, 16, 3, 15)
    n = len(q)

    scales = sc.astype(np.uint8) | (m.astype(np.uint8) << 4)
    q = q.astype(np.uint8).reshape(n, QK_K)
    tail = [d.view(np.uint8).reshape(n, 2), dmin.view(np.uint8).reshape(n, 2)]
    packed = np.concatenate([scales, _crumbs(q), *tail], axis=1)
    return _rows(packed, x), expected


def quantize_q3_k(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """block_q3_K = {u8 hmask[32], u8 qs[64], u8 scales[12], f16 d}; value = d*(sc-32)*q, q in -4..3.

    q's low 2 bits go in qs (as in Q2_K); bit k of hmask[l] is set when value 32k + l has q >= 0
    (ggml subtracts 4 where the bit is clear). The 16 6-bit scales: low nibbles of scale i and
    i+8 in byte i (i < 8), the top 2 bits of scale 4k+i in bits 2k..2k+1 of byte 8+i.
    """
    blocks = _blocks(x)
    n = len(blocks)
    sub = blocks.reshape(n, 16, 16)
    # signed sub-block scale: the smaller of the two that fit the range into -4..3 without clipping
    top, bottom = np.maximum(sub.max(axis=2), 0.0), np.maximum(-sub.min(axis=2), 0.0)
    positive, negative = np.maximum(bottom / 4, top / 3), np.maximum(top / 4, bottom / 3)
    sub_scale = np.where(positive <= negative, positive, -negative)
    d = _f16(np.abs(sub_scale).max(axis=1) / 31.0)
    d32 = d.astype(np.float32)[:, None]
    sc = np.clip(np.round(np.divide(sub_scale, d32, out=np.zeros_like(sub_scale), where=d32 > 0)), -32, 31)
    step = (d32 * sc)[:, :, None]
    q = np.clip(np.round(np.divide(sub, step, out=np.zeros_like(sub), where=step != 0)), -4, 3)
    expected = (step * q).reshape(np.shape(x)).astype(np.float32)

    q = q.astype(np.int8).reshape(n, QK_K)
    high = (q >= 0).astype(np.uint8).reshape(n, 8, 32)  # row k: values 32k .. 32k+31
    hmask = np.zeros((n, 32), dtype=np.uint8)
    for k in range(8):
        hmask |= high[:, k, :] << k
    u = (sc + 32).astype(np.uint8)
    scales = np.zeros((n, 12), dtype=np.uint8)
    scales[:, 0:8] = (u[:, 0:8] & 0xF) | ((u[:, 8:16] & 0xF) << 4)
    top = (u >> 4).reshape(n, 4, 4)  # [k, i]: scale 4k + i
    scales[:, 8:12] = top[:, 0] | (top[:, 1] << 2) | (top[:, 2] << 4) | (top[:, 3] << 6)
    packed = np.concatenate([hmask, _crumbs(q.view(np.uint8)), scales, d.view(np.uint8).reshape(n, 2)], 1)
    return _rows(packed, x), expected


def _low_nibbles(q: np.ndarray) -> np.ndarray:
    """qs[128]: per 64-value chunk, values 0-31 in the low nibbles and 32-63 in the high ones."""
    chunks = (q & 0xF).reshape(len(q), 4, 2, 32)
    return (chunks[:, :, 0, :] | (chunks[:, :, 1, :] << 4)).reshape(len(q), 128)


def quantize_q4_k(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """block_q4_K = {f16 d, f16 dmin, u8 scales[12], u8 qs[128]}; value = d*sc*q - dmin*m."""
    header, q, expected = _scale_min_blocks(x, 15)
    return _rows(np.concatenate([header, _low_nibbles(q)], axis=1), x), expected


def quantize_q5_k(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """block_q5_K = {f16 d, f16 dmin, u8 scales[12], u8 qh[32], u8 qs[128]}: Q4_K plus a fifth bit.

    Bit 2j of qh[l] is the fifth bit of value 64j + l, bit 2j+1 that of value 64j + 32 + l.
    """
    header, q, expected = _scale_min_blocks(x, 31)
    high = (q >> 4).reshape(len(q), 8, 32)  # row k: values 32k .. 32k+31
    qh = np.zeros((len(q), 32), dtype=np.uint8)
    for k in range(8):
        qh |= high[:, k, :] << k
    return _rows(np.concatenate([header, qh, _low_nibbles(q)], axis=1), x), expected


def quantize_q6_k(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """block_q6_K = {u8 ql[128], u8 qh[64], i8 scales[16], f16 d}; value = d*sc*(q-32)."""
    blocks = _blocks(x)
    n = len(blocks)
    sub = blocks.reshape(n, 16, 16)
    sub_scale = np.abs(sub).max(axis=2) / 31.0
    d = _f16(sub_scale.max(axis=1) / 127.0)
    d32 = d.astype(np.float32)[:, None]
    sc = np.clip(np.round(np.divide(sub_scale, d32, out=np.zeros_like(sub_scale), where=d32 > 0)), 0, 127)
    step = (d32 * sc)[:, :, None]
    q = np.clip(np.round(np.divide(sub, step, out=np.zeros_like(sub), where=step > 0)), -32, 31)
    expected = (step * q).reshape(np.shape(x))

    u = (q + 32).astype(np.uint8).reshape(n, 2, 4, 32)  # two halves of 128: q1..q4 of 32 values
    q1, q2, q3, q4 = u[:, :, 0], u[:, :, 1], u[:, :, 2], u[:, :, 3]
    ql = np.concatenate([(q1 & 0xF) | ((q3 & 0xF) << 4), (q2 & 0xF) | ((q4 & 0xF) << 4)], axis=2).reshape(n, 128)
    qh = ((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)).reshape(n, 64)
    scales = sc.astype(np.int8).view(np.uint8)
    packed = np.concatenate([ql, qh, scales, d.view(np.uint8).reshape(n, 2)], axis=1)
    return _rows(packed, x), expected.astype(np.float32)


def _rows(packed: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Packed blocks shaped like gguf-py's quantize output: (*rows, bytes per row)."""
    shape = np.shape(x)
    return np.ascontiguousarray(packed).reshape(*shape[:-1], -1)
