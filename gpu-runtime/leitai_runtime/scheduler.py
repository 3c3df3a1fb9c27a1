"""Iteration-level continuous batching with a per-step token budget and chunked prefill.

Each step, running sequences are served first in admission order (decodes, then
unfinished prefill chunks), then waiting sequences are admitted FCFS while the budget,
`max_num_seqs` and free blocks allow. A waiting sequence that does not fit blocks those
behind it, so nobody starves. When a running sequence needs a block and none is free,
the most recently admitted sequence is preempted: its blocks are freed and it goes back
to the front of the waiting queue, to be recomputed later (prefix cache permitting).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .block_manager import BlockManager
from .config import EngineConfig
from .sequence import FinishReason, Sequence, SequenceStatus


class QueueFullError(RuntimeError):
    """The bounded waiting queue is full: the caller should retry later (HTTP 429)."""


@dataclass
class ScheduledBatch:
    """The sequences of one step and how many of their uncomputed tokens each feeds in."""

    seqs: list[Sequence] = field(default_factory=list)
    num_tokens: list[int] = field(default_factory=list)
    # Where each sequence's chunk starts; None: at its computed tokens. A speculative draft
    # model keeps its own count (Sequence.num_draft_computed_tokens).
    starts: list[int] | None = None

    def add(self, seq: Sequence, n: int) -> None:
        self.seqs.append(seq)
        self.num_tokens.append(n)

    @property
    def total_tokens(self) -> int:
        return sum(self.num_tokens)

    def start(self, i: int) -> int:
        return self.seqs[i].num_computed_tokens if self.starts is None else self.starts[i]

    def samples(self, i: int) -> bool:
        """Whether sequence i reaches its last token this step, so a new token is sampled."""
        return self.start(i) + self.num_tokens[i] == len(self.seqs[i])

    def __bool__(self) -> bool:
        return bool(self.seqs)


class Scheduler:
    def __init__(self, config: EngineConfig, block_manager: BlockManager) -> None:
        self.config = config
        self.block_manager = block_manager
        self.waiting: deque[Sequence] = deque()
        self.running: list[Sequence] = []  # admission order: the last is preempted first
        self.num_preemptions = 0

    def add(self, seq: Sequence) -> None:
        # The bound (max_waiting) is enforced where requests arrive: LLMEngine.add_request.
        seq.status = SequenceStatus.WAITING
        self.waiting.append(seq)

    def has_unfinished(self) -> bool:
        return bool(self.waiting or self.running)

    def _preempt(self, seq: Sequence) -> None:
        self.running.remove(seq)
        self.block_manager.deallocate(seq)
        seq.status = SequenceStatus.PREEMPTED
        seq.num_preemptions += 1
        self.num_preemptions += 1
        self.waiting.appendleft(seq)

    def schedule(self) -> ScheduledBatch:
        batch = ScheduledBatch()
        budget = self.config.max_num_batched_tokens
        bm = self.block_manager
        # Decodes first (one token each), then chunks of prefills already admitted.
        ordered = sorted(self.running, key=lambda s: s.num_uncomputed_tokens > 1)
        for seq in ordered:
            if budget == 0:
                break
            if seq.status != SequenceStatus.RUNNING:  # preempted while making room for an earlier one
                continue
            n = min(seq.num_uncomputed_tokens, budget)
            while not bm.can_append(seq, n):
                victim = self.running[-1]
                self._preempt(victim)
                if victim is seq:
                    break
            if seq.status != SequenceStatus.RUNNING:
                continue
            bm.may_append(seq, n)
            batch.add(seq, n)
            budget -= n
        # Admit waiting sequences, FCFS, while they fit.
        while self.waiting and budget > 0 and len(self.running) < self.config.max_num_seqs:
            seq = self.waiting[0]
            if not bm.can_allocate(seq):
                break
            self.waiting.popleft()
            bm.allocate(seq)
            seq.status = SequenceStatus.RUNNING
            self.running.append(seq)
            n = min(seq.num_uncomputed_tokens, budget)
            batch.add(seq, n)
            budget -= n
        return batch

    def finish(self, seq: Sequence, reason: FinishReason) -> None:
        """Mark finished and free its blocks; works for waiting and running sequences alike."""
        if seq.status == SequenceStatus.FINISHED:
            return
        if seq in self.running:
            self.running.remove(seq)
        elif seq in self.waiting:
            self.waiting.remove(seq)
        self.block_manager.deallocate(seq)
        seq.status = SequenceStatus.FINISHED
        seq.finish_reason = reason
