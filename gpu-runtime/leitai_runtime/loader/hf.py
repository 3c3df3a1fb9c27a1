"""Hugging Face checkpoint directories: config.json, safetensors or pytorch_model*.bin, and a
tokenizer: tokenizer.model (SentencePiece) or tokenizer.json (Hugging Face tokenizers), with
the chat template from tokenizer_config.json or chat_template.jinja."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from leitai_runtime.hf_tokenizer import HFTokenizer, read_tokenizer_config
from leitai_runtime.loader.common import (
    Checkpoint,
    CheckpointError,
    chat_template_of,
    check_shape,
    check_tokenizer,
    expected_shapes,
    finish_state_dict,
    normalized_config,
    unexpected_tensor,
)
from leitai_runtime.tokenizer import SentencePieceTokenizer

# Checked in this order: safetensors first, as transformers does, since it needs no unpickling.
_WEIGHT_LAYOUTS = (
    ("model.safetensors", "model.safetensors.index.json"),
    ("pytorch_model.bin", "pytorch_model.bin.index.json"),
)


def load_hf_dir(path: Path, dtype: torch.dtype, device: torch.device) -> Checkpoint:
    """Load a Hugging Face Llama or Qwen2 directory, each tensor straight into `dtype` on `device`."""
    config = normalized_config(_read_config(path), path / "config.json")
    tokenizer_config = _read_tokenizer_config(path)
    tokenizer = _read_tokenizer(path, tokenizer_config)
    check_tokenizer(path, config, tokenizer)
    if isinstance(tokenizer, HFTokenizer):
        tokenizer.pad_to(config["vocab_size"])
    wanted = expected_shapes(config)
    tensors: dict[str, torch.Tensor] = {}
    for file, names in _weight_files(path).items():
        loader = _load_safetensors if file.suffix == ".safetensors" else _load_bin
        tensors.update(loader(file, names, wanted, dtype, device))
    state_dict = finish_state_dict(path, config, tensors)
    return Checkpoint(source=path, hf_config=config, state_dict=state_dict, tokenizer=tokenizer,
                      chat_template=_chat_template(path, tokenizer_config))


def _read_config(path: Path) -> dict[str, Any]:
    file = path / "config.json"
    if not file.is_file():
        raise CheckpointError(file, "missing config.json (not a Hugging Face model directory?)")
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(file, f"cannot read config.json: {err}") from err
    if not isinstance(config, dict):
        raise CheckpointError(file, "config.json must hold a JSON object")
    return config


def _read_tokenizer_config(path: Path) -> dict[str, Any]:
    file = path / "tokenizer_config.json"
    try:
        return read_tokenizer_config(file)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise CheckpointError(file, f"cannot read tokenizer_config.json: {err}") from err


def _read_tokenizer(path: Path, tokenizer_config: dict[str, Any]) -> SentencePieceTokenizer | HFTokenizer:
    """tokenizer.model when present (the Chinese-LLaMA-2 family's own), else tokenizer.json."""
    file = path / "tokenizer.model"
    if file.is_file():
        try:
            return SentencePieceTokenizer(file)
        except (OSError, RuntimeError, ValueError) as err:
            raise CheckpointError(file, f"cannot read the SentencePiece tokenizer: {err}") from err
    file = path / "tokenizer.json"
    if not file.is_file():
        raise CheckpointError(path, "no tokenizer: expected tokenizer.model (SentencePiece) or tokenizer.json")
    try:
        return HFTokenizer.from_file(file, tokenizer_config)
    except Exception as err:  # the tokenizers library raises its own Exception for a malformed file
        raise CheckpointError(file, f"cannot read the tokenizer: {err}") from err


def _chat_template(path: Path, tokenizer_config: dict[str, Any]) -> str | None:
    file = path / "chat_template.jinja"  # newer transformers save the template beside the config
    if file.is_file():
        try:
            return chat_template_of(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            raise CheckpointError(file, f"cannot read the chat template: {err}") from err
    return chat_template_of(tokenizer_config.get("chat_template"))


def _weight_files(path: Path) -> dict[Path, set[str] | None]:
    """Weight files to open, each with the tensor names the index assigns to it (None: all)."""
    for single, index in _WEIGHT_LAYOUTS:
        if (path / single).is_file():
            return {path / single: None}
        if (path / index).is_file():
            return _read_index(path / index)
    raise CheckpointError(
        path, "no weights found (expected model.safetensors, pytorch_model.bin, or a sharded *.index.json)"
    )


def _read_index(index: Path) -> dict[Path, set[str] | None]:
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise CheckpointError(index, f"cannot read the shard index: {err}") from err
    shards: dict[Path, set[str]] = {}
    for name, shard in weight_map.items():
        shards.setdefault(index.parent / shard, set()).add(name)
    for shard in shards:
        if not shard.is_file():
            raise CheckpointError(shard, f"missing shard listed in {index.name}")
    return {shard: names for shard, names in shards.items()}


def _load_safetensors(
    file: Path, names: set[str] | None, wanted: dict[str, tuple[int, ...]], dtype: torch.dtype, device: torch.device
) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    try:
        # safe_open reads one tensor at a time onto the device: no full CPU copy of the model
        with safe_open(str(file), framework="pt", device=str(device)) as f:
            for name in f.keys():
                if names is not None and name not in names:
                    continue
                if name not in wanted:
                    _check_unused(file, name)
                    continue
                check_shape(file, name, tuple(f.get_slice(name).get_shape()), wanted[name])
                tensors[name] = f.get_tensor(name).to(dtype)
    except (SafetensorError, OSError) as err:
        raise CheckpointError(file, f"cannot read safetensors file: {err}") from err
    return tensors


def _load_bin(
    file: Path, names: set[str] | None, wanted: dict[str, tuple[int, ...]], dtype: torch.dtype, device: torch.device
) -> dict[str, torch.Tensor]:
    try:
        # mmap keeps the file's pages on disk until each tensor is copied to the device
        raw = torch.load(file, map_location="cpu", weights_only=True, mmap=True)
    except (RuntimeError, OSError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise CheckpointError(file, f"cannot read PyTorch weights: {err}") from err
    if not isinstance(raw, dict):
        raise CheckpointError(file, "expected a state dict (a mapping of names to tensors)")
    tensors: dict[str, torch.Tensor] = {}
    for name, tensor in raw.items():
        if names is not None and name not in names:
            continue
        if name not in wanted:
            _check_unused(file, name)
            continue
        check_shape(file, name, tuple(tensor.shape), wanted[name])
        tensors[name] = tensor.to(device=device, dtype=dtype)
    return tensors


def _check_unused(file: Path, name: str) -> None:
    error = unexpected_tensor(file, name)
    if error is not None:
        raise error
