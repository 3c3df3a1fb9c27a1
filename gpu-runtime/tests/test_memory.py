"""KV pool sizing arithmetic, with the GPU's numbers injected."""

from __future__ import annotations

import pytest
import torch

from leitai_runtime.config import EngineConfig, ModelConfig
from leitai_runtime.memory import (
    CPU_KV_BYTES,
    MemoryProfile,
    choose_num_blocks,
    kv_blocks_for_budget,
    kv_bytes_per_block,
)

GiB = 1 << 30
LLAMA_7B = ModelConfig(vocab_size=55296, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=32, head_dim=128, max_position_embeddings=4096)


def test_bytes_per_block_for_a_7b_model():
    # K and V, 32 layers, 16 slots, 32 heads x 128 dims, 2 bytes: 8 MiB per block (0.5 MiB per token).
    assert kv_bytes_per_block(LLAMA_7B, 16, torch.float16) == 8 * 2**20


def test_budget_is_free_times_utilization_minus_activation_peak():
    profile = MemoryProfile(free_bytes=64 * GiB, activation_peak_bytes=2 * GiB)
    assert kv_blocks_for_budget(profile, 0.9, 8 * 2**20) == int((64 * 0.9 - 2) * 1024 / 8)
    assert kv_blocks_for_budget(MemoryProfile(GiB, 2 * GiB), 0.9, 100) == 0


def test_cuda_config_uses_the_injected_profile():
    config = EngineConfig(device="cuda", dtype="float16", gpu_memory_utilization=0.5)
    calls = []

    def profile() -> MemoryProfile:
        calls.append(1)
        return MemoryProfile(free_bytes=10 * GiB, activation_peak_bytes=GiB)

    assert choose_num_blocks(LLAMA_7B, config, 4096, profile) == (4 * GiB) // (8 * 2**20)
    assert calls == [1]


def test_cuda_pool_too_small_for_one_sequence_names_the_numbers():
    config = EngineConfig(device="cuda", dtype="float16")
    with pytest.raises(ValueError, match=r"gpu_memory_utilization=0.9 leaves room for 0 KV blocks"):
        choose_num_blocks(LLAMA_7B, config, 4096, lambda: MemoryProfile(GiB, GiB))
    with pytest.raises(ValueError, match="needs a memory profile"):
        choose_num_blocks(LLAMA_7B, config, 4096)


def test_configured_and_cpu_sizes():
    assert choose_num_blocks(LLAMA_7B, EngineConfig(num_kv_blocks=300), 4096) == 300
    with pytest.raises(ValueError, match="needs 256"):
        choose_num_blocks(LLAMA_7B, EngineConfig(num_kv_blocks=255), 4096)
    per_block = kv_bytes_per_block(LLAMA_7B, 16, torch.float32)
    assert choose_num_blocks(LLAMA_7B, EngineConfig(), 1024) == CPU_KV_BYTES // per_block == 128
    assert choose_num_blocks(LLAMA_7B, EngineConfig(), 4096) == 256  # never less than one full sequence


def test_warmup_forward_leaves_the_real_kv_cache_alone():
    from helpers_engine import engine_for, tiny_hf_llama

    engine = engine_for(tiny_hf_llama(seed=0), max_num_batched_tokens=64, max_model_len=40)
    engine.runner.kv_caches[0][0].fill_(0.5)
    engine.runner._warmup()  # what profile_cuda measures on a GPU: min(64, 40) tokens in one prefill
    assert bool((engine.runner.kv_caches[0][0] == 0.5).all())
