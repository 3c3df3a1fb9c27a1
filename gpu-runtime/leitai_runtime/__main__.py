"""CLI: python -m leitai_runtime --model PATH [--model NAME=PATH ...] --port 8000 ...

Serves each model under its id: NAME when given as NAME=PATH, else the matching
--served-name (in order), else the directory or file stem. `--draft NAME=PATH` gives model
NAME a draft checkpoint for speculative decoding; `--num-speculative-tokens K` (every draft)
or `NAME=K` (one) sets how many tokens it proposes per step. On CPU the served models' KV pools
share `--cpu-kv-budget` (see memory.py for how each pool is sized).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
from dataclasses import replace
from pathlib import Path

import uvicorn

from .config import DEFAULT_CPU_KV_BUDGET, ConfigError, EngineConfig, SpeculativeConfig
from .engine import LLMEngine
from .jinja_template import TemplateError
from .layers.attention import ATTENTION_BACKENDS
from .lifeline import exit_with_parent
from .memory import cpu_kv_share
from .server import ServedModel, create_app
from .speculative import DraftError
from .templates import CHAT_TEMPLATES, MODEL_TEMPLATE, Template, resolve_template, template_name

CHAT_HINTS = ("alpaca", "chat", "instruct")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes from "536870912", "512MiB", "512M", "1.5GiB" or "2G" (K, M, G, T are powers of 1024)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"expected a size such as 512MiB or 2GiB, got {text!r}")
    return int(float(match[1]) * _UNITS[match[2].upper()])


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def model_specs(models: list[str], served_names: list[str]) -> list[tuple[str, Path]]:
    if len(served_names) > len(models):
        raise SystemExit("more --served-name values than --model values")
    specs: list[tuple[str, Path]] = []
    for i, spec in enumerate(models):
        name, sep, path = spec.partition("=")
        if not sep or Path(spec).exists():
            name, path = "", spec
        p = Path(path)
        name = name or (served_names[i] if i < len(served_names) else (p.stem if p.is_file() else p.name))
        specs.append((name, p))
    names = [n for n, _ in specs]
    if len(set(names)) != len(names):
        raise SystemExit(f"model ids must be unique, got {names}")
    return specs


def draft_specs(drafts: list[str], num_tokens: list[str], names: list[str],
                missing_ok: bool = False) -> dict[str, tuple[Path, SpeculativeConfig]]:
    """--draft NAME=PATH and --num-speculative-tokens [NAME=]K values -> {model id: (draft path, settings)}.
    `missing_ok` leaves a path that does not exist to the loader (--on-draft-error serve)."""
    paths: dict[str, Path] = {}
    for spec in drafts:
        name, sep, path = spec.partition("=")
        if not (sep and name and path):
            raise SystemExit(f"--draft expects NAME=PATH (NAME a served model id), got {spec!r}")
        if name not in names:
            raise SystemExit(f"--draft {spec}: no served model is called {name!r}; served: {', '.join(names)}")
        if name in paths:
            raise SystemExit(f"--draft: model {name!r} has two drafts")
        if not missing_ok and not Path(path).exists():
            raise SystemExit(f"--draft {spec}: {path} does not exist")
        paths[name] = Path(path)
    default = SpeculativeConfig().num_speculative_tokens
    per_model: dict[str, int] = {}
    for spec in num_tokens:
        name, sep, value = spec.rpartition("=")
        try:
            k = int(value)
        except ValueError:
            raise SystemExit(f"--num-speculative-tokens expects K or NAME=K (K a whole number), got {spec!r}") from None
        if not paths:
            raise SystemExit("--num-speculative-tokens needs a --draft")
        if not sep:
            default = k
        elif name not in paths:
            raise SystemExit(f"--num-speculative-tokens {spec}: model {name!r} has no --draft")
        else:
            per_model[name] = k
    try:
        return {name: (path, SpeculativeConfig(num_speculative_tokens=per_model.get(name, default)))
                for name, path in paths.items()}
    except ConfigError as err:
        raise SystemExit(f"invalid speculative setting: {err}") from None


def leitai_meta(path: Path) -> dict:
    """leitai.json beside the weights (display name, chat template), or {}."""
    meta_file = (path if path.is_dir() else path.parent) / "leitai.json"
    return json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}


def chat_template_for(meta: dict, name: str, override: str | None, own: str | None) -> Template:
    """--chat-template, else leitai.json's, else the checkpoint's own Jinja template, else
    alpaca2 for chat-tuned names and plain for base models."""
    spec = override or meta.get("chat_template")
    if spec is None:
        spec = MODEL_TEMPLATE if own is not None else "alpaca2" if any(h in name.lower() for h in CHAT_HINTS) \
            else "plain"
    try:
        return resolve_template(spec, own)
    except TemplateError as err:
        raise SystemExit(f"{name}: {err}") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m leitai_runtime", description="Leitai OpenAI-compatible runtime")
    p.add_argument("--model", action="append", required=True, help="PATH or NAME=PATH (HF dir or .gguf); repeatable")
    p.add_argument("--served-name", action="append", default=[], help="model id for the n-th --model")
    p.add_argument("--chat-template", choices=CHAT_TEMPLATES, help="override every model's chat template")
    p.add_argument("--system-prompt", help="system prompt for chats that bring none")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--dtype", default=None, help="float32 (default on cpu), bfloat16 (default on cuda), float16")
    p.add_argument("--attention-backend", choices=sorted(ATTENTION_BACKENDS), default=None)
    p.add_argument("--max-num-seqs", type=int, default=64)
    p.add_argument("--max-num-batched-tokens", type=int, default=2048)
    p.add_argument("--max-model-len", type=int, default=None)
    p.add_argument("--max-waiting", type=int, default=256)
    size = p.add_mutually_exclusive_group()
    size.add_argument("--kv-blocks", type=int, default=None)
    size.add_argument("--gpu-memory-utilization", type=float, default=None,
                      help="KV pool = free GPU memory after loading x this - warm-up activation peak (default 0.9)")
    p.add_argument("--cpu-kv-budget", type=parse_size, metavar="SIZE",
                   default=os.environ.get("LEITAI_CPU_KV_BUDGET", f"{DEFAULT_CPU_KV_BUDGET >> 20}MiB"),
                   help="on CPU without --kv-blocks: the KV pools of all served models together take at most SIZE "
                        "(e.g. 256MiB, 2GiB; env LEITAI_CPU_KV_BUDGET; default %(default)s). Each model's pool is "
                        "what --max-num-seqs sequences of its whole context need, capped by an even share of what "
                        "the models loaded before it left, and never less than one whole-context sequence")
    p.add_argument("--block-size", type=int, default=16)
    p.add_argument("--no-prefix-caching", action="store_true")
    p.add_argument("--enforce-eager", action="store_true", help="no CUDA graphs: run every decode step eagerly")
    p.add_argument("--fused-ops", action=argparse.BooleanOptionalAction, default=None,
                   help="Triton RMSNorm/SiLU/RoPE/KV-write kernels (default: on for cuda)")
    p.add_argument("--max-graph-batch-size", type=int, default=256, help="largest decode batch captured in a graph")
    p.add_argument("--async-decode", action=argparse.BooleanOptionalAction, default=True,
                   help="queue each greedy graph decode step before reading the previous one back (default: on)")
    p.add_argument("--draft", action="append", default=[], metavar="NAME=PATH",
                   help="speculative decoding for model NAME with the draft checkpoint at PATH (the same "
                        "tokenizer, far fewer parameters); repeatable")
    p.add_argument("--num-speculative-tokens", action="append", default=[], metavar="[NAME=]K",
                   help=f"tokens a draft proposes per step (default {SpeculativeConfig().num_speculative_tokens}); "
                        "NAME=K for one model; repeatable")
    p.add_argument("--on-draft-error", choices=["exit", "serve"], default="exit",
                   help="a draft that cannot be loaded or used: exit (default), or serve the model without it and "
                        "say why in /v1/models (for a supervisor applying drafts an admin set)")
    p.add_argument("--log-level", default="info", help="debug, info (default; a few lines at start), warning, error")
    p.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=False,
                   help="log a line per HTTP request at info (default: off)")
    p.add_argument("--parent-pid", type=int, default=None, metavar="PID",
                   help="exit when process PID dies (the worker supervising this runtime passes its own), so a "
                        "runtime never outlives its supervisor and holds its port or device memory")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper())
    if args.parent_pid is not None:
        # Before loading weights: a supervisor may die while a large model loads.
        exit_with_parent(args.parent_pid)
    on_gpu = args.device.startswith("cuda")
    try:
        config = EngineConfig(
            block_size=args.block_size, num_kv_blocks=args.kv_blocks,
            gpu_memory_utilization=args.gpu_memory_utilization, max_num_seqs=args.max_num_seqs,
            max_num_batched_tokens=args.max_num_batched_tokens, max_model_len=args.max_model_len,
            device=args.device, dtype=args.dtype or ("bfloat16" if on_gpu else "float32"),
            attention_backend=args.attention_backend or ("triton-splitkv" if on_gpu else "torch"),
            max_waiting=args.max_waiting, enable_prefix_caching=not args.no_prefix_caching,
            enforce_eager=args.enforce_eager,
            fused_ops=on_gpu if args.fused_ops is None else args.fused_ops,
            max_graph_batch_size=args.max_graph_batch_size, async_decode=args.async_decode)
    except ConfigError as err:
        raise SystemExit(f"invalid engine setting: {err}") from None
    served = []
    specs = model_specs(args.model, args.served_name)
    share_cpu_budget = not on_gpu and config.num_kv_blocks is None
    budget_left = args.cpu_kv_budget
    serve_without_draft = args.on_draft_error == "serve"
    drafts = draft_specs(args.draft, args.num_speculative_tokens, [n for n, _ in specs], serve_without_draft)
    for i, (name, path) in enumerate(specs):
        meta = leitai_meta(path)
        logging.info("loading %s from %s", name, path)
        draft_path, speculative = drafts.get(name, (None, None))
        model_config = replace(config, cpu_kv_budget=cpu_kv_share(budget_left, len(specs) - i)) \
            if share_cpu_budget else config
        try:
            engine = LLMEngine.from_path(path, model_config, draft_path, speculative, serve_without_draft)
        except DraftError as err:
            raise SystemExit(f"--draft {name}={draft_path}: {err}") from None
        budget_left -= engine.runner.kv_pool_bytes
        if engine.draft_error:
            logging.error("%s: serving without its draft %s: %s", name, draft_path, engine.draft_error)
        template = chat_template_for(meta, name, args.chat_template, engine.chat_template)
        runner = engine.runner
        chosen = getattr(runner.backend, "configs", {})
        logging.info("%s: chat template %s, %d KV blocks (%s), attention %s, graphs %s (decode-ahead %s)%s", name,
                     template_name(template), runner.num_blocks, mib(runner.kv_pool_bytes),
                     runner.backend.name, runner.graphs.batch_sizes if runner.graphs else "off",
                     "on" if runner.graphs and config.async_decode else "off",
                     f", decode attention per batch size {dict(sorted((b, str(c)) for b, c in chosen.items()))}"
                     if chosen else "")
        if engine.speculator is not None:
            spec = engine.speculator
            logging.info("%s: speculative decoding with draft %s, %d tokens per step, plain decoding below %.2f "
                         "tokens per step, above %d sequences%s", name, spec.name, spec.config.num_speculative_tokens,
                         spec.min_tokens_per_step, spec.config.max_batch_size,
                         " or when measured slower per token" if spec.config.compare_speed else "")
        served.append(ServedModel(name, engine, template, args.system_prompt, meta.get("name")))
    uvicorn.run(create_app(served), host=args.host, port=args.port, log_level=args.log_level,
                access_log=args.access_log)


if __name__ == "__main__":
    main()
