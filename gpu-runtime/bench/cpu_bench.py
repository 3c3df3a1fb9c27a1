"""CPU benchmark: 16 concurrent requests vs the same 16 served one at a time.

Every request arrives at t0; "sequential" serves them one after another (a server without
batching), "concurrent" lets the engine batch them. TTFT is measured from t0, i.e. what a
user would see. Prints a table, writes bench/results/<date>-cpu.json and appends a section
to BENCHMARKS.md.

    python bench/cpu_bench.py [--requests 16] [--max-tokens 128] [--http]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from leitai_runtime.config import EngineConfig  # noqa: E402
from leitai_runtime.demo import write_demo_model  # noqa: E402
from leitai_runtime.engine import LLMEngine  # noqa: E402
from leitai_runtime.sequence import SamplingParams  # noqa: E402


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summarize(mode: str, ttfts: list[float], tokens: int, wall: float) -> dict:
    return {"mode": mode, "requests": len(ttfts), "tokens": tokens, "wall_s": wall, "tokens_per_s": tokens / wall,
            "ttft_p50_s": statistics.median(ttfts), "ttft_p95_s": percentile(ttfts, 0.95)}


def run_engine(engine: LLMEngine, prompts: list[list[int]], params: SamplingParams, concurrent: bool) -> dict:
    t0 = time.perf_counter()
    first: dict[int, float] = {}
    tokens = 0
    batches = [prompts] if concurrent else [[p] for p in prompts]
    for batch in batches:
        ids = [engine.add_request(p, params) for p in batch]
        while engine.has_unfinished():
            for out in engine.step():
                tokens += len(out.new_token_ids)
                if out.new_token_ids and out.seq_id not in first:
                    first[out.seq_id] = time.perf_counter() - t0
        assert all(i in first for i in ids)
    return summarize("concurrent" if concurrent else "sequential", list(first.values()), tokens,
                     time.perf_counter() - t0)


def run_http(model_dir: Path, prompts: list[list[int]], max_tokens: int, concurrent: bool,
             threads: int) -> dict:
    """The same requests through the real CLI server (a separate process, as in production)."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "leitai_runtime", "--model", f"bench={model_dir}", "--port", str(port),
           "--kv-blocks", "512", "--max-num-seqs", str(len(prompts)), "--max-model-len", "1024",
           "--chat-template", "plain", "--no-prefix-caching", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)

        async def one(client: httpx.AsyncClient, prompt: list[int], t0: float) -> tuple[float, int]:
            body = {"model": "bench", "prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
                    "ignore_eos": True, "stream": True, "stream_options": {"include_usage": True}}
            ttft, usage = None, 0
            async with client.stream("POST", "/v1/completions", json=body) as r:
                async for line in r.aiter_lines():
                    if line.startswith("data: {"):
                        chunk = json.loads(line[6:])
                        if ttft is None and chunk["choices"] and chunk["choices"][0]["text"]:
                            ttft = time.perf_counter() - t0
                        usage = (chunk.get("usage") or {}).get("completion_tokens", usage)
            return (ttft if ttft is not None else time.perf_counter() - t0), usage

        async def main() -> dict:
            async with httpx.AsyncClient(base_url=base, timeout=600) as client:
                await one(client, prompts[0][:8], time.perf_counter())  # warm-up
                t0 = time.perf_counter()
                if concurrent:
                    results = await asyncio.gather(*(one(client, p, t0) for p in prompts))
                else:
                    results = [await one(client, p, t0) for p in prompts]
                wall = time.perf_counter() - t0
            mode = ("concurrent" if concurrent else "sequential") + " (HTTP)"
            return summarize(mode, [r[0] for r in results], sum(r[1] for r in results), wall)

        return asyncio.run(main())
    finally:
        proc.terminate()
        proc.wait(30)


def save_results(name: str, meta: dict, results: list[dict], text: str) -> None:
    """bench/results/<date>-<name>.json, and the section appended to BENCHMARKS.md."""
    out = ROOT / "bench" / "results" / f"{dt.date.today().isoformat()}-{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    bench_md = ROOT / "BENCHMARKS.md"
    if not bench_md.exists():
        bench_md.write_text("# gpu-runtime benchmarks\n\nNumbers come from the scripts in `bench/`; "
                            "each run appends a section.\n\n")
    with bench_md.open("a", encoding="utf-8") as f:
        f.write("\n" + text)
    print(f"wrote {out.relative_to(ROOT)} and appended to BENCHMARKS.md")


def markdown(results: list[dict], meta: dict) -> str:
    lines = [f"## {meta['date']} — CPU, tiny demo model ({meta['machine']})", "",
             f"Model: random demo Llama, {meta['shape']}; {meta['requests']} requests, prompts "
             f"{meta['prompt_lens']} tokens, {meta['max_tokens']} generated tokens each (greedy, eos ignored); "
             f"torch {meta['torch']}, {meta['threads']} thread(s). TTFT counted from the moment all requests "
             "arrive.", "",
             "| mode | requests | tokens | wall s | tokens/s | TTFT p50 s | TTFT p95 s |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['mode']} | {r['requests']} | {r['tokens']} | {r['wall_s']:.2f} | "
                     f"{r['tokens_per_s']:.1f} | {r['ttft_p50_s']:.3f} | {r['ttft_p95_s']:.3f} |")
    lines += ["", f"Throughput ratio, concurrent / sequential (engine): **{meta['ratio']:.2f}×**"]
    if "http_ratio" in meta:
        lines.append(f"Throughput ratio, concurrent / sequential (HTTP): **{meta['http_ratio']:.2f}×**")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--http", action="store_true", help="also measure through the HTTP server")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    shape = {"layers": 2, "hidden": 64, "intermediate": 172, "heads": 4, "kv_heads": 2}
    tmp = tempfile.TemporaryDirectory()
    path = write_demo_model(Path(tmp.name) / "bench", seed=0, name="bench", **shape)
    config = EngineConfig(block_size=16, num_kv_blocks=512, max_num_seqs=args.requests,
                          max_num_batched_tokens=2048, max_model_len=1024, enable_prefix_caching=False)
    engine = LLMEngine.from_path(path, config)
    rng = random.Random(0)
    lens = [rng.randint(16, 64) for _ in range(args.requests)]
    prompts = [[rng.randint(3, 1999) for _ in range(n)] for n in lens]
    params = SamplingParams(temperature=0.0, max_tokens=args.max_tokens, ignore_eos=True)
    engine.generate([prompts[0][:8]], params)  # warm-up
    results = [run_engine(engine, prompts, params, concurrent=False),
               run_engine(engine, prompts, params, concurrent=True)]
    if args.http:
        results += [run_http(path, prompts, args.max_tokens, False, args.threads),
                    run_http(path, prompts, args.max_tokens, True, args.threads)]
    tmp.cleanup()
    meta = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{cpu_name()}, {os.cpu_count()} cores", "torch": torch.__version__,
            "threads": args.threads, "shape": ", ".join(f"{k} {v}" for k, v in shape.items()) + ", vocab 2000",
            "requests": args.requests, "prompt_lens": f"{min(lens)}–{max(lens)}", "max_tokens": args.max_tokens,
            "ratio": results[1]["tokens_per_s"] / results[0]["tokens_per_s"]}
    if args.http:
        meta["http_ratio"] = results[3]["tokens_per_s"] / results[2]["tokens_per_s"]
    text = markdown(results, meta)
    print(text)
    if not args.no_write:
        save_results("cpu", meta, results, text)


if __name__ == "__main__":
    main()
