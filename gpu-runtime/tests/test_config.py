"""Config validation: clear errors naming the field."""

from __future__ import annotations

import pytest
from transformers import LlamaConfig

from leitai_runtime.config import ConfigError, EngineConfig, ModelConfig


def hf(**kw) -> dict:
    return LlamaConfig(vocab_size=100, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, **kw).to_dict()


def test_from_hf_reads_the_llama_shape():
    cfg = ModelConfig.from_hf(hf(rope_scaling={"type": "linear", "factor": 4.0}, max_position_embeddings=4096))
    assert (cfg.head_dim, cfg.num_key_value_heads, cfg.eos_token_ids) == (16, 2, (2,))
    assert cfg.rope_scaling is not None and cfg.rope_scaling.rope_type == "linear"
    assert cfg.context_limit == 16384


@pytest.mark.parametrize("change,fragment", [
    ({"num_key_value_heads": 3}, "multiple of num_key_value_heads"),
    ({"rope_scaling": {"type": "longrope", "factor": 2.0}}, "not supported; valid: linear, dynamic, yarn"),
    ({"rope_scaling": {"type": "linear"}}, "factor is required"),
    ({"rope_scaling": {"type": "linear", "factor": 0.5}}, "factor must be"),
    ({"vocab_size": 0}, "vocab_size must be positive"),
])
def test_model_config_errors(change, fragment):
    raw = {**hf(), **change}
    with pytest.raises(ConfigError, match=fragment):
        ModelConfig.from_hf(raw)


