"""What every checkpoint format produces, and the checks they share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from leitai_runtime.config import ARCHITECTURES, ConfigError, ModelConfig, served_architecture
from leitai_runtime.tokenizer import Tokenizer

SUPPORTED_ARCHITECTURES = tuple(a.name for a in ARCHITECTURES)


class CheckpointError(Exception):
    """A checkpoint cannot be served; the message names the file and the problem."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


@dataclass(frozen=True)
class Checkpoint:
    """A loaded Llama checkpoint.

    `hf_config` is a Hugging Face config.json-style dict with every key the runtime reads
    filled in (head_dim, num_key_value_heads, rope_theta, rope_scaling, ...). `state_dict`
    uses Hugging Face Llama names and holds `lm_head.weight` even when the embeddings are
    tied (then it is the same tensor as `model.embed_tokens.weight`). `chat_template` is the
    checkpoint's own Jinja chat template, when it brings one.
    """

    source: Path
    hf_config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    tokenizer: Tokenizer
    chat_template: str | None = None


_CONFIG_DEFAULTS: dict[str, Any] = {
    "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "tie_word_embeddings": False,
    "bos_token_id": 1,
    "eos_token_id": 2,
}
_REQUIRED_KEYS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads")
_ROPE_TYPES = ("linear", "dynamic", "yarn")


def normalized_config(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """Check a config.json-style dict and fill in the keys the runtime relies on."""
    try:
        arch = served_architecture(raw)
    except ConfigError as err:
        raise CheckpointError(path, str(err)) from None
    missing = [key for key in _REQUIRED_KEYS if raw.get(key) is None]
    if missing:
        raise CheckpointError(path, f"config is missing {', '.join(missing)}")
    config = {**_CONFIG_DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}
    config["architectures"] = [arch.name]
    config["model_type"] = arch.model_type
    config.setdefault("num_key_value_heads", config["num_attention_heads"])
    config.setdefault("head_dim", config["hidden_size"] // config["num_attention_heads"])
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    if heads % kv_heads:
        raise CheckpointError(path, f"num_attention_heads ({heads}) is not a multiple of num_key_value_heads ({kv_heads})")
    if config["head_dim"] % 2:
        raise CheckpointError(path, f"head_dim ({config['head_dim']}) must be even for rotary embeddings")
    config["rope_scaling"] = _normalized_rope_scaling(config["rope_scaling"], path)
    try:
        ModelConfig.from_hf(config)  # what the engine will build: refused here, naming the file
    except ConfigError as err:
        raise CheckpointError(path, str(err)) from None
    return config


def _normalized_rope_scaling(scaling: Any, path: Path) -> dict[str, Any] | None:
    if scaling is None:
        return None
    if not isinstance(scaling, dict):
        raise CheckpointError(path, f"rope_scaling must be an object or null, got {scaling!r}")
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind in (None, "default", "none"):
        return None
    if kind not in _ROPE_TYPES:
        raise CheckpointError(path, f"unsupported rope_scaling type {kind!r} (supported: {', '.join(_ROPE_TYPES)})")
    factor = scaling.get("factor")
    if not isinstance(factor, int | float) or factor < 1:
        raise CheckpointError(path, f"rope_scaling factor must be a number >= 1, got {factor!r}")
    # transformers accepts either key; keep both so readers of either spelling work
    return {**scaling, "type": kind, "rope_type": kind, "factor": float(factor)}


def expected_shapes(config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Every tensor a Llama checkpoint must hold, with its shape (HF names)."""
    hidden, inter = config["hidden_size"], config["intermediate_size"]
    head_dim = config["head_dim"]
    q_dim = head_dim * config["num_attention_heads"]
    kv_dim = head_dim * config["num_key_value_heads"]
    qkv_bias = served_architecture(config).qkv_bias
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (config["vocab_size"], hidden)}
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes[p + "self_attn.q_proj.weight"] = (q_dim, hidden)
        shapes[p + "self_attn.k_proj.weight"] = (kv_dim, hidden)
        shapes[p + "self_attn.v_proj.weight"] = (kv_dim, hidden)
        if qkv_bias:
            shapes[p + "self_attn.q_proj.bias"] = (q_dim,)
            shapes[p + "self_attn.k_proj.bias"] = (kv_dim,)
            shapes[p + "self_attn.v_proj.bias"] = (kv_dim,)
        shapes[p + "self_attn.o_proj.weight"] = (hidden, q_dim)
        shapes[p + "mlp.gate_proj.weight"] = (inter, hidden)
        shapes[p + "mlp.up_proj.weight"] = (inter, hidden)
        shapes[p + "mlp.down_proj.weight"] = (hidden, inter)
        shapes[p + "input_layernorm.weight"] = (hidden,)
        shapes[p + "post_attention_layernorm.weight"] = (hidden,)
    shapes["model.norm.weight"] = (hidden,)
    if not config["tie_word_embeddings"]:  # tied: the embedding, whatever lm_head a file also holds
        shapes["lm_head.weight"] = (config["vocab_size"], hidden)
    return shapes


def unexpected_tensor(path: Path, name: str) -> CheckpointError | None:
    """An error for a tensor the model would leave unused (a bias, an expert, ...), or None
    for tensors that carry nothing: RoPE's inverse frequencies, which the runtime computes, and
    lm_head when tied to the embedding (transformers also ignores it then)."""
    if name.endswith("rotary_emb.inv_freq") or name == "lm_head.weight":
        return None
    return CheckpointError(path, f"unexpected tensor {name}: the model has no such parameter, so serving "
                                 "without it would compute something else")


def check_shape(path: Path, name: str, shape: tuple[int, ...], expected: tuple[int, ...]) -> None:
    if tuple(shape) != tuple(expected):
        raise CheckpointError(path, f"tensor {name} has shape {list(shape)}, expected {list(expected)}")


def finish_state_dict(
    path: Path, config: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Insist every expected tensor is present with its shape, then tie lm_head if needed."""
    shapes = expected_shapes(config)
    for name, shape in shapes.items():
        if name not in tensors:
            raise CheckpointError(path, f"missing tensor {name}")
        check_shape(path, name, tuple(tensors[name].shape), shape)
    state_dict = {name: tensors[name] for name in shapes}
    if config["tie_word_embeddings"]:
        state_dict["lm_head.weight"] = state_dict["model.embed_tokens.weight"]
    return state_dict


def check_tokenizer(path: Path, config: dict[str, Any], tokenizer: Tokenizer) -> None:
    if tokenizer.vocab_size > config["vocab_size"]:
        raise CheckpointError(
            path, f"tokenizer has {tokenizer.vocab_size} tokens but the model's vocab_size is {config['vocab_size']}"
        )


def chat_template_of(value: Any) -> str | None:
    """A chat_template value: Jinja source, or transformers' list of named templates (the "default")."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list):
        named = {t.get("name"): t.get("template") for t in value if isinstance(t, dict)}
        chosen = named.get("default")
        return chosen if isinstance(chosen, str) and chosen.strip() else None
    return None
