"""The engine's three decoding modes, one method each: step() sends every step through the mode
it chose (plain, decode-ahead, speculative), and in each mode greedy output is transformers' own
while requests join the batch and leave it (at their length limits, or aborted)."""

from __future__ import annotations

import random

import pytest
import torch
from helpers_engine import engine_for, greedy, hf_greedy, random_prompt, tiny_hf_llama
from helpers_speculative import speculative_engine, speculative_target, truncated_draft
from test_decode_ahead import graphed

from leitai_runtime.engine import LLMEngine
from leitai_runtime.scheduler import ScheduledBatch

MODES = ("_step_plain", "_step_decode_ahead", "_step_speculative")
ABORTED = 4  # the request aborted mid-answer


@pytest.fixture(scope="module")
def hf_model():
    return tiny_hf_llama(seed=4)


def batch_kind(batch: ScheduledBatch | None) -> str:
    """'read back' (decode-ahead with a step in flight), 'decode' (one sampled token per sequence)
    or 'prefill' (some chunk of a prompt in it)."""
    if batch is None:
        return "read back"
    decode = all(n == 1 and batch.samples(i) for i, n in enumerate(batch.num_tokens))
    return "decode" if decode else "prefill"


def spy_modes(engine: LLMEngine) -> dict[str, list[str]]:
    """Wrap the engine's mode methods; per mode, the kind of batch of each step it ran."""
    seen: dict[str, list[str]] = {name: [] for name in MODES}
    for name in MODES:
        method = getattr(engine, name)

        def spy(batch, *rest, _kinds=seen[name], _method=method):
            _kinds.append(batch_kind(batch))
            return _method(batch, *rest)

        setattr(engine, name, spy)
    return seen


def requests_for(seed: int, n: int = 10) -> list[tuple[list[int], int, int]]:
    """(prompt, max_tokens, arrival step): staggered arrivals, answers of different lengths."""
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    return [(random_prompt(gen, rng.randint(2, 30)), rng.randint(4, 20), rng.randint(0, 10))
            for _ in range(n)]


def run(engine: LLMEngine, requests: list[tuple[list[int], int, int]], abort_at: int
        ) -> tuple[list[list[int]], str]:
    """Each request added at its arrival step, request ABORTED aborted at step `abort_at`; returns
    the tokens of each and the aborted one's finish reason."""
    ids: list[int | None] = [None] * len(requests)
    out: dict[int, list[int]] = {}
    reasons: dict[int, str | None] = {}
    step = 0
    while step == 0 or engine.has_unfinished() or None in ids:
        for k, (prompt, max_tokens, arrival) in enumerate(requests):
            if arrival == step:
                seq_id = ids[k] = engine.add_request(prompt, greedy(max_tokens))
                out[seq_id] = []
        if step == abort_at:
            aborted = ids[ABORTED]
            assert aborted is not None and out[aborted]  # it has started its answer
            engine.abort(aborted)
        for o in engine.step():
            out[o.seq_id].extend(o.new_token_ids)
            if o.finished:
                reasons[o.seq_id] = o.finish_reason
        step += 1
    seq_ids = [i for i in ids if i is not None]
    return [out[i] for i in seq_ids], str(reasons[seq_ids[ABORTED]])


def check_against_hf(hf, requests: list[tuple[list[int], int, int]], got: list[list[int]]) -> None:
    for k, ((prompt, max_tokens, _), tokens) in enumerate(zip(requests, got, strict=True)):
        full = hf_greedy(hf, prompt, max_tokens)
        assert tokens == (full[:len(tokens)] if k == ABORTED else full)
    assert len(got[ABORTED]) < len(hf_greedy(hf, requests[ABORTED][0], requests[ABORTED][1]))


def all_blocks_free(engine: LLMEngine) -> bool:
    bm = engine.block_manager
    return bm.num_free_blocks == bm.num_blocks and all(b.ref_count == 0 for b in bm.blocks)


def test_plain_mode(hf_model):
    requests = requests_for(1)
    engine = engine_for(hf_model, max_num_batched_tokens=32, max_num_seqs=6)
    seen = spy_modes(engine)
    got, reason = run(engine, requests, abort_at=requests[ABORTED][2] + 3)
    check_against_hf(hf_model, requests, got)
    assert reason == "abort"
    assert seen["_step_plain"].count("decode") > 10 and "prefill" in seen["_step_plain"]
    assert seen["_step_decode_ahead"] == seen["_step_speculative"] == []
    assert all_blocks_free(engine)


def test_decode_ahead_mode(hf_model):
    requests = requests_for(2)
    engine, ahead = graphed(hf_model, max_num_batched_tokens=32, max_num_seqs=6)
    seen = spy_modes(engine)
    got, reason = run(engine, requests, abort_at=requests[ABORTED][2] + 3)
    check_against_hf(hf_model, requests, got)
    assert reason == "abort"
    # Every decode-only step went ahead; plain steps ran only prompts' chunks.
    assert "decode" in seen["_step_decode_ahead"] and seen["_step_decode_ahead"].count("read back") > 10
    assert set(seen["_step_plain"]) == {"prefill"} and seen["_step_speculative"] == []
    assert len(ahead) > 5  # steps queued before the previous one was read back
    assert engine._launched is None and all_blocks_free(engine)


def test_speculative_mode():
    target = speculative_target(seed=1)
    requests = requests_for(3)
    # A pool too small for every answer at once: sequences are preempted, their draft state rebuilt.
    engine = speculative_engine(target, truncated_draft(target), num_kv_blocks=20, max_model_len=64,
                                max_num_batched_tokens=32, max_num_seqs=6)
    spec = engine.speculator
    assert spec is not None
    seen = spy_modes(engine)
    fill = spec.runner.fill
    resumed: set[int] = set()

    def checked_fill(batch: ScheduledBatch) -> None:
        """The draft's chunks start where its cache ends: never past the target's, whose blocks
        past its prefix-cache hits are new after a preemption (the draft's count starts again)."""
        assert batch.starts is not None
        for seq, start in zip(batch.seqs, batch.starts, strict=True):
            assert start <= seq.num_computed_tokens
            if seq.num_preemptions:
                resumed.add(seq.seq_id)
        fill(batch)

    spec.runner.fill = checked_fill  # type: ignore[method-assign]
    got, reason = run(engine, requests, abort_at=requests[ABORTED][2] + 3)
    check_against_hf(target, requests, got)
    assert resumed  # the draft followed the prompt of a sequence admitted again after a preemption
    assert reason == "abort"
    stats = engine.stats()
    assert stats.num_preemptions > 0
    assert stats.speculative is not None and stats.speculative.accepted_tokens > 0
    assert len(seen["_step_speculative"]) > 10 and seen["_step_decode_ahead"] == []
    assert spec._drafts == {}  # freed as the sequences ended
    assert all_blocks_free(engine)
