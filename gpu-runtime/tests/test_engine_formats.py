"""Acceptance: the engine on checkpoints from disk (safetensors, .bin, GGUF) gives the same
greedy tokens as transformers on the same weights (for GGUF: its dequantized weights)."""

from __future__ import annotations

import pytest
import torch
from helpers_engine import greedy, hf_greedy
from helpers_model import dequantized_hf_dir, make_tiny_gguf, make_tiny_llama
from transformers import LlamaForCausalLM

from leitai_runtime.config import EngineConfig
from leitai_runtime.engine import LLMEngine

CONFIG = EngineConfig(block_size=4, num_kv_blocks=256, max_num_batched_tokens=64)


def prompts_for(engine: LLMEngine) -> list[list[int]]:
    tok = engine.tokenizer
    assert tok is not None
    return [tok.encode(text, add_bos=True) for text in ("Hello there", "你好，世界。今天天气怎么样？", "1 2 3")]


def assert_matches(engine: LLMEngine, reference_dir) -> None:
    hf = LlamaForCausalLM.from_pretrained(reference_dir, torch_dtype=torch.float32).eval()
    prompts = prompts_for(engine)
    assert engine.generate(prompts, greedy(12)) == [hf_greedy(hf, p, 12) for p in prompts]


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory):
    return make_tiny_llama(tmp_path_factory.mktemp("st"), seed=11)


@pytest.mark.parametrize("fmt", ["safetensors", "bin"])
def test_hf_directory_formats(tmp_path, fmt):
    path = make_tiny_llama(tmp_path, seed=11, fmt=fmt)
    assert_matches(LLMEngine.from_path(path, CONFIG), path)


@pytest.mark.parametrize("qtype", ["F16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"])
def test_gguf_against_its_dequantized_weights(tmp_path, hf_dir, qtype):
    gguf_path = make_tiny_gguf(tmp_path, hf_dir, qtype)
    reference = dequantized_hf_dir(tmp_path, gguf_path, hf_dir)
    assert_matches(LLMEngine.from_path(gguf_path, CONFIG), reference)
