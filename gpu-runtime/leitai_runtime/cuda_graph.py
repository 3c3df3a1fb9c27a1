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

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from .layers.attention import AttentionMetadata

if TYPE_CHECKING:
    from torch.cuda import _POOL_HANDLE

FIELDS = 5  # per-row int64 fields ahead of the block tables in the packed static buffer

LADDER = (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 160, 192, 224, 256, 320, 384, 448, 512)

DecodeFn = Callable[[torch.Tensor, AttentionMetadata], torch.Tensor]


class Graph(Protocol):
    def capture(self, fn: Callable[[], torch.Tensor]) -> torch.Tensor:
        """Record `fn` and return its output tensor, which every replay overwrites."""
        ...

    def replay(self) -> None: ...


class CudaGraph:
    def __init__(self, pool: _POOL_HANDLE) -> None:
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
    """Static buffers live in one int64 device tensor, filled from a pinned host tensor, so a
    step costs a single host-to-device copy; every field is a contiguous slice of it.

    Two host tensors take turns: with decode-ahead (LLMEngine) the host fills step N+1's inputs
    while step N's copy may still be queued behind step N−1 on the GPU. Step N+2 reuses N's
    tensor only after N's tokens were read back, which waited for that copy."""

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
        n = self.max_batch_size = self.batch_sizes[-1]
        # Fields: token ids, positions, slots, context lengths, source rows (decode-ahead), tables.
        size = n * (FIELDS + max_blocks)
        self.hosts = [torch.zeros(size, dtype=torch.int64, pin_memory=device.type == "cuda") for _ in range(2)]
        self.packed = torch.zeros(size, dtype=torch.int64, device=device)
        self.input_ids, self.positions, self.slot_mapping, self.context_lens, self.source_rows = (
            self.packed[i * n:(i + 1) * n] for i in range(FIELDS))
        self.block_tables = self.packed[FIELDS * n:].view(n, max_blocks)
        self.token_seq = torch.arange(n, dtype=torch.int64, device=device)
        self._views = [self._host_views(host) for host in self.hosts]
        for turn in (1, 0):
            self._use_host(turn)
            self._pad(0, n)
        self.packed.copy_(self.host)
        self.graphs: dict[int, Graph] = {}
        self.outputs: dict[int, torch.Tensor] = {}

    def _host_views(self, host: torch.Tensor) -> tuple[list[np.ndarray], np.ndarray]:
        n = self.max_batch_size
        host_np = host.numpy()
        return [host_np[i * n:(i + 1) * n] for i in range(FIELDS)], host_np[FIELDS * n:].reshape(n, self.max_blocks)

    def _use_host(self, turn: int) -> None:
        self.turn = turn
        self.host = self.hosts[turn]
        self._fields_np, self._tables_np = self._views[turn]

    def _pad(self, start: int, stop: int) -> None:
        """Padding rows (host side): token 0 at position 0, K/V to the scratch block, one key there."""
        ids, positions, slots, ctx, _ = self._fields_np
        ids[start:stop] = 0
        positions[start:stop] = 0
        slots[start:stop] = self.scratch_block * self.block_size
        ctx[start:stop] = 1
        self._tables_np[start:stop, 0] = self.scratch_block

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
            self.outputs[bs] = graph.capture(functools.partial(self.fn, ids, meta))
            self.graphs[bs] = graph

    def bucket(self, num_seqs: int) -> int | None:
        """The smallest captured batch size that holds `num_seqs` (None: too many)."""
        for bs in self.batch_sizes:
            if bs >= num_seqs:
                return bs
        return None

    def fits(self, num_seqs: int, max_table_len: int) -> bool:
        return bool(self.graphs) and num_seqs <= self.max_batch_size and max_table_len <= self.max_blocks

    def run(self, token_ids: list[int], positions: list[int], slots: list[int], tables: list[list[int]],
            source: torch.Tensor | None = None, source_rows: list[int] | None = None) -> torch.Tensor:
        """One decode step: token i sits at positions[i] (so its context is positions[i] + 1 keys),
        writes its K/V to slots[i] and reads blocks tables[i]. Returns the first n output rows.
        With `source` (a device tensor), token i is source[source_rows[i]] instead of token_ids[i]:
        the previous step's sampled tokens, used without reading them back first."""
        n = len(positions)
        bs = self.bucket(n)
        if bs is None or bs not in self.graphs:
            raise ValueError(f"no captured graph holds a batch of {n}")
        self._use_host(1 - self.turn)
        ids_np, pos_np, slots_np, ctx_np, rows_np = self._fields_np
        if source is None:
            ids_np[:n] = token_ids
        else:
            rows_np[:n] = source_rows
        pos_np[:n] = positions
        ctx_np[:n] = pos_np[:n] + 1
        slots_np[:n] = slots
        for i, table in enumerate(tables):  # columns past a table's length keep stale ids: never read
            self._tables_np[i, :len(table)] = table
        if n < bs:  # last step's real rows may still be there
            self._pad(n, bs)
        self.packed.copy_(self.host, non_blocking=True)
        if source is not None:  # queued after the copy, so it overwrites the stale ids
            self.input_ids[:n] = source[self.source_rows[:n]]
        self.graphs[bs].replay()
        return self.outputs[bs][:n]
