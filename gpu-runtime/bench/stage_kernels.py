"""Kernel tests on the device: the repository's pytest files when pytest is installed, and
always a direct comparison of every Triton kernel with its torch reference (fp32/fp16/bf16)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from leitai_runtime.layers.attention import AttentionMetadata, get_attention_backend
from leitai_runtime.layers.ops import TorchOps

from .device_common import Recorder, log

ROOT = Path(__file__).resolve().parents[1]
TEST_FILES = ("tests/test_kernels_triton.py", "tests/test_attention_triton.py", "tests/test_cuda_graph.py")
TOL = {torch.float32: 1e-4, torch.float16: 4e-3, torch.bfloat16: 3e-2}


def run_pytest(smoke: bool, seconds: float) -> dict[str, Any]:
    if importlib.util.find_spec("pytest") is None:
        return {"skipped": "pytest is not installed"}
    env = dict(os.environ)
    files = list(TEST_FILES)
    extra: list[str] = []
    if smoke:  # the interpreter is slow: one file, no engine-level test
        env["TRITON_INTERPRET"] = "1"
        files, extra = [TEST_FILES[0]], ["-k", "not engine"]
    cmd = [sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider", "-x", *files, *extra]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"pytest ran past {seconds:.0f}s"}
    lines = [ln for ln in proc.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    summary = lines[-1].strip(" =") if lines else f"pytest exited {proc.returncode}"
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|skipped|error)", summary)}
    return {"ok": proc.returncode == 0, "summary": summary, **counts,
            "tail": "" if proc.returncode == 0 else (proc.stdout[-3000:] + proc.stderr[-1500:])}


def _decode_case(device: torch.device, dtype: torch.dtype, group: int, ctx: list[int]) -> tuple:
    gen = torch.Generator().manual_seed(len(ctx) + group)
    kvh, d, bs = 4, 128, 16
    width = max((c + bs - 1) // bs for c in ctx)
    blocks = torch.randperm(len(ctx) * width, generator=gen).view(len(ctx), width).to(torch.int32)
    k = torch.randn(len(ctx) * width, bs, kvh, d, generator=gen).to(device, dtype)
    v = torch.randn(len(ctx) * width, bs, kvh, d, generator=gen).to(device, dtype)
    q = torch.randn(len(ctx), kvh * group, d, generator=gen).to(device, dtype)
    meta = AttentionMetadata(
        positions=torch.tensor([c - 1 for c in ctx], device=device), token_seq=torch.arange(len(ctx), device=device),
        slot_mapping=torch.zeros(len(ctx), dtype=torch.long, device=device), block_tables=blocks.to(device),
        context_lens=torch.tensor(ctx, dtype=torch.int32, device=device), query_lens=[1] * len(ctx),
        context_lens_host=ctx, block_size=bs)
    return q, k, v, meta


def _prefill_case(device: torch.device, dtype: torch.dtype, group: int) -> tuple:
    """A mixed step: a whole 300-token prompt, a 130-token chunk after a 200-token cached prefix,
    and two decodes; the tiled prefill kernel serves all of it."""
    seqs = ((300, 300), (330, 130), (77, 1), (512, 1))
    gen = torch.Generator().manual_seed(group)
    kvh, d, bs = 4, 128, 16
    widths = [(c + bs - 1) // bs for c, _ in seqs]
    perm = torch.randperm(sum(widths), generator=gen).tolist()
    tables: list[list[int]] = []
    positions: list[int] = []
    token_seq: list[int] = []
    for i, ((ctx, n), w) in enumerate(zip(seqs, widths, strict=True)):
        tables.append([perm.pop() for _ in range(w)] + [0] * (max(widths) - w))
        positions += range(ctx - n, ctx)
        token_seq += [i] * n
    k = torch.randn(sum(widths), bs, kvh, d, generator=gen).to(device, dtype)
    v = torch.randn(sum(widths), bs, kvh, d, generator=gen).to(device, dtype)
    q = torch.randn(len(positions), kvh * group, d, generator=gen).to(device, dtype)
    meta = AttentionMetadata(
        positions=torch.tensor(positions, device=device), token_seq=torch.tensor(token_seq, device=device),
        slot_mapping=torch.zeros(len(positions), dtype=torch.long, device=device),
        block_tables=torch.tensor(tables, dtype=torch.int32, device=device),
        context_lens=torch.tensor([c for c, _ in seqs], dtype=torch.int32, device=device),
        query_lens=[n for _, n in seqs], context_lens_host=[c for c, _ in seqs], block_size=bs)
    return q, k, v, meta


def direct_checks(device: torch.device) -> dict[str, Any]:
    from leitai_runtime.layers.splitkv_config import CANDIDATES
    from leitai_runtime.layers.triton_ops import TritonOps
    from leitai_runtime.layers.triton_splitkv import splitkv_decode

    ref, fused = TorchOps(), TritonOps()
    worst: dict[str, float] = {}
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        gen = torch.Generator().manual_seed(0)

        def r(*shape: int, dtype: torch.dtype = dtype, gen: torch.Generator = gen) -> torch.Tensor:
            return torch.randn(*shape, generator=gen).to(device, dtype)

        x, res, w = r(7, 4096), r(7, 4096), r(4096)
        pairs = {"rmsnorm": (fused.add_rmsnorm(x, res.clone(), w, 1e-5)[0], ref.add_rmsnorm(x, res, w, 1e-5)[0]),
                 "silu_mul": (fused.silu_mul(x, res), ref.silu_mul(x, res))}
        q, k = r(7, 32, 128), r(7, 8, 128)
        emb = torch.randn(7, 64, generator=gen).repeat(1, 2).to(device)
        pairs["rope"] = (torch.cat([t.flatten() for t in fused.rope(q.clone(), k.clone(), emb.cos(), emb.sin())]),
                         torch.cat([t.flatten() for t in ref.rope(q, k, emb.cos(), emb.sin())]))
        for group, ctx in ((1, [1, 300, 1000]), (8, [17, 600])):
            q, kc, vc, meta = _decode_case(device, dtype, group, ctx)
            want = get_attention_backend("torch").forward(q, kc, vc, meta, 0.088)
            # Every configuration the engine's tuning may pick, in the serving dtypes (compiles cost time).
            for cand in CANDIDATES if dtype == torch.float16 else (CANDIDATES[0],):
                got = splitkv_decode(q, kc, vc, meta.block_tables, meta.context_lens, meta.block_size, 0.088,
                                     config=cand)
                pairs[f"splitkv_g{group}_{cand}"] = (got, want)
        for group in (1, 4):
            q, kc, vc, meta = _prefill_case(device, dtype, group)
            pairs[f"prefill_g{group}"] = (get_attention_backend("triton").forward(q, kc, vc, meta, 0.088),
                                          get_attention_backend("torch").forward(q, kc, vc, meta, 0.088))
        for name, (got, want) in pairs.items():
            err = float((got.float() - want.float()).abs().max() / want.float().abs().max().clamp_min(1e-6))
            key = f"{name}/{str(dtype).removeprefix('torch.')}"
            worst[key] = err
    # Keys are "<check>/<dtype>"; a check's name may itself contain "/" (split-KV configurations).
    bad = {k: v for k, v in worst.items() if v > TOL[getattr(torch, k.rsplit("/", 1)[1])]}
    return {"ok": not bad, "relative_max_error": worst, "over_tolerance": bad}


def run(rec: Recorder, device: torch.device, smoke: bool, seconds: float) -> None:
    if device.type == "cuda":
        try:
            direct = direct_checks(device)
            rec.put("direct", direct)
            log(f"kernel direct checks: {'OK' if direct['ok'] else 'OVER TOLERANCE: ' + str(direct['over_tolerance'])}")
        except Exception as err:  # still run the pytest files (a fresh process, a fresh CUDA context)
            rec.put("direct_error", f"{type(err).__name__}: {err}")
            log(f"kernel direct checks: ERROR {type(err).__name__}: {err}")
    result = run_pytest(smoke, seconds)
    rec.put("pytest", result)
    log(f"kernel pytest: {result.get('summary') or result.get('skipped') or result.get('error')}")
    if result.get("tail"):
        print(result["tail"], flush=True)
