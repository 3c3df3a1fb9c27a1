"""Shared bits of the device benchmark: timestamped progress, incremental result files, timing."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

from leitai_runtime.timing import time_call as timed  # noqa: F401  (the benchmarks' name for it)

_T0 = time.monotonic()


def log(msg: str) -> None:
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    print(f"[{stamp} +{time.monotonic() - _T0:6.1f}s] {msg}", flush=True)


class Recorder:
    """A stage's results, rewritten to disk after every measurement so a killed stage keeps them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {}

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2, default=str))
        os.replace(tmp, self.path)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_flops(device: torch.device, dtype: torch.dtype, smoke: bool) -> float:
    """Dense matmul FLOP/s in `dtype`: the compute side of the roofline."""
    n = 256 if smoke else 8192
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    return 2 * n ** 3 / timed(lambda: a @ b, 3 if smoke else 20, device)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({os.cpu_count()} cores)"


def triton_runs(device: torch.device) -> bool:
    """A GPU, or Triton's CPU interpreter (TRITON_INTERPRET=1: slow, for checking the script)."""
    return device.type == "cuda" or os.environ.get("TRITON_INTERPRET") == "1"


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        print(f"ignoring {name}={raw!r}: not a number", file=sys.stderr)
        return default
