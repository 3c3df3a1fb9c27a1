"""Request priority: live requests (priority 0) are admitted before pre-generation (a larger
value) and take the place of running ones, which are preempted by recompute and resumed with
their answers unchanged (greedy: token-identical to transformers), in plain, decode-ahead and
speculative engines."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
import torch
from helpers_engine import engine_for, hf_greedy, random_prompt, tiny_hf_llama
from helpers_speculative import speculative_engine, speculative_target, truncated_draft
from hypothesis import given, settings
from hypothesis import strategies as st
from test_decode_ahead import graphed
from test_scheduler import fake_step

from leitai_runtime.block_manager import BlockManager
from leitai_runtime.config import EngineConfig
from leitai_runtime.engine import LLMEngine
from leitai_runtime.scheduler import Scheduler
from leitai_runtime.sequence import FinishReason, InvalidParamsError, SamplingParams, Sequence, SequenceStatus

LIVE, PREGEN = 0, 10


def make(num_blocks: int = 64, block_size: int = 4, **cfg) -> Scheduler:
    config = EngineConfig(block_size=block_size, num_kv_blocks=num_blocks, **cfg)
    return Scheduler(config, BlockManager(num_blocks, block_size))


def seq_of(n: int, priority: int, max_tokens: int = 8, first: int = 3) -> Sequence:
    return Sequence(list(range(first, first + n)), SamplingParams(max_tokens=max_tokens), priority)


# -- the scheduler alone ------------------------------------------------------------------------


def test_a_live_request_takes_the_slot_of_the_latest_pregeneration_in_the_next_step():
    sched = make(max_num_seqs=4)
    pregen = [seq_of(5, PREGEN, max_tokens=50, first=10 * k) for k in range(4)]
    for s in pregen:
        sched.add(s)
    for _ in range(3):
        fake_step(sched)
    assert sched.running == pregen
    live = seq_of(5, LIVE, first=200)
    sched.add(live)
    batch = fake_step(sched)
    assert live in batch.seqs and live in sched.running
    victim = pregen[-1]  # the least urgent: pre-generation, arrived last
    assert victim.status == SequenceStatus.PREEMPTED and victim not in batch.seqs
    assert victim.block_table == [] and sched.waiting == [victim]
    assert sched.preemptions == {"blocks": 0, "priority": 1}
    # It waits while the live request runs, and comes back once a slot is free.
    while live.status != SequenceStatus.FINISHED:
        fake_step(sched)
        assert victim.status == SequenceStatus.PREEMPTED
    fake_step(sched)
    assert victim.status == SequenceStatus.RUNNING


def test_equal_or_less_urgent_waiters_never_preempt():
    sched = make(max_num_seqs=2)
    running = [seq_of(4, 5, max_tokens=30, first=10), seq_of(4, 5, max_tokens=30, first=20)]
    for s in running:
        sched.add(s)
    fake_step(sched)
    same, later = seq_of(4, 5, first=30), seq_of(4, 7, first=40)
    sched.add(later)
    sched.add(same)
    for _ in range(5):
        batch = fake_step(sched)
        assert batch.seqs == running
    assert sched.num_preemptions == 0 and sched.waiting == [same, later]


def test_admission_is_in_priority_then_arrival_order():
    sched = make(max_num_seqs=4)
    seqs = [seq_of(3, p, first=10 * k) for k, p in enumerate([PREGEN, LIVE, 5, LIVE, PREGEN, 5])]
    for s in seqs:
        sched.add(s)
    assert sched.waiting == [seqs[1], seqs[3], seqs[2], seqs[5], seqs[0], seqs[4]]
    batch = fake_step(sched)
    assert batch.seqs == [seqs[1], seqs[3], seqs[2], seqs[5]]


def test_out_of_blocks_the_least_urgent_is_preempted_not_the_last_admitted():
    sched = make(num_blocks=5, block_size=2)
    pregen = seq_of(4, PREGEN, max_tokens=10, first=3)
    sched.add(pregen)
    fake_step(sched)
    live = seq_of(4, LIVE, max_tokens=10, first=30)
    sched.add(live)
    fake_step(sched)  # both admitted without a preemption: the pool is full now
    assert sched.running == [pregen, live] and sched.block_manager.num_free_blocks == 0
    batch = fake_step(sched)  # the live one needs a third block
    assert pregen.status == SequenceStatus.PREEMPTED and batch.seqs == [live]
    assert sched.preemptions == {"blocks": 1, "priority": 0}


def test_a_live_request_short_of_blocks_preempts_pregeneration_for_them():
    sched = make(num_blocks=6, block_size=4, max_num_seqs=8)
    pregen = [seq_of(8, PREGEN, max_tokens=20, first=10), seq_of(8, PREGEN, max_tokens=20, first=30)]
    for s in pregen:
        sched.add(s)
    fake_step(sched)
    fake_step(sched)  # decoding their 9th token: 3 blocks each, none free
    assert sched.block_manager.num_free_blocks == 0
    live = seq_of(9, LIVE, first=60)  # needs 3 blocks
    sched.add(live)
    batch = fake_step(sched)
    assert live in batch.seqs and pregen[1].status == SequenceStatus.PREEMPTED
    assert pregen[0].status == SequenceStatus.RUNNING  # one was enough
    assert sched.preemptions["priority"] == 1


def test_a_live_prompt_gets_the_budget_before_pregeneration_prefill_chunks():
    sched = make(max_num_batched_tokens=8, num_blocks=64)
    pregen = seq_of(40, PREGEN, first=10)
    sched.add(pregen)
    fake_step(sched)  # its first chunk
    live = seq_of(6, LIVE, first=100)
    sched.add(live)
    batch = fake_step(sched)
    assert batch.seqs == [live, pregen] and batch.num_tokens == [6, 2]
    assert sched.num_preemptions == 0  # room enough: nobody preempted


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), num_blocks=st.integers(16, 40), budget=st.integers(1, 24))
def test_everything_finishes_and_frees_with_mixed_priorities(seed, num_blocks, budget):
    rng = random.Random(seed)
    sched = make(num_blocks=num_blocks, block_size=4, max_num_batched_tokens=budget, max_num_seqs=4)
    pending = [seq_of(rng.randint(1, 30), rng.choice([LIVE, 5, PREGEN]), rng.randint(1, 20), first=rng.randint(3, 50))
               for _ in range(12)]
    seqs = list(pending)
    for _ in range(3000):
        if pending and rng.random() < 0.5:
            sched.add(pending.pop())
        if rng.random() < 0.05 and sched.running:
            sched.finish(rng.choice(sched.running), FinishReason.ABORT)
        batch = fake_step(sched)
        assert len(set(map(id, batch.seqs))) == len(batch.seqs)
        assert all(s in sched.running or s.is_finished for s in batch.seqs)
        assert sched.waiting == sorted(sched.waiting, key=lambda s: s.urgency)
        bm = sched.block_manager
        assert bm.num_free_blocks + bm.num_used_blocks == num_blocks
        if not pending and not sched.has_unfinished():
            break
    assert all(s.is_finished for s in seqs)
    assert sched.block_manager.num_free_blocks == num_blocks


# -- engines: who goes first, and answers unchanged ---------------------------------------------


@dataclass
class Arrival:
    prompt: list[int]
    max_tokens: int
    step: int
    priority: int


def run_arrivals(engine: LLMEngine, arrivals: list[Arrival]) -> tuple[list[list[int]], list[int], list[int]]:
    """Add each request at its step and run to the end. Per request, in the order given: its
    tokens, the step that gave its first token, and how often it was preempted."""
    ids: dict[int, int] = {}  # arrival index -> sequence id
    out: dict[int, list[int]] = {}
    first_step: dict[int, int] = {}
    seqs: dict[int, Sequence] = {}
    step = 0
    while step == 0 or engine.has_unfinished() or len(ids) < len(arrivals):
        for k, a in enumerate(arrivals):
            if a.step == step:
                seq_id = engine.add_request(a.prompt, SamplingParams(temperature=0.0, max_tokens=a.max_tokens),
                                            a.priority)
                ids[k] = seq_id
                out[seq_id] = []
                seqs[seq_id] = engine._seqs[seq_id]
        for o in engine.step():
            if o.new_token_ids and o.seq_id not in first_step:
                first_step[o.seq_id] = step
            out[o.seq_id].extend(o.new_token_ids)
        step += 1
    order = [ids[k] for k in range(len(arrivals))]
    return [out[i] for i in order], [first_step[i] for i in order], [seqs[i].num_preemptions for i in order]


@pytest.fixture(scope="module")
def hf_model():
    return tiny_hf_llama(seed=4)


def pregen_then_live(gen: torch.Generator, live_priority: int = LIVE) -> list[Arrival]:
    """Four long pre-generation answers fill a batch of four; live ones arrive while they run."""
    return ([Arrival(random_prompt(gen, 6 + k), 40, 0, PREGEN) for k in range(4)]
            + [Arrival(random_prompt(gen, 5 + k), 6, 4 + 2 * k, live_priority) for k in range(3)])


def check_against_hf(hf, arrivals: list[Arrival], tokens: list[list[int]]) -> None:
    for a, got in zip(arrivals, tokens, strict=True):
        assert got == hf_greedy(hf, a.prompt, a.max_tokens)


def test_live_requests_answer_in_their_arrival_step_and_every_answer_matches_hf(hf_model):
    arrivals = pregen_then_live(torch.Generator().manual_seed(1))
    engine = engine_for(hf_model, max_num_seqs=4)
    tokens, first, preempted = run_arrivals(engine, arrivals)
    live = [i for i, a in enumerate(arrivals) if a.priority == LIVE]
    assert [first[i] for i in live] == [arrivals[i].step for i in live]  # admitted and prefilled at once
    assert sum(preempted) >= 3 and engine.stats().preemptions["priority"] == sum(preempted)
    check_against_hf(hf_model, arrivals, tokens)
    assert engine.block_manager.num_free_blocks == engine.block_manager.num_blocks


def test_without_priority_the_same_live_requests_wait_for_a_free_slot(hf_model):
    """What the arena saw before: a full batch of pre-generation keeps a live request waiting."""
    arrivals = pregen_then_live(torch.Generator().manual_seed(1), live_priority=PREGEN)
    engine = engine_for(hf_model, max_num_seqs=4)
    tokens, first, preempted = run_arrivals(engine, arrivals)
    assert first[4] > arrivals[4].step + 20 and sum(preempted) == 0
    check_against_hf(hf_model, arrivals, tokens)


@pytest.mark.parametrize("prefix_caching", [False, True])
def test_priority_and_block_preemption_together_match_hf(hf_model, prefix_caching):
    """A small KV pool as well: sequences are preempted for blocks and for priority, some of them
    several times, and with prefix caching a resumed one recomputes only what was evicted."""
    gen = torch.Generator().manual_seed(1)
    rng = random.Random(1)
    arrivals = [Arrival(random_prompt(gen, rng.randint(6, 20)), rng.randint(20, 30), rng.randint(0, 2),
                        rng.choice([5, PREGEN])) for _ in range(6)]
    arrivals += [Arrival(random_prompt(gen, rng.randint(4, 12)), rng.randint(6, 12), rng.randint(4, 16), LIVE)
                 for _ in range(4)]
    # 20 blocks of 4 = 80 slots: enough for any one sequence (<= 50 tokens), not for four.
    engine = engine_for(hf_model, num_kv_blocks=20, max_model_len=64, max_num_seqs=4,
                        enable_prefix_caching=prefix_caching)
    tokens, _, preempted = run_arrivals(engine, arrivals)
    stats = engine.stats()
    assert stats.preemptions["priority"] > 0 and stats.preemptions["blocks"] > 0 and max(preempted) >= 2
    assert all(n == 0 for n, a in zip(preempted, arrivals, strict=True) if a.priority == LIVE)
    if prefix_caching:
        assert stats.prefix_cache_hit_blocks > 0
    check_against_hf(hf_model, arrivals, tokens)
    assert engine.block_manager.num_free_blocks == 20


def test_decode_ahead_reads_back_for_a_live_request_then_preempts(hf_model):
    arrivals = pregen_then_live(torch.Generator().manual_seed(2))
    engine, ahead = graphed(hf_model, max_num_seqs=4)
    tokens, first, preempted = run_arrivals(engine, arrivals)
    assert len(ahead) > 10 and sum(preempted) >= 3
    # The step queued ahead is read back first: the live request's first token comes one call later.
    assert first[4] <= arrivals[4].step + 1
    check_against_hf(hf_model, arrivals, tokens)
    assert engine.block_manager.num_free_blocks == engine.block_manager.num_blocks


def test_speculative_decoding_with_priority_preemption_matches_hf():
    target = speculative_target()
    arrivals = pregen_then_live(torch.Generator().manual_seed(5))
    engine = speculative_engine(target, truncated_draft(target), max_num_seqs=4)
    tokens, first, preempted = run_arrivals(engine, arrivals)
    stats = engine.stats()
    assert sum(preempted) >= 3 and stats.speculative is not None and stats.speculative.accepted_tokens > 0
    assert first[4] == arrivals[4].step
    check_against_hf(target, arrivals, tokens)
    bm = engine.block_manager
    assert bm.num_free_blocks == bm.num_blocks and all(b.ref_count == 0 for b in bm.blocks)


@pytest.mark.parametrize("priority", [-1001, 1001, True, 1.0, "0"])
def test_the_engine_refuses_an_out_of_range_priority(hf_model, priority):
    engine = engine_for(hf_model)
    with pytest.raises(InvalidParamsError) as err:
        engine.add_request([5, 6], SamplingParams(), priority)
    assert err.value.param == "priority"
