"""Wall time of a GPU call, shared by the kernel tuner and the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def time_call(fn: Callable[[], object], reps: int, device: torch.device) -> float:
    """Seconds per call of `fn`, after one warm-up call (which also compiles kernels)."""
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - t) / reps
