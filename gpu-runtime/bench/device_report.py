"""The device benchmark's summary: one table for the console and a BENCHMARKS.md section."""

from __future__ import annotations

import json
from typing import Any

# Targets from the issue, for an H100; other cards are reported against the same numbers.
TARGET_BATCH1_TOKS = 190.0
TARGET_FLOOR_FRACTION = 0.88
TARGET_256_TOKS = 12000.0
TARGET_HF_RATIO_64 = 10.0
TARGET_SPEC_SPEEDUP_1 = 1.5   # batch 1, at a seed-like acceptance
TARGET_SPEC_RATIO_16 = 0.95   # no slow-down worse than 5 % at 16 concurrent (falls back)
# The issue names no number for a "seed-like" acceptance; the check takes the damp whose measured
# acceptance is nearest this, within SEED_LIKE_WINDOW.
SEED_LIKE_ACCEPTANCE = 0.6
SEED_LIKE_WINDOW = 0.15
SKIP = {"env", "status", "seconds"}


def _f(value: Any, fmt: str = ".1f") -> str:
    return "—" if value is None else format(value, fmt)


def _verdict(ok: bool | None, smoke: bool) -> str:
    if ok is None:
        return "not measured"
    if smoke:
        return "(smoke: no target)"
    return "PASS" if ok else "FAIL"


def correctness_rows(stage: dict[str, Any]) -> list[list[str]]:
    rows = []
    for key, res in stage.items():
        if key in SKIP or not isinstance(res, dict):
            continue
        if "error" in res:
            last = res["error"].strip().splitlines()[-1][:160]
            rows.append([f"greedy vs transformers, {key}", f"error: {last}", "identical or near-tie", "FAIL"])
            continue
        prompts = res["prompts"]
        same = sum(p["identical"] for p in prompts)
        notes = [f"step {p['first_divergence_step']}: HF gap {p['hf_gap_between_choices']:.4f} "
                 f"(top-2 {p['hf_top2_gap']:.4f}, tol {p['tolerance']:.4f})"
                 for p in prompts if not p["identical"]]
        value = f"{same}/{len(prompts)} identical, max abs Δlogit {max(p['max_abs_logit_diff'] for p in prompts):.3g}"
        if notes:
            value += "; first divergence " + "; ".join(notes)
        rows.append([f"greedy vs transformers, {key}", value, "identical or near-tie", "OK" if res["ok"] else "FAIL"])
    return rows


