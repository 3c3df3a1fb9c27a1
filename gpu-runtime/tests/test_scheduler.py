"""Scheduler: token budget, chunked prefill, FCFS admission, preemption and invariants."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from leitai_runtime.block_manager import BlockManager
from leitai_runtime.config import EngineConfig
from leitai_runtime.scheduler import Scheduler
from leitai_runtime.sequence import FinishReason, SamplingParams, Sequence, SequenceStatus


def make(num_blocks: int = 64, block_size: int = 4, **cfg) -> Scheduler:
    config = EngineConfig(block_size=block_size, num_kv_blocks=num_blocks, **cfg)
    return Scheduler(config, BlockManager(num_blocks, block_size))


def seq_of(n: int, max_tokens: int = 8) -> Sequence:
    return Sequence(list(range(3, 3 + n)), SamplingParams(max_tokens=max_tokens))


def fake_step(sched: Scheduler, finish_after: dict[int, int] | None = None):
    """Schedule, pretend the model ran (sampled token 7), finish those at their max_tokens."""
    batch = sched.schedule()
    for i, (seq, n) in enumerate(zip(batch.seqs, batch.num_tokens, strict=True)):
        samples = batch.samples(i)
        seq.num_computed_tokens += n
        sched.block_manager.register_computed(seq)
        if samples:
            seq.append_token(7)
            if seq.num_output_tokens >= seq.params.max_tokens:
                sched.finish(seq, FinishReason.LENGTH)
    return batch


def test_budget_is_shared_decodes_first():
    sched = make(max_num_batched_tokens=10)
    a, b = seq_of(3), seq_of(30)
    sched.add(a)
    fake_step(sched)  # a prefilled, now decoding
    sched.add(b)
    batch = fake_step(sched)
    assert batch.seqs == [a, b] and batch.num_tokens == [1, 9]
    batch = fake_step(sched)
    assert batch.num_tokens == [1, 9]


def test_new_requests_join_the_running_batch_next_step():
    sched = make()
    a = seq_of(4)
    sched.add(a)
    fake_step(sched)
    b = seq_of(4)
    sched.add(b)
    batch = fake_step(sched)
    assert [s.seq_id for s in batch.seqs] == [a.seq_id, b.seq_id]


def test_fcfs_a_big_head_blocks_later_small_requests():
    sched = make(num_blocks=8)
    big, small = seq_of(30), seq_of(2)
    holder = seq_of(8)
    sched.add(holder)
    fake_step(sched)
    sched.add(big)
    sched.add(small)
    batch = fake_step(sched)
    assert big not in batch.seqs and small not in batch.seqs  # no overtaking


def test_max_num_seqs():
    sched = make(max_num_seqs=2)
    seqs = [seq_of(2) for _ in range(4)]
    for s in seqs:
        sched.add(s)
    batch = fake_step(sched)
    assert len(batch.seqs) == 2 and len(sched.waiting) == 2


def test_preempts_the_most_recent_and_requeues_it_first():
    sched = make(num_blocks=4, block_size=2)
    a = seq_of(4, max_tokens=10)
    b = Sequence([9, 9, 9, 9], SamplingParams(max_tokens=10))  # no prefix shared with a
    sched.add(a)
    sched.add(b)
    fake_step(sched)  # both prefilled: 2 blocks each, pool full
    fake_step(sched)  # a needs a 3rd block -> b is preempted
    assert sched.num_preemptions >= 1
    assert b.status == SequenceStatus.PREEMPTED and sched.waiting[0] is b
    assert b.block_table == [] and b.num_computed_tokens == 0


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), num_blocks=st.integers(16, 40), budget=st.integers(1, 24))
def test_everything_finishes_and_frees(seed, num_blocks, budget):
    rng = random.Random(seed)
    sched = make(num_blocks=num_blocks, block_size=4, max_num_batched_tokens=budget, max_num_seqs=6)
    pending = [seq_of(rng.randint(1, 30), rng.randint(1, 20)) for _ in range(12)]
    seqs = list(pending)
    for _ in range(2000):
        if pending and rng.random() < 0.5:
            sched.add(pending.pop())
        if rng.random() < 0.05 and sched.running:
            sched.finish(rng.choice(sched.running), FinishReason.ABORT)
        fake_step(sched)
        bm = sched.block_manager
        assert bm.num_free_blocks + bm.num_used_blocks == num_blocks
        if not pending and not sched.has_unfinished():
            break
    assert all(s.is_finished for s in seqs)
    assert sched.block_manager.num_free_blocks == num_blocks
