"""GGUF files (llama.cpp): metadata to an HF-style config, tensors dequantized to the serving dtype."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gguf import GGMLQuantizationType, GGUFReader
from gguf.quants import dequantize

from leitai_runtime.hf_tokenizer import HFTokenizer, hf_tokenizer_from_gguf
from leitai_runtime.loader.common import (
    Checkpoint,
    CheckpointError,
    chat_template_of,
    check_shape,
    check_tokenizer,
    expected_shapes,
    finish_state_dict,
    normalized_config,
)
from leitai_runtime.tokenizer import GGUFTokenizer

Q = GGMLQuantizationType
TOKENIZER_MODELS = ("llama", "gpt2")  # SentencePiece; byte-level BPE
SUPPORTED_TYPES = (
    Q.F32, Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K,
)

_GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
_BLOCK_NAMES = {
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
}
_BLOCK_RE = re.compile(r"blk\.(\d+)\.(\w+)\.weight")


def hf_tensor_name(gguf_name: str) -> str | None:
    """The Hugging Face name of a llama.cpp tensor name, or None for tensors the runtime ignores."""
    if gguf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[gguf_name]
    match = _BLOCK_RE.fullmatch(gguf_name)
    if match and match.group(2) in _BLOCK_NAMES:
        return f"model.layers.{match.group(1)}.{_BLOCK_NAMES[match.group(2)]}.weight"
    return None  # e.g. rope_freqs: computed by the runtime from the config instead


def unpermute_qk(weight: torch.Tensor, n_head: int) -> torch.Tensor:
    """Undo llama.cpp's reordering of attn_q/attn_k rows (interleaved RoPE) for rotate-half RoPE."""
    rows = weight.shape[0]
    return weight.reshape(n_head, rows // n_head // 2, 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def load_gguf(path: Path, dtype: torch.dtype, device: torch.device) -> Checkpoint:
    """Load a llama-architecture GGUF file, dequantizing every tensor to `dtype` on `device`."""
    try:
        reader = GGUFReader(path)
    except (OSError, ValueError, IndexError) as err:
        raise CheckpointError(path, f"not a readable GGUF file: {err}") from err
    meta = _Metadata(reader, path)
    arch = meta.get("general.architecture")
    if arch != "llama":
        raise CheckpointError(path, f"unsupported architecture {arch!r} (general.architecture must be 'llama')")
    tokenizer = _tokenizer(meta, path)
    config = normalized_config(_hf_config(meta, reader, tokenizer), path)
    check_tokenizer(path, config, tokenizer)
    wanted = expected_shapes(config)
    tensors: dict[str, torch.Tensor] = {}
    for tensor in reader.tensors:
        name = hf_tensor_name(tensor.name)
        if name is None or name not in wanted:
            continue
        if tensor.tensor_type not in SUPPORTED_TYPES:
            supported = ", ".join(t.name for t in SUPPORTED_TYPES)
            raise CheckpointError(
                path,
                f"tensor {tensor.name} uses unsupported quantization type {tensor.tensor_type.name} "
                f"(supported: {supported})",
            )
        shape = tuple(int(d) for d in reversed(tensor.shape))  # GGUF lists dimensions innermost first
        check_shape(path, tensor.name, shape, wanted[name])
        weight = _dequantized(tensor.data, tensor.tensor_type).reshape(shape)
        if name.endswith("q_proj.weight"):
            weight = unpermute_qk(weight, config["num_attention_heads"])
        elif name.endswith("k_proj.weight"):
            weight = unpermute_qk(weight, config["num_key_value_heads"])
        tensors[name] = weight.to(device=device, dtype=dtype)
    state_dict = finish_state_dict(path, config, tensors)
    return Checkpoint(source=path, hf_config=config, state_dict=state_dict, tokenizer=tokenizer,
                      chat_template=chat_template_of(meta.get("tokenizer.chat_template")))


def _dequantized(data: np.ndarray, qtype: GGMLQuantizationType) -> torch.Tensor:
    if qtype == Q.BF16:
        # bf16 is the top half of an f32: widen the raw bits instead of going through numpy
        bits = torch.from_numpy(np.asarray(data).view(np.uint16).astype(np.int32) << 16)
        return bits.view(torch.float32)
    array = dequantize(data, qtype) if qtype != Q.F16 else np.asarray(data).view(np.float16)
    if not array.flags.writeable:
        # F32/F16 come back as views of the read-only file mapping; a served tensor must own its memory
        array = array.copy()
    return torch.from_numpy(np.ascontiguousarray(array))


class _Metadata:
    def __init__(self, reader: GGUFReader, path: Path) -> None:
        self._reader, self._path = reader, path

    def get(self, key: str, default: Any = None) -> Any:
        field = self._reader.get_field(key)
        if field is None:
            return default
        try:
            return field.contents()
        except (UnicodeDecodeError, ValueError, IndexError) as err:
            raise CheckpointError(self._path, f"cannot read metadata key {key}: {err}") from err

    def require(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise CheckpointError(self._path, f"missing metadata key {key}")
        return value


def _tokenizer(meta: _Metadata, path: Path) -> GGUFTokenizer | HFTokenizer:
    model = meta.get("tokenizer.ggml.model")
    if model not in TOKENIZER_MODELS:
        raise CheckpointError(
            path, f"unsupported tokenizer model {model!r} (tokenizer.ggml.model must be 'llama', SentencePiece, "
            "or 'gpt2', byte-level BPE)"
        )
    if model == "gpt2":
        meta.require("tokenizer.ggml.tokens")
        keys = [f"tokenizer.ggml.{k}" for k in ("tokens", "merges", "token_type", "pre", "bos_token_id",
                                                "eos_token_id", "eot_token_id", "eom_token_id", "add_bos_token")]
        try:
            return hf_tokenizer_from_gguf({k: meta.get(k) for k in keys if meta.get(k) is not None})
        except (ValueError, TypeError) as err:
            raise CheckpointError(path, f"invalid BPE tokenizer vocabulary: {err}") from err
    tokens = meta.require("tokenizer.ggml.tokens")
    scores = meta.get("tokenizer.ggml.scores") or [0.0] * len(tokens)
    types = meta.get("tokenizer.ggml.token_type") or [1] * len(tokens)
    try:
        return GGUFTokenizer(
            tokens,
            scores,
            types,
            bos_id=meta.get("tokenizer.ggml.bos_token_id", 1),
            eos_id=meta.get("tokenizer.ggml.eos_token_id", 2),
            unk_id=meta.get("tokenizer.ggml.unknown_token_id", 0),
            add_space_prefix=bool(meta.get("tokenizer.ggml.add_space_prefix", True)),
            remove_extra_whitespaces=bool(meta.get("tokenizer.ggml.remove_extra_whitespaces", False)),
        )
    except ValueError as err:
        raise CheckpointError(path, f"invalid tokenizer vocabulary: {err}") from err


def _hf_config(meta: _Metadata, reader: GGUFReader, tokenizer: GGUFTokenizer | HFTokenizer) -> dict[str, Any]:
    heads = meta.require("llama.attention.head_count")
    hidden = meta.require("llama.embedding_length")
    tensor_names = {t.name for t in reader.tensors}
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": meta.get("llama.vocab_size", tokenizer.vocab_size),
        "hidden_size": hidden,
        "intermediate_size": meta.require("llama.feed_forward_length"),
        "num_hidden_layers": meta.require("llama.block_count"),
        "num_attention_heads": heads,
        "num_key_value_heads": meta.get("llama.attention.head_count_kv", heads),
        "head_dim": meta.get("llama.attention.key_length", hidden // heads),
        "max_position_embeddings": meta.get("llama.context_length", 2048),
        "rms_norm_eps": meta.get("llama.attention.layer_norm_rms_epsilon", 1e-5),
        "rope_theta": meta.get("llama.rope.freq_base", 10000.0),
        "rope_scaling": _rope_scaling(meta),
        "tie_word_embeddings": "output.weight" not in tensor_names,
        "bos_token_id": tokenizer.bos_id,
        # end-of-turn tokens (llama.cpp's eot/eom) stop generation like EOS does
        "eos_token_id": _stop_ids(tokenizer),
    }


def _rope_scaling(meta: _Metadata) -> dict[str, Any] | None:
    """llama.rope.scaling.* keys as a transformers rope_scaling dict."""
    kind = meta.get("llama.rope.scaling.type")
    factor = meta.get("llama.rope.scaling.factor")
    if kind is None and meta.get("llama.rope.scale_linear") is not None:
        kind, factor = "linear", meta.get("llama.rope.scale_linear")  # key used by older converters
    if kind in (None, "none") or factor in (None, 0.0, 1.0):
        return None
    scaling: dict[str, Any] = {"rope_type": kind, "type": kind, "factor": factor}
    original = meta.get("llama.rope.scaling.original_context_length")
    if original is not None:
        scaling["original_max_position_embeddings"] = original
    for gguf_key, hf_key in (
        ("llama.rope.scaling.yarn_beta_fast", "beta_fast"),
        ("llama.rope.scaling.yarn_beta_slow", "beta_slow"),
        ("llama.rope.scaling.yarn_attn_factor", "attention_factor"),
    ):
        value = meta.get(gguf_key)
        if value is not None:
            scaling[hf_key] = value
    return scaling


def _stop_ids(tokenizer: GGUFTokenizer | HFTokenizer) -> int | list[int]:
    extra = [i for i in getattr(tokenizer, "extra_stop_ids", ()) if i != tokenizer.eos_id]
    return [tokenizer.eos_id, *extra] if extra else tokenizer.eos_id
