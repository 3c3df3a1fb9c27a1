"""Decode-ahead (config.async_decode): the next greedy graph decode step is queued, fed the
previous step's tokens on the device, before those tokens are read back. On CPU the decode
graphs are EagerGraph stand-ins, so the bookkeeping runs as on a GPU, only without overlap."""

from __future__ import annotations

import random

import pytest
import torch
from helpers_engine import engine_for, greedy, hf_greedy, random_prompt, tiny_hf_llama
from test_engine_vs_hf import run_staggered

from leitai_runtime.cuda_graph import DecodeGraphRunner, EagerGraph
from leitai_runtime.engine import PLACEHOLDER, LLMEngine
from leitai_runtime.sequence import SamplingParams


@pytest.fixture(scope="module")
def hf_model():
    return tiny_hf_llama(seed=3)


def graphed(hf, **config) -> tuple[LLMEngine, list[int]]:
    """An engine with CPU decode graphs, and a list that counts its decode-ahead launches."""
    engine = engine_for(hf, **config)
    engine.runner.enable_decode_graphs(EagerGraph)
    ahead: list[int] = []
    launch = engine.runner.launch_decode

    def counted(batch, source=None):
        if source is not None:
            ahead.append(len(batch.seqs))
        return launch(batch, source)

    engine.runner.launch_decode = counted  # type: ignore[method-assign]
    return engine, ahead


def test_staggered_requests_match_hf_and_the_step_by_step_engine(hf_model):
    rng = random.Random(11)
    gen = torch.Generator().manual_seed(11)
    requests = [(random_prompt(gen, rng.randint(1, 40)), rng.randint(1, 24), rng.randint(0, 12)) for _ in range(18)]
    engine, ahead = graphed(hf_model, max_num_batched_tokens=48, max_num_seqs=8)
    step_by_step, never = graphed(hf_model, max_num_batched_tokens=48, max_num_seqs=8, async_decode=False)
    got = run_staggered(engine, requests)
    assert got == run_staggered(step_by_step, requests)
    for (prompt, max_tokens, _), tokens in zip(requests, got, strict=True):
        assert tokens == hf_greedy(hf_model, prompt, max_tokens)
    assert len(ahead) > 10 and never == []  # decode steps were queued ahead
    assert engine.block_manager.num_free_blocks == engine.block_manager.num_blocks


