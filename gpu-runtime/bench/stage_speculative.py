"""Speculative decoding on the 7B shape: greedy output against the target alone, and tokens/s
with no speculation vs a draft, at 1 and 16 concurrent requests.

The draft stands in for Chinese-LLaMA-2-1.3B: the 7B's width (hidden 4096, 32 heads,
intermediate 11008, vocab 55296) with 4 layers, ≈ 1.26B parameters. Random weights make
acceptance random, so it is forced instead: the draft is the target's own first 4 layers
with its embeddings, final norm and lm_head, and the target's later layers write
`damp` times what they would (o_proj and down_proj scaled in place, which every engine built
on these tensors sees). damp 0 makes the target the draft (acceptance ≈ 1); larger damps
lower it; the rate actually measured is reported beside each speed. An unrelated random
draft of the same shape is the low-acceptance case, where the engine should fall back to
plain decoding (fallback steps are reported). Damping changes no shape, so the target's
cost per step is the same at every damp.
"""

from __future__ import annotations

import gc
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import torch

from leitai_runtime.config import EngineConfig, SpeculativeConfig
from leitai_runtime.cuda_graph import EagerGraph
from leitai_runtime.engine import LLMEngine
from leitai_runtime.metrics import Metrics
from leitai_runtime.sequence import SamplingParams
from leitai_runtime.speculative import DraftModel, SpeculativeStats, StepTimer

from .device_common import Recorder, log, triton_runs
from .device_models import LLAMA_7B, hf_config, parameter_bytes, random_state_dict
from .stage_correctness import EPS, record_logits
from .stage_speed import run_level

Requests = list[tuple[list[int], int]]
Reference = tuple[list[list[int]], list[list[torch.Tensor]]]  # greedy tokens and logits per prompt


@dataclass(frozen=True)
class SpecPlan:
    shape: dict[str, Any]
    draft_layers: int
    std: float                      # weight init; 0.02 keeps 32 random fp16 layers finite
    num_speculative_tokens: int
    damps: tuple[float, ...]        # forced-acceptance settings for the first-layers draft
    levels: tuple[int, ...]
    prompt_range: tuple[int, int]
    output_tokens: int
    level_seconds: dict[int, float]
    check_prompts: tuple[int, ...]  # prompt lengths of the greedy check, decoded concurrently
    check_tokens: int
    num_kv_blocks: int
    max_model_len: int
    max_num_batched_tokens: int


GPU_PLAN = SpecPlan(
    shape=LLAMA_7B, draft_layers=4, std=0.02, num_speculative_tokens=4, damps=(0.0, 0.01, 0.03, 0.1),
    levels=(1, 16), prompt_range=(128, 256), output_tokens=256, level_seconds={1: 8, 16: 10},
    check_prompts=(16, 64, 128, 200), check_tokens=48, num_kv_blocks=1024, max_model_len=1024,
    max_num_batched_tokens=4096)
SMOKE_PLAN = SpecPlan(
    shape=dict(hidden_size=64, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=4,
               intermediate_size=172, vocab_size=512, max_position_embeddings=512),
    draft_layers=2, std=0.1, num_speculative_tokens=4, damps=(0.0, 0.1, 0.3), levels=(1, 16),
    prompt_range=(8, 24), output_tokens=16, level_seconds={1: 20, 16: 20}, check_prompts=(5, 17, 30, 9),
    check_tokens=16, num_kv_blocks=256, max_model_len=256, max_num_batched_tokens=256)


def damped_names(config: dict[str, Any], draft_layers: int) -> list[str]:
    """The residual writes of the layers past the draft's."""
    return [f"model.layers.{i}.{proj}.weight" for i in range(draft_layers, config["num_hidden_layers"])
            for proj in ("self_attn.o_proj", "mlp.down_proj")]


class Damper:
    """Scales the target's later layers in place (every engine adopts these tensors)."""

    def __init__(self, weights: dict[str, torch.Tensor], names: list[str]) -> None:
        self.weights = weights
        self.original = {n: weights[n].clone() for n in names}
        self.damp = 1.0

    @torch.no_grad()
    def set(self, damp: float) -> None:
        for name, original in self.original.items():
            torch.mul(original, damp, out=self.weights[name])
        self.damp = damp


