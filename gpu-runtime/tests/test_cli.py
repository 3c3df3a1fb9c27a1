"""CLI argument handling: model ids, chat templates, engine settings."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers_bpe import make_tiny_bpe_llama

import leitai_runtime.__main__ as cli
from leitai_runtime.__main__ import build_parser, chat_template_for, leitai_meta, model_specs, parse_size
from leitai_runtime.config import DEFAULT_CPU_KV_BUDGET
from leitai_runtime.demo import write_demo_model


def test_model_ids_from_stem_served_name_and_name_equals_path(tmp_path):
    (tmp_path / "alpaca-7b").mkdir()
    gguf = tmp_path / "llama-q4.gguf"
    gguf.write_bytes(b"GGUF")
    specs = model_specs([str(tmp_path / "alpaca-7b"), str(gguf), f"mine={tmp_path / 'alpaca-7b'}"], [])
    assert [n for n, _ in specs] == ["alpaca-7b", "llama-q4", "mine"]
    assert model_specs([str(gguf)], ["arena-a"])[0][0] == "arena-a"
    with pytest.raises(SystemExit):
        model_specs([str(gguf), str(gguf)], [])


def test_chat_template_precedence(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    own = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}"
    assert chat_template_for(leitai_meta(base), "llama-2-7b", None, None) == "plain"
    assert chat_template_for(leitai_meta(base), "chinese-alpaca-2-7b", None, None) == "alpaca2"
    # a checkpoint's own template wins over the name's hint
    assert chat_template_for(leitai_meta(base), "chinese-alpaca-2-7b", None, own).source == own  # type: ignore[union-attr]
    (base / "leitai.json").write_text(json.dumps({"name": "Demo", "chat_template": "llama2-chat"}))
    assert leitai_meta(base)["name"] == "Demo"
    assert chat_template_for(leitai_meta(base), "x", None, own) == "llama2-chat"
    assert chat_template_for(leitai_meta(base), "x", "plain", own) == "plain"
    with pytest.raises(SystemExit, match="brings no chat template"):
        chat_template_for({}, "x", "model", None)


def test_parser_accepts_the_documented_flags():
    args = build_parser().parse_args(["--model", "m", "--model", "n=p", "--served-name", "a", "--host", "0.0.0.0",
                                      "--port", "9000", "--device", "cpu", "--dtype", "float32",
                                      "--max-num-seqs", "8", "--max-num-batched-tokens", "512",
                                      "--kv-blocks", "100", "--block-size", "16"])
    assert args.model == ["m", "n=p"] and args.kv_blocks == 100
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--model", "m", "--kv-blocks", "1", "--gpu-memory-utilization", "0.5"])


def test_gpu_fast_path_flags():
    defaults = build_parser().parse_args(["--model", "m"])
    assert not defaults.enforce_eager and defaults.fused_ops is None  # None: on for cuda, off for cpu
    args = build_parser().parse_args(["--model", "m", "--enforce-eager", "--no-fused-ops",
                                      "--attention-backend", "triton-splitkv", "--max-graph-batch-size", "64"])
    assert args.enforce_eager and args.fused_ops is False and args.max_graph_batch_size == 64


def test_kv_budget_and_log_flags(monkeypatch):
    MiB = 1 << 20
    assert parse_size("536870912") == parse_size("512MiB") == parse_size("512M") == parse_size("0.5 GiB") == 512 * MiB
    assert parse_size("2g") == 2 << 30 and parse_size("64KiB") == 64 << 10
    for bad in ("lots", "-1G", "1 PB", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_size(bad)
    defaults = build_parser().parse_args(["--model", "m"])
    assert defaults.cpu_kv_budget == DEFAULT_CPU_KV_BUDGET == 384 * MiB and defaults.access_log is False
    args = build_parser().parse_args(["--model", "m", "--cpu-kv-budget", "1GiB", "--access-log"])
    assert args.cpu_kv_budget == 1 << 30 and args.access_log is True
    monkeypatch.setenv("LEITAI_CPU_KV_BUDGET", "256MiB")
    assert build_parser().parse_args(["--model", "m"]).cpu_kv_budget == 256 * MiB


def test_cpu_models_share_one_kv_budget(tmp_path, monkeypatch):
    """Two demo models (512 bytes of K/V per token), 4 sequences each: the small-context one
    takes what it needs and leaves the rest of the budget to the other."""
    small = write_demo_model(tmp_path / "small", seed=1, name="Small", max_positions=256)
    big = write_demo_model(tmp_path / "big", seed=2, name="Big")  # 2048 positions: 4 MiB for 4 sequences
    served: dict[str, int] = {}
    run: dict[str, object] = {}
    monkeypatch.setattr(cli, "create_app", lambda models: served.update(
        {m.name: m.engine.runner.num_blocks for m in models}))
    monkeypatch.setattr(cli.uvicorn, "run", lambda _app, **kw: run.update(kw))
    base = ["--model", f"small={small}", "--model", f"big={big}", "--max-num-seqs", "4"]
    cli.main([*base, "--cpu-kv-budget", "4MiB"])
    # small: 4 x 16 blocks of 8 KiB (0.5 MiB) from its 2 MiB share; big: 3.5 MiB left, 448 blocks
    assert served == {"small": 64, "big": 448} and run["access_log"] is False
    cli.main(base)  # the default budget: each what it needs
    assert served == {"small": 64, "big": 512}
    cli.main([*base, "--kv-blocks", "300", "--cpu-kv-budget", "1MiB", "--access-log"])  # a size given wins
    assert served == {"small": 300, "big": 300} and run["access_log"] is True


def test_cli_serves_a_model_end_to_end(tmp_path):
    model = write_demo_model(tmp_path / "chinese-alpaca-demo", seed=2, name="Demo")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(root))
    bpe = make_tiny_bpe_llama(tmp_path, name="tiny-bpe")  # tokenizer.json + its own Jinja template
    proc = subprocess.Popen([sys.executable, "-m", "leitai_runtime", "--model", f"arena-a={model}", "--model",
                             f"arena-bpe={bpe}", "--port", str(port), "--kv-blocks", "64", "--log-level", "warning"],
                            env=env, cwd=root)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(base + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        models = httpx.get(base + "/v1/models").json()["data"]
        assert [(m["id"], m["chat_template"]) for m in models] == [("arena-a", "alpaca2"), ("arena-bpe", "jinja")]
        for name in ("arena-a", "arena-bpe"):
            r = httpx.post(base + "/v1/chat/completions", timeout=60, json={
                "model": name, "messages": [{"role": "user", "content": "你好"}], "max_tokens": 5})
            assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] <= 5
    finally:
        proc.terminate()
        proc.wait(30)
