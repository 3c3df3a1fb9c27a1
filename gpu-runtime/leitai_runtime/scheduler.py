"""Iteration-level continuous batching with a per-step token budget, chunked prefill and
request priority.

Each step serves running sequences' decodes first (one token each), then prefill work most
urgent first: a priority level's running prefill chunks, then its waiting sequences, admitted
in (priority, arrival) order while `max_num_seqs`, the budget and free blocks allow. A waiting
sequence that does not fit blocks those behind it, so nobody starves among equals.

Preemption is by recompute: the sequence's blocks are freed and it waits again in its
(priority, arrival) place, to be prefilled anew (prefix cache permitting) with the tokens it
has generated, so its answer goes on where it stopped. The least urgent running sequence
(highest priority value, latest arrival) goes first, for one of two reasons:
- blocks: a running sequence needs a block and none is free (it may be preempted itself);
- priority: a waiting sequence does not fit and a strictly less urgent one runs; never for
  an equal or less urgent one.
A sequence preempted in a step waits for the next one.
"""

from __future__ import annotations

import bisect
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
    # Where each sequence's chunk starts; None: at its computed tokens (a model with a cache of
    # its own over the same blocks may have computed fewer).
    starts: list[int] | None = None

    def add(self, seq: Sequence, n: int) -> None:
        self.seqs.append(seq)
        self.num_tokens.append(n)

    def remove(self, seq: Sequence) -> int:
        """Take a sequence out (preempted while the batch was built); returns its tokens, 0 if absent."""
        for i, s in enumerate(self.seqs):
            if s is seq:
                del self.seqs[i]
                return self.num_tokens.pop(i)
        return 0

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


PREEMPTION_REASONS = ("blocks", "priority")


def _urgency(seq: Sequence) -> tuple[int, int]:
    return seq.urgency


@dataclass
class _Step:
    """The batch one schedule() call builds, the token budget it has left, and whom it preempted."""

    budget: int
    batch: ScheduledBatch = field(default_factory=ScheduledBatch)
    preempted: set[int] = field(default_factory=set)


class Scheduler:
    def __init__(self, config: EngineConfig, block_manager: BlockManager) -> None:
        self.config = config
        self.block_manager = block_manager
        self.waiting: list[Sequence] = []  # most urgent first: (priority, arrival)
        self.running: list[Sequence] = []  # admission order
        self.preemptions = dict.fromkeys(PREEMPTION_REASONS, 0)

    @property
    def num_preemptions(self) -> int:
        return sum(self.preemptions.values())

    def add(self, seq: Sequence) -> None:
        # The bound (max_waiting) is enforced where requests arrive: LLMEngine.add_request.
        seq.status = SequenceStatus.WAITING
        bisect.insort(self.waiting, seq, key=_urgency)

    def has_unfinished(self) -> bool:
        return bool(self.waiting or self.running)

    def _least_urgent(self) -> Sequence | None:
        return max(self.running, key=_urgency, default=None)

    def _preempt(self, seq: Sequence, reason: str, step: _Step) -> None:
        self.running.remove(seq)
        self.block_manager.deallocate(seq)
        seq.status = SequenceStatus.PREEMPTED
        seq.num_preemptions += 1
        self.preemptions[reason] += 1
        bisect.insort(self.waiting, seq, key=_urgency)
        step.budget += step.batch.remove(seq)  # already batched this step: its tokens go back
        step.preempted.add(seq.seq_id)

    def _fits(self, seq: Sequence) -> bool:
        return len(self.running) < self.config.max_num_seqs and self.block_manager.can_allocate(seq)

    def _run(self, seq: Sequence, step: _Step) -> None:
        """Batch the next chunk of a running sequence, preempting for blocks if it must."""
        if seq.status != SequenceStatus.RUNNING:  # preempted while making room for a more urgent one
            return
        n = min(seq.num_uncomputed_tokens, step.budget)
        while not self.block_manager.can_append(seq, n):
            victim = self._least_urgent()
            assert victim is not None  # seq itself runs
            self._preempt(victim, "blocks", step)
            if victim is seq:
                return
        self.block_manager.may_append(seq, n)
        step.batch.add(seq, n)
        step.budget -= n

    def _admit(self, seq: Sequence, step: _Step) -> bool:
        """Admit the head of the waiting queue, preempting strictly less urgent running sequences
        while it does not fit; False when it still does not."""
        if seq.seq_id in step.preempted:
            return False
        while not self._fits(seq):
            victim = self._least_urgent()
            if victim is None or victim.priority <= seq.priority:
                return False
            self._preempt(victim, "priority", step)
        self.waiting.pop(0)
        self.block_manager.allocate(seq)
        seq.status = SequenceStatus.RUNNING
        self.running.append(seq)
        n = min(seq.num_uncomputed_tokens, step.budget)
        step.batch.add(seq, n)
        step.budget -= n
        return True

    def schedule(self) -> ScheduledBatch:
        step = _Step(self.config.max_num_batched_tokens)
        by_urgency = sorted(self.running, key=_urgency)
        # Decodes first: one token each, the step's cheapest work.
        for seq in [s for s in by_urgency if s.num_uncomputed_tokens <= 1]:
            if step.budget == 0:
                break
            self._run(seq, step)
        # Then prefill work, most urgent first; within a priority, running chunks before admissions.
        prefills = deque(s for s in by_urgency if s.num_uncomputed_tokens > 1)
        blocked = False  # the head of the queue did not fit: nobody behind it may overtake it
        while step.budget > 0:
            while prefills and prefills[0].status != SequenceStatus.RUNNING:
                prefills.popleft()  # preempted meanwhile
            head = self.waiting[0] if self.waiting and not blocked else None
            if head is not None and (not prefills or head.priority < prefills[0].priority):
                blocked = not self._admit(head, step)
            elif prefills:
                self._run(prefills.popleft(), step)
            else:
                break
        return step.batch

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
