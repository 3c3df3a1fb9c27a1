"""The demo model: deterministic per seed, distinct across seeds, small, and servable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import LlamaForCausalLM

from leitai_runtime.demo import demo_tokenizer_model, main, write_demo_model
from leitai_runtime.loader import load_checkpoint
from leitai_runtime.templates import encode_chat

FILES = ["config.json", "generation_config.json", "leitai.json", "model.safetensors", "tokenizer.model"]


@pytest.fixture(scope="module")
def demo_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_model(tmp_path_factory.mktemp("demo") / "a", seed=1, name="Demo A")


def test_writes_a_small_hf_directory(demo_a: Path) -> None:
    assert sorted(p.name for p in demo_a.iterdir()) == FILES
    assert sum(p.stat().st_size for p in demo_a.iterdir()) < 4 * 1024 * 1024
    assert json.loads((demo_a / "leitai.json").read_text()) == {
        "name": "Demo A (random demo model)",
        "chat_template": "alpaca2",
    }


def test_same_seed_gives_the_same_bytes(demo_a: Path, tmp_path: Path) -> None:
    again = write_demo_model(tmp_path / "again", seed=1, name="Demo A")
    for name in FILES:
        assert (again / name).read_bytes() == (demo_a / name).read_bytes(), name


def test_tokenizer_training_is_deterministic(demo_a: Path) -> None:
    # bypass the per-process cache: train again from scratch
    assert demo_tokenizer_model.__wrapped__() == (demo_a / "tokenizer.model").read_bytes()


def test_different_seeds_give_different_models(demo_a: Path, tmp_path: Path) -> None:
    other = write_demo_model(tmp_path / "b", seed=2, name="Demo B")
    assert (other / "model.safetensors").read_bytes() != (demo_a / "model.safetensors").read_bytes()
    assert (other / "tokenizer.model").read_bytes() == (demo_a / "tokenizer.model").read_bytes()


def test_loads_in_the_runtime_and_in_transformers(demo_a: Path) -> None:
    ckpt = load_checkpoint(demo_a)
    assert ckpt.tokenizer.vocab_size == ckpt.hf_config["vocab_size"] == 2000
    ids = encode_chat(ckpt.tokenizer, [{"role": "user", "content": "你好，请介绍一下擂台。"}], "alpaca2")
    model = LlamaForCausalLM.from_pretrained(demo_a, dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits
    assert logits.shape == (1, len(ids), 2000) and torch.isfinite(logits).all()


def test_tokenizer_covers_everyday_chinese_without_bytes(demo_a: Path) -> None:
    tokenizer = load_checkpoint(demo_a).tokenizer
    ids = tokenizer.encode("你是一个乐于助人的助手。今天天气晴朗。")
    assert all(not tokenizer.id_to_piece(i).startswith("<0x") for i in ids)
    assert len(ids) < 20  # merges, not one piece per character


def test_shape_options_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--out", str(tmp_path / "cli"), "--seed", "5", "--name", "CLI", "--layers", "1", "--hidden", "32"])
    assert "wrote demo model 'CLI'" in capsys.readouterr().out
    config = json.loads((tmp_path / "cli" / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"]) == (1, 32)
    load_checkpoint(tmp_path / "cli")
    with pytest.raises(ValueError, match="unknown demo shape option"):
        write_demo_model(tmp_path / "bad", seed=0, name="x", depth=3)
    with pytest.raises(ValueError, match="divisible"):
        write_demo_model(tmp_path / "bad", seed=0, name="x", hidden=30, heads=4)
