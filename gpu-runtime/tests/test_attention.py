"""Attention backends against an independent dense reference; the Triton kernel runs in
Triton's CPU interpreter in a separate process (TRITON_INTERPRET is read at import)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from attention_cases import dense_reference, random_case

from leitai_runtime.layers import torch_attention
from leitai_runtime.layers.attention import get_attention_backend, write_kv


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("seed,kv_heads", [(0, 2), (1, 1), (2, 4)])
def test_torch_backend_matches_dense_reference(monkeypatch, seed, kv_heads, batched):
    if not batched:  # force the one-sequence-at-a-time path used for large prefills
        monkeypatch.setattr(torch_attention, "BATCHED_MAX_ELEMENTS", 0)
    q, k_cache, v_cache, meta, dense = random_case(seed, num_kv_heads=kv_heads)
    out = get_attention_backend("torch").forward(q, k_cache, v_cache, meta, 0.25)
    torch.testing.assert_close(out, dense_reference(q, meta, dense, 0.25), rtol=1e-5, atol=1e-5)


def test_decode_only_batch_matches_dense_reference():
    q, k_cache, v_cache, meta, dense = random_case(3, seqs=((9, 1), (14, 1), (1, 1), (16, 1)))
    out = get_attention_backend("torch").forward(q, k_cache, v_cache, meta, 0.25)
    torch.testing.assert_close(out, dense_reference(q, meta, dense, 0.25), rtol=1e-5, atol=1e-5)


def test_unknown_backend_lists_valid_names():
    with pytest.raises(ValueError, match="valid: torch, triton"):
        get_attention_backend("flash")


def test_write_kv_scatters_to_slots():
    k_cache = torch.zeros(4, 2, 1, 3)
    v_cache = torch.zeros(4, 2, 1, 3)
    k = torch.arange(6, dtype=torch.float32).view(2, 1, 3)
    write_kv(k, -k, k_cache, v_cache, torch.tensor([5, 0]))
    assert torch.equal(k_cache[2, 1, 0], k[0, 0]) and torch.equal(v_cache[0, 0, 0], -k[1, 0])


def test_triton_kernel_in_interpreter():
    """Runs test_attention_triton.py in a child pytest with TRITON_INTERPRET=1."""
    here = Path(__file__).parent
    env = dict(os.environ, TRITON_INTERPRET="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-W", "ignore::DeprecationWarning", "-p", "no:cacheprovider", str(here / "test_attention_triton.py")],
        cwd=here.parent, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout
