"""Paged KV-cache bookkeeping: fixed-size blocks, reference counts and prefix caching.

A block is registered in the prefix cache only once it is full *and* its K/V have been
computed, so a hit never points at memory that a chunked prefill has yet to write. The key
is a hash chain (parent hash, token ids); a hit is confirmed by comparing the stored parent
hash and the stored tokens, so a hash collision cannot hand out the wrong K/V.
A freed block keeps its contents and hash until it is reused (least recently freed first).
"""

from __future__ import annotations

import hashlib
import struct
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .sequence import Sequence


def block_hash(parent: int | None, token_ids: tuple[int, ...]) -> int:
    digest = hashlib.blake2b(digest_size=8)
    digest.update((parent if parent is not None else -1).to_bytes(8, "little", signed=True))
    digest.update(np.asarray(token_ids, dtype=np.int64).tobytes())
    return int.from_bytes(digest.digest(), "little", signed=True)


def chain_root(seq: Sequence) -> int | None:
    """Parent hash of a sequence's first block. K/V depend on the RoPE rotation too, so a
    request with its own dynamic-NTK alpha gets its own chain."""
    alpha = seq.rope_alpha
    if alpha is None or alpha == 1.0:
        return None
    return block_hash(None, (struct.unpack("<q", struct.pack("<d", alpha))[0],))


@dataclass(slots=True)
class Block:
    block_id: int
    ref_count: int = 0
    hash: int | None = None
    parent_hash: int | None = None
    token_ids: tuple[int, ...] = ()


