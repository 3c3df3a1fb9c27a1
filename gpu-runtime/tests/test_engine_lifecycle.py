"""After many random requests, random aborts and preemptions, nothing is left behind."""

from __future__ import annotations

import random

import pytest
import torch
from helpers_engine import engine_for, random_prompt, tiny_hf_llama

from leitai_runtime.scheduler import QueueFullError
from leitai_runtime.sequence import InvalidParamsError, SamplingParams


def test_200_random_requests_with_aborts_leave_every_block_free():
    hf = tiny_hf_llama(seed=5, hidden_size=32, intermediate_size=64)
    engine = engine_for(hf, num_kv_blocks=40, max_num_seqs=12, max_num_batched_tokens=32, max_model_len=96,
                        max_waiting=400)
    rng = random.Random(0)
    gen = torch.Generator().manual_seed(0)
    pending = 200
    live: list[int] = []
    finished: set[int] = set()
    reasons: dict[str, int] = {}
    while pending or engine.has_unfinished():
        for _ in range(rng.randint(0, 6)):
            if pending:
                pending -= 1
                params = SamplingParams(temperature=rng.choice([0.0, 0.8]), max_tokens=rng.randint(1, 24),
                                        seed=rng.randint(0, 9))
                live.append(engine.add_request(random_prompt(gen, rng.randint(1, 50)), params))
        if live and rng.random() < 0.3:
            engine.abort(live.pop(rng.randrange(len(live))))
        for out in engine.step():
            if out.finished:
                assert out.seq_id not in finished
                finished.add(out.seq_id)
                reasons[out.finish_reason] = reasons.get(out.finish_reason, 0) + 1
                if out.seq_id in live:
                    live.remove(out.seq_id)
    stats = engine.stats()
    assert len(finished) == 200 and reasons.get("abort", 0) > 0
    assert stats.kv_blocks_used == 0 and stats.kv_blocks_free == 40
    assert stats.num_running == 0 and stats.num_waiting == 0
    assert not engine._seqs and not engine._texts
    assert all(b.ref_count == 0 for b in engine.block_manager.blocks)


def test_bounded_waiting_queue_rejects_with_a_typed_error():
    engine = engine_for(tiny_hf_llama(seed=5), max_waiting=2)
    engine.add_request([5, 6], SamplingParams())
    engine.add_request([5, 6], SamplingParams())
    with pytest.raises(QueueFullError):
        engine.add_request([5, 6], SamplingParams())


@pytest.mark.parametrize("prompt,params,field", [
    ([], SamplingParams(), "prompt"),
    ([99999], SamplingParams(), "prompt"),
    ([5] * 300, SamplingParams(), "prompt"),
    ([5], SamplingParams(max_tokens=10_000), "max_tokens"),
])
def test_invalid_requests_name_the_field(prompt, params, field):
    engine = engine_for(tiny_hf_llama(seed=5), max_model_len=256)
    with pytest.raises(InvalidParamsError) as err:
        engine.add_request(prompt, params)
    assert err.value.param == field


def test_abort_of_a_waiting_request_and_of_an_unknown_id():
    engine = engine_for(tiny_hf_llama(seed=5))
    sid = engine.add_request([5, 6, 7], SamplingParams(max_tokens=5))
    engine.abort(sid)
    engine.abort(123456789)
    outs = engine.step()
    assert [(o.seq_id, o.finish_reason) for o in outs] == [(sid, "abort")]
    assert not engine.has_unfinished()
