"""A tiny random-weight Llama with a byte-level BPE tokenizer.json and a Jinja chat template,
as SmolLM / Llama-3-style checkpoints ship (trained at test time on the demo corpus)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from helpers_model import make_tiny_llama
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from leitai_runtime.demo_corpus import corpus_lines

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# ChatML with a default system turn, like SmolLM2's; bos_token is written by the template.
CHATML = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a tiny test model.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] | trim }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@functools.lru_cache(maxsize=2)
def bpe_tokenizer_json(vocab_size: int = 600, adds_bos: bool = False) -> str:
    """A byte-level BPE trained on the demo corpus (Chinese + English); digits isolated."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                       pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(corpus_lines(), trainer)
    if adds_bos:
        tokenizer.post_processor = processors.TemplateProcessing(
            single="<|endoftext|> $A", special_tokens=[("<|endoftext|>", 0)])
    return tokenizer.to_str()


def make_tiny_bpe_llama(tmp_path: Path, *, seed: int = 0, name: str = "tiny-bpe", adds_bos: bool = False,
                        chat_template: str | None = CHATML) -> Path:
    """An HF directory: config.json, model.safetensors, tokenizer.json, tokenizer_config.json."""
    tokenizer_json = bpe_tokenizer_json(adds_bos=adds_bos)
    vocab = Tokenizer.from_str(tokenizer_json).get_vocab_size()
    out = make_tiny_llama(tmp_path, seed=seed, name=name, vocab_from_demo_tokenizer=False, vocab_size=vocab)
    (out / "tokenizer.model").unlink()
    (out / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|endoftext|>", "eos_token": "<|im_end|>",
              "pad_token": "<|endoftext|>", "model_max_length": 512, "clean_up_tokenization_spaces": False}
    if chat_template is not None:
        config["chat_template"] = chat_template
    (out / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    # the model config's ids must name the same tokens as the tokenizer's
    model_config = json.loads((out / "config.json").read_text())
    model_config.update(bos_token_id=0, eos_token_id=2, pad_token_id=0)
    (out / "config.json").write_text(json.dumps(model_config))
    return out
