"""Greedy tokens and logits of the runtime vs transformers on the same small random Llama.

Several prompts run concurrently through the engine (decode graphs with padding, fused ops,
split-KV attention on a GPU; the eager path as a second configuration); transformers runs
each prompt alone. In half precision two implementations may legitimately pick different
tokens where the top two logits are closer than the dtype's rounding: the first divergence
is reported with transformers' logit gap between the two tokens there.
"""

from __future__ import annotations

import traceback
from typing import Any

import torch

from leitai_runtime.config import EngineConfig
from leitai_runtime.cuda_graph import EagerGraph
from leitai_runtime.engine import LLMEngine
from leitai_runtime.sequence import SamplingParams

from .device_common import Recorder, log, triton_runs
from .device_models import hf_config, hf_model_sharing, random_state_dict

SMALL = dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=8, num_key_value_heads=2,
             intermediate_size=704, vocab_size=2048, max_position_embeddings=1024)
SMOKE = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
             intermediate_size=172, vocab_size=512, max_position_embeddings=512)
EPS = {torch.float32: 2.0 ** -23, torch.float16: 2.0 ** -10, torch.bfloat16: 2.0 ** -7}


def record_logits(engine: LLMEngine) -> dict[int, list[torch.Tensor]]:
    """Wrap the runner so every sampled row's logits are kept per sequence id."""
    runner = engine.runner
    inner = runner.logits
    seen: dict[int, list[torch.Tensor]] = {}

    def logits(batch: Any) -> torch.Tensor:
        out = inner(batch)
        sampled = [s for i, s in enumerate(batch.seqs) if batch.samples(i)]
        for row, seq in zip(out, sampled, strict=True):
            seen.setdefault(seq.seq_id, []).append(row.float().cpu())
        return out

    runner.logits = logits  # type: ignore[method-assign]
    return seen


def hf_greedy(hf: Any, prompt: list[int], n: int, device: torch.device) -> tuple[list[int], list[torch.Tensor]]:
    ids = torch.tensor([prompt], device=device)
    kwargs: dict[str, Any] = dict(attention_mask=torch.ones_like(ids), max_new_tokens=n, do_sample=False,
                                  pad_token_id=0, return_dict_in_generate=True)
    with torch.inference_mode():
        try:
            out = hf.generate(ids, output_logits=True, **kwargs)
            steps = out.logits
        except (TypeError, ValueError):  # transformers < 4.38: no raw logits; greedy scores are the same here
            out = hf.generate(ids, output_scores=True, **kwargs)
            steps = out.scores
    return out.sequences[0, len(prompt):].tolist(), [x[0].float().cpu() for x in steps]


def compare(ours: list[int], our_logits: list[torch.Tensor], ref: list[int], ref_logits: list[torch.Tensor],
            dtype: torch.dtype) -> dict[str, Any]:
    scale = max(float(x.abs().max()) for x in ref_logits)
    tol = 8 * EPS[dtype] * scale
    steps = min(len(ours), len(ref))
    first = next((i for i in range(steps) if ours[i] != ref[i]), None)
    upto = steps if first is None else first + 1
    diffs = [float((a - b).abs().max()) for a, b in zip(our_logits[:upto], ref_logits[:upto], strict=False)]
    res: dict[str, Any] = {"tokens": steps, "identical": first is None, "max_abs_logit_diff": max(diffs, default=0.0),
                           "logit_scale": scale, "tolerance": tol}
    if first is not None:
        row = ref_logits[first]
        top2 = torch.topk(row, 2).values
        gap = float(row[ref[first]] - row[ours[first]])
        res.update(first_divergence_step=first, hf_top2_gap=float(top2[0] - top2[1]), hf_gap_between_choices=gap,
                   near_tie=gap <= tol)
    res["ok"] = bool(first is None or res["near_tie"]) and res["max_abs_logit_diff"] <= max(tol, 1e-3) * 4
    return res


