"""The elementwise pieces of a Llama layer, behind one interface so the GPU can fuse them.

`TorchOps` is the reference (and the CPU path): plain torch, in the same rounding order as
transformers. `TritonOps` (triton_ops.py) does each in one kernel. Both keep the residual
stream separately: `add_rmsnorm(x, residual)` returns (norm(x + residual), x + residual),
which is what lets the GPU fuse the add into the norm.
"""

from __future__ import annotations

import os
from typing import Protocol

import torch
import torch.nn.functional as F

from .attention import write_kv
from .rotary import apply_rotary


class LayerOps(Protocol):
    name: str

    def rmsnorm(self, x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor: ...

    def add_rmsnorm(self, x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, eps: float
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(rmsnorm(x + residual), x + residual)."""
        ...

    def silu_mul(self, gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor: ...

    def rope(self, q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotate q [T, H, D] and k [T, KVH, D] (may be done in place; use the returned tensors)."""
        ...

    def write_kv(self, k: torch.Tensor, v: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                 slot_mapping: torch.Tensor) -> None: ...


def rmsnorm_reference(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """transformers' LlamaRMSNorm: normalise in float32, round, then scale in the input dtype."""
    dtype = x.dtype
    h = x.to(torch.float32)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(dtype)


class TorchOps:
    name = "torch"

    def rmsnorm(self, x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
        return rmsnorm_reference(x, weight, eps)

    def add_rmsnorm(self, x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, eps: float
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        residual = residual + x
        return rmsnorm_reference(residual, weight, eps), residual

    def silu_mul(self, gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        return F.silu(gate) * up

    def rope(self, q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor]:
        return apply_rotary(q, k, cos, sin)

    def write_kv(self, k: torch.Tensor, v: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                 slot_mapping: torch.Tensor) -> None:
        write_kv(k, v, k_cache, v_cache, slot_mapping)


def select_ops(fused: bool, device: torch.device) -> LayerOps:
    """Fused Triton ops when asked for and a GPU (or Triton's CPU interpreter, in tests) runs them."""
    if fused and (device.type == "cuda" or os.environ.get("TRITON_INTERPRET") == "1"):
        from .triton_ops import TritonOps  # lazy: TRITON_INTERPRET is read when triton is imported

        return TritonOps()
    return TorchOps()
