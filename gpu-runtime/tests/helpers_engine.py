"""Tiny transformers Llama models and HF reference generation for the engine tests."""

from __future__ import annotations

from typing import Any

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from leitai_runtime.config import EngineConfig
from leitai_runtime.engine import LLMEngine
from leitai_runtime.sequence import SamplingParams

VOCAB = 320


def tiny_hf_llama(seed: int = 0, **overrides: Any) -> LlamaForCausalLM:
    """A 2-layer, hidden-64 Llama with weights large enough that logits are well separated."""
    shape: dict[str, Any] = dict(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        initializer_range=0.2, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False,
    )
    shape.update(overrides)
    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(**shape)).eval()


def engine_for(hf: LlamaForCausalLM, **config: Any) -> LLMEngine:
    defaults: dict[str, Any] = dict(block_size=4, num_kv_blocks=256, max_num_batched_tokens=64)
    defaults.update(config)
    return LLMEngine(hf.config.to_dict(), hf.state_dict(), EngineConfig(**defaults))


def hf_greedy(hf: LlamaForCausalLM, prompt: list[int], max_tokens: int) -> list[int]:
    """transformers' own greedy generate; stops at eos (included) like the engine does."""
    with torch.no_grad():
        out = hf.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                          max_new_tokens=max_tokens, do_sample=False, pad_token_id=0)
    return out[0, len(prompt):].tolist()


def greedy(max_tokens: int) -> SamplingParams:
    return SamplingParams(temperature=0.0, max_tokens=max_tokens)


def random_prompt(gen: torch.Generator, length: int) -> list[int]:
    return torch.randint(3, VOCAB, (length,), generator=gen).tolist()
