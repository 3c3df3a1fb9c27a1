"""Sampler against transformers' logits processors, seeds, and stop handling in the engine."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from helpers_engine import engine_for, random_prompt, tiny_hf_llama
from transformers.generation.logits_process import (
    RepetitionPenaltyLogitsProcessor,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from leitai_runtime.sampler import (
    FAILED,
    Sampler,
    apply_repetition_penalty,
    apply_temperature,
    apply_top_k_top_p,
    warp,
)
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


@pytest.mark.parametrize("temperature,penalty", [(1e-40, 1.0), (1e-300, 1.0), (1.0, 1e-40), (2.0, 5e-324),
                                                 (0.5, 1e300), (1e-40, 1e-40), (0.7, 1.3)])
def test_extreme_values_give_a_distribution(temperature, penalty):
    logits = torch.randn(64, generator=torch.Generator().manual_seed(5)) * 10
    params = SamplingParams(temperature=temperature, repetition_penalty=penalty, top_k=8, top_p=0.9)
    probs = torch.softmax(warp(logits, params, [3, 7, 9, 40]), dim=-1)
    assert torch.isfinite(probs).all() and abs(float(probs.sum()) - 1) < 1e-5
    token = Sampler().sample_one(logits, Sequence([3, 7, 9, 40], replace(params, seed=0)))
    assert 0 <= token < 64


def test_a_vanishing_temperature_is_the_argmax():
    logits = torch.randn(100, generator=torch.Generator().manual_seed(6)) * 10
    for temperature in (1e-40, 1e-300, 5e-324):
        warped = apply_temperature(logits, temperature)
        assert int(warped.argmax()) == int(logits.argmax()) and torch.isinf(warped).sum() == 99
        assert warped.max() == 0
    ties = apply_temperature(torch.tensor([1.0, 3.0, 3.0, 2.5, float("-inf")]), 1e-300)
    assert torch.softmax(ties, -1).tolist() == [0.0, 0.5, 0.5, 0.0, 0.0]  # a draw between the ties
    # HF's logits / T otherwise, up to a shift: the same softmax, which is what is drawn from
    torch.testing.assert_close(torch.softmax(apply_temperature(logits, 0.7), -1), torch.softmax(logits / 0.7, -1))


def test_extreme_penalties_stay_finite_and_normal_ones_match_hf():
    logits = torch.randn(50, generator=torch.Generator().manual_seed(0))
    for penalty in (1e-40, 5e-324, 1e-25, 1e25, 1e300):
        assert torch.isfinite(apply_repetition_penalty(logits, [1, 2, 3], penalty)).all()
    for penalty in (0.7, 1.3, 3.1):  # bit for bit
        ref = RepetitionPenaltyLogitsProcessor(penalty)(torch.tensor([[1, 2, 3]]), logits[None].clone())[0]
        assert torch.equal(apply_repetition_penalty(logits, [1, 2, 3], penalty), ref)


def test_a_row_without_a_distribution_fails_alone():
    logits = torch.randn(3, 10, generator=torch.Generator().manual_seed(7))
    logits[1] = float("nan")
    seqs = [Sequence([0], SamplingParams(temperature=1.0, seed=s)) for s in range(3)]
    sampler = Sampler()
    tokens = sampler(logits, seqs)
    assert tokens[1] == FAILED and all(0 <= t < 10 for t in (tokens[0], tokens[2]))
    assert "no distribution" in (sampler.take_failure(seqs[1].seq_id) or "")
    assert sampler.take_failure(seqs[1].seq_id) is None and sampler.take_failure(seqs[0].seq_id) is None


def test_a_row_without_a_distribution_never_reaches_multinomial(monkeypatch):
    """multinomial's own check of its input is an assert that on CUDA breaks the device for every
    request: a bad row must be caught before it."""
    real = torch.multinomial

    def checked(probs, *args, **kwargs):
        assert torch.isfinite(probs).all() and probs.sum() > 0, probs
        return real(probs, *args, **kwargs)
    monkeypatch.setattr(torch, "multinomial", checked)
    for bad in (float("nan"), float("-inf")):
        logits = torch.full((1, 10), bad)
        sampler = Sampler()
        assert sampler(logits, [Sequence([0], SamplingParams(temperature=1.0, seed=0))]) == [FAILED]


@pytest.mark.parametrize("penalty", [1e-40, 5e-324])
@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_a_vanishing_penalty_keeps_the_order_of_the_seen_logits(penalty, temperature):
    # seen: id 1 (logit 1) and id 2 (logit 5); both overflow float32, and the 5 must stay on top
    logits = torch.tensor([3.0, 1.0, 5.0, -2.0, 0.5])
    penalised = apply_repetition_penalty(logits, [1, 2, 3], penalty)
    assert torch.isfinite(penalised).all() and penalised[2] > penalised[1] > penalised[0]
    seq = Sequence([1, 2, 3], SamplingParams(temperature=temperature, repetition_penalty=penalty, seed=0))
    assert Sampler()(logits[None], [seq]) == [2]


def test_a_device_fault_is_not_one_requests_failure(monkeypatch):
    """Only a row with no distribution ends a request alone; an error of the draw itself (a CUDA
    fault surfacing there) fails the step, as before."""
    def broken(*args, **kwargs):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")
    monkeypatch.setattr(torch, "multinomial", broken)
    sampler = Sampler()
    with pytest.raises(RuntimeError, match="illegal memory access"):
        sampler(torch.zeros(1, 10), [Sequence([0], SamplingParams(temperature=1.0))])
    assert not sampler.failures


def test_failed_is_not_the_decode_ahead_placeholder():
    from leitai_runtime.engine import PLACEHOLDER
    assert FAILED != PLACEHOLDER and FAILED < 0