class BlockManager:
    def __init__(self, num_blocks: int, block_size: int, enable_prefix_caching: bool = True) -> None:
        if num_blocks <= 0 or block_size <= 0:
            raise ValueError("num_blocks and block_size must be positive")
        self.num_blocks = num_blocks
        self.block_size = block_size
        self.enable_prefix_caching = enable_prefix_caching
        self.blocks = [Block(i) for i in range(num_blocks)]
        # Insertion order = eviction order for cached-but-free blocks.
        self.free_ids: OrderedDict[int, None] = OrderedDict((i, None) for i in range(num_blocks))
        self.used_ids: set[int] = set()
        self.hash_to_block: dict[int, int] = {}
        self.prefix_hit_blocks = 0
        self.prefix_query_blocks = 0

    @property
    def num_free_blocks(self) -> int:
        return len(self.free_ids)

    @property
    def num_used_blocks(self) -> int:
        return len(self.used_ids)

    def blocks_needed(self, num_tokens: int) -> int:
        return (num_tokens + self.block_size - 1) // self.block_size

    # -- prefix cache ---------------------------------------------------------------------

    def _cached_prefix(self, seq: Sequence) -> list[int]:
        """Block ids holding this sequence's leading full blocks, stopping at the first miss.

        The last token is never taken from the cache: its logits are needed to sample.
        """
        if not self.enable_prefix_caching:
            return []
        hits: list[int] = []
        parent = chain_root(seq)
        bs = self.block_size
        for i in range((len(seq) - 1) // bs):
            tokens = tuple(seq.token_ids[i * bs:(i + 1) * bs])
            h = block_hash(parent, tokens)
            block_id = self.hash_to_block.get(h)
            if block_id is None:
                break
            block = self.blocks[block_id]
            if block.hash != h or block.parent_hash != parent or block.token_ids != tokens:
                break  # a collision or a stale entry: treat as a miss
            hits.append(block_id)
            parent = h
        return hits

    def register_computed(self, seq: Sequence, num_tokens: int | None = None) -> None:
        """Publish the sequence's newly completed full blocks to the prefix cache: those within its
        computed tokens, or within its first `num_tokens` (fewer, when another cache indexed by the
        same blocks lags behind)."""
        if not self.enable_prefix_caching:
            return
        bs = self.block_size
        full = min(seq.num_computed_tokens if num_tokens is None else num_tokens, len(seq)) // bs
        for i in range(seq.num_hashed_blocks, full):
            block = self.blocks[seq.block_table[i]]
            parent = self.blocks[seq.block_table[i - 1]].hash if i > 0 else chain_root(seq)
            tokens = tuple(seq.token_ids[i * bs:(i + 1) * bs])
            h = block_hash(parent, tokens)
            block.hash, block.parent_hash, block.token_ids = h, parent, tokens
            self.hash_to_block.setdefault(h, block.block_id)
        seq.num_hashed_blocks = max(seq.num_hashed_blocks, full)

    # -- allocation -----------------------------------------------------------------------

    def _take_free(self, block_id: int | None = None) -> int:
        if block_id is None:
            block_id, _ = self.free_ids.popitem(last=False)
            block = self.blocks[block_id]
            if block.hash is not None:  # evict its cache entry: the contents are about to change
                if self.hash_to_block.get(block.hash) == block_id:
                    del self.hash_to_block[block.hash]
                block.hash, block.parent_hash, block.token_ids = None, None, ()
        else:
            del self.free_ids[block_id]
        self.blocks[block_id].ref_count = 1
        self.used_ids.add(block_id)
        return block_id

    def can_allocate(self, seq: Sequence) -> bool:
        hits = self._cached_prefix(seq)
        in_use = sum(1 for b in hits if self.blocks[b].ref_count > 0)
        return self.blocks_needed(len(seq)) - in_use <= self.num_free_blocks

    def allocate(self, seq: Sequence) -> None:
        """Give a waiting sequence blocks for all its current tokens, reusing cached prefix blocks."""
        if seq.block_table:
            raise RuntimeError(f"sequence {seq.seq_id} already holds blocks")
        if not self.can_allocate(seq):
            raise RuntimeError("allocate() called without free blocks; check can_allocate() first")
        hits = self._cached_prefix(seq)
        self.prefix_query_blocks += (len(seq) - 1) // self.block_size if self.enable_prefix_caching else 0
        self.prefix_hit_blocks += len(hits)
        table: list[int] = []
        for block_id in hits:
            block = self.blocks[block_id]
            if block.ref_count > 0:
                block.ref_count += 1
            else:
                self._take_free(block_id)
            table.append(block_id)
        while len(table) < self.blocks_needed(len(seq)):
            table.append(self._take_free())
        seq.block_table = table
        seq.num_computed_tokens = seq.num_cached_tokens = len(hits) * self.block_size
        seq.num_hashed_blocks = len(hits)

    def append_need(self, seq: Sequence, num_tokens: int) -> int:
        """Free blocks `seq` must take for `num_tokens` more slots beyond its computed ones."""
        return max(0, self.blocks_needed(seq.num_computed_tokens + num_tokens) - len(seq.block_table))

    def can_append(self, seq: Sequence, num_tokens: int) -> bool:
        """Whether `num_tokens` more slots (beyond the computed ones) fit in held + free blocks."""
        return self.append_need(seq, num_tokens) <= self.num_free_blocks

    def may_append(self, seq: Sequence, num_tokens: int) -> None:
        need = self.append_need(seq, num_tokens)
        if need > self.num_free_blocks:
            raise RuntimeError("may_append() called without free blocks; check can_append() first")
        for _ in range(need):
            seq.block_table.append(self._take_free())

    def _release(self, block_ids: list[int]) -> None:
        for block_id in block_ids:
            block = self.blocks[block_id]
            block.ref_count -= 1
            if block.ref_count < 0:
                raise RuntimeError(f"block {block_id} ref count went negative")
            if block.ref_count == 0:
                self.used_ids.discard(block_id)
                self.free_ids[block_id] = None

    def release_unused(self, seq: Sequence) -> None:
        """Free the blocks past those its computed tokens fill: slots taken for tokens that were not
        kept (never registered: they lie past the computed ones)."""
        keep = self.blocks_needed(seq.num_computed_tokens)
        self._release(list(reversed(seq.block_table[keep:])))
        del seq.block_table[keep:]

    def deallocate(self, seq: Sequence) -> None:
        # Tail blocks first, so the head of a shared prefix is the last to be evicted.
        self._release(list(reversed(seq.block_table)))
        seq.block_table = []
        seq.num_computed_tokens = 0
        seq.num_hashed_blocks = 0
