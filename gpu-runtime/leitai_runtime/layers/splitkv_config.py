"""Split-KV decode kernel configurations, apart from the kernel so that tests can name them
without importing triton (TRITON_INTERPRET must be set before its first import)."""

from __future__ import annotations

from dataclasses import dataclass

KV_TILE = 64  # keys per loop iteration, gathered across paged blocks: 16 KiB of fp16 K per load at D=128


@dataclass(frozen=True)
class SplitKVConfig:
    tile: int = KV_TILE          # keys per loop iteration
    dot: bool | None = None      # tensor cores; None: when the group is > 1 (MHA pads one head to 16 rows)
    num_warps: int = 4
    num_stages: int | None = None  # Triton's default when None

    def __str__(self) -> str:
        dot = "auto" if self.dot is None else ("dot" if self.dot else "sum")
        return f"t{self.tile}/{dot}/w{self.num_warps}/s{self.num_stages or '-'}"


DEFAULT_CONFIG = SplitKVConfig()
# What `tune` tries: broadcast sums with two tile sizes (fewer registers, more programs per SM),
# and tensor-core tiles whose loads Triton stages through shared memory several tiles ahead.
CANDIDATES = (DEFAULT_CONFIG, SplitKVConfig(tile=32, dot=False), SplitKVConfig(tile=64, dot=True, num_stages=3),
              SplitKVConfig(tile=128, dot=True, num_stages=2))