def summary_rows(report: dict[str, Any]) -> list[list[str]]:
    stages, smoke = report["stages"], report["meta"]["smoke"]
    rows: list[list[str]] = []
    for name, stage in stages.items():
        if stage.get("status") != "ok":
            rows.append([f"stage {name}", stage.get("status", "?"), "runs", "FAIL"])
    rows += correctness_rows(stages.get("correctness", {}))
    rows += speculative_rows(stages.get("speculative", {}), smoke)
    kernels = stages.get("kernels", {})
    if "direct_error" in kernels:
        rows.append(["Triton kernels vs torch", f"error: {kernels['direct_error'][:160]}", "within tolerance", "FAIL"])
    if "direct" in kernels:
        rows.append(["Triton kernels vs torch (fp32/fp16/bf16)", "all within tolerance" if kernels["direct"]["ok"]
                     else f"over tolerance: {kernels['direct']['over_tolerance']}", "within tolerance",
                     "OK" if kernels["direct"]["ok"] else "FAIL"])
    if "pytest" in kernels:
        p = kernels["pytest"]
        rows.append(["kernel test files (pytest)", p.get("summary") or p.get("skipped") or p.get("error", "?"),
                     "all pass", "OK" if p.get("ok") else ("skipped" if "skipped" in p else "FAIL")])
    speed = stages.get("speed", {})
    if "bandwidth" in speed:
        bw = speed["bandwidth"]
        rows.append(["device copy bandwidth", f"{bw['measured_copy_Bps'] / 1e12:.3f} TB/s "
                     f"(floor computed with {bw['assumed_Bps'] / 1e12:.2f} TB/s)", "—", "—"])
    if "engine_error" in speed:
        rows.append(["engine with the default GPU settings", f"error: {speed['engine_error'].strip().splitlines()[-1][:160]}; measured with "
                     f"{speed.get('engine', {}).get('settings')}", "builds", "FAIL"])
    d1 = speed.get("decode_batch1")
    if d1 and "error" in d1:
        rows.append(["batch-1 decode", f"error: {d1['error'][:160]}", f"≥ {TARGET_BATCH1_TOKS:.0f} tok/s", "FAIL"])
    elif d1:
        ok = d1["tokens_per_s"] >= TARGET_BATCH1_TOKS and d1["fraction_of_floor"] >= TARGET_FLOOR_FRACTION
        rows.append(["batch-1 decode", f"{d1['tokens_per_s']:.1f} tok/s, {d1['mean_step_s'] * 1e3:.2f} ms/token = "
                     f"{d1['fraction_of_floor']:.1%} of the {d1['floor_tokens_per_s']:.0f} tok/s floor "
                     f"({d1['fraction_of_measured_floor']:.1%} of the measured-bandwidth floor)",
                     f"≥ {TARGET_BATCH1_TOKS:.0f} tok/s, ≥ {TARGET_FLOOR_FRACTION:.0%}", _verdict(ok, smoke)])
    levels = sorted(int(k.split("/")[1]) for k in speed if k.startswith("engine/") and "error" not in speed[k])
    for k in sorted(k for k in speed if k.split("/")[0] in ("engine", "hf") and "error" in speed[k]):
        rows.append([k.replace("/", " x"), f"error: {speed[k]['error'][:160]}", "runs", "FAIL"])
    if levels:
        top = speed[f"engine/{levels[-1]}"]
        at_256 = levels[-1] == 256 or smoke
        rows.append([f"throughput at {levels[-1]} concurrent", f"{top['tokens_per_s']:.0f} tok/s",
                     f"≥ {TARGET_256_TOKS:.0f} tok/s at 256",
                     _verdict(top["tokens_per_s"] >= TARGET_256_TOKS if at_256 else None, smoke)])
    for key in sorted(k for k in speed if k.startswith("engine-step-by-step/")):
        c = key.split("/")[1]
        off, on = speed[key], speed.get(f"engine/{c}", {})
        if "error" in off or "tokens_per_s" not in on:
            rows.append([f"decode-ahead at {c} concurrent", f"error: {off.get('error', 'no run with it on')[:160]}",
                         "—", "not measured"])
        else:
            rows.append([f"decode-ahead at {c} concurrent", f"on {on['tokens_per_s']:.0f} tok/s, off "
                         f"{off['tokens_per_s']:.0f} tok/s ({on['tokens_per_s'] / off['tokens_per_s']:.2f}×)",
                         "—", "info"])
    ratio_level = 64 if 64 in levels else (levels[-2] if len(levels) > 1 else None)
    if ratio_level is not None and "tokens_per_s" in speed.get(f"hf/{ratio_level}", {}):
        ratio = speed[f"engine/{ratio_level}"]["tokens_per_s"] / speed[f"hf/{ratio_level}"]["tokens_per_s"]
        rows.append([f"vs transformers generate at {ratio_level} concurrent", f"{ratio:.1f}×",
                     f"≥ {TARGET_HF_RATIO_64:.0f}× at 64",
                     _verdict(ratio >= TARGET_HF_RATIO_64 if ratio_level == 64 or smoke else None, smoke)])
    return rows


def _spec_label(key: str) -> str:
    """'truncated/0.03/16' -> 'first-layers draft, damp 0.03'; 'random/16' -> 'random draft'."""
    parts = key.split("/")
    return f"first-layers draft, damp {parts[1]}" if parts[0] == "truncated" else "random draft"