def check_variant(rec: Recorder, config: dict[str, Any], weights: dict[str, torch.Tensor], device: torch.device,
                  dtype: torch.dtype, label: str, extra: dict[str, Any], prompts: list[list[int]],
                  max_tokens: tuple[int, ...], refs: list[tuple[list[int], list[torch.Tensor]]]) -> None:
    name = str(dtype).removeprefix("torch.")
    engine = LLMEngine(config, weights, EngineConfig(
        device=str(device), dtype=name, block_size=16, num_kv_blocks=128, max_num_seqs=8,
        max_model_len=512, enable_prefix_caching=False, **extra))
    if device.type == "cpu" and not extra.get("enforce_eager"):
        engine.runner.enable_decode_graphs(EagerGraph)  # the graph bookkeeping, replayed eagerly
    seen = record_logits(engine)
    ids = [engine.add_request(p, SamplingParams(temperature=0.0, max_tokens=n, ignore_eos=True))
           for p, n in zip(prompts, max_tokens, strict=True)]
    outs: dict[int, list[int]] = {i: [] for i in ids}
    while engine.has_unfinished():
        for o in engine.step():
            outs[o.seq_id].extend(o.new_token_ids)
    per_prompt = [compare(outs[i], seen[i], ref, ref_logits, dtype)
                  for i, (ref, ref_logits) in zip(ids, refs, strict=True)]
    ok = all(r["ok"] for r in per_prompt)
    rec.put(f"{name}/{label}", {"ok": ok, "prompts": per_prompt, "graphs": engine.runner.graphs is not None,
                                "ops": engine.runner.ops.name, "attention": engine.runner.backend.name})
    first = [r.get("first_divergence_step") for r in per_prompt]
    log(f"correctness {name} {label}: {'OK' if ok else 'MISMATCH'}; identical "
        f"{sum(r['identical'] for r in per_prompt)}/{len(per_prompt)}, first divergence steps {first}, "
        f"max |dlogit| {max(r['max_abs_logit_diff'] for r in per_prompt):.3g}")


def run(rec: Recorder, device: torch.device, smoke: bool) -> None:
    # Triton's CPU interpreter has no bf16 math (its bf16 tl.dot returns garbage): fp16 there.
    half = torch.float16 if smoke and triton_runs(device) else torch.bfloat16
    dtypes = [torch.float32, half] if smoke else [torch.float16, torch.bfloat16]
    shape = SMOKE if smoke else SMALL
    config = hf_config(shape)
    prompts_lens, max_tokens = ((5, 17, 30, 9), (16, 12, 8, 6)) if smoke else ((5, 17, 40, 100), (40, 32, 24, 16))
    gen = torch.Generator().manual_seed(11)
    prompts = [torch.randint(3, shape["vocab_size"], (n,), generator=gen).tolist() for n in prompts_lens]
    fast_attention = "triton-splitkv" if triton_runs(device) else "torch"
    variants: list[tuple[str, dict[str, Any]]] = [
        ("graphs+fused+splitkv", dict(attention_backend=fast_attention, fused_ops=True)),
                ("eager+torch-ops", dict(enforce_eager=True, attention_backend="torch"))]
    for dtype in dtypes:
        name = str(dtype).removeprefix("torch.")
        weights = random_state_dict(config, dtype, device, seed=5, std=0.1)
        hf = hf_model_sharing(config, weights, device)
        refs = [hf_greedy(hf, p, n, device) for p, n in zip(prompts, max_tokens, strict=True)]
        for label, extra in variants:
            try:
                check_variant(rec, config, weights, device, dtype, label, extra, prompts, max_tokens, refs)
            except Exception as err:  # keep going: the other variants and dtypes still say something
                rec.put(f"{name}/{label}", {"ok": False, "error": "".join(traceback.format_exception(err))[-3000:]})
                log(f"correctness {name} {label}: ERROR {type(err).__name__}: {err}")
        del hf, weights
