"""Tiny random-weight Llama checkpoints for tests (shared by the loader and engine tests).

    hf_dir = make_tiny_llama(tmp_path)                      # transformers save_pretrained + tokenizer.model
    gguf_file = make_tiny_gguf(tmp_path, hf_dir, "Q8_0")    # as llama.cpp's convert_hf_to_gguf writes it
    ref_dir = dequantized_hf_dir(tmp_path, gguf_file, hf_dir)  # the GGUF's weights, back in HF form

Weights are drawn with a larger spread than transformers' default so that greedy decoding
has clear winners (near-ties would make token-by-token comparisons flaky).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Literal

import gguf
import numpy as np
import sentencepiece as spm
import torch
from gguf import GGMLQuantizationType as Q
from helpers_kquant import quantize_q2_k, quantize_q3_k, quantize_q4_k, quantize_q5_k, quantize_q6_k
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM

from leitai_runtime.demo import demo_tokenizer_model

QType = Literal[
    "F32", "F16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"
]  # fmt: skip
_HAND_QUANTIZERS = {
    Q.Q2_K: quantize_q2_k, Q.Q3_K: quantize_q3_k, Q.Q4_K: quantize_q4_k, Q.Q5_K: quantize_q5_k,
    Q.Q6_K: quantize_q6_k,
}  # fmt: skip


def tokenizer_model_bytes() -> bytes:
    """The demo SentencePiece model (trained once per test session, then cached)."""
    return demo_tokenizer_model()


def demo_vocab_size() -> int:
    return int(spm.SentencePieceProcessor(model_proto=tokenizer_model_bytes()).vocab_size())


def make_tiny_llama(
    tmp_path: Path,
    *,
    seed: int = 0,
    name: str = "tiny-llama",
    num_layers: int = 2,
    hidden_size: int = 64,
    intermediate_size: int = 128,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    max_position_embeddings: int = 512,
    rope_theta: float = 10000.0,
    rope_scaling: dict[str, Any] | None = None,
    tie_word_embeddings: bool = False,
    fmt: Literal["safetensors", "bin"] = "safetensors",
    max_shard_size: str | None = None,
    vocab_from_demo_tokenizer: bool = True,
    vocab_size: int | None = None,
    init_std: float = 0.1,
) -> Path:
    """Write a float32 HF Llama directory (config.json, weights, tokenizer.model) and return it.

    `max_shard_size` (e.g. "100KB") writes sharded weights with an index file. With
    `vocab_from_demo_tokenizer=False`, `vocab_size` sets the model's vocabulary (at least the
    tokenizer's; extra rows are padding the tokenizer never produces).
    """
    tokenizer_size = demo_vocab_size()
    vocab = tokenizer_size if vocab_from_demo_tokenizer or vocab_size is None else vocab_size
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=max_position_embeddings,
        rope_theta=rope_theta,
        rope_scaling=rope_scaling,
        tie_word_embeddings=tie_word_embeddings,
        rms_norm_eps=1e-5,
        bos_token_id=1,
        eos_token_id=2,
        initializer_range=init_std,
        dtype="float32",
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config).eval()
        with torch.no_grad():
            for name_, param in model.named_parameters():
                if name_.endswith("norm.weight"):  # random norms catch a runtime that ignores them
                    param.copy_(1.0 + 0.2 * torch.randn_like(param))
    out = Path(tmp_path) / name
    kwargs: dict[str, Any] = {"safe_serialization": fmt == "safetensors"}
    if max_shard_size is not None:
        kwargs["max_shard_size"] = max_shard_size
    model.save_pretrained(out, **kwargs)
    (out / "tokenizer.model").write_bytes(tokenizer_model_bytes())
    return out


def make_tiny_gguf(
    tmp_path: Path,
    hf_dir: Path,
    qtype: QType = "F16",
    *,
    name: str | None = None,
    arch: str = "llama",
    tokenizer_model: str = "llama",
    drop_tensors: tuple[str, ...] = (),
    tensor_types: dict[str, str] | None = None,
    config_overrides: dict[str, Any] | None = None,
    extra_metadata: dict[str, Any] | None = None,
    extra_tensors: dict[str, np.ndarray] | None = None,
) -> Path:
    """Convert `hf_dir` to GGUF the way llama.cpp's convert_hf_to_gguf.py does (llama architecture).

    2-D weights get `qtype`; norms stay F32. As llama.cpp does, a tensor whose rows do not split
    into whole blocks of `qtype` falls back to Q8_0 (or F16). Q2_K..Q6_K bytes come
    from helpers_kquant, since gguf-py cannot encode them. For error tests: `arch` and
    `tokenizer_model` replace the metadata values, `drop_tensors` leaves GGUF-named tensors out,
    `tensor_types` ({gguf name: type name}) stores those tensors in another type (zero bytes
    when gguf-py cannot encode it), and `config_overrides` changes hparams in the metadata only;
    `extra_metadata` ({key: int, float, bool or str}) and `extra_tensors` (F32) are written as given.
    """
    config = json.loads((hf_dir / "config.json").read_text()) | (config_overrides or {})
    sp = spm.SentencePieceProcessor(model_file=str(hf_dir / "tokenizer.model"))
    path = Path(tmp_path) / (name or f"{hf_dir.name}-{qtype.lower()}.gguf")
    writer = gguf.GGUFWriter(path, arch)
    _write_hparams(writer, config, Q[qtype])
    _write_vocab(writer, sp, config["vocab_size"], tokenizer_model)
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    for hf_name, tensor in _hf_state_dict(hf_dir).items():
        gguf_name = _gguf_name(hf_name)
        if gguf_name is None or gguf_name in drop_tensors:
            continue
        data = tensor.float().numpy()
        if gguf_name.endswith("attn_q.weight"):
            data = permute_qk(data, heads)
        elif gguf_name.endswith("attn_k.weight"):
            data = permute_qk(data, kv_heads)
        _add_tensor(writer, gguf_name, data, Q[(tensor_types or {}).get(gguf_name, qtype)])
    for key, value in (extra_metadata or {}).items():
        _add_metadata(writer, key, value)
    for gguf_name, data in (extra_tensors or {}).items():
        writer.add_tensor(gguf_name, data.astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def dequantized_hf_dir(tmp_path: Path, gguf_path: Path, hf_dir: Path) -> Path:
    """An HF directory holding the GGUF's dequantized, un-permuted weights (float32).

    Config and tokenizer come from `hf_dir` (the model the GGUF was made from). Written with
    gguf-py and numpy only, independently of the runtime's loader, so transformers can be run
    on exactly the weights the runtime serves from the GGUF.
    """
    config = json.loads((hf_dir / "config.json").read_text())
    reader = gguf.GGUFReader(gguf_path)
    weights: dict[str, torch.Tensor] = {}
    for tensor in reader.tensors:
        data = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
        data = np.array(data, dtype=np.float32).reshape([int(d) for d in reversed(tensor.shape)])
        if tensor.name.endswith("attn_q.weight"):
            data = unpermute_qk_np(data, config["num_attention_heads"])
        elif tensor.name.endswith("attn_k.weight"):
            data = unpermute_qk_np(data, config["num_key_value_heads"])
        weights[_HF_FROM_GGUF[tensor.name]] = torch.from_numpy(data).contiguous()
    out = Path(tmp_path) / f"{gguf_path.stem}-dequantized"
    out.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    shutil.copy(hf_dir / "config.json", out / "config.json")
    shutil.copy(hf_dir / "tokenizer.model", out / "tokenizer.model")
    return out


def permute_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's row order for attn_q/attn_k (from convert_hf_to_gguf.py's LlamaModel.permute)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute_qk_np(w: np.ndarray, n_head: int) -> np.ndarray:
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


_GGUF_BLOCK = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
}  # fmt: skip
_GGUF_GLOBAL = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
                "lm_head.weight": "output.weight"}  # fmt: skip
_HF_FROM_GGUF = {v: k for k, v in _GGUF_GLOBAL.items()} | {
    f"blk.{i}.{g}.weight": f"model.layers.{i}.{h}.weight" for i in range(64) for h, g in _GGUF_BLOCK.items()
}


def _gguf_name(hf_name: str) -> str | None:
    if hf_name in _GGUF_GLOBAL:
        return _GGUF_GLOBAL[hf_name]
    parts = hf_name.split(".")  # model.layers.{i}.{module...}.weight
    if parts[:2] != ["model", "layers"]:
        return None
    module = ".".join(parts[3:-1])
    return f"blk.{parts[2]}.{_GGUF_BLOCK[module]}.weight" if module in _GGUF_BLOCK else None


def _hf_state_dict(hf_dir: Path) -> dict[str, torch.Tensor]:
    model = LlamaForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    state = dict(model.state_dict())
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)  # llama.cpp omits `output` for tied embeddings
    return state


def _add_tensor(writer: gguf.GGUFWriter, name: str, data: np.ndarray, qtype: Q) -> None:
    if data.ndim == 1 or qtype == Q.F32:
        writer.add_tensor(name, data.astype(np.float32))
        return
    block = gguf.GGML_QUANT_SIZES[qtype][0]
    if data.shape[-1] % block:  # llama.cpp's fallback for rows that do not fill whole blocks
        qtype = Q.Q8_0 if data.shape[-1] % 32 == 0 else Q.F16
    if qtype == Q.F16:
        writer.add_tensor(name, data.astype(np.float16))
    elif qtype in _HAND_QUANTIZERS:
        writer.add_tensor(name, _HAND_QUANTIZERS[qtype](data)[0], raw_dtype=qtype)
    else:
        try:
            packed = gguf.quants.quantize(data, qtype)
        except NotImplementedError:
            block, size = gguf.GGML_QUANT_SIZES[qtype]
            packed = np.zeros((*data.shape[:-1], data.shape[-1] // block * size), dtype=np.uint8)
        writer.add_tensor(name, packed, raw_dtype=qtype)


# llama_ftype numbers; a K-quant file type names its mix (_M), here every 2-D tensor has the one type
_FILE_TYPES = {
    Q.F32: 0, Q.F16: 1, Q.Q4_0: 2, Q.Q4_1: 3, Q.Q8_0: 7, Q.Q5_0: 8, Q.Q5_1: 9, Q.Q2_K: 10, Q.Q3_K: 12,
    Q.Q4_K: 15, Q.Q5_K: 17, Q.Q6_K: 18,
}  # fmt: skip


def _write_hparams(writer: gguf.GGUFWriter, config: dict[str, Any], qtype: Q) -> None:
    heads = config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    writer.add_name("tiny-llama")
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_rope_dimension_count(head_dim)
    writer.add_head_count(heads)
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_rope_freq_base(config.get("rope_theta", 10000.0))
    writer.add_vocab_size(config["vocab_size"])
    writer.add_file_type(_FILE_TYPES[qtype])
    scaling = config.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind == "linear":
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(scaling["factor"])
    elif kind == "yarn":
        writer.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        writer.add_rope_scaling_factor(scaling["factor"])
        writer.add_rope_scaling_orig_ctx_len(scaling["original_max_position_embeddings"])
    elif kind is not None:
        raise ValueError(f"GGUF has no encoding for rope scaling {kind!r}")


def _write_vocab(writer: gguf.GGUFWriter, sp: spm.SentencePieceProcessor, vocab_size: int, model: str) -> None:
    tokens, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        if sp.is_unknown(i):
            types.append(gguf.TokenType.UNKNOWN)
        elif sp.is_control(i):
            types.append(gguf.TokenType.CONTROL)
        elif sp.is_unused(i):
            types.append(gguf.TokenType.UNUSED)
        elif sp.is_byte(i):
            types.append(gguf.TokenType.BYTE)
        else:
            types.append(gguf.TokenType.NORMAL)
    for i in range(sp.vocab_size(), vocab_size):  # the converter pads to the model's vocab_size
        tokens.append(f"[PAD{i}]")
        scores.append(-1000.0)
        types.append(gguf.TokenType.UNUSED)
    writer.add_tokenizer_model(model)
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(sp.bos_id())
    writer.add_eos_token_id(sp.eos_id())
    writer.add_unk_token_id(sp.unk_id())
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_add_space_prefix(True)
    writer.add_remove_extra_whitespaces(False)


def _add_metadata(writer: gguf.GGUFWriter, key: str, value: Any) -> None:
    if isinstance(value, bool):
        writer.add_bool(key, value)
    elif isinstance(value, int):
        writer.add_uint32(key, value)
    elif isinstance(value, float):
        writer.add_float32(key, value)
    else:
        writer.add_string(key, str(value))
