"""Fused Triton kernels for the elementwise parts of a Llama layer (references: ops.TorchOps).

Each kernel rounds to the storage dtype at the same points as the torch reference does on
a GPU (torch computes half-precision elementwise ops in float32 and rounds each result), so
outputs match the reference to the last bit in most elements and to an ulp in the rest.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _rmsnorm_kernel(out_ptr, x_ptr, res_ptr, w_ptr, stride_x, stride_r, stride_o, n_cols, eps,
                    HAS_RESIDUAL: tl.constexpr, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * stride_x + cols, mask=mask, other=0.0)
    if HAS_RESIDUAL:
        r = tl.load(res_ptr + row * stride_r + cols, mask=mask, other=0.0)
        x = (r.to(tl.float32) + x.to(tl.float32)).to(r.dtype)
        tl.store(res_ptr + row * stride_r + cols, x, mask=mask)
    h = x.to(tl.float32)
    rstd = 1.0 / tl.sqrt(tl.sum(h * h, axis=0) / n_cols + eps)
    normed = (h * rstd).to(x.dtype).to(tl.float32)  # HF rounds before scaling by the weight
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    tl.store(out_ptr + row * stride_o + cols, (w * normed).to(out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _silu_mul_kernel(out_ptr, gate_ptr, up_ptr, stride_g, stride_u, stride_o, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = cols < n_cols
    g = tl.load(gate_ptr + row * stride_g + cols, mask=mask, other=0.0).to(tl.float32)
    u = tl.load(up_ptr + row * stride_u + cols, mask=mask, other=0.0).to(tl.float32)
    s = (g / (1.0 + tl.exp(-g))).to(out_ptr.dtype.element_ty).to(tl.float32)
    tl.store(out_ptr + row * stride_o + cols, (s * u).to(out_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _rotate(x_ptr, cos_ptr, sin_ptr, t, stride_t, stride_h, stride_c, n_heads,
            HALF: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_HALF: tl.constexpr):
    h = tl.arange(0, BLOCK_H)[:, None]
    d = tl.arange(0, BLOCK_HALF)[None, :]
    mask = (h < n_heads) & (d < HALF)
    dt = x_ptr.dtype.element_ty
    # Like apply_rotary: cos/sin rounded to the dtype, each product and the sum rounded.
    c1 = tl.load(cos_ptr + t * stride_c + d, mask=d < HALF, other=0.0).to(dt).to(tl.float32)
    c2 = tl.load(cos_ptr + t * stride_c + HALF + d, mask=d < HALF, other=0.0).to(dt).to(tl.float32)
    s1 = tl.load(sin_ptr + t * stride_c + d, mask=d < HALF, other=0.0).to(dt).to(tl.float32)
    s2 = tl.load(sin_ptr + t * stride_c + HALF + d, mask=d < HALF, other=0.0).to(dt).to(tl.float32)
    base = x_ptr + t * stride_t + h * stride_h + d
    x1 = tl.load(base, mask=mask, other=0.0).to(tl.float32)
    x2 = tl.load(base + HALF, mask=mask, other=0.0).to(tl.float32)
    o1 = (x1 * c1).to(dt).to(tl.float32) + (-x2 * s1).to(dt).to(tl.float32)
    o2 = (x2 * c2).to(dt).to(tl.float32) + (x1 * s2).to(dt).to(tl.float32)
    tl.store(base, o1.to(dt), mask=mask)
    tl.store(base + HALF, o2.to(dt), mask=mask)


@triton.jit
def _rope_kernel(q_ptr, k_ptr, cos_ptr, sin_ptr, stride_qt, stride_qh, stride_kt, stride_kh, stride_c,
                 n_q_heads, n_k_heads, HALF: tl.constexpr, BLOCK_QH: tl.constexpr, BLOCK_KH: tl.constexpr,
                 BLOCK_HALF: tl.constexpr):
    t = tl.program_id(0).to(tl.int64)
    _rotate(q_ptr, cos_ptr, sin_ptr, t, stride_qt, stride_qh, stride_c, n_q_heads, HALF, BLOCK_QH, BLOCK_HALF)
    _rotate(k_ptr, cos_ptr, sin_ptr, t, stride_kt, stride_kh, stride_c, n_k_heads, HALF, BLOCK_KH, BLOCK_HALF)


@triton.jit
def _write_kv_kernel(k_ptr, v_ptr, k_cache_ptr, v_cache_ptr, slot_ptr, stride_kt, stride_vt, stride_slot,
                     ROW: tl.constexpr, BLOCK: tl.constexpr):
    """Row t of k/v ([KVH*D] contiguous) goes to cache slot slot_mapping[t]; slots < 0 are skipped."""
    t = tl.program_id(0).to(tl.int64)
    slot = tl.load(slot_ptr + t).to(tl.int64)
    offs = tl.arange(0, BLOCK)
    mask = (offs < ROW) & (slot >= 0)
    k = tl.load(k_ptr + t * stride_kt + offs, mask=mask, other=0.0)
    v = tl.load(v_ptr + t * stride_vt + offs, mask=mask, other=0.0)
    tl.store(k_cache_ptr + slot * stride_slot + offs, k.to(k_cache_ptr.dtype.element_ty), mask=mask)
    tl.store(v_cache_ptr + slot * stride_slot + offs, v.to(v_cache_ptr.dtype.element_ty), mask=mask)


def _rows(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1, x.shape[-1])


class TritonOps:
    name = "triton"

    def _norm(self, x: torch.Tensor, residual: torch.Tensor | None, weight: torch.Tensor, eps: float
              ) -> torch.Tensor:
        x2 = _rows(x)
        if x2.stride(-1) != 1:
            x2 = x2.contiguous()
        out = torch.empty_like(x2)
        res = x2 if residual is None else _rows(residual)
        _rmsnorm_kernel[(x2.shape[0],)](
            out, x2, res, weight, x2.stride(0), res.stride(0), out.stride(0), x2.shape[1], eps,
            HAS_RESIDUAL=residual is not None, BLOCK=triton.next_power_of_2(x2.shape[1]))
        return out.view(x.shape)

    def rmsnorm(self, x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
        return self._norm(x, None, weight, eps)

    def add_rmsnorm(self, x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, eps: float
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not residual.is_contiguous():
            residual = residual.contiguous()
        return self._norm(x, residual, weight, eps), residual  # residual updated in place

    def silu_mul(self, gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        """Rows may be strided (halves of a fused gate/up GEMM output); the last dim must be contiguous."""
        g2, u2 = _rows(gate), _rows(up)
        if g2.stride(-1) != 1 or u2.stride(-1) != 1:
            g2, u2 = g2.contiguous(), u2.contiguous()
        out = torch.empty(g2.shape, dtype=gate.dtype, device=gate.device)
        n_cols, block = g2.shape[1], 1024
        _silu_mul_kernel[(g2.shape[0], triton.cdiv(n_cols, block))](
            out, g2, u2, g2.stride(0), u2.stride(0), out.stride(0), n_cols, BLOCK=block)
        return out.view(gate.shape)

    def rope(self, q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor]:
        if q.stride(-1) != 1 or k.stride(-1) != 1:
            q, k = q.contiguous(), k.contiguous()
        cos, sin = cos.contiguous(), sin.contiguous()
        half = q.shape[-1] // 2
        _rope_kernel[(q.shape[0],)](
            q, k, cos, sin, q.stride(0), q.stride(1), k.stride(0), k.stride(1), cos.stride(0),
            q.shape[1], k.shape[1], HALF=half, BLOCK_QH=triton.next_power_of_2(q.shape[1]),
            BLOCK_KH=triton.next_power_of_2(k.shape[1]), BLOCK_HALF=triton.next_power_of_2(half))
        return q, k

    def write_kv(self, k: torch.Tensor, v: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                 slot_mapping: torch.Tensor) -> None:
        if not (k_cache.is_contiguous() and v_cache.is_contiguous()):
            raise ValueError("the KV cache must be contiguous")
        k2, v2 = _rows(k.reshape(k.shape[0], -1)), _rows(v.reshape(v.shape[0], -1))
        if k2.stride(-1) != 1 or v2.stride(-1) != 1:
            k2, v2 = k2.contiguous(), v2.contiguous()
        row = k2.shape[1]
        _write_kv_kernel[(k2.shape[0],)](
            k2, v2, k_cache, v_cache, slot_mapping, k2.stride(0), v2.stride(0), k_cache.stride(1),
            ROW=row, BLOCK=triton.next_power_of_2(row))
