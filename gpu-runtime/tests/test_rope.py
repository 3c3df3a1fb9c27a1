"""RoPE scaling against transformers' own implementations (modeling_rope_utils).

What is compared:
- inv_freq and the cos/sin multiplier for none/linear/dynamic/yarn against ROPE_INIT_FUNCTIONS
  (dynamic: for several sequence lengths, ours with alpha from that length);
- cos/sin against LlamaRotaryEmbedding.forward for linear and yarn;
- greedy tokens of the whole model against HF generate for linear and yarn;
- dynamic NTK, where transformers re-derives the base at every step from the current length
  (so its cached keys were rotated with a different base) while we fix alpha at admission:
  (a) prefill logits of a prompt longer than max_position_embeddings equal HF's forward on
      that prompt (both use alpha from the prompt length);
  (b) greedy tokens equal HF generate while everything stays within max_position_embeddings
      (HF's scaling is then inactive, ours alpha = 1);
  (c) greedy tokens for a long prompt equal HF generate with its rotary frozen at the
      admission-time alpha, i.e. exactly the "fixed per request" semantics.
"""

from __future__ import annotations

import pytest
import torch
from helpers_engine import engine_for, greedy, hf_greedy, random_prompt, tiny_hf_llama
from transformers import LlamaConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

from leitai_runtime.config import ModelConfig
from leitai_runtime.rope import RotaryEmbedding, dynamic_alpha, rope_parameters

SCALINGS = {
    "linear": {"type": "linear", "factor": 4.0},
    "dynamic": {"type": "dynamic", "factor": 2.0},
    "yarn": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64},
    "yarn_mscale": {"rope_type": "yarn", "factor": 8.0, "mscale": 0.707, "mscale_all_dim": 0.707,
                    "beta_fast": 16, "beta_slow": 2},
}


def hf_config(scaling: dict | None, max_pos: int = 256) -> LlamaConfig:
    return LlamaConfig(vocab_size=64, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=max_pos,
                       rope_scaling=scaling, rope_theta=10000.0)


@pytest.mark.parametrize("name", [None, *SCALINGS])
def test_inv_freq_and_attention_factor_match_transformers(name):
    cfg = hf_config(SCALINGS.get(name) if name else None)
    ours = ModelConfig.from_hf(cfg.to_dict())
    rope_type = "default" if name is None else (cfg.rope_scaling.get("rope_type") or cfg.rope_scaling["type"])
    lengths = [None, 100, 256, 300, 1000] if rope_type == "dynamic" else [None]
    for seq_len in lengths:
        ref_inv, ref_factor = ROPE_INIT_FUNCTIONS[rope_type](cfg, "cpu", seq_len=seq_len)
        inv, factor = rope_parameters(ours, dynamic_alpha(ours, seq_len or 0))
        torch.testing.assert_close(inv, ref_inv, rtol=1e-6, atol=0)
        assert factor == pytest.approx(ref_factor)


@pytest.mark.parametrize("name", ["linear", "yarn", "yarn_mscale"])
def test_cos_sin_match_llama_rotary_embedding(name):
    cfg = hf_config(SCALINGS[name])
    hf_rot = LlamaRotaryEmbedding(cfg)
    positions = torch.tensor([0, 1, 5, 63, 64, 200, 255])
    ref_cos, ref_sin = hf_rot(torch.zeros(1, dtype=torch.float32), positions[None, :])
    cos, sin = RotaryEmbedding(ModelConfig.from_hf(cfg.to_dict())).cos_sin(positions)
    torch.testing.assert_close(cos, ref_cos[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(sin, ref_sin[0], rtol=0, atol=1e-6)


def test_dynamic_alpha_is_per_sequence_in_one_batch():
    cfg = ModelConfig.from_hf(hf_config(SCALINGS["dynamic"], max_pos=32).to_dict())
    rot = RotaryEmbedding(cfg)
    alphas = [1.0, dynamic_alpha(cfg, 50)]
    positions = torch.tensor([3, 3])
    cos, _ = rot.cos_sin(positions, alphas, torch.tensor([0, 1]))
    assert alphas[1] == pytest.approx(2 * 50 / 32 - 1)
    assert not torch.allclose(cos[0], cos[1])
    torch.testing.assert_close(cos[0], rot.cos_sin(positions[:1])[0][0])


@pytest.mark.parametrize("name", ["linear", "yarn", "yarn_mscale"])
def test_scaled_model_greedy_matches_hf(name):
    hf = tiny_hf_llama(seed=4, rope_scaling=SCALINGS[name])
    gen = torch.Generator().manual_seed(4)
    prompts = [random_prompt(gen, n) for n in (9, 90)]
    engine = engine_for(hf)
    assert engine.generate(prompts, greedy(16)) == [hf_greedy(hf, p, 16) for p in prompts]


@pytest.fixture(scope="module")
def dynamic_model():
    return tiny_hf_llama(seed=6, max_position_embeddings=32, rope_scaling=SCALINGS["dynamic"])


def test_dynamic_prefill_logits_beyond_max_positions_match_hf(dynamic_model):
    prompt = random_prompt(torch.Generator().manual_seed(6), 50)  # > max_position_embeddings = 32
    engine = engine_for(dynamic_model)
    engine.add_request(prompt, greedy(1))
    engine._drain_inbox([])
    logits = engine.runner.logits(engine.scheduler.schedule())[0]
    with torch.no_grad():
        ref = dynamic_model(torch.tensor([prompt])).logits[0, -1]
    torch.testing.assert_close(logits, ref, rtol=1e-4, atol=1e-4)


def test_dynamic_greedy_within_trained_length_matches_hf(dynamic_model):
    prompt = random_prompt(torch.Generator().manual_seed(8), 12)
    engine = engine_for(dynamic_model)
    assert engine.generate([prompt], greedy(18)) == [hf_greedy(dynamic_model, prompt, 18)]


def test_dynamic_greedy_long_prompt_matches_hf_with_alpha_frozen_at_admission():
    hf = tiny_hf_llama(seed=6, max_position_embeddings=32, rope_scaling=SCALINGS["dynamic"])
    prompt = random_prompt(torch.Generator().manual_seed(10), 45)
    rot = hf.model.rotary_emb
    inv_freq, _ = ROPE_INIT_FUNCTIONS["dynamic"](hf.config, "cpu", seq_len=len(prompt))
    rot.register_buffer("inv_freq", inv_freq, persistent=False)
    rot.rope_type = "default"  # stop transformers from re-deriving the base every step
    engine = engine_for(hf)
    assert engine.generate([prompt], greedy(16)) == [hf_greedy(hf, prompt, 16)]
