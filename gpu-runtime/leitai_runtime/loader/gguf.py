"""GGUF files (llama.cpp): metadata to an HF-style config, tensors dequantized to the serving dtype.

Architectures "llama" and "qwen2"; their metadata keys carry the architecture as prefix
(llama.block_count, qwen2.block_count, ...).
"""

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
    unexpected_tensor,
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
_BLOCK_RE = re.compile(r"blk\.(\d+)\.(\w+)\.(weight|bias)")
# general.architecture -> (transformers class, model_type). llama.cpp's llama graph uses
# interleaved RoPE, so its converter reorders attn_q/attn_k rows; qwen2's uses rotate-half
# (NEOX) RoPE, as transformers does, and stores them unchanged.
_ARCHITECTURES = {"llama": ("LlamaForCausalLM", "llama"), "qwen2": ("Qwen2ForCausalLM", "qwen2")}
_PERMUTED_QK = ("llama",)


def hf_tensor_name(gguf_name: str) -> str | None:
    """The Hugging Face name of a llama.cpp tensor name, or None for one with no counterpart."""
    if gguf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[gguf_name]
    match = _BLOCK_RE.fullmatch(gguf_name)
    if match and match.group(2) in _BLOCK_NAMES:
        return f"model.layers.{match.group(1)}.{_BLOCK_NAMES[match.group(2)]}.{match.group(3)}"
    return None


