"""Where a step's time goes on the 7B shape, to explain the throughput levels:

- decode graph replays at several batch sizes, each against its roofline (weights or GEMM
  FLOPs, whichever binds, plus the KV cache every decode token reads);
- the decode attention kernel alone, its bandwidth over the split-KV tuning choices;
- kernel-level profiles of one eager decode step and one 4096-token prefill step;
- the host's share of an engine decode step (scheduling, bookkeeping, sampling).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch

from leitai_runtime.config import EngineConfig
from leitai_runtime.cuda_graph import EagerGraph
from leitai_runtime.engine import LLMEngine
from leitai_runtime.layers.attention import AttentionMetadata
from leitai_runtime.sequence import SamplingParams

from .device_common import Recorder, log, matmul_flops, sync, timed, triton_runs
from .device_models import LLAMA_7B, hf_config, parameter_bytes, random_state_dict
from .stage_speed import bandwidth


@dataclass(frozen=True)
class ProfilePlan:
    shape: dict[str, Any]
    dtype: torch.dtype
    batches: tuple[int, ...]
    ctx: int
    prefill: tuple[int, int]           # sequences x tokens in the profiled prefill step
    partitions: tuple[int, ...]
    host_batch: int
    reps: int


GPU_PLAN = ProfilePlan(shape=LLAMA_7B, dtype=torch.float16, batches=(1, 16, 64, 256), ctx=512, prefill=(8, 512),
                       partitions=(256, 512, 1024), host_batch=256, reps=20)
SMOKE_PLAN = ProfilePlan(
    shape=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
               intermediate_size=172, vocab_size=512, max_position_embeddings=512),
    dtype=torch.float32, batches=(1, 4), ctx=64, prefill=(2, 64), partitions=(64,), host_batch=4, reps=2)


def decode_inputs(num_blocks: int, bs: int, ctx: int, block_size: int, rng: random.Random
                  ) -> tuple[list[int], list[int], list[int], list[list[int]]]:
    """A decode step of `bs` sequences with `ctx` keys each, over random (distinct) KV blocks."""
    width = (ctx + block_size - 1) // block_size
    blocks = rng.sample(range(num_blocks), bs * width)
    tables = [blocks[i * width:(i + 1) * width] for i in range(bs)]
    positions = [ctx - 1] * bs
    slots = [t[(ctx - 1) // block_size] * block_size + (ctx - 1) % block_size for t in tables]
    return [5] * bs, positions, slots, tables


def decode_meta(tables: list[list[int]], ctx: int, block_size: int, device: torch.device) -> AttentionMetadata:
    bs = len(tables)
    return AttentionMetadata(
        positions=torch.full((bs,), ctx - 1, dtype=torch.int64, device=device),
        token_seq=torch.arange(bs, device=device),
        slot_mapping=torch.tensor([t[(ctx - 1) // block_size] * block_size + (ctx - 1) % block_size for t in tables],
                                  device=device),
        block_tables=torch.tensor(tables, dtype=torch.int32, device=device),
        context_lens=torch.full((bs,), ctx, dtype=torch.int32, device=device),
        query_lens=[1] * bs, context_lens_host=[ctx] * bs, block_size=block_size)


def prefill_meta(tables: list[list[int]], n: int, block_size: int, device: torch.device) -> AttentionMetadata:
    s = len(tables)
    positions = list(range(n)) * s
    return AttentionMetadata(
        positions=torch.tensor(positions, device=device),
        token_seq=torch.arange(s, device=device).repeat_interleave(n),
        slot_mapping=torch.tensor([t[p // block_size] * block_size + p % block_size
                                   for t in tables for p in range(n)], device=device),
        block_tables=torch.tensor(tables, dtype=torch.int32, device=device),
        context_lens=torch.full((s,), n, dtype=torch.int32, device=device),
        query_lens=[n] * s, context_lens_host=[n] * s, block_size=block_size)


def kernel_profile(fn: Callable[[], Any], device: torch.device, top: int = 12) -> dict[str, Any]:
    """Device time per kernel (CPU time per op on CPU) over one call of `fn`, largest first."""
    from torch.profiler import ProfilerActivity, profile

    fn()
    sync(device)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    t = time.perf_counter()
    with profile(activities=activities) as prof:
        fn()
        sync(device)
    wall = time.perf_counter() - t
    rows: list[tuple[float, str, int]] = []
    for e in prof.key_averages():
        raw: Any = (getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0)
                    if device.type == "cuda" else e.self_cpu_time_total)
        us = float(raw or 0)
        # On a GPU an aten:: op may carry its kernels' time as well: count the kernels only.
        if us > 0 and not (device.type == "cuda" and e.key.startswith("aten::")):
            rows.append((us, e.key, e.count))
    rows.sort(reverse=True)
    total = sum(us for us, _, _ in rows)
    return {"wall_s": wall, "kernel_s": total / 1e6,
            "top": [{"name": k[:90], "ms": us / 1e3, "share": us / total, "calls": c} for us, k, c in rows[:top]]}


@torch.inference_mode()  # graph buffers and the KV cache are inference tensors
def run(rec: Recorder, device: torch.device, smoke: bool) -> None:
    plan = SMOKE_PLAN if smoke else GPU_PLAN
    config = hf_config(plan.shape)
    weights = random_state_dict(config, plan.dtype, device, seed=0)
    pbytes = parameter_bytes(weights)
    nparams = pbytes // weights["lm_head.weight"].element_size()
    bw = bandwidth(device, smoke)
    flops = matmul_flops(device, plan.dtype, smoke)
    rec.put("roofline", {"copy_Bps": bw, "matmul_flops": flops, "parameter_bytes": pbytes})
    log(f"roofline inputs: copy {bw / 1e12:.2f} TB/s, matmul {flops / 1e12:.0f} TFLOP/s")
    fast = triton_runs(device)
    engine = LLMEngine(config, weights, EngineConfig(
        device=str(device), dtype=str(plan.dtype).removeprefix("torch."), block_size=16,
        gpu_memory_utilization=None if smoke else 0.9, num_kv_blocks=512 if smoke else None,
        max_num_seqs=max(plan.batches), max_num_batched_tokens=4096 if not smoke else 256,
        max_model_len=1024 if not smoke else 256, enable_prefix_caching=False,
        attention_backend="triton-splitkv" if fast else "torch", fused_ops=True))
    runner = engine.runner
    if smoke:
        runner.enable_decode_graphs(EagerGraph)
    assert runner.graphs is not None
    bsz = runner.block_size
    m = plan.shape
    kv_per_token = 2 * m["num_hidden_layers"] * m["num_key_value_heads"] * (m["hidden_size"] // m["num_attention_heads"]
                                                                           ) * weights["lm_head.weight"].element_size()
    rng = random.Random(0)
    replays: dict[str, Any] = {}
    for bs in plan.batches:
        ids, positions, slots, tables = decode_inputs(runner.num_blocks, bs, plan.ctx, bsz, rng)
        step = timed(partial(runner.graphs.run, ids, positions, slots, tables), plan.reps, device)
        weights_s = max(pbytes / bw, 2 * nparams * bs / flops)
        kv_s = bs * plan.ctx * kv_per_token / bw
        replays[str(bs)] = {"step_ms": step * 1e3, "floor_ms": (weights_s + kv_s) * 1e3,
                            "weights_or_gemm_ms": weights_s * 1e3, "kv_ms": kv_s * 1e3,
                            "fraction_of_floor": (weights_s + kv_s) / step}
        log(f"graph decode x{bs} ctx {plan.ctx}: {step * 1e3:.2f} ms/step, floor {(weights_s + kv_s) * 1e3:.2f} ms "
            f"({(weights_s + kv_s) / step:.0%})")
    rec.put("graph_decode", {"ctx": plan.ctx, "by_batch": replays})

    if fast:
        # Imported here: triton is imported only where it runs (GPU, or the interpreter when asked).
        from leitai_runtime.layers.splitkv_config import CANDIDATES
        from leitai_runtime.layers.triton_attention import TritonAttention
        from leitai_runtime.layers.triton_splitkv import splitkv_decode

        k_cache, v_cache = runner.kv_caches[0]
        heads, hd = m["num_attention_heads"], m["hidden_size"] // m["num_attention_heads"]
        sweep: dict[str, Any] = {}
        for bs in sorted({plan.batches[-1], 64} & set(plan.batches)) or [plan.batches[-1]]:
            _, _, _, tables = decode_inputs(runner.num_blocks, bs, plan.ctx, bsz, rng)
            meta = decode_meta(tables, plan.ctx, bsz, device)
            q = torch.randn(bs, heads, hd, device=device, dtype=plan.dtype)
            layer_bytes = bs * plan.ctx * kv_per_token / m["num_hidden_layers"]
            res: dict[str, float] = {}
            t = timed(partial(TritonAttention().forward, q, k_cache, v_cache, meta, 0.088), plan.reps, device)
            res["per-token"] = layer_bytes / t / 1e12
            for part in plan.partitions:
                for cand in CANDIDATES:
                    if cand.tile > part:
                        continue
                    t = timed(partial(splitkv_decode, q, k_cache, v_cache, meta.block_tables, meta.context_lens,
                                      bsz, 0.088, partition=part, config=cand), plan.reps, device)
                    res[f"p{part}/{cand}"] = layer_bytes / t / 1e12
            best = max(res, key=lambda k: res[k])
            sweep[str(bs)] = {"TBps": res, "best": best}
            log(f"decode attention x{bs} ctx {plan.ctx}: best {best} {res[best]:.2f} TB/s; per-token "
                f"{res['per-token']:.2f}")
        rec.put("attention_sweep", sweep)

    bs = plan.batches[-1]
    _, _, _, tables = decode_inputs(runner.num_blocks, bs, plan.ctx, bsz, rng)
    meta = decode_meta(tables, plan.ctx, bsz, device)
    tokens = torch.full((bs,), 5, dtype=torch.int64, device=device)
    eager = kernel_profile(lambda: runner.model.compute_logits(runner._forward(tokens, meta, [1.0] * bs)), device)
    rec.put("profile_eager_decode", {"batch": bs, "ctx": plan.ctx, **eager})
    log(f"eager decode x{bs}: {eager['kernel_s'] * 1e3:.1f} ms of kernels; top "
        + ", ".join(f"{r['name'][:40]} {r['ms']:.2f}ms" for r in eager["top"][:5]))
    s, n = plan.prefill
    _, _, _, tables = decode_inputs(runner.num_blocks, s, n, bsz, rng)
    meta = prefill_meta(tables, n, bsz, device)
    prompt = torch.full((s * n,), 5, dtype=torch.int64, device=device)
    pre = kernel_profile(lambda: runner._forward(prompt, meta, [1.0] * s), device)
    pre_flops = 2 * nparams * s * n
    rec.put("profile_prefill", {"sequences": s, "tokens_each": n, "gemm_floor_s": pre_flops / flops, **pre})
    log(f"prefill {s}x{n}: {pre['wall_s'] * 1e3:.1f} ms wall, {pre['kernel_s'] * 1e3:.1f} ms of kernels "
        f"(GEMM floor {pre_flops / flops * 1e3:.1f} ms); top "
        + ", ".join(f"{r['name'][:40]} {r['ms']:.2f}ms" for r in pre["top"][:5]))

    # Host share: pure decode steps of a full batch through engine.step() vs the replay alone.
    hb = plan.host_batch
    for _ in range(hb):
        engine.add_request([rng.randint(3, m["vocab_size"] - 1) for _ in range(128 if not smoke else 16)],
                           SamplingParams(temperature=0.0, max_tokens=200, ignore_eos=True))
    # Requests enter the scheduler at the next step: run until all are admitted and prefilled.
    while len(engine.scheduler.running) < hb or any(q.num_uncomputed_tokens > 1 for q in engine.scheduler.running):
        engine.step()
    steps = 20 if not smoke else 3
    per_step = []
    for _ in range(steps):  # step() ends in a device-to-host read of the sampled tokens: no sync needed
        t = time.perf_counter()
        engine.step()
        per_step.append(time.perf_counter() - t)
    step_s = sorted(per_step)[len(per_step) // 2]
    ctx = 128 + steps if not smoke else 16 + steps
    ids2, positions, slots, tables = decode_inputs(runner.num_blocks, hb, ctx, bsz, rng)
    replay = timed(partial(runner.graphs.run, ids2, positions, slots, tables), plan.reps, device)
    rec.put("host_share", {"batch": hb, "engine_step_ms": step_s * 1e3, "replay_ms": replay * 1e3,
                           "host_ms": (step_s - replay) * 1e3, "steps_ms": [x * 1e3 for x in per_step]})
    log(f"engine decode step x{hb}: {step_s * 1e3:.2f} ms, graph replay alone {replay * 1e3:.2f} ms "
        f"(host {(step_s - replay) * 1e3:.2f} ms)")