def speculative_rows(stage: dict[str, Any], smoke: bool) -> list[list[str]]:
    rows: list[list[str]] = []
    for key, res in stage.items():
        if not key.startswith("check/"):
            continue
        label = f"speculative greedy = target alone, {_spec_label(key.removeprefix('check/'))}"
        if "error" in res:
            rows.append([label, f"error: {res['error'].strip().splitlines()[-1][:160]}", "identical or near-tie", "FAIL"])
            continue
        prompts = res["prompts"]
        value = (f"{sum(p['identical'] for p in prompts)}/{len(prompts)} identical (acceptance "
                 f"{_f(res.get('acceptance_rate'), '.2f')})")
        ties = [f"step {p['first_divergence_step']}: gap {p['target_gap_between_choices']:.4f} (tol {p['tolerance']:.4f})"
                for p in prompts if not p["identical"]]
        if ties:
            value += "; first divergence " + "; ".join(ties)
        rows.append([label, value, "identical or near-tie", "OK" if res["ok"] else "FAIL"])
    for key in (k for k in stage if k.count("/") >= 1 and k.split("/")[0] in ("plain", "truncated", "random")):
        if "error" in stage[key]:
            rows.append([f"speculative run {key}", f"error: {stage[key]['error'].strip().splitlines()[-1][:160]}",
                         "runs", "FAIL"])
    batch1 = [(k, r) for k, r in stage.items() if k.startswith("truncated/") and k.endswith("/1")
              and r.get("acceptance_rate") is not None and "vs_plain" in r]
    if batch1:
        key, r = min(batch1, key=lambda kr: abs(kr[1]["acceptance_rate"] - SEED_LIKE_ACCEPTANCE))
        near = abs(r["acceptance_rate"] - SEED_LIKE_ACCEPTANCE) <= SEED_LIKE_WINDOW
        rows.append([f"speculative speed-up at 1 concurrent, acceptance ≈ {SEED_LIKE_ACCEPTANCE}",
                     f"{r['vs_plain']:.2f}× at measured acceptance {r['acceptance_rate']:.2f} ({_spec_label(key)})"
                     + ("" if near else f"; no damp measured within ±{SEED_LIKE_WINDOW}"),
                     f"≥ {TARGET_SPEC_SPEEDUP_1}×",
                     _verdict(r["vs_plain"] >= TARGET_SPEC_SPEEDUP_1 if near else None, smoke)])
    for key, r in stage.items():
        if key.split("/")[0] in ("truncated", "random") and key.endswith("/16") and "vs_plain" in r:
            fallback = sum((r.get("fallback_steps") or {}).values())
            rows.append([f"speculative vs plain at 16 concurrent, {_spec_label(key)}",
                         f"{r['vs_plain']:.2f}× (acceptance {_f(r.get('acceptance_rate'), '.2f')}, "
                         f"{fallback} plain fallback steps)", f"≥ {TARGET_SPEC_RATIO_16}×",
                         _verdict(r["vs_plain"] >= TARGET_SPEC_RATIO_16, smoke)])
    return rows


def speculative_table(stage: dict[str, Any]) -> str:
    """Tokens/s with no speculation and with each draft, the acceptance measured in that run."""
    rows = []
    for key, r in stage.items():
        kind = key.split("/")[0]
        if kind not in ("plain", "truncated", "random") or "tokens_per_s" not in r:
            continue
        parts = key.split("/")
        fallback = r.get("fallback_steps")
        rows.append(["none" if kind == "plain" else f"{'first layers' if kind == 'truncated' else 'random'}",
                     parts[1] if kind == "truncated" else "—", parts[-1],
                     f"{r['tokens_per_s']:.1f}{' (timed out)' if r['timed_out'] else ''}",
                     f"{r['vs_plain']:.2f}×" if "vs_plain" in r else "—", _f(r.get("acceptance_rate"), ".2f"),
                     _f(r.get("tokens_per_step"), ".2f"),
                     " / ".join(str(fallback.get(reason, 0)) for reason in ("low_acceptance", "large_batch", "slower", "speed_probe"))
                     if fallback else "—",
                     str(r["output_tokens"])])
    return _md(["draft", "damp", "concurrent", "tok/s", "vs no draft", "acceptance", "tokens/step",
                "fallback steps (low acceptance / large batch / slower / speed probe)", "output tokens"], rows)


def level_rows(speed: dict[str, Any]) -> list[list[str]]:
    rows = []
    keys = [k for k in speed if k.startswith("engine/") and "error" not in speed[k]]
    for key in sorted(keys, key=lambda k: int(k.split("/")[1])):
        c = key.split("/")[1]
        e, h = speed[key], speed.get(f"hf/{c}", {})
        hf_tps = h.get("tokens_per_s")
        hf_note = (f"{hf_tps:.0f} ({h['new_tokens_per_request']} new tok/req, prompts ≤ {h['prompt_cap']})"
                   if hf_tps else h.get("error", "—"))
        roof = (f"{e['roofline_tokens_per_s']:.0f} ({e['fraction_of_roofline']:.0%})"
                if "roofline_tokens_per_s" in e else "—")
        rows.append([c, f"{e['tokens_per_s']:.0f}{' (timed out)' if e['timed_out'] else ''}", roof,
                     _f(e["ttft_p50_s"], ".3f"), _f(e["ttft_p95_s"], ".3f"), str(e["output_tokens"]),
                     str(e["preemptions"]), hf_note, f"{e['tokens_per_s'] / hf_tps:.1f}×" if hf_tps else "—"])
    return rows


