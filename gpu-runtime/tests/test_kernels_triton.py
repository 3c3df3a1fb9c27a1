"""Fused Triton kernels and split-KV decode attention against their torch references.

Needs CUDA or TRITON_INTERPRET=1 before triton is imported; test_kernels.py runs this file
in a child process with the interpreter on (float32 only: the interpreter has no bf16
math). On a GPU the same tests also run in float16 and bfloat16.
"""

from __future__ import annotations

import os

import pytest
import torch
from attention_cases import random_case
from helpers_engine import engine_for, greedy, random_prompt, tiny_hf_llama

from leitai_runtime.layers.attention import get_attention_backend
from leitai_runtime.layers.ops import TorchOps
from leitai_runtime.layers.splitkv_config import CANDIDATES

INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"
pytestmark = pytest.mark.skipif(not INTERPRET and not torch.cuda.is_available(),
                                reason="needs a GPU or TRITON_INTERPRET=1 (run via test_kernels.py)")
DEVICE = "cpu" if INTERPRET or not torch.cuda.is_available() else "cuda"
DTYPES = [torch.float32] if DEVICE == "cpu" else [torch.float32, torch.float16, torch.bfloat16]
TOL = {torch.float32: (1e-5, 1e-5), torch.float16: (2e-3, 2e-3), torch.bfloat16: (2e-2, 2e-2)}


def triton_ops():
    from leitai_runtime.layers.triton_ops import TritonOps

    return TritonOps()


