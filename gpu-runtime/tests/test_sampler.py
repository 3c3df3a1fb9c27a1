"""Sampler against transformers' logits processors, seeds, and stop handling in the engine."""

from __future__ import annotations

import pytest
import torch
from helpers_engine import engine_for, random_prompt, tiny_hf_llama
from transformers.generation.logits_process import (
    RepetitionPenaltyLogitsProcessor,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from leitai_runtime.sampler import Sampler, apply_repetition_penalty, apply_top_k_top_p
from leitai_runtime.sequence import InvalidParamsError, SamplingParams, Sequence


def test_repetition_penalty_matches_hf():
    logits = torch.randn(50, generator=torch.Generator().manual_seed(0))
    ids = [3, 7, 7, 20, 49]
    ref = RepetitionPenaltyLogitsProcessor(1.3)(torch.tensor([ids]), logits[None].clone())[0]
    torch.testing.assert_close(apply_repetition_penalty(logits, ids, 1.3), ref)


@pytest.mark.parametrize("top_k,top_p", [(5, 1.0), (0, 0.8), (10, 0.5), (0, 0.01)])
def test_top_k_top_p_match_hf(top_k, top_p):
    logits = torch.randn(64, generator=torch.Generator().manual_seed(1))
    ref = logits[None].clone()
    if top_k:
        ref = TopKLogitsWarper(top_k)(None, ref)
    if top_p < 1.0:
        ref = TopPLogitsWarper(top_p)(None, ref)
    assert torch.equal(torch.isinf(apply_top_k_top_p(logits, top_k, top_p)), torch.isinf(ref[0]))


def test_greedy_is_argmax_and_penalty_applies_to_prompt_too():
    sampler = Sampler()
    logits = torch.tensor([[0.0, 5.0, 4.0]])
    assert sampler(logits, [Sequence([0], SamplingParams(temperature=0))]) == [1]
    penalised = Sequence([1], SamplingParams(temperature=0, repetition_penalty=2.0))
    assert sampler(logits, [penalised]) == [2]


def test_seed_makes_a_draw_reproducible():
    logits = torch.randn(1, 100, generator=torch.Generator().manual_seed(2))
    params = SamplingParams(temperature=1.0, seed=11)
    draws = [[Sampler().sample_one(logits[0], Sequence([0], params)) for _ in range(1)] for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]


@pytest.mark.parametrize("field,value", [("temperature", -0.1), ("top_p", 0.0), ("top_p", 1.5),
                                         ("top_k", -1), ("max_tokens", 0), ("repetition_penalty", 0.0)])
def test_invalid_params_name_the_field(field, value):
    with pytest.raises(InvalidParamsError) as err:
        SamplingParams(**{field: value})
    assert err.value.param == field


def test_same_seed_same_output_regardless_of_batch():
    hf = tiny_hf_llama(seed=3)
    gen = torch.Generator().manual_seed(3)
    prompt = random_prompt(gen, 9)
    params = SamplingParams(temperature=0.9, top_k=50, top_p=0.95, seed=1234, max_tokens=12)
    alone = engine_for(hf).generate([prompt], params)[0]
    others = [random_prompt(gen, n) for n in (4, 15, 30)]
    noisy = SamplingParams(temperature=1.0, max_tokens=12)
    mixed = engine_for(hf).generate([others[0], prompt, others[1], others[2]],
                                    [noisy, params, noisy, noisy])[1]
    assert alone == mixed
    other_seed = engine_for(hf).generate([prompt], SamplingParams(temperature=0.9, seed=99, max_tokens=12))[0]
    assert other_seed != alone


def test_stop_token_ids_and_max_tokens_finish_reasons():
    hf = tiny_hf_llama(seed=3)
    engine = engine_for(hf)
    prompt = random_prompt(torch.Generator().manual_seed(4), 7)
    free = engine.generate([prompt], SamplingParams(temperature=0, max_tokens=6, ignore_eos=True))[0]
    sid = engine.add_request(prompt, SamplingParams(temperature=0, max_tokens=6, stop_token_ids=(free[2],)))
    outs = []
    while engine.has_unfinished():
        outs.extend(engine.step())
    finals = [o for o in outs if o.finished]
    assert finals[0].seq_id == sid and finals[0].finish_reason == "stop"
    assert [t for o in outs for t in o.new_token_ids] == free[:free.index(free[2]) + 1]
    sid = engine.add_request(prompt, SamplingParams(temperature=0, max_tokens=4, ignore_eos=True))
    outs = []
    while engine.has_unfinished():
        outs.extend(engine.step())
    assert outs[-1].finish_reason == "length" and outs[-1].num_output_tokens == 4
