"""Decode steps replayed from CUDA graphs, one graph per batch size of a ladder.

A decode step is ~15 small kernels per layer; at batch 1 on a 7B model launching them from
Python costs more than the GPU needs to read the weights. Each graph is captured once
over static input buffers (token ids, positions, slot mapping, block tables padded to the
longest context, context lengths); a step copies its inputs in, pads the batch up to the
next captured size and replays. Padding rows write their K/V to a scratch block no
sequence owns and attend to one key there, so they cost little and disturb nothing.

The bookkeeping is separate from the graph itself (`Graph`), so tests run it on CPU with
`EagerGraph`, which replays by calling the function again on the same static buffers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch

from .layers.attention import AttentionMetadata

LADDER = (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 160, 192, 224, 256, 320, 384, 448, 512)

DecodeFn = Callable[[torch.Tensor, AttentionMetadata], torch.Tensor]


class Graph(Protocol):
    def capture(self, fn: Callable[[], torch.Tensor]) -> torch.Tensor:
        """Record `fn` and return its output tensor, which every replay overwrites."""
        ...

    def replay(self) -> None: ...


class CudaGraph:
    def __init__(self, pool: tuple[int, int]) -> None:
        self.graph = torch.cuda.CUDAGraph()
        self.pool = pool

    def capture(self, fn: Callable[[], torch.Tensor]) -> torch.Tensor:
        with torch.cuda.graph(self.graph, pool=self.pool):
            return fn()

    def replay(self) -> None:
        self.graph.replay()


def cuda_graph_factory() -> Callable[[], Graph]:
    pool = torch.cuda.graph_pool_handle()  # one memory pool shared by every captured size
    return lambda: CudaGraph(pool)


class EagerGraph:
    """Stand-in for CPU tests: replay recomputes into the captured output tensor."""

    def __init__(self) -> None:
        self.fn: Callable[[], torch.Tensor] | None = None
        self.out: torch.Tensor | None = None

    def capture(self, fn: Callable[[], torch.Tensor]) -> torch.Tensor:
        self.fn, self.out = fn, fn()
        return self.out

    def replay(self) -> None:
        if self.fn is None or self.out is None:
            raise RuntimeError("replay() before capture()")
        self.out.copy_(self.fn())


def graph_batch_sizes(max_batch_size: int) -> list[int]:
    """The ladder up to `max_batch_size`, which is always included."""
    sizes = [b for b in LADDER if b < max_batch_size]
    return sizes + [max_batch_size]


class DecodeGraphRunner:
    def __init__(self, fn: DecodeFn, batch_sizes: list[int], max_blocks: int, block_size: int,
                 scratch_block: int, device: torch.device, make_graph: Callable[[], Graph]) -> None:
        if not batch_sizes or min(batch_sizes) < 1:
            raise ValueError(f"batch sizes must be positive, got {batch_sizes}")
        self.fn = fn
        self.batch_sizes = sorted(set(batch_sizes))
        self.max_blocks = max_blocks
        self.block_size = block_size
        self.scratch_block = scratch_block
        self.make_graph = make_graph
        n = self.batch_sizes[-1]
        self.input_ids = torch.zeros(n, dtype=torch.int64, device=device)
        self.positions = torch.zeros(n, dtype=torch.int64, device=device)
        self.token_seq = torch.arange(n, dtype=torch.int64, device=device)
        self.slot_mapping = torch.full((n,), scratch_block * block_size, dtype=torch.int64, device=device)
        self.block_tables = torch.zeros(n, max_blocks, dtype=torch.int32, device=device)
        self.block_tables[:, 0] = scratch_block
        self.context_lens = torch.ones(n, dtype=torch.int32, device=device)
        self.graphs: dict[int, Graph] = {}
        self.outputs: dict[int, torch.Tensor] = {}

    def static_meta(self, bs: int) -> AttentionMetadata:
        # Host lists are frozen at capture: backends used in graphs must not branch on them
        # beyond "every query length is 1".
        return AttentionMetadata(
            positions=self.positions[:bs], token_seq=self.token_seq[:bs], slot_mapping=self.slot_mapping[:bs],
            block_tables=self.block_tables[:bs], context_lens=self.context_lens[:bs], query_lens=[1] * bs,
            context_lens_host=[self.max_blocks * self.block_size] * bs, block_size=self.block_size)

    def capture(self) -> None:
        """Largest first, so smaller graphs reuse the pool memory the largest one reserved."""
        for bs in reversed(self.batch_sizes):
            meta = self.static_meta(bs)
            ids = self.input_ids[:bs]
            self.fn(ids, meta)  # warm-up outside the graph: compiles kernels, settles allocator
            graph = self.make_graph()
            self.outputs[bs] = graph.capture(lambda ids=ids, meta=meta: self.fn(ids, meta))
            self.graphs[bs] = graph

    def bucket(self, num_seqs: int) -> int | None:
        """The smallest captured batch size that holds `num_seqs` (None: too many)."""
        for bs in self.batch_sizes:
            if bs >= num_seqs:
                return bs
        return None

    def can_run(self, meta: AttentionMetadata) -> bool:
        """Decode-only (one token per sequence), within the captured sizes and block-table width."""
        num_seqs = len(meta.query_lens)
        return (bool(self.graphs) and all(n == 1 for n in meta.query_lens)
                and self.bucket(num_seqs) is not None and meta.block_tables.shape[1] <= self.max_blocks)

    def run(self, input_ids: torch.Tensor, meta: AttentionMetadata) -> torch.Tensor:
        """Copy the step's inputs into the static buffers, replay, return the first n output rows."""
        n = input_ids.shape[0]
        bs = self.bucket(n)
        if bs is None or bs not in self.graphs:
            raise ValueError(f"no captured graph holds a batch of {n}")
        width = meta.block_tables.shape[1]
        self.input_ids[:n].copy_(input_ids, non_blocking=True)
        self.positions[:n].copy_(meta.positions, non_blocking=True)
        self.slot_mapping[:n].copy_(meta.slot_mapping, non_blocking=True)
        self.context_lens[:n].copy_(meta.context_lens, non_blocking=True)
        self.block_tables[:n, :width].copy_(meta.block_tables, non_blocking=True)
        if n < bs:  # padding rows: last step's real rows may still be there
            self.input_ids[n:bs] = 0
            self.positions[n:bs] = 0
            self.slot_mapping[n:bs] = self.scratch_block * self.block_size
            self.context_lens[n:bs] = 1
            self.block_tables[n:bs, 0] = self.scratch_block
        self.graphs[bs].replay()
        return self.outputs[bs][:n]