def rand(*shape: int, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen).to(DEVICE, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rmsnorm_with_and_without_residual(dtype):
    x, res, w = rand(5, 40, dtype=dtype), rand(5, 40, dtype=dtype, seed=1), rand(40, dtype=dtype, seed=2)
    ref, fused = TorchOps(), triton_ops()
    rtol, atol = TOL[dtype]
    torch.testing.assert_close(fused.rmsnorm(x, w, 1e-6), ref.rmsnorm(x, w, 1e-6), rtol=rtol, atol=atol)
    want, want_res = ref.add_rmsnorm(x, res, w, 1e-6)
    got, got_res = fused.add_rmsnorm(x, res.clone(), w, 1e-6)
    torch.testing.assert_close(got_res, want_res, rtol=0, atol=0)
    torch.testing.assert_close(got, want, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_silu_mul(dtype):
    gate, up = rand(3, 1100, dtype=dtype), rand(3, 1100, dtype=dtype, seed=1)
    rtol, atol = TOL[dtype]
    torch.testing.assert_close(triton_ops().silu_mul(gate, up), TorchOps().silu_mul(gate, up), rtol=rtol, atol=atol)
    gate, up = rand(3, 2200, dtype=dtype).chunk(2, dim=-1)  # strided halves of a fused gate/up output
    torch.testing.assert_close(triton_ops().silu_mul(gate, up), TorchOps().silu_mul(gate, up), rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rope_in_place_on_q_and_k(dtype):
    q, k = rand(6, 4, 16, dtype=dtype), rand(6, 2, 16, dtype=dtype, seed=1)
    angles = torch.arange(6, dtype=torch.float32)[:, None] * torch.linspace(0.1, 1.0, 8)[None, :]
    emb = torch.cat((angles, angles), dim=-1).to(DEVICE)
    want_q, want_k = TorchOps().rope(q, k, emb.cos(), emb.sin())
    got_q, got_k = triton_ops().rope(q.clone(), k.clone(), emb.cos(), emb.sin())
    rtol, atol = TOL[dtype]
    torch.testing.assert_close(got_q, want_q, rtol=rtol, atol=atol)
    torch.testing.assert_close(got_k, want_k, rtol=rtol, atol=atol)


def test_write_kv_scatters_and_skips_negative_slots():
    k, v = rand(3, 2, 8, dtype=torch.float32), rand(3, 2, 8, dtype=torch.float32, seed=1)
    caches = [torch.zeros(4, 4, 2, 8, device=DEVICE) for _ in range(4)]
    TorchOps().write_kv(k[:2], v[:2], caches[0], caches[1], torch.tensor([13, 2], device=DEVICE))
    triton_ops().write_kv(k, v, caches[2], caches[3], torch.tensor([13, 2, -1], device=DEVICE))
    assert torch.equal(caches[2], caches[0]) and torch.equal(caches[3], caches[1])


# (seed, heads, kv_heads, head_dim, block_size, partition tokens, keys per tile): MHA (broadcast
# path), GQA (tensor-core path, group padded to 16 rows), tiles spanning blocks, several tiles per
# partition, several partitions and one.
SPLITKV_CASES = [(0, 4, 4, 16, 4, 16, 8), (1, 4, 2, 12, 4, 16, 16), (2, 8, 1, 16, 16, 32, 64),
                 (3, 4, 1, 16, 8, 1024, 64), (4, 2, 2, 16, 4, 128, 64), (5, 4, 2, 16, 4, 32, 16)]


@pytest.mark.parametrize("seed,heads,kv_heads,head_dim,block_size,part,tile", SPLITKV_CASES)
def test_splitkv_decode_matches_torch_reference(seed, heads, kv_heads, head_dim, block_size, part, tile):
    from leitai_runtime.layers.triton_splitkv import splitkv_decode

    q, k_cache, v_cache, meta, _ = random_case(seed, num_heads=heads, num_kv_heads=kv_heads, head_dim=head_dim,
                                               block_size=block_size, seqs=((9, 1), (37, 1), (1, 1), (16, 1)))
    ref = get_attention_backend("torch").forward(q, k_cache, v_cache, meta, 0.3)
    index_dtype = torch.int64 if seed % 2 else torch.int32  # CUDA-graph buffers hold int64
    out = splitkv_decode(q.to(DEVICE), k_cache.to(DEVICE), v_cache.to(DEVICE),
                         meta.block_tables.to(DEVICE, index_dtype), meta.context_lens.to(DEVICE, index_dtype),
                         block_size, 0.3, partition=part, tile=tile)
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("config", CANDIDATES, ids=str)
@pytest.mark.parametrize("heads,kv_heads", [(4, 4), (8, 2)])
def test_every_tuning_candidate_matches_torch_reference(config, heads, kv_heads):
    from leitai_runtime.layers.triton_splitkv import splitkv_decode

    q, k_cache, v_cache, meta, _ = random_case(7, num_heads=heads, num_kv_heads=kv_heads, head_dim=16, block_size=16,
                                               num_blocks=64, seqs=((9, 1), (300, 1), (1, 1), (130, 1)))
    ref = get_attention_backend("torch").forward(q, k_cache, v_cache, meta, 0.3)
    out = splitkv_decode(q.to(DEVICE), k_cache.to(DEVICE), v_cache.to(DEVICE), meta.block_tables.to(DEVICE),
                         meta.context_lens.to(DEVICE), 16, 0.3, partition=128, config=config)
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-4, atol=1e-4)


def test_tune_keeps_a_working_configuration_per_batch_size():
    backend = get_attention_backend("triton-splitkv")
    q, k_cache, v_cache, meta, _ = random_case(8, num_heads=4, num_kv_heads=4, head_dim=16, block_size=16,
                                               num_blocks=64, seqs=((40, 1), (17, 1)))
    timings = backend.tune(k_cache.to(DEVICE), v_cache.to(DEVICE), [1, 2], max_blocks=4, block_size=16, num_heads=4,
                           reps=1)
    assert set(timings) == {1, 2} and all(len(t) == len(CANDIDATES) for t in timings.values())
    assert set(backend.configs) == {1, 2}
    for bs, cfg in backend.configs.items():  # the fastest one was kept
        assert timings[bs][str(cfg)] == min(timings[bs].values())
    # The batch of 2 decodes through its tuned configuration and still matches the reference.
    ref = get_attention_backend("torch").forward(q, k_cache, v_cache, meta, 0.3)
    for f in ("positions", "token_seq", "slot_mapping", "block_tables", "context_lens"):
        setattr(meta, f, getattr(meta, f).to(DEVICE))
    out = backend.forward(q.to(DEVICE), k_cache.to(DEVICE), v_cache.to(DEVICE), meta, 0.3)
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-4, atol=1e-4)


def test_engine_with_fused_ops_and_splitkv_matches_torch_engine():
    hf = tiny_hf_llama(seed=1)
    gen = torch.Generator().manual_seed(1)
    prompts = [random_prompt(gen, n) for n in (6, 13)]
    ref = engine_for(hf).generate(prompts, greedy(4))
    fast = engine_for(hf, attention_backend="triton-splitkv", fused_ops=True, device=DEVICE)
    assert fast.runner.ops.name == "triton"
    fast.runner.tune_attention([1, 2])  # what a GPU runner does before capturing its graphs
    assert set(fast.runner.attention_tuning) == {1, 2} and set(fast.runner.backend.configs) == {1, 2}
    assert fast.generate(prompts, greedy(4)) == ref