def unpermute_qk(weight: torch.Tensor, n_head: int) -> torch.Tensor:
    """Undo llama.cpp's reordering of attn_q/attn_k rows (interleaved RoPE) for rotate-half RoPE."""
    rows = weight.shape[0]
    return weight.reshape(n_head, rows // n_head // 2, 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def load_gguf(path: Path, dtype: torch.dtype, device: torch.device) -> Checkpoint:
    """Load a llama or qwen2 GGUF file, dequantizing every tensor to `dtype` on `device`."""
    try:
        reader = GGUFReader(path)
    except (OSError, ValueError, IndexError) as err:
        raise CheckpointError(path, f"not a readable GGUF file: {err}") from err
    meta = _Metadata(reader, path)
    arch = meta.get("general.architecture")
    if arch not in _ARCHITECTURES:
        raise CheckpointError(
            path, f"unsupported architecture {arch!r} (general.architecture must be one of {', '.join(_ARCHITECTURES)})"
        )
    _check_metadata(meta, arch, path)
    tokenizer = _tokenizer(meta, path)
    config = normalized_config(_hf_config(meta, arch, reader, tokenizer), path)
    check_tokenizer(path, config, tokenizer)
    wanted = expected_shapes(config)
    tensors: dict[str, torch.Tensor] = {}
    for tensor in reader.tensors:
        name = hf_tensor_name(tensor.name)
        if name is None or name not in wanted:
            _check_unused(path, tensor.name, name)
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
        if arch in _PERMUTED_QK and name.endswith("q_proj.weight"):
            weight = unpermute_qk(weight, config["num_attention_heads"])
        elif arch in _PERMUTED_QK and name.endswith("k_proj.weight"):
            weight = unpermute_qk(weight, config["num_key_value_heads"])
        tensors[name] = weight.to(device=device, dtype=dtype)
    state_dict = finish_state_dict(path, config, tensors)
    return Checkpoint(source=path, hf_config=config, state_dict=state_dict, tokenizer=tokenizer,
                      chat_template=chat_template_of(meta.get("tokenizer.chat_template")))


def _check_metadata(meta: _Metadata, arch: str, path: Path) -> None:
    """Refuse hyperparameters that change the computation in ways the model code does not implement."""

    def refuse(key: str, value: Any, why: str) -> CheckpointError:
        return CheckpointError(path, f"{key} = {value!r} is not supported: {why}")

    for key in (f"{arch}.expert_count", f"{arch}.expert_used_count", f"{arch}.expert_shared_count"):
        if meta.get(key):
            raise refuse(key, meta.get(key), "the MLP is dense (no mixture of experts)")
    window = meta.get(f"{arch}.attention.sliding_window")
    if window:
        raise refuse(f"{arch}.attention.sliding_window", window, "attention is over the whole context")
    for key in (f"{arch}.attn_logit_softcapping", f"{arch}.final_logit_softcapping"):
        if meta.get(key) is not None:
            raise refuse(key, meta.get(key), "logits are not soft-capped")
    key = f"{arch}.attention.layer_norm_epsilon"
    if meta.get(key) is not None and meta.get(f"{arch}.attention.layer_norm_rms_epsilon") is None:
        raise refuse(key, meta.get(key), "norms are RMSNorm, not LayerNorm")
    for key in (f"{arch}.attention.head_count", f"{arch}.attention.head_count_kv", f"{arch}.feed_forward_length"):
        if isinstance(meta.get(key), list):
            raise refuse(key, meta.get(key), "every layer has the same shape")
    heads, hidden = meta.get(f"{arch}.attention.head_count"), meta.get(f"{arch}.embedding_length")
    head_dim = meta.get(f"{arch}.attention.key_length")
    if head_dim is None and isinstance(heads, int) and isinstance(hidden, int) and heads > 0:
        head_dim = hidden // heads
    value_dim = meta.get(f"{arch}.attention.value_length")
    if value_dim is not None and value_dim != head_dim:
        raise refuse(f"{arch}.attention.value_length", value_dim, f"values are as long as keys ({head_dim})")
    rope_dims = meta.get(f"{arch}.rope.dimension_count")
    if rope_dims is not None and rope_dims != head_dim:
        raise refuse(f"{arch}.rope.dimension_count", rope_dims, f"RoPE rotates the whole head ({head_dim})")


def _check_unused(path: Path, gguf_name: str, name: str | None) -> None:
    """A tensor the model has no parameter for is refused: serving without it computes something else."""
    if gguf_name == "rope_freqs.weight":  # llama.cpp's form of Llama 3 RoPE scaling: per-dimension factors
        raise CheckpointError(path, "tensor rope_freqs.weight (Llama 3 RoPE frequency factors) is not supported: "
                                    "RoPE scaling served is linear, dynamic or yarn")
    if name is None or unexpected_tensor(path, name) is not None:
        raise CheckpointError(path, f"unexpected tensor {gguf_name}: the model has no such parameter, so serving "
                                    "without it would compute something else")


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


def _hf_config(meta: _Metadata, arch: str, reader: GGUFReader,
               tokenizer: GGUFTokenizer | HFTokenizer) -> dict[str, Any]:
    heads = meta.require(f"{arch}.attention.head_count")
    hidden = meta.require(f"{arch}.embedding_length")
    tensor_names = {t.name for t in reader.tensors}
    architecture, model_type = _ARCHITECTURES[arch]
    return {
        "architectures": [architecture],
        "model_type": model_type,
        "vocab_size": meta.get(f"{arch}.vocab_size", tokenizer.vocab_size),
        "hidden_size": hidden,
        "intermediate_size": meta.require(f"{arch}.feed_forward_length"),
        "num_hidden_layers": meta.require(f"{arch}.block_count"),
        "num_attention_heads": heads,
        "num_key_value_heads": meta.get(f"{arch}.attention.head_count_kv", heads),
        "head_dim": meta.get(f"{arch}.attention.key_length", hidden // heads),
        "max_position_embeddings": meta.get(f"{arch}.context_length", 2048),
        "rms_norm_eps": meta.get(f"{arch}.attention.layer_norm_rms_epsilon", 1e-5),
        "rope_theta": meta.get(f"{arch}.rope.freq_base", 10000.0),
        "rope_scaling": _rope_scaling(meta, arch),
        "tie_word_embeddings": "output.weight" not in tensor_names,
        "bos_token_id": tokenizer.bos_id,
        # end-of-turn tokens (llama.cpp's eot/eom) stop generation like EOS does
        "eos_token_id": _stop_ids(tokenizer),
    }


def _rope_scaling(meta: _Metadata, arch: str) -> dict[str, Any] | None:
    """{arch}.rope.scaling.* keys as a transformers rope_scaling dict."""
    kind = meta.get(f"{arch}.rope.scaling.type")
    factor = meta.get(f"{arch}.rope.scaling.factor")
    if kind is None and meta.get(f"{arch}.rope.scale_linear") is not None:
        kind, factor = "linear", meta.get(f"{arch}.rope.scale_linear")  # key used by older converters
    if kind in (None, "none") or factor in (None, 0.0, 1.0):
        return None
    scaling: dict[str, Any] = {"rope_type": kind, "type": kind, "factor": factor}
    original = meta.get(f"{arch}.rope.scaling.original_context_length")
    if original is not None:
        scaling["original_max_position_embeddings"] = original
    for gguf_key, hf_key in (
        ("rope.scaling.yarn_beta_fast", "beta_fast"),
        ("rope.scaling.yarn_beta_slow", "beta_slow"),
        ("rope.scaling.yarn_attn_factor", "attention_factor"),
    ):
        value = meta.get(f"{arch}.{gguf_key}")
        if value is not None:
            scaling[hf_key] = value
    return scaling


def _stop_ids(tokenizer: GGUFTokenizer | HFTokenizer) -> int | list[int]:
    extra = [i for i in getattr(tokenizer, "extra_stop_ids", ()) if i != tokenizer.eos_id]
    return [tokenizer.eos_id, *extra] if extra else tokenizer.eos_id
