"""Sizing the paged KV pool: as configured, from GPU memory after a warm-up, or a CPU default.

On a GPU the weights are already resident when this runs; a warm-up forward of the largest
batch the scheduler can build measures the activation peak, and the pool gets
`free memory x gpu_memory_utilization - activation peak`. The arithmetic is a pure function
so tests can feed it numbers without a GPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .config import EngineConfig, ModelConfig

CPU_KV_BYTES = 2 << 30  # default KV pool on CPU when no size is given
DEFAULT_GPU_UTILIZATION = 0.9


@dataclass(frozen=True, slots=True)
class MemoryProfile:
    free_bytes: int             # device memory free after the weights are loaded and the warm-up ran
    activation_peak_bytes: int  # peak allocated during the warm-up forward, above the weights


def kv_bytes_per_block(model: ModelConfig, block_size: int, dtype: torch.dtype) -> int:
    elem = torch.empty((), dtype=dtype).element_size()
    return 2 * model.num_hidden_layers * block_size * model.num_key_value_heads * model.head_dim * elem


def kv_blocks_for_budget(profile: MemoryProfile, utilization: float, bytes_per_block: int) -> int:
    """Blocks that fit in free x utilization once the activation peak is set aside (>= 0)."""
    budget = int(profile.free_bytes * utilization) - profile.activation_peak_bytes
    return max(0, budget // bytes_per_block)


def choose_num_blocks(model: ModelConfig, config: EngineConfig, max_model_len: int,
                      profile: Callable[[], MemoryProfile] | None = None, extra_bytes_per_block: int = 0) -> int:
    """KV blocks: as configured, else a share of free GPU memory (needs `profile`), else a CPU default.
    `extra_bytes_per_block`: another cache indexed by the same blocks (a draft model's) shares the budget."""
    per_block = kv_bytes_per_block(model, config.block_size, config.torch_dtype) + extra_bytes_per_block
    minimum = (max_model_len + config.block_size - 1) // config.block_size
    if config.num_kv_blocks is not None:
        if config.num_kv_blocks < minimum:
            raise ValueError(f"num_kv_blocks={config.num_kv_blocks} cannot hold one sequence of "
                             f"max_model_len={max_model_len} tokens (needs {minimum})")
        return config.num_kv_blocks
    if config.device.startswith("cuda"):
        if profile is None:
            raise ValueError("sizing the KV pool from GPU memory needs a memory profile")
        util = config.gpu_memory_utilization or DEFAULT_GPU_UTILIZATION
        measured = profile()
        blocks = kv_blocks_for_budget(measured, util, per_block)
        if blocks < minimum:
            raise ValueError(
                f"gpu_memory_utilization={util} leaves room for {blocks} KV blocks "
                f"({measured.free_bytes / 2**30:.2f} GiB free, activation peak "
                f"{measured.activation_peak_bytes / 2**30:.2f} GiB); {minimum} are needed for "
                f"max_model_len={max_model_len}")
        return blocks
    return max(minimum, CPU_KV_BYTES // per_block)


def profile_cuda(device: torch.device, warmup: Callable[[], None]) -> MemoryProfile:
    """Run `warmup` (the largest forward) and measure its peak and the free memory after it."""
    torch.cuda.synchronize(device)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    warmup()
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device) - before
    torch.cuda.empty_cache()
    free, _total = torch.cuda.mem_get_info(device)
    return MemoryProfile(free_bytes=int(free), activation_peak_bytes=int(peak))
