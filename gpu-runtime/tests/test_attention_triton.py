"""The Triton paged-attention kernel against the torch reference (float32 tolerance).

Needs CUDA or TRITON_INTERPRET=1 in the environment before triton is imported;
test_attention.py runs this file in a child process with the interpreter on.
"""

from __future__ import annotations

import os

import pytest
import torch
from attention_cases import dense_reference, random_case
from helpers_engine import engine_for, greedy, random_prompt, tiny_hf_llama

from leitai_runtime.layers.attention import get_attention_backend

pytestmark = pytest.mark.skipif(
    os.environ.get("TRITON_INTERPRET") != "1" and not torch.cuda.is_available(),
    reason="needs a GPU or TRITON_INTERPRET=1 (run via test_attention.py)")
DEVICE = "cuda" if torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET") != "1" else "cpu"


DECODE_ONLY = ((9, 1), (14, 1), (1, 1), (23, 1))
# Chunks longer than a query tile (TILE_M = 64), a chunk after a cached prefix, decodes mixed in.
LONG_PREFILL = ((150, 150), (9, 1), (200, 70), (65, 65), (3, 3))


@pytest.mark.parametrize("seed,kv_heads,head_dim,block_size,seqs", [
    (0, 2, 16, 4, None), (1, 1, 16, 8, None), (2, 4, 12, 4, None),
    (3, 2, 16, 4, DECODE_ONLY), (4, 4, 16, 16, DECODE_ONLY),
    (5, 2, 16, 16, LONG_PREFILL), (6, 4, 12, 8, LONG_PREFILL)])
def test_triton_matches_torch_reference(seed, kv_heads, head_dim, block_size, seqs):
    extra = {} if seqs is None else {"seqs": seqs, "num_blocks": sum(-(-c // block_size) for c, _ in seqs) + 4}
    q, k_cache, v_cache, meta, dense = random_case(seed, num_kv_heads=kv_heads, head_dim=head_dim,
                                                   block_size=block_size, **extra)
    ref = get_attention_backend("torch").forward(q, k_cache, v_cache, meta, 0.3)
    if seqs is not None:  # the torch backend is itself checked against this in test_attention.py
        torch.testing.assert_close(ref, dense_reference(q, meta, dense, 0.3), rtol=1e-4, atol=1e-4)
    tensors = {f: getattr(meta, f).to(DEVICE) for f in ("positions", "token_seq", "slot_mapping",
                                                        "block_tables", "context_lens")}
    for f, t in tensors.items():
        setattr(meta, f, t)
    out = get_attention_backend("triton").forward(q.to(DEVICE), k_cache.to(DEVICE), v_cache.to(DEVICE),
                                                  meta, 0.3)
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-5, atol=1e-5)


def test_engine_with_triton_backend_matches_torch_backend():
    """Both backends on the same device (Triton kernels take device tensors only)."""
    hf = tiny_hf_llama(seed=1)
    gen = torch.Generator().manual_seed(1)
    # Prompts longer than the step budget (64) and than a query tile: chunked prefill through the tile kernel.
    prompts = [random_prompt(gen, n) for n in (6, 13, 90)]
    ref = engine_for(hf, device=DEVICE).generate(prompts, greedy(5))
    assert engine_for(hf, device=DEVICE, attention_backend="triton").generate(prompts, greedy(5)) == ref
