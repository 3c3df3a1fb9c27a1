"""CLI argument handling: model ids, chat templates, engine settings."""

from __future__ import annotations

import json

import pytest

from leitai_runtime.__main__ import build_parser, chat_template_for, model_specs


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
    assert chat_template_for(base, "llama-2-7b", None)[0] == "plain"
    assert chat_template_for(base, "chinese-alpaca-2-7b", None)[0] == "alpaca2"
    (base / "leitai.json").write_text(json.dumps({"name": "Demo", "chat_template": "llama2-chat"}))
    assert chat_template_for(base, "x", None) == ("llama2-chat", "Demo")
    assert chat_template_for(base, "x", "plain")[0] == "plain"


def test_parser_accepts_the_documented_flags():
    args = build_parser().parse_args(["--model", "m", "--model", "n=p", "--served-name", "a", "--host", "0.0.0.0",
                                      "--port", "9000", "--device", "cpu", "--dtype", "float32",
                                      "--max-num-seqs", "8", "--max-num-batched-tokens", "512",
                                      "--kv-blocks", "100", "--block-size", "16"])
    assert args.model == ["m", "n=p"] and args.kv_blocks == 100
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--model", "m", "--kv-blocks", "1", "--gpu-memory-utilization", "0.5"])
