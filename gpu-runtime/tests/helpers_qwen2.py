"""A tiny random-weight Qwen2 (transformers' Qwen2ForCausalLM) with a byte-level BPE
tokenizer.json and a ChatML template, as Qwen2 checkpoints ship, and its GGUF as llama.cpp's
converter writes the qwen2 architecture.

    hf_dir = make_tiny_qwen2(tmp_path)             # config.json, model.safetensors, tokenizer files
    gguf_file = make_tiny_qwen2_gguf(tmp_path, hf_dir)

Like Qwen2's own tokenizer, the special tokens come after the learned vocabulary and the
model's vocabulary is padded past them; <|endoftext|> is EOS and <|im_end|> ends a turn.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import torch
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import Qwen2Config, Qwen2ForCausalLM

from leitai_runtime.demo_corpus import corpus_lines

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Qwen2's pre-tokenizer split: contractions, letters, one digit at a time, punctuation, newlines, spaces.
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")
# ChatML with Qwen2's default system turn; no BOS.
CHATML = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
VOCAB_PADDING = 8  # model rows past the tokenizer's last token, as Qwen2 pads its vocabulary


@functools.lru_cache(maxsize=1)
def qwen2_tokenizer_json(vocab_size: int = 500) -> str:
    """Byte-level BPE trained on the demo corpus, split and normalised as Qwen2's tokenizer is."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(corpus_lines(), trainer)
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    return tokenizer.to_str()


def special_ids() -> dict[str, int]:
    tokenizer = Tokenizer.from_str(qwen2_tokenizer_json())
    return {t: int(tokenizer.token_to_id(t)) for t in SPECIALS}


def make_tiny_qwen2(tmp_path: Path, *, seed: int = 0, name: str = "tiny-qwen2", tie_word_embeddings: bool = True,
                    **overrides: Any) -> Path:
    """A float32 HF Qwen2 directory. Weights are drawn wide enough that greedy answers vary (with
    tied embeddings and narrow weights a model mostly repeats its input); q/k/v biases and norms
    are drawn at random too (transformers starts biases at zero, which would hide a runtime
    that drops them)."""
    tokenizer_json = qwen2_tokenizer_json()
    tokenizer_size = Tokenizer.from_str(tokenizer_json).get_vocab_size()
    eos = special_ids()["<|endoftext|>"]
    shape: dict[str, Any] = dict(
        vocab_size=tokenizer_size + VOCAB_PADDING, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, rope_theta=1_000_000.0,
        rms_norm_eps=1e-6, tie_word_embeddings=tie_word_embeddings, use_sliding_window=False, sliding_window=4096,
        max_window_layers=2, bos_token_id=eos, eos_token_id=eos, initializer_range=0.2, dtype="float32",
    )
    shape.update(overrides)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(Qwen2Config(**shape)).eval()
        with torch.no_grad():
            for param_name, param in model.named_parameters():
                if param_name.endswith("norm.weight"):
                    param.copy_(1.0 + 0.2 * torch.randn_like(param))
                elif param_name.endswith(".bias"):
                    param.copy_(0.5 * torch.randn_like(param))
    out = Path(tmp_path) / name
    model.save_pretrained(out, safe_serialization=True)
    (out / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    config = {"tokenizer_class": "Qwen2TokenizerFast", "bos_token": None, "eos_token": "<|endoftext|>",
              "pad_token": "<|endoftext|>", "model_max_length": 512, "clean_up_tokenization_spaces": False,
              "chat_template": CHATML}
    (out / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return out


def make_tiny_qwen2_gguf(tmp_path: Path, hf_dir: Path, *, name: str | None = None, f16: bool = False) -> Path:
    """`hf_dir` as a qwen2-architecture GGUF: tensors under llama.cpp's names (attn_q.bias, ...),
    attn_q/attn_k rows in their original order (qwen2 uses rotate-half RoPE, so llama.cpp does
    not reorder them), no `output` tensor when the embeddings are tied, and the tokenizer as a
    "gpt2" vocabulary with its merges, token types and pre-tokenizer name "qwen2"."""
    config = json.loads((hf_dir / "config.json").read_text())
    path = Path(tmp_path) / (name or f"{hf_dir.name}.gguf")
    writer = gguf.GGUFWriter(path, "qwen2")
    writer.add_name(hf_dir.name)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_rope_freq_base(config["rope_theta"])
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_file_type(1 if f16 else 0)
    _write_bpe_vocab(writer, hf_dir, config["vocab_size"])
    model = Qwen2ForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    for hf_name, tensor in model.state_dict().items():
        if hf_name == "lm_head.weight" and config["tie_word_embeddings"]:
            continue
        data = tensor.numpy()
        writer.add_tensor(_gguf_name(hf_name), data.astype(np.float16) if f16 and data.ndim == 2 else data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


_BLOCK = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
}  # fmt: skip
_GLOBAL = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
           "lm_head.weight": "output.weight"}  # fmt: skip


def _gguf_name(hf_name: str) -> str:
    if hf_name in _GLOBAL:
        return _GLOBAL[hf_name]
    parts = hf_name.split(".")  # model.layers.{i}.{module...}.{weight|bias}
    return f"blk.{parts[2]}.{_BLOCK['.'.join(parts[3:-1])]}.{parts[-1]}"


def _write_bpe_vocab(writer: gguf.GGUFWriter, hf_dir: Path, vocab_size: int) -> None:
    spec = json.loads((hf_dir / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_str(json.dumps(spec))
    specials = {t.content for t in tokenizer.get_added_tokens_decoder().values() if t.special}
    by_id = {i: piece for piece, i in tokenizer.get_vocab(with_added_tokens=True).items()}
    tokens, types = [], []
    for i in range(vocab_size):
        piece = by_id.get(i)
        if piece is None:  # the padding rows, as llama.cpp's converter names them
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        else:
            tokens.append(piece)
            types.append(gguf.TokenType.CONTROL if piece in specials else gguf.TokenType.NORMAL)
    # tokenizer.json writes a merge as "a b" or, in newer versions, as ["a", "b"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
    ids = special_ids()
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(ids["<|endoftext|>"])
    writer.add_eos_token_id(ids["<|endoftext|>"])
    writer.add_pad_token_id(ids["<|endoftext|>"])
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML)
