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


def test_missing_field_is_named():
    raw = hf()
    del raw["hidden_size"]
    with pytest.raises(ConfigError, match="hidden_size"):
        ModelConfig.from_hf(raw)


@pytest.mark.parametrize("kw,fragment", [
    ({"block_size": 12}, "power of two"),
    ({"num_kv_blocks": 10, "gpu_memory_utilization": 0.5}, "either"),
    ({"gpu_memory_utilization": 1.5}, r"\(0, 1\]"),
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
