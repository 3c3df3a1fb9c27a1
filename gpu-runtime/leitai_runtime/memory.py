"""Sizing the paged KV pool: as configured, from GPU memory after a warm-up, or on CPU from need.

On a GPU the weights are already resident when this runs; a warm-up forward of the largest
batch the scheduler can build measures the activation peak, and the pool gets
`free memory x gpu_memory_utilization - activation peak`. On CPU the pool is what the engine
can use at most — `max_num_seqs` sequences of `max_model_len` tokens — capped by a budget in
bytes, so a tiny model does not hold gigabytes it never touches. The arithmetic is pure
functions so tests can feed them numbers without a GPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .config import EngineConfig, ModelConfig

DEFAULT_GPU_UTILIZATION = 0.9


@dataclass(frozen=True, slots=True)
class MemoryProfile:
    free_bytes: int             # device memory free after the weights are loaded and the warm-up ran
    activation_peak_bytes: int  # peak allocated during the warm-up forward, above the weights


def kv_bytes_per_token(model: ModelConfig, dtype: torch.dtype) -> int:
    """K and V of one token in every layer: layers x 2 x kv_heads x head_dim x dtype bytes."""
    elem = torch.empty((), dtype=dtype).element_size()
    return model.num_hidden_layers * 2 * model.num_key_value_heads * model.head_dim * elem


def kv_bytes_per_block(model: ModelConfig, block_size: int, dtype: torch.dtype) -> int:
    return block_size * kv_bytes_per_token(model, dtype)


def cpu_kv_blocks(bytes_per_block: int, block_size: int, max_num_seqs: int, max_model_len: int,
                  budget_bytes: int) -> int:
    """KV blocks on CPU: what `max_num_seqs` sequences of `max_model_len` tokens need, at most
    `budget_bytes` worth, never fewer than one sequence of `max_model_len` tokens needs."""
    blocks_per_seq = (max_model_len + block_size - 1) // block_size
    needed = max_num_seqs * blocks_per_seq
    affordable = budget_bytes // bytes_per_block
    return max(blocks_per_seq, min(needed, affordable))


def cpu_kv_share(budget_left: int, models_left: int) -> int:
    """The budget of the next model when several load one after another from one CPU budget: an
    even share of what the models before it left (one that needs less leaves more to the rest)."""
    return max(0, budget_left) // models_left


def kv_blocks_for_budget(profile: MemoryProfile, utilization: float, bytes_per_block: int) -> int:
    """Blocks that fit in free x utilization once the activation peak is set aside (>= 0)."""
    budget = int(profile.free_bytes * utilization) - profile.activation_peak_bytes
    return max(0, budget // bytes_per_block)


def choose_num_blocks(model: ModelConfig, config: EngineConfig, max_model_len: int,
                      profile: Callable[[], MemoryProfile] | None = None, extra_bytes_per_block: int = 0) -> int:
    """KV blocks: as configured, else a share of free GPU memory (needs `profile`), else on CPU what
    the engine can use within `config.cpu_kv_budget`. `extra_bytes_per_block`: another cache indexed
    by the same blocks (a draft model's) shares the budget."""
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
    return cpu_kv_blocks(per_block, config.block_size, config.max_num_seqs, max_model_len, config.cpu_kv_budget)


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
