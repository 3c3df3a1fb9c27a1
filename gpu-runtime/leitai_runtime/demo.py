"""Write a tiny random-weight Llama checkpoint that the runtime can serve.

`python -m leitai_runtime.demo --out DIR --seed 1 --name "Demo A"` produces a Hugging Face
style directory (config.json, model.safetensors, tokenizer.model, generation_config.json,
leitai.json). Its answers are gibberish, but the whole arena pipeline runs on it without
downloading weights. The same seed gives the same bytes; different seeds, different models.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
from pathlib import Path
from typing import Any

import sentencepiece as spm
import torch
from safetensors.torch import save_file

from leitai_runtime.demo_corpus import corpus_lines

DEFAULT_VOCAB_SIZE = 2000
DEFAULT_SHAPE: dict[str, int] = {
    "layers": 2,
    "hidden": 64,
    "intermediate": 172,
    "heads": 4,
    "kv_heads": 2,
    "max_positions": 2048,
}


@functools.lru_cache(maxsize=4)
def demo_tokenizer_model(vocab_size: int = DEFAULT_VOCAB_SIZE) -> bytes:
    """Serialized SentencePiece BPE model trained on the embedded corpus (cached per process).

    Options mirror Llama's tokenizer.model: identity normalization, a dummy space prefix,
    whitespace kept as is, digits split, byte fallback; ids 0/1/2 are <unk>/<s>/</s>.
    """
    spm.set_random_generator_seed(0)
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus_lines()),
        model_writer=out,
        model_type="bpe",
        vocab_size=vocab_size,
        byte_fallback=True,
        character_coverage=1.0,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    return out.getvalue()


def demo_hf_config(vocab_size: int, shape: dict[str, int]) -> dict[str, Any]:
    """A transformers LlamaConfig-compatible dict for the given shape."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": vocab_size,
        "hidden_size": shape["hidden"],
        "intermediate_size": shape["intermediate"],
        "num_hidden_layers": shape["layers"],
        "num_attention_heads": shape["heads"],
        "num_key_value_heads": shape["kv_heads"],
        "max_position_embeddings": shape["max_positions"],
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "torch_dtype": "float32",
    }


def random_llama_weights(config: dict[str, Any], seed: int) -> dict[str, torch.Tensor]:
    """Deterministic random weights with HF Llama names (float32, CPU)."""
    gen = torch.Generator().manual_seed(seed)
    hidden, inter = config["hidden_size"], config["intermediate_size"]
    head_dim = hidden // config["num_attention_heads"]
    kv_dim = head_dim * config["num_key_value_heads"]

    def normal(*size: int) -> torch.Tensor:
        # std 0.02 as transformers initialises Llama; it keeps logits in a sane range
        return torch.randn(*size, generator=gen) * 0.02

    weights = {"model.embed_tokens.weight": normal(config["vocab_size"], hidden)}
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        weights[p + "self_attn.q_proj.weight"] = normal(hidden, hidden)
        weights[p + "self_attn.k_proj.weight"] = normal(kv_dim, hidden)
        weights[p + "self_attn.v_proj.weight"] = normal(kv_dim, hidden)
        weights[p + "self_attn.o_proj.weight"] = normal(hidden, hidden)
        weights[p + "mlp.gate_proj.weight"] = normal(inter, hidden)
        weights[p + "mlp.up_proj.weight"] = normal(inter, hidden)
        weights[p + "mlp.down_proj.weight"] = normal(hidden, inter)
        weights[p + "input_layernorm.weight"] = torch.ones(hidden)
        weights[p + "post_attention_layernorm.weight"] = torch.ones(hidden)
    weights["model.norm.weight"] = torch.ones(hidden)
    weights["lm_head.weight"] = _demo_lm_head(config["vocab_size"], hidden, gen)
    return weights


def _demo_lm_head(vocab_size: int, hidden: int, gen: torch.Generator) -> torch.Tensor:
    """Output rows that make the random model babble whole pieces.

    Rows for <unk>, <s> and the 256 byte-fallback pieces are zero while the others are wide,
    so a zero logit almost never wins: random byte pieces would mostly be broken UTF-8.
    """
    head = torch.randn(vocab_size, hidden, generator=gen) * 0.3
    head[0:2] = 0.0  # <unk>, <s>
    head[3 : 3 + 256] = 0.0  # <0x00> ... <0xFF>
    return head


def write_demo_model(out: Path, seed: int, name: str, **shape: int) -> Path:
    """Write a demo model directory to `out` and return it.

    `shape` overrides DEFAULT_SHAPE keys (layers, hidden, intermediate, heads, kv_heads,
    max_positions) and may set vocab_size (the tokenizer's size, default 2000).
    """
    unknown = set(shape) - set(DEFAULT_SHAPE) - {"vocab_size"}
    if unknown:
        raise ValueError(f"unknown demo shape option(s): {sorted(unknown)}; valid: {sorted(DEFAULT_SHAPE)}")
    vocab_size = shape.pop("vocab_size", DEFAULT_VOCAB_SIZE)
    full_shape = {**DEFAULT_SHAPE, **shape}
    if full_shape["hidden"] % full_shape["heads"] or full_shape["heads"] % full_shape["kv_heads"]:
        raise ValueError("hidden must be divisible by heads, and heads by kv_heads")

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sp_model = demo_tokenizer_model(vocab_size)
    config = demo_hf_config(spm.SentencePieceProcessor(model_proto=sp_model).vocab_size(), full_shape)
    (out / "tokenizer.model").write_bytes(sp_model)
    _write_json(out / "config.json", config)
    _write_json(out / "generation_config.json", {"bos_token_id": 1, "eos_token_id": 2})
    _write_json(out / "leitai.json", {"name": f"{name} (random demo model)", "chat_template": "alpaca2"})
    save_file(random_llama_weights(config, seed), str(out / "model.safetensors"), metadata={"format": "pt"})
    return out


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a tiny random-weight Llama demo model.")
    parser.add_argument("--out", type=Path, required=True, help="directory to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="Leitai demo")
    parser.add_argument("--vocab-size", type=int, default=DEFAULT_VOCAB_SIZE)
    for key, value in DEFAULT_SHAPE.items():
        parser.add_argument(f"--{key.replace('_', '-')}", type=int, default=value)
    args = parser.parse_args(argv)
    shape = {key: getattr(args, key) for key in DEFAULT_SHAPE}
    path = write_demo_model(args.out, args.seed, args.name, vocab_size=args.vocab_size, **shape)
    print(f"wrote demo model {args.name!r} (seed {args.seed}) to {path}")


if __name__ == "__main__":
    main()
