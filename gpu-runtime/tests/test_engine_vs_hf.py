"""Acceptance: greedy decoding is token-identical to transformers on the same weights."""

from __future__ import annotations

import random

import pytest
import torch
from helpers_engine import engine_for, greedy, hf_greedy, random_prompt, tiny_hf_llama

from leitai_runtime.engine import LLMEngine
from leitai_runtime.layers import torch_attention


@pytest.fixture(scope="module")
def hf_model():
    return tiny_hf_llama(seed=0)


def run_staggered(engine: LLMEngine, requests: list[tuple[list[int], int, int]]) -> list[list[int]]:
    """requests: (prompt, max_tokens, arrival step). Adds each at its step, runs to the end."""
    outputs: dict[int, list[int]] = {}
    ids: list[int | None] = [None] * len(requests)
    step = 0
    while step == 0 or engine.has_unfinished() or any(i is None for i in ids):
        for k, (prompt, max_tokens, arrival) in enumerate(requests):
            if arrival == step:
                seq_id = engine.add_request(prompt, greedy(max_tokens))
                ids[k] = seq_id
                outputs[seq_id] = []
        for out in engine.step():
            outputs[out.seq_id].extend(out.new_token_ids)
        step += 1
    return [outputs[i] for i in ids if i is not None]


def test_single_request_matches_hf(hf_model):
    prompt = random_prompt(torch.Generator().manual_seed(1), 11)
    engine = engine_for(hf_model)
    assert engine.generate([prompt], greedy(24)) == [hf_greedy(hf_model, prompt, 24)]


@pytest.mark.parametrize("per_sequence_attention", [False, True])
def test_staggered_concurrent_requests_match_hf(hf_model, monkeypatch, per_sequence_attention):
    if per_sequence_attention:  # the path long prefills take
        monkeypatch.setattr(torch_attention, "BATCHED_MAX_ELEMENTS", 0)
    rng = random.Random(7)
    gen = torch.Generator().manual_seed(7)
    requests = [(random_prompt(gen, rng.randint(1, 40)), rng.randint(1, 24), rng.randint(0, 12))
                for _ in range(18)]
    engine = engine_for(hf_model, max_num_batched_tokens=48)
    got = run_staggered(engine, requests)
    for (prompt, max_tokens, _), tokens in zip(requests, got, strict=True):
        assert tokens == hf_greedy(hf_model, prompt, max_tokens)
    assert engine.block_manager.num_used_blocks == 0


@pytest.mark.parametrize("prefix_caching", [False, True])
def test_preemption_under_a_tiny_kv_pool_matches_hf(hf_model, prefix_caching):
    gen = torch.Generator().manual_seed(3)
    requests = [(random_prompt(gen, 10 + 3 * k), 20, k % 3) for k in range(8)]
    # 20 blocks of 4 = 80 slots: enough for any one sequence (<= 51 tokens), not for all.
    # With prefix caching, a preempted sequence recomputes only what was evicted meanwhile.
    engine = engine_for(hf_model, num_kv_blocks=20, max_model_len=64, enable_prefix_caching=prefix_caching)
    got = run_staggered(engine, requests)
    assert engine.stats().num_preemptions > 0
    for (prompt, max_tokens, _), tokens in zip(requests, got, strict=True):
        assert tokens == hf_greedy(hf_model, prompt, max_tokens)
    assert engine.block_manager.num_free_blocks == 20


def test_prefix_cache_hits_keep_outputs_identical(hf_model):
    gen = torch.Generator().manual_seed(5)
    shared = random_prompt(gen, 21)
    prompts = [shared, shared + random_prompt(gen, 6), shared, shared[:13]]
    engine = engine_for(hf_model)
    first = engine.generate([prompts[0]], greedy(10))
    rest = engine.generate(prompts[1:], greedy(10))
    assert engine.stats().prefix_cache_hit_blocks > 0
    for prompt, tokens in zip(prompts, first + rest, strict=True):
        assert tokens == hf_greedy(hf_model, prompt, 10)


def test_prompt_longer_than_the_token_budget_is_chunked(hf_model):
    gen = torch.Generator().manual_seed(9)
    long_prompt = random_prompt(gen, 70)
    engine = engine_for(hf_model, max_num_batched_tokens=16)
    short = random_prompt(gen, 5)
    short_id = engine.add_request(short, greedy(12))
    engine.step()
    long_id = engine.add_request(long_prompt, greedy(12))
    tokens: dict[int, list[int]] = {short_id: [], long_id: []}
    per_step_tokens = []
    while engine.has_unfinished():
        outs = engine.step()
        per_step_tokens.append(sum(len(o.new_token_ids) for o in outs))
        for o in outs:
            tokens[o.seq_id].extend(o.new_token_ids)
    assert tokens[long_id] == hf_greedy(hf_model, long_prompt, 12)
    # The short request kept decoding while the long prompt was prefilled in chunks.
    assert all(n >= 1 for n in per_step_tokens[:5])


@pytest.mark.parametrize("kv_heads", [1, 4])
def test_gqa_and_mha_match_hf(kv_heads):
    hf = tiny_hf_llama(seed=2, num_key_value_heads=kv_heads)
    gen = torch.Generator().manual_seed(2)
    prompts = [random_prompt(gen, n) for n in (3, 17, 29)]
    engine = engine_for(hf)
    assert engine.generate(prompts, greedy(16)) == [hf_greedy(hf, p, 16) for p in prompts]
