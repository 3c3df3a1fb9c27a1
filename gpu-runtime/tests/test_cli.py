"""CLI argument handling: model ids, chat templates, engine settings."""

from __future__ import annotations

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

from leitai_runtime.__main__ import build_parser, chat_template_for, leitai_meta, model_specs
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