def profile_table(profile: dict[str, Any]) -> str:
    """Decode graph replays against their floor, the attention kernel's bandwidth, prefill and host time."""
    rows = []
    ctx = profile["graph_decode"]["ctx"]
    for bs, r in profile["graph_decode"]["by_batch"].items():
        rows.append([f"graph decode step, batch {bs}, {ctx} keys each", f"{r['step_ms']:.2f} ms",
                     f"{r['floor_ms']:.2f} ms (weights/GEMM {r['weights_or_gemm_ms']:.2f} + KV {r['kv_ms']:.2f})",
                     f"{r['fraction_of_floor']:.0%}"])
    for bs, r in profile.get("attention_sweep", {}).items():
        best = r["best"]
        rows.append([f"decode attention kernel, batch {bs}", f"{r['TBps'][best]:.2f} TB/s ({best}); per-token kernel "
                     f"{r['TBps']['per-token']:.2f} TB/s", "copy bandwidth", "—"])
    pre = profile.get("profile_prefill")
    if pre:
        rows.append([f"prefill step, {pre['sequences']}×{pre['tokens_each']} tokens", f"{pre['kernel_s'] * 1e3:.1f} ms "
                     "of kernels", f"{pre['gemm_floor_s'] * 1e3:.1f} ms (GEMMs at the matmul rate)",
                     f"{pre['gemm_floor_s'] / pre['kernel_s']:.0%}"])
    host = profile.get("host_share")
    if host:
        rows.append([f"engine decode step, batch {host['batch']}", f"{host['engine_step_ms']:.2f} ms",
                     f"graph replay alone {host['replay_ms']:.2f} ms", f"host {host['host_ms']:.2f} ms"])
    return _md(["where the time goes", "measured", "floor", "reached"], rows)


def _md(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def table(report: dict[str, Any]) -> str:
    try:
        return _table(report)
    except Exception as err:  # the summary must never hide the numbers: fall back to the raw results
        return f"(summary table failed: {type(err).__name__}: {err})\n" + json.dumps(report["stages"], indent=1,
                                                                                      default=str)[:20000]


def _table(report: dict[str, Any]) -> str:
    speed = report["stages"].get("speed", {})
    parts = [_md(["check", "result", "target", "verdict"], summary_rows(report))]
    if any(k.startswith("engine/") for k in speed):
        parts.append(_md(["concurrent", "engine tok/s", "roofline tok/s (reached)", "TTFT p50 s", "TTFT p95 s",
                          "output tokens", "preemptions", "transformers tok/s", "speedup"], level_rows(speed)))
    profile = report["stages"].get("profile", {})
    if profile.get("graph_decode"):
        parts.append(profile_table(profile))
    spec = report["stages"].get("speculative", {})
    if any(k.split("/")[0] == "plain" for k in spec):
        parts.append(speculative_table(spec))
    return "\n\n".join(parts)


def markdown_section(report: dict[str, Any]) -> str:
    meta = report["meta"]
    env = meta.get("env", {})
    model = report["stages"].get("speed", {}).get("model", {})
    lines = [f"## {meta['date']} — device run, {meta['device']}", "",
             f"`bench/device.sh`; torch {env.get('torch')}, triton {env.get('triton')}, transformers "
             f"{env.get('transformers')}. Speed model: random Llama "
             f"({', '.join(f'{k} {v}' for k, v in (model.get('shape') or {}).items())}), {model.get('dtype')}, "
             f"{(model.get('parameter_bytes') or 0) / 1e9:.2f} GB of parameters. Throughput counts output tokens "
             "over wall time from the moment all requests arrive (prefill included); transformers runs with the "
             "caps shown."]
    spec = report["stages"].get("speculative", {}).get("model")
    if spec:
        target = ", ".join(f"{k} {v}" for k, v in spec["target"].items())
        lines[-1] += (f" Speculative stage: target random Llama ({target}), a draft of its width with "
                      f"{spec['draft_layers']} layers (on the 7B shape a stand-in for Chinese-LLaMA-2-1.3B), "
                      f"{spec['num_speculative_tokens']} tokens proposed per step; acceptance forced by damping the "
                      "target's later layers (first-layers draft) or left to chance (random draft).")
    lines += ["", table(report), ""]
    return "\n".join(lines)