# One field each at a value the model code does not implement, and (a regex of) the error that
# names it. Shared with test_loader_hf, where the same configs are refused as checkpoints.
UNSUPPORTED_FIELDS = [
    ({"hidden_act": "gelu"}, r"hidden_act = 'gelu'"),
    ({"attention_bias": True}, r"attention_bias = True"),
    ({"mlp_bias": True}, r"mlp_bias = True"),
    ({"sliding_window": 128}, r"sliding_window = 128"),
    ({"use_sliding_window": True, "sliding_window": 128}, r"use_sliding_window = True"),
    ({"layer_types": ["full_attention", "sliding_attention"]}, r"layer_types = \['sliding_attention'\]"),
    ({"rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                       "original_max_position_embeddings": 64}}, r"rope_scaling.*'llama3'"),
    ({"rope_scaling": {"rope_type": "longrope", "factor": 2.0}}, r"rope_scaling.*'longrope'"),
    ({"rope_scaling": {"type": "default", "mrope_section": [2, 3, 3]}}, r"rope_scaling\.mrope_section = \[2, 3, 3\]"),
    ({"use_mrope": True}, r"use_mrope = True"),
    ({"partial_rotary_factor": 0.5}, r"partial_rotary_factor = 0\.5"),
    ({"tie_word_embeddings": "yes"}, r"tie_word_embeddings = 'yes'"),
    ({"norm_type": "layer_norm"}, r"norm_type = 'layer_norm'"),
    ({"rms_norm_eps": None, "layer_norm_eps": 1e-5}, r"layer_norm_eps = 1e-05"),
    ({"rms_norm_eps": -1.0}, r"rms_norm_eps must be positive"),
    ({"num_local_experts": 8}, r"num_local_experts = 8"),
    ({"num_experts": 4}, r"num_experts = 4"),
    ({"n_routed_experts": 64}, r"n_routed_experts = 64"),
    ({"qk_layernorm": True}, r"qk_layernorm = True"),
    ({"use_qk_norm": True}, r"use_qk_norm = True"),
    ({"final_logit_softcapping": 30.0}, r"final_logit_softcapping = 30\.0"),
    ({"attn_logit_softcapping": 50.0}, r"attn_logit_softcapping = 50\.0"),
    ({"embedding_multiplier": 12.0}, r"embedding_multiplier = 12\.0"),
    ({"residual_multiplier": 0.22}, r"residual_multiplier = 0\.22"),
    ({"logits_scaling": 8.0}, r"logits_scaling = 8\.0"),
    ({"attention_multiplier": 0.0078125}, r"attention_multiplier = 0\.0078125"),
    ({"query_pre_attn_scalar": 256}, r"query_pre_attn_scalar = 256"),
    ({"quantization_config": {"quant_method": "gptq", "bits": 4}}, r"quantization_config\.quant_method = 'gptq'"),
    ({"head_dim": 15}, r"head_dim.*even"),
    ({"architectures": ["MixtralForCausalLM"]}, r"unsupported architecture 'MixtralForCausalLM'"),
    ({"model_type": "gemma"}, r"unsupported model_type 'gemma'"),
    ({"architectures": ["Qwen2ForCausalLM"]}, r"model_type 'llama' does not match architectures \['Qwen2ForCausalLM'\]"),
]
# The same fields at values plain Llama has: all served.
SUPPORTED_FIELDS = {
    "hidden_act": "silu", "attention_bias": False, "mlp_bias": False, "sliding_window": None,
    "use_sliding_window": False, "layer_types": ["full_attention", "full_attention"],
    "rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128},
    "use_mrope": False, "partial_rotary_factor": 1.0, "tie_word_embeddings": False, "norm_type": "rms_norm",
    "rms_norm_eps": 1e-5, "layer_norm_eps": None, "num_local_experts": 0, "num_experts": None,
    "n_routed_experts": None, "qk_layernorm": False, "use_qk_norm": False, "final_logit_softcapping": None,
    "attn_logit_softcapping": None, "embedding_multiplier": 1.0, "residual_multiplier": 1.0, "logits_scaling": 1,
    "attention_multiplier": None, "query_pre_attn_scalar": None, "quantization_config": None, "head_dim": 16,
    "pretraining_tp": 2, "architectures": ["LlamaForCausalLM"], "model_type": "llama",
}  # fmt: skip


def field_ids(cases: list[tuple[dict, str]]) -> list[str]:
    return ["+".join(change) + (f"-{i}" if [c for c, _ in cases[:i]].count(change) else "")
            for i, (change, _) in enumerate(cases)]


@pytest.mark.parametrize(("change", "named"), UNSUPPORTED_FIELDS, ids=field_ids(UNSUPPORTED_FIELDS))
def test_unsupported_fields_are_refused_by_name(change, named):
    with pytest.raises(ConfigError, match=named):
        ModelConfig.from_hf({**hf(), **change})


def test_the_same_fields_at_supported_values_are_served():
    cfg = ModelConfig.from_hf({**hf(), **SUPPORTED_FIELDS})
    assert cfg.rope_scaling is not None and cfg.rope_scaling.rope_type == "yarn" and not cfg.qkv_bias
    # a window that spans the whole context changes nothing; Qwen2 keeps one that is switched off
    assert ModelConfig.from_hf(hf(sliding_window=2048, max_position_embeddings=2048)).max_position_embeddings == 2048
    qwen2 = {**hf(), "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "sliding_window": 128,
             "use_sliding_window": False, "attention_bias": False}
    assert ModelConfig.from_hf(qwen2).qkv_bias
    # head_dim other than hidden_size / heads, and GQA
    assert ModelConfig.from_hf(hf(head_dim=32)).head_dim == 32


def test_missing_field_is_named():
    raw = hf()
    del raw["hidden_size"]
    with pytest.raises(ConfigError, match="hidden_size"):
        ModelConfig.from_hf(raw)


@pytest.mark.parametrize("kw,fragment", [
    ({"block_size": 12}, "power of two"),
    ({"num_kv_blocks": 10, "gpu_memory_utilization": 0.5}, "either"),
    ({"gpu_memory_utilization": 1.5}, r"\(0, 1\]"),
    ({"cpu_kv_budget": -1}, "cpu_kv_budget must not be negative"),
    ({"max_num_seqs": 0}, "max_num_seqs must be positive"),
    ({"dtype": "float8"}, "valid: float32, float16, bfloat16"),
    ({"device": "tpu"}, "device"),
    ({"attention_backend": "flash"}, "valid: torch, triton"),
])
def test_engine_config_errors(kw, fragment):
    with pytest.raises(ConfigError, match=fragment):
        EngineConfig(**kw)


def test_configs_are_frozen():
    with pytest.raises(AttributeError):
        EngineConfig().block_size = 32  # type: ignore[misc]
