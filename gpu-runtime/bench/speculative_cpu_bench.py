"""CPU benchmark of speculative decoding: plain decoding vs a draft model, side by side in one
run, at 1 and 16 concurrent requests, on a small random Llama.

Random weights give random acceptance, so it is forced as in the device stage
(bench/stage_speculative.py): the "first layers" draft is the target's own first layers
(shared embeddings, final norm, lm_head) and the target's later layers are damped so the
draft usually agrees (high acceptance); the "random" draft is an unrelated model of the
draft's shape (acceptance ≈ 0, where the engine should fall back to plain decoding). The
plain and random engines serve the first damp's target tensors, each first-layers run its own. "1 concurrent" serves --sequential requests one
after another, "16 concurrent" starts 16 together; the modes take turns level by level, for
--repeats rounds, so drift of a shared machine hits all of them. Each run starts with the
speculator's fallback state reset (optimistic, as a fresh server). Greedy outputs are
checked identical to the target alone (a plain engine on the same damped target). Prints a table, writes
bench/results/<date>-speculative-cpu.json and appends a section to BENCHMARKS.md.

    python bench/speculative_cpu_bench.py [--threads 2] [--max-tokens 64] [--repeats 2] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from bench.cpu_bench import cpu_name, save_results  # noqa: E402
from bench.device_models import hf_config, parameter_bytes, random_state_dict  # noqa: E402
from bench.stage_speculative import Damper, damped_names, first_layers, reset_fallback  # noqa: E402
from leitai_runtime.config import EngineConfig, SpeculativeConfig  # noqa: E402
from leitai_runtime.engine import LLMEngine  # noqa: E402
from leitai_runtime.sequence import SamplingParams  # noqa: E402
from leitai_runtime.speculative import FALLBACK_REASONS, DraftModel  # noqa: E402

SHAPE = dict(hidden_size=512, num_hidden_layers=16, num_attention_heads=8, num_key_value_heads=8,
             intermediate_size=1408, vocab_size=8000, max_position_embeddings=1024)
DRAFT_LAYERS = 2
MODES = ("plain", "first layers", "random")


def run(engine: LLMEngine, prompts: list[list[int]], max_tokens: int, concurrent: bool
        ) -> tuple[int, float, list[list[int]]]:
    """(output tokens, wall seconds, tokens per prompt)."""
    params = SamplingParams(temperature=0.0, max_tokens=max_tokens, ignore_eos=True)
    reset_fallback(engine)
    outs: list[list[int]] = []
    t0 = time.perf_counter()
    for batch in ([prompts] if concurrent else [[p] for p in prompts]):
        ids = [engine.add_request(p, params) for p in batch]
        got: dict[int, list[int]] = {i: [] for i in ids}
        while engine.has_unfinished():
            for o in engine.step():
                got[o.seq_id].extend(o.new_token_ids)
        outs += [got[i] for i in ids]
    return sum(len(o) for o in outs), time.perf_counter() - t0, outs


def counters(engine: LLMEngine) -> dict[str, int]:
    s = engine.stats().speculative
    if s is None:
        return {}
    return {"proposed": s.proposed_tokens, "accepted": s.accepted_tokens, "sequence_steps": s.sequence_steps,
            **{f"fallback_{r}": n for r, n in s.fallback_steps.items()}}


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [f"## {meta['date']} — CPU, speculative decoding, small random Llama ({meta['machine']})", "",
             f"`python bench/speculative_cpu_bench.py`: target {meta['model']}; drafts {meta['drafts']}; "
             f"k = {meta['num_speculative_tokens']} proposed tokens per step, fallback below "
             f"{meta['min_tokens_per_step']:.2f} tokens per step (the default, 1 + k × draft/target parameters); "
             f"prompts {meta['prompt_lens']} tokens, {meta['max_tokens']} greedy tokens each (EOS ignored); "
             f"torch {meta['torch']}, {meta['threads']} thread(s), float32, {meta['repeats']} interleaved round(s). "
             f"Greedy tokens identical to the target alone in every run: {meta['greedy_identical']}.", "",
             "| draft | concurrent | requests | tokens | wall s | tokens/s | vs plain | acceptance | tokens/step "
             "| fallback steps |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['concurrent']} | {r['requests']} | {r['tokens']} | {r['wall_s']:.2f} | "
                     f"{r['tokens_per_s']:.1f} | {r['vs_plain']:.2f}× | "
                     + (f"{r['acceptance_rate']:.2f} | {r['tokens_per_step']:.2f} | {r['fallback_steps']} |"
                        if r.get("acceptance_rate") is not None else "— | — | — |"))
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--sequential", type=int, default=2, help="requests served one at a time for '1 concurrent'")
    ap.add_argument("--concurrent", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2, help="interleaved rounds")
    ap.add_argument("--damps", default="0.005,0.02",
                    help="first-layers draft runs: the target's layers past the draft's write this much of what "
                         "they would (0.005: acceptance ≈ 0.9, 0.02: ≈ 0.65 on this shape); the first also serves "
                         "the plain and random runs")
    ap.add_argument("--k", type=int, default=4, help="tokens the draft proposes per step")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cpu = torch.device("cpu")
    config = hf_config(SHAPE)
    base = random_state_dict(config, torch.float32, cpu, seed=0, std=0.02)
    damps = [float(d) for d in args.damps.split(",")]
    targets: dict[float, dict[str, torch.Tensor]] = {}
    for d in damps:  # a copy per damp: engines adopt the tensors, so one damp each
        targets[d] = {name: t.clone() for name, t in base.items()}
        Damper(targets[d], damped_names(config, DRAFT_LAYERS)).set(d)
    del base
    draft_config = {**config, "num_hidden_layers": DRAFT_LAYERS}
    spec = SpeculativeConfig(num_speculative_tokens=args.k)
    engine_config = EngineConfig(device="cpu", dtype="float32", block_size=16, num_kv_blocks=256,
                                 max_num_seqs=args.concurrent, max_num_batched_tokens=2048, max_model_len=512,
                                 enable_prefix_caching=False)
    random_draft = DraftModel(draft_config, random_state_dict(draft_config, torch.float32, cpu, seed=1), spec, "random")
    modes: dict[str, tuple[float, DraftModel | None]] = {"plain": (damps[0], None)}
    for d in damps:
        modes[f"first layers, damp {d:g}"] = (d, DraftModel(*first_layers(config, targets[d], DRAFT_LAYERS), spec,
                                                         f"first-layers-{d:g}"))
    modes["random"] = (damps[0], random_draft)
    engines = {mode: LLMEngine(config, targets[d], engine_config, draft=draft) for mode, (d, draft) in modes.items()}
    rng = random.Random(0)
    lens = [rng.randint(16, 64) for _ in range(args.concurrent)]
    prompts = {1: [[rng.randint(3, SHAPE["vocab_size"] - 1) for _ in range(n)] for n in lens[:args.sequential]],
               args.concurrent: [[rng.randint(3, SHAPE["vocab_size"] - 1) for _ in range(n)] for n in lens]}
    for engine in engines.values():  # warm-up
        run(engine, [prompts[1][0][:8]], 8, concurrent=False)
    totals: dict[tuple[str, int], dict[str, Any]] = {}
    outputs: dict[tuple[str, int], list[list[int]]] = {}
    for rnd in range(args.repeats):
        for c, batch in prompts.items():
            for mode, engine in engines.items():
                before = counters(engine)
                tokens, wall, outs = run(engine, batch, args.max_tokens, concurrent=c > 1)
                after = counters(engine)
                t = totals.setdefault((mode, c), {"tokens": 0, "wall_s": 0.0, **dict.fromkeys(after, 0)})
                t["tokens"] += tokens
                t["wall_s"] += wall
                for key in after:
                    t[key] += after[key] - before[key]
                outputs[(mode, c)] = outs
                print(f"round {rnd + 1} {mode:26} x{c:<3} {tokens / wall:8.1f} tok/s", flush=True)
    # Greedy check against the target alone at each damp (untimed: plain speed does not depend on it).
    references = {damps[0]: engines["plain"]}
    for d in damps[1:]:
        references[d] = LLMEngine(config, targets[d], engine_config)
    identical = all(outputs[(mode, c)] == (outputs[("plain", c)] if d == damps[0] else
                                           run(references[d], batch, args.max_tokens, c > 1)[2])
                    for mode, (d, _) in modes.items() for c, batch in prompts.items())
    rows: list[dict[str, Any]] = []
    for c, batch in prompts.items():
        plain = totals[("plain", c)]
        for mode in modes:
            t = totals[(mode, c)]
            row: dict[str, Any] = {"mode": mode, "concurrent": c, "requests": len(batch) * args.repeats,
                                   "tokens": t["tokens"], "wall_s": t["wall_s"],
                                   "tokens_per_s": t["tokens"] / t["wall_s"],
                                   "vs_plain": (t["tokens"] / t["wall_s"]) / (plain["tokens"] / plain["wall_s"])}
            if t.get("proposed"):
                row.update(acceptance_rate=t["accepted"] / t["proposed"],
                           tokens_per_step=(t["accepted"] + t["sequence_steps"]) / t["sequence_steps"],
                           sequence_steps=t["sequence_steps"],
                           fallback_steps=sum(t[f"fallback_{reason}"] for reason in FALLBACK_REASONS))
            rows.append(row)
    speculator = engines["random"].speculator
    meta: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu_name()}, {os.cpu_count()} cores", "torch": torch.__version__, "threads": args.threads,
        "model": (f"random Llama, {SHAPE['num_hidden_layers']} layers, hidden {SHAPE['hidden_size']}, "
                  f"{SHAPE['num_attention_heads']} heads, intermediate {SHAPE['intermediate_size']}, vocab "
                  f"{SHAPE['vocab_size']} ({parameter_bytes(targets[damps[0]]) / 1e6:.0f} MB in float32), its "
                  f"layers past the draft's damped ×{damps[0]:g} (×{' / ×'.join(f'{d:g}' for d in damps[1:])} for "
                  "the other first-layers runs)"),
        "drafts": (f"its first {DRAFT_LAYERS} layers (\"first layers\", shared tensors) or a random model of that "
                   f"shape (\"random\"), {parameter_bytes(random_draft.state_dict) / 1e6:.0f} MB"),
        "num_speculative_tokens": args.k,
        "min_tokens_per_step": speculator.min_tokens_per_step if speculator else None,
        "prompt_lens": f"{min(lens)}–{max(lens)}", "max_tokens": args.max_tokens, "repeats": args.repeats,
        "sequential": args.sequential, "damps": damps, "greedy_identical": "yes" if identical else "no"}
    text = markdown(rows, meta)
    print(text)
    if not args.no_write:
        save_results("speculative-cpu", meta, rows, text)


if __name__ == "__main__":
    main()
