"""Fused q/k/v and gate/up weights (the GPU path) keep names, values and outputs."""

from __future__ import annotations

import torch
from helpers_engine import tiny_hf_llama

from leitai_runtime.config import ModelConfig
from leitai_runtime.layers.attention import AttentionMetadata, get_attention_backend
from leitai_runtime.models.llama import LlamaForCausalLM
from leitai_runtime.rope import RotaryEmbedding


def forward(model: LlamaForCausalLM, config: ModelConfig, ids: torch.Tensor) -> torch.Tensor:
    n = ids.shape[0]
    caches = [(torch.zeros(4, 4, config.num_key_value_heads, config.head_dim),
               torch.zeros(4, 4, config.num_key_value_heads, config.head_dim))
              for _ in range(config.num_hidden_layers)]
    meta = AttentionMetadata(
        positions=torch.arange(n), token_seq=torch.zeros(n, dtype=torch.long), slot_mapping=torch.arange(n),
        block_tables=torch.tensor([[0, 1, 2]], dtype=torch.int32), context_lens=torch.tensor([n], dtype=torch.int32),
        query_lens=[n], context_lens_host=[n], block_size=4)
    cos, sin = RotaryEmbedding(config).cos_sin(meta.positions)
    return model(ids, cos, sin, meta, caches, get_attention_backend("torch"))


def test_fused_projections_match_and_share_the_state_dict():
    hf = tiny_hf_llama(seed=3)
    config = ModelConfig.from_hf(hf.config.to_dict())
    weights = {k: v.clone() for k, v in hf.state_dict().items()}
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    model.load_hf_state_dict(weights)
    ids = torch.tensor([5, 9, 33, 7, 100])
    before = forward(model, config, ids)
    names = sorted(model.state_dict())
    model.fuse_projections(weights)
    attn = model.model.layers[0].self_attn
    assert attn.qkv_weight is not None and attn.qkv_weight.shape[0] == attn.q_proj.weight.shape[0] + 2 * 32
    assert sorted(model.state_dict()) == names
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, hf.state_dict()[name], rtol=0, atol=0)
    # The caller's dict now holds views of the fused weights, not the unfused copies.
    k = weights["model.layers.1.self_attn.k_proj.weight"]
    assert k.untyped_storage().data_ptr() == model.model.layers[1].self_attn.qkv_weight.untyped_storage().data_ptr()
    torch.testing.assert_close(forward(model, config, ids), before, rtol=1e-6, atol=1e-6)
