"""The Triton paged-attention kernel against the torch reference (float32 tolerance).

Needs CUDA or TRITON_INTERPRET=1 in the environment before triton is imported;
test_attention.py runs this file in a child process with the interpreter on.
"""

from __future__ import annotations

import os

import pytest
import torch
from attention_cases import random_case
from helpers_engine import engine_for, greedy, random_prompt, tiny_hf_llama

from leitai_runtime.layers.attention import get_attention_backend

pytestmark = pytest.mark.skipif(
    os.environ.get("TRITON_INTERPRET") != "1" and not torch.cuda.is_available(),
    reason="needs a GPU or TRITON_INTERPRET=1 (run via test_attention.py)")
DEVICE = "cuda" if torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET") != "1" else "cpu"


@pytest.mark.parametrize("seed,kv_heads,head_dim,block_size", [(0, 2, 16, 4), (1, 1, 16, 8), (2, 4, 12, 4)])
def test_triton_matches_torch_reference(seed, kv_heads, head_dim, block_size):
    q, k_cache, v_cache, meta, _ = random_case(seed, num_kv_heads=kv_heads, head_dim=head_dim,
                                               block_size=block_size)
    ref = get_attention_backend("torch").forward(q, k_cache, v_cache, meta, 0.3)
    tensors = {f: getattr(meta, f).to(DEVICE) for f in ("positions", "token_seq", "slot_mapping",
                                                        "block_tables", "context_lens")}
    for f, t in tensors.items():
        setattr(meta, f, t)
    out = get_attention_backend("triton").forward(q.to(DEVICE), k_cache.to(DEVICE), v_cache.to(DEVICE),
                                                  meta, 0.3)
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-5, atol=1e-5)


def test_engine_with_triton_backend_matches_torch_backend():
    hf = tiny_hf_llama(seed=1)
    gen = torch.Generator().manual_seed(1)
    prompts = [random_prompt(gen, n) for n in (6, 13)]
    ref = engine_for(hf).generate(prompts, greedy(5))
    assert engine_for(hf, attention_backend="triton").generate(prompts, greedy(5)) == ref
