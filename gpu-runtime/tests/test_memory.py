"""KV pool sizing arithmetic, with the GPU's numbers injected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from leitai_runtime.config import DEFAULT_CPU_KV_BUDGET, EngineConfig, ModelConfig
from leitai_runtime.memory import (
    MemoryProfile,
    choose_num_blocks,
    cpu_kv_blocks,
    cpu_kv_share,
    kv_blocks_for_budget,
    kv_bytes_per_block,
    kv_bytes_per_token,
)

MiB = 1 << 20
GiB = 1 << 30
LLAMA_7B = ModelConfig(vocab_size=55296, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=32, head_dim=128, max_position_embeddings=4096)
# The shapes `npm run up` serves: the random demo models (demo.py's default shape) and SmolLM2-135M.
DEMO_TINY = ModelConfig(vocab_size=2000, hidden_size=64, intermediate_size=172, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=2048)
SMOLLM2_135M = ModelConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                           num_attention_heads=9, num_key_value_heads=3, head_dim=64, max_position_embeddings=8192)


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
    # float32: 1 MiB per token, 16 MiB per block. 64 sequences of 1024 tokens would take 64 GiB;
    # the default budget (384 MiB) holds 24 blocks, less than one sequence: the pool holds one (64).
    per_block = kv_bytes_per_block(LLAMA_7B, 16, torch.float32)
    assert per_block == 16 * MiB and DEFAULT_CPU_KV_BUDGET // per_block == 24
    assert choose_num_blocks(LLAMA_7B, EngineConfig(), 1024) == 64
    assert choose_num_blocks(LLAMA_7B, EngineConfig(), 4096) == 256  # never less than one full sequence
    assert choose_num_blocks(LLAMA_7B, EngineConfig(cpu_kv_budget=2 * GiB), 1024) == 128


def test_per_token_bytes_of_the_demo_shapes():
    # layers x 2 (K, V) x kv heads x head dim x 4 bytes (float32)
    assert kv_bytes_per_token(DEMO_TINY, torch.float32) == 2 * 2 * 2 * 16 * 4 == 512
    assert kv_bytes_per_token(SMOLLM2_135M, torch.float32) == 30 * 2 * 3 * 64 * 4 == 46_080
    assert kv_bytes_per_token(SMOLLM2_135M, torch.bfloat16) == 23_040


def test_cpu_pool_is_what_the_sequences_need():
    # A tiny model: 16 sequences x 2048 tokens x 512 bytes = 16 MiB, far below the budget.
    per_block = kv_bytes_per_block(DEMO_TINY, 16, torch.float32)
    assert per_block == 8192
    assert cpu_kv_blocks(per_block, 16, max_num_seqs=16, max_model_len=2048, budget_bytes=512 * MiB) == 2048
    assert 2048 * per_block == 16 * MiB
    config = EngineConfig(max_num_seqs=16)
    assert choose_num_blocks(DEMO_TINY, config, 2048) == 2048
    assert choose_num_blocks(DEMO_TINY, config, 100) == 16 * 7  # a shorter context: 7 blocks a sequence


def test_cpu_pool_is_capped_by_the_budget():
    # SmolLM2-135M: 16 sequences x 8192 tokens x 46,080 bytes = 5.625 GiB; 512 MiB hold 728 blocks
    # of 737,280 bytes (11,648 tokens), more than the 512 blocks one 8192-token sequence needs.
    per_block = kv_bytes_per_block(SMOLLM2_135M, 16, torch.float32)
    assert per_block == 737_280
    assert 16 * 8192 * kv_bytes_per_token(SMOLLM2_135M, torch.float32) == 5.625 * GiB
    assert cpu_kv_blocks(per_block, 16, max_num_seqs=16, max_model_len=8192, budget_bytes=512 * MiB) == 728
    assert choose_num_blocks(SMOLLM2_135M, EngineConfig(max_num_seqs=16, cpu_kv_budget=512 * MiB), 8192) == 728
    assert choose_num_blocks(SMOLLM2_135M, EngineConfig(max_num_seqs=16, cpu_kv_budget=2 * GiB), 2048) == 16 * 128
    # a budget below one sequence still gets one; a draft's cache on the same blocks shares the budget
    assert cpu_kv_blocks(per_block, 16, max_num_seqs=16, max_model_len=8192, budget_bytes=64 * MiB) == 512
    assert choose_num_blocks(SMOLLM2_135M, EngineConfig(max_num_seqs=16), 8192, extra_bytes_per_block=per_block) == 512
    assert choose_num_blocks(SMOLLM2_135M, EngineConfig(max_num_seqs=16, cpu_kv_budget=0), 2048) == 128


@pytest.mark.parametrize("budget,smollm2_blocks", [
    (DEFAULT_CPU_KV_BUDGET, 512),  # 352 MiB left hold 488 blocks: one 8192-token sequence needs 512
    (512 * MiB, 682),              # 480 MiB left: 682 blocks (10,912 tokens)
    (8 * GiB, 8192),               # room for all it needs: 16 x 512 blocks (5.625 GiB)
])
def test_served_models_share_one_budget_in_load_order(budget, smollm2_blocks):
    # What `npm run up` loads: two tiny demo models, then SmolLM2, 16 sequences each. The tiny
    # ones take what they need (16 MiB each) from their shares; SmolLM2 gets what is left.
    left, blocks = budget, []
    for i, (model, context) in enumerate([(DEMO_TINY, 2048), (DEMO_TINY, 2048), (SMOLLM2_135M, 8192)]):
        config = EngineConfig(max_num_seqs=16, cpu_kv_budget=cpu_kv_share(left, 3 - i))
        n = choose_num_blocks(model, config, context)
        left -= n * kv_bytes_per_block(model, 16, torch.float32)
        blocks.append(n)
    assert blocks == [2048, 2048, smollm2_blocks]
    assert cpu_kv_share(-MiB, 2) == 0  # a budget overspent by sequences' minimums leaves nothing


def test_warmup_forward_leaves_the_real_kv_cache_alone():
    from helpers_engine import engine_for, tiny_hf_llama

    engine = engine_for(tiny_hf_llama(seed=0), max_num_batched_tokens=64, max_model_len=40)
    engine.runner.kv_caches[0][0].fill_(0.5)
    engine.runner._warmup()  # what profile_cuda measures on a GPU: min(64, 40) tokens in one prefill
    assert bool((engine.runner.kv_caches[0][0] == 0.5).all())


def test_building_the_model_leaves_torch_dynamo_unimported():
    # Random init on the meta device goes through torch._refs, which imports torch._dynamo (and
    # triton, sympy): over 100 MiB resident in a runtime that never compiles anything.
    code = ("import sys, torch\n"
            "from leitai_runtime.config import ModelConfig\n"
            "from leitai_runtime.models.llama import LlamaForCausalLM\n"
            "with torch.device('meta'):\n"
            "    LlamaForCausalLM(ModelConfig(vocab_size=320, hidden_size=64, intermediate_size=128,\n"
            "        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,\n"
            "        max_position_embeddings=256))\n"
            "print('torch._dynamo' in sys.modules)\n")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