def first_layers(config: dict[str, Any], weights: dict[str, torch.Tensor], layers: int
                 ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    kept = {k: v for k, v in weights.items() if not k.startswith("model.layers.") or int(k.split(".")[2]) < layers}
    return {**config, "num_hidden_layers": layers}, kept


def make_requests(plan: SpecPlan, n: int, seed: int) -> Requests:
    rng = random.Random(seed)
    vocab = plan.shape["vocab_size"]
    return [([rng.randint(3, vocab - 1) for _ in range(rng.randint(*plan.prompt_range))], plan.output_tokens)
            for _ in range(n)]


def build(plan: SpecPlan, config: dict[str, Any], weights: dict[str, torch.Tensor], device: torch.device,
          dtype: torch.dtype, smoke: bool, draft: DraftModel | None = None) -> LLMEngine:
    """The GPU defaults (graphs, fused ops, split-KV), a fixed KV pool (no memory profiling)."""
    t = time.perf_counter()
    engine = LLMEngine(config, weights, EngineConfig(
        device=str(device), dtype=str(dtype).removeprefix("torch."), block_size=16,
        num_kv_blocks=plan.num_kv_blocks, max_num_seqs=max(plan.levels),
        max_num_batched_tokens=plan.max_num_batched_tokens, max_model_len=plan.max_model_len,
        enable_prefix_caching=False, attention_backend="triton-splitkv" if triton_runs(device) else "torch",
        fused_ops=True), draft=draft)
    if smoke:  # the graph bookkeeping on CPU, replayed eagerly (a GPU captures real graphs itself)
        engine.runner.enable_decode_graphs(EagerGraph)
        if engine.speculator is not None:
            engine.speculator.runner.enable_decode_graphs(EagerGraph)
    log(f"engine ({'draft ' + draft.name if draft else 'no draft'}) ready in {time.perf_counter() - t:.1f}s, "
        f"graphs {engine.runner.graphs.batch_sizes if engine.runner.graphs else None}")
    return engine


def reset_fallback(engine: LLMEngine) -> None:
    """Each run starts as a fresh server would: optimistic, not in a fallback period left by the
    previous run (which may have had another acceptance)."""
    spec = engine.speculator
    if spec is not None:
        spec.tokens_per_step = float(spec.config.num_speculative_tokens + 1)
        spec._plain_steps_left = 0
        spec.timer = StepTimer(spec.config.probe_interval)


def spec_delta(before: SpeculativeStats | None, after: SpeculativeStats | None) -> dict[str, Any]:
    """What one run added to the speculative counters."""
    if before is None or after is None:
        return {}
    proposed = after.proposed_tokens - before.proposed_tokens
    accepted = after.accepted_tokens - before.accepted_tokens
    steps = after.sequence_steps - before.sequence_steps
    return {"proposed_tokens": proposed, "accepted_tokens": accepted, "sequence_steps": steps,
            "acceptance_rate": accepted / proposed if proposed else None,
            "tokens_per_step": (accepted + steps) / steps if steps else None,  # kept proposals + the target's
            "fallback_steps": {r: n - before.fallback_steps.get(r, 0) for r, n in after.fallback_steps.items()},
            "min_tokens_per_step": after.min_tokens_per_step}


def generate(engine: LLMEngine, prompts: list[list[int]], n: int) -> list[list[int]]:
    ids = [engine.add_request(p, SamplingParams(temperature=0.0, max_tokens=n, ignore_eos=True)) for p in prompts]
    out: dict[int, list[int]] = {i: [] for i in ids}
    while engine.has_unfinished():
        for o in engine.step():
            out[o.seq_id].extend(o.new_token_ids)
    return [out[i] for i in ids]


def reference(engine: LLMEngine, prompts: list[list[int]], n: int) -> Reference:
    """The target alone, with its logits per step (decode-ahead off: its steps skip runner.logits)."""
    runner = engine.runner
    config = runner.config
    runner.config = replace(config, async_decode=False)
    seen = record_logits(engine)
    try:
        outs = generate(engine, prompts, n)
    finally:
        del runner.logits  # back to the class's method
        runner.config = config
    return outs, [seen[i] for i in sorted(seen)]  # sequence ids rise in request order


def compare(ours: list[int], ref: list[int], ref_logits: list[torch.Tensor], dtype: torch.dtype) -> dict[str, Any]:
    """Identical, or at the first divergence a near-tie in the target's own logits (within 8 ulps of
    the logit scale: a multi-token verification and a decode step may round differently)."""
    first = next((i for i, (a, b) in enumerate(zip(ours, ref, strict=True)) if a != b), None)
    res: dict[str, Any] = {"tokens": len(ref), "identical": first is None}
    if first is not None:
        scale = max(float(x.abs().max()) for x in ref_logits)
        row = ref_logits[first]
        gap = float(row[ref[first]] - row[ours[first]])
        tol = 8 * EPS[dtype] * scale
        res.update(first_divergence_step=first, target_gap_between_choices=gap, tolerance=tol, near_tie=gap <= tol)
    res["ok"] = bool(first is None or res["near_tie"])
    return res


def check(rec: Recorder, key: str, engine: LLMEngine, prompts: list[list[int]], n: int,
          ref: Reference, dtype: torch.dtype) -> None:
    reset_fallback(engine)
    before = engine.stats().speculative
    outs = generate(engine, prompts, n)
    per_prompt = [compare(o, r, lg, dtype) for o, r, lg in zip(outs, ref[0], ref[1], strict=True)]
    res = {"ok": all(p["ok"] for p in per_prompt), "prompts": per_prompt,
           **spec_delta(before, engine.stats().speculative)}
    rec.put(key, res)
    log(f"{key}: {sum(p['identical'] for p in per_prompt)}/{len(per_prompt)} identical to the target alone "
        f"(acceptance {_rate(res.get('acceptance_rate'))}){'' if res['ok'] else ' MISMATCH'}")


def measure(rec: Recorder, key: str, engine: LLMEngine, requests: Requests, seconds: float,
            plain: dict[int, float]) -> None:
    reset_fallback(engine)
    before = engine.stats().speculative
    res = run_level(engine, requests, seconds)
    res.update(spec_delta(before, engine.stats().speculative))
    c = len(requests)
    if c in plain:
        res["vs_plain"] = res["tokens_per_s"] / plain[c]
    rec.put(key, res)
    fallback = res.get("fallback_steps")
    log(f"{key}: {res['tokens_per_s']:.1f} tok/s" + (f" ({res['vs_plain']:.2f}x plain)" if "vs_plain" in res else "")
        + (f", acceptance {_rate(res.get('acceptance_rate'))}, {res['tokens_per_step'] or 0:.2f} tokens/step, "
           f"fallback steps {fallback}" if fallback is not None else "") + (" (timed out)" if res["timed_out"] else ""))


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def guarded(rec: Recorder, key: str, fn: Callable[[], None]) -> bool:
    try:
        fn()
        return True
    except Exception as err:  # record it and go on: later measurements still say something
        rec.put(key, {"error": "".join(traceback.format_exception(err))[-3000:]})
        log(f"{key}: ERROR {type(err).__name__}: {str(err)[:300]}")
        return False


def free_memory(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


@dataclass
class Setup:
    """What every phase of the stage works on."""

    plan: SpecPlan
    device: torch.device
    dtype: torch.dtype
    smoke: bool
    config: dict[str, Any]
    weights: dict[str, torch.Tensor]
    damper: Damper
    spec: SpeculativeConfig
    prompts: list[list[int]]      # the greedy check's
    requests: dict[int, Requests]  # per concurrency level
    warmup: Requests


def plain_phase(rec: Recorder, s: Setup) -> tuple[dict[float, Reference], dict[int, float]]:
    """The target alone: greedy references at every damp, then its speed (damping changes no cost)."""
    refs: dict[float, Reference] = {}
    plain: dict[int, float] = {}
    engine = build(s.plan, s.config, s.weights, s.device, s.dtype, s.smoke)
    for d in (*s.plan.damps, 1.0):
        s.damper.set(d)
        refs[d] = reference(engine, s.prompts, s.plan.check_tokens)
    run_level(engine, s.warmup, 30)
    for c in s.plan.levels:
        key = f"plain/{c}"
        if guarded(rec, key, partial(measure, rec, key, engine, s.requests[c], s.plan.level_seconds[c], {})):
            plain[c] = rec.data[key]["tokens_per_s"]
    return refs, plain


def truncated_phase(rec: Recorder, s: Setup, refs: dict[float, Reference], plain: dict[int, float]) -> None:
    """The target's first layers as the draft, at each forced acceptance."""
    layers = s.plan.draft_layers
    draft = DraftModel(*first_layers(s.config, s.weights, layers), s.spec, f"first-{layers}-layers")
    engine = build(s.plan, s.config, s.weights, s.device, s.dtype, s.smoke, draft)
    rec.put("speculator", {"min_tokens_per_step": engine.speculator.min_tokens_per_step if engine.speculator else None,
                           "max_batch_size": s.spec.max_batch_size, "probe_interval": s.spec.probe_interval})
    run_level(engine, s.warmup, 30)
    for d in s.plan.damps:
        s.damper.set(d)
        key = f"check/truncated/{d}"
        guarded(rec, key, partial(check, rec, key, engine, s.prompts, s.plan.check_tokens, refs[d], s.dtype))
        for c in s.plan.levels:
            key = f"truncated/{d}/{c}"
            guarded(rec, key, partial(measure, rec, key, engine, s.requests[c], s.plan.level_seconds[c], plain))


def random_phase(rec: Recorder, s: Setup, draft_config: dict[str, Any], draft_weights: dict[str, torch.Tensor],
                 refs: dict[float, Reference], plain: dict[int, float]) -> None:
    """An unrelated draft of the same shape: low acceptance, the engine should fall back."""
    s.damper.set(1.0)
    engine = build(s.plan, s.config, s.weights, s.device, s.dtype, s.smoke,
                   DraftModel(draft_config, draft_weights, s.spec, "random"))
    run_level(engine, s.warmup, 30)
    guarded(rec, "check/random", partial(check, rec, "check/random", engine, s.prompts, s.plan.check_tokens,
                                         refs[1.0], s.dtype))
    for c in s.plan.levels:
        key = f"random/{c}"
        guarded(rec, key, partial(measure, rec, key, engine, s.requests[c], s.plan.level_seconds[c], plain))
    text = Metrics(lambda: {"target": engine.stats()}).render().decode()  # what /metrics shows for it
    rec.put("metrics", [line for line in text.splitlines() if line.startswith("leitai_spec_")])


def run(rec: Recorder, device: torch.device, smoke: bool) -> None:
    plan = SMOKE_PLAN if smoke else GPU_PLAN
    dtype = torch.float32 if smoke else torch.float16
    k = plan.num_speculative_tokens
    t = time.perf_counter()
    config = hf_config(plan.shape)
    weights = random_state_dict(config, dtype, device, seed=0, std=plan.std)
    draft_config = {**config, "num_hidden_layers": plan.draft_layers}
    draft_weights = random_state_dict(draft_config, dtype, device, seed=1, std=plan.std)
    rec.put("model", {"target": plan.shape, "draft_layers": plan.draft_layers, "dtype": str(dtype),
                      "target_bytes": parameter_bytes(weights), "draft_bytes": parameter_bytes(draft_weights),
                      "num_speculative_tokens": k, "damps": plan.damps, "init_s": time.perf_counter() - t})
    log(f"target {parameter_bytes(weights) / 1e9:.2f} GB, draft {parameter_bytes(draft_weights) / 1e9:.2f} GB "
        f"({plan.draft_layers} layers), k = {k}")
    gen = random.Random(7)
    setup = Setup(plan, device, dtype, smoke, config, weights, Damper(weights, damped_names(config, plan.draft_layers)),
                  SpeculativeConfig(num_speculative_tokens=k),
                  [[gen.randint(3, plan.shape["vocab_size"] - 1) for _ in range(n)] for n in plan.check_prompts],
                  {c: make_requests(plan, c, seed=c) for c in plan.levels}, make_requests(plan, 2, seed=1000))
    refs, plain = plain_phase(rec, setup)
    free_memory(device)  # each phase's engine (KV pool, graphs) goes before the next is built
    truncated_phase(rec, setup, refs, plain)
    free_memory(device)
    random_phase(rec, setup, draft_config, draft_weights, refs, plain)
    free_memory(device)