def test_stop_tokens_and_aborts_while_the_next_step_is_queued(hf_model):
    """A sequence that stops (or is aborted) with its next step already queued wastes that row and
    nothing else: the others match transformers, no placeholder leaks out, every block comes back."""
    gen = torch.Generator().manual_seed(5)
    prompts = [random_prompt(gen, 6 + 3 * k) for k in range(6)]
    full = [hf_greedy(hf_model, p, 16) for p in prompts]
    engine, ahead = graphed(hf_model, max_num_seqs=8)
    params = []
    expected: list[list[int] | None] = []
    for k, tokens in enumerate(full):
        if k % 2 == 0:  # stop at a token the model emits mid-answer
            stop = tokens[3 + k // 2]
            params.append(SamplingParams(temperature=0.0, max_tokens=16, stop_token_ids=(stop,)))
            expected.append(tokens[:tokens.index(stop) + 1])
        else:
            params.append(greedy(16))
            expected.append(tokens)
    ids = [engine.add_request(p, sp) for p, sp in zip(prompts, params, strict=True)]
    out: dict[int, list[int]] = {i: [] for i in ids}
    reasons: dict[int, str | None] = {}
    aborted = ids[3]
    steps = 0
    while engine.has_unfinished():
        if steps == 6:
            assert engine._launched is not None  # the abort lands while a step is queued
            engine.abort(aborted)
        for o in engine.step():
            out[o.seq_id].extend(o.new_token_ids)
            if o.finished:
                reasons[o.seq_id] = o.finish_reason
        steps += 1
    assert reasons[aborted] == "abort" and out[aborted] == full[3][:len(out[aborted])]
    for k, seq_id in enumerate(ids):
        assert PLACEHOLDER not in out[seq_id]
        if seq_id != aborted:
            assert out[seq_id] == expected[k]
            ends_at_eos = expected[k][-1] == hf_model.config.eos_token_id  # type: ignore[index]
            assert reasons[seq_id] == ("stop" if k % 2 == 0 or ends_at_eos else "length")
    assert ahead and engine.block_manager.num_free_blocks == engine.block_manager.num_blocks
    assert all(b.ref_count == 0 for b in engine.block_manager.blocks)


def test_short_of_blocks_or_with_requests_waiting_it_reads_back_first(hf_model):
    """Decode-ahead never preempts and never delays an admission: with a small KV pool and a
    queue of requests the engine falls back to step-by-step and the answers stay exact."""
    gen = torch.Generator().manual_seed(9)
    requests = [(random_prompt(gen, 10), 20, k // 3) for k in range(9)]
    engine, ahead = graphed(hf_model, num_kv_blocks=22, max_num_seqs=4, max_num_batched_tokens=16)
    got = run_staggered(engine, requests)
    for (prompt, max_tokens, _), tokens in zip(requests, got, strict=True):
        assert tokens == hf_greedy(hf_model, prompt, max_tokens)
    assert engine.scheduler.num_preemptions > 0  # the pool really was short
    assert engine.block_manager.num_free_blocks == engine.block_manager.num_blocks


def test_sampling_requests_keep_the_step_by_step_path(hf_model):
    gen = torch.Generator().manual_seed(2)
    engine, ahead = graphed(hf_model)
    params = SamplingParams(temperature=0.7, max_tokens=12, seed=4)
    first = engine.generate([random_prompt(gen, 8)] * 2, params)
    assert ahead == [] and first[0] == first[1]


def test_graph_runner_takes_input_tokens_from_a_device_tensor():
    seen: dict[str, torch.Tensor] = {}

    def fn(ids, meta):
        seen["ids"] = ids.clone()
        return ids.float()[:, None]

    runner = DecodeGraphRunner(fn, [4], max_blocks=2, block_size=4, scratch_block=7, device=torch.device("cpu"),
                               make_graph=EagerGraph)
    runner.capture()
    runner.run([5, 6, 7], [1, 2, 3], [1, 2, 3], [[0], [1], [2]])
    out = runner.run([], [4, 5], [4, 5], [[0], [1]], source=torch.tensor([50, 60, 70]), source_rows=[2, 0])
    assert out[:, 0].tolist() == [70.0, 50.0]
    assert seen["ids"].tolist() == [70, 50, 0, 0]  # padding rows stay token 0
    out = runner.run([8], [6], [6], [[0]])  # the other host buffer, then back to host tokens
    assert out[:, 0].tolist() == [8.0]


def test_prefix_cache_hits_on_blocks_published_while_a_step_was_queued(hf_model):
    """Blocks that fill up during decode-ahead are published before their step is read back;
    a request whose prompt repeats another's prompt and first answer tokens must reuse them
    and still answer exactly as transformers does."""
    gen = torch.Generator().manual_seed(21)
    prompt = random_prompt(gen, 10)
    engine, ahead = graphed(hf_model, block_size=4)
    first = engine.add_request(prompt, greedy(30))
    out: dict[int, list[int]] = {first: []}
    while len(out[first]) < 12:
        for o in engine.step():
            out[o.seq_id].extend(o.new_token_ids)
    assert ahead  # the first request's answer so far was decoded ahead
    follow_prompt = prompt + out[first][:10]
    hits_before = engine.block_manager.prefix_hit_blocks
    second = engine.add_request(follow_prompt, greedy(8))
    out[second] = []
    while engine.has_unfinished():
        for o in engine.step():
            out[o.seq_id].extend(o.new_token_ids)
    assert engine.block_manager.prefix_hit_blocks - hits_before >= 4  # 16 of its 20 tokens came from the cache
    assert out[first] == hf_greedy(hf_model, prompt, 30)
    assert out[second] == hf_greedy(hf_model, follow_prompt, 8)
