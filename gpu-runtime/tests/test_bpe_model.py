"""A byte-level BPE checkpoint (tokenizer.json + Jinja chat template in tokenizer_config.json):
the same engine-vs-transformers checks as the SentencePiece models, plus its tokenizer,
template and streamed text against transformers' own."""

from __future__ import annotations

import random

import pytest
import torch
from helpers_bpe import make_tiny_bpe_llama
from helpers_engine import greedy, hf_greedy
from test_engine_vs_hf import run_staggered
from test_real_model import TORTURE
from transformers import AutoTokenizer, LlamaForCausalLM

from leitai_runtime.config import EngineConfig
from leitai_runtime.engine import LLMEngine
from leitai_runtime.hf_tokenizer import HFTokenizer
from leitai_runtime.templates import encode_chat, encode_completion, resolve_template

CONFIG = EngineConfig(block_size=4, num_kv_blocks=512, max_num_batched_tokens=48)
QUESTIONS = ["你好，请介绍一下长城。", "What is 12 x 34? Show the steps.", "  spaces  and\ttabs\n", "写一首诗 🌸"]


@pytest.fixture(scope="module")
def bpe_dir(tmp_path_factory):
    return make_tiny_bpe_llama(tmp_path_factory.mktemp("bpe"), seed=5)


@pytest.fixture(scope="module")
def engine(bpe_dir) -> LLMEngine:
    return LLMEngine.from_path(bpe_dir, CONFIG)


@pytest.fixture(scope="module")
def hf_tok(bpe_dir):
    return AutoTokenizer.from_pretrained(bpe_dir)


@pytest.fixture(scope="module")
def hf_model(bpe_dir):
    return LlamaForCausalLM.from_pretrained(bpe_dir, dtype=torch.float32).eval()


def chat_ids(engine: LLMEngine, question: str) -> list[int]:
    assert engine.tokenizer is not None
    return encode_chat(engine.tokenizer, [{"role": "user", "content": question}],
                       resolve_template("model", engine.chat_template))


def test_loads_tokenizer_json_and_the_template(engine: LLMEngine) -> None:
    tok = engine.tokenizer
    assert isinstance(tok, HFTokenizer) and engine.chat_template is not None
    assert (tok.bos_id, tok.eos_id, tok.adds_bos) == (0, 2, False)
    assert 2 in engine.eos_ids


def test_ids_match_transformers(engine: LLMEngine, hf_tok) -> None:
    tok = engine.tokenizer
    assert isinstance(tok, HFTokenizer)
    for text in [*QUESTIONS, *TORTURE]:
        assert tok.encode(text) == hf_tok(text, add_special_tokens=False, split_special_tokens=True).input_ids, text
        assert tok.decode(tok.encode(text)) == hf_tok.decode(tok.encode(text)), text
    for question in QUESTIONS:
        expected = hf_tok.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                              tokenize=True)
        assert chat_ids(engine, question) == expected, question


def test_a_tokenizer_that_adds_bos(tmp_path) -> None:
    path = make_tiny_bpe_llama(tmp_path, adds_bos=True)
    tok = LLMEngine.from_path(path, CONFIG).tokenizer
    hf = AutoTokenizer.from_pretrained(path)
    assert isinstance(tok, HFTokenizer) and tok.adds_bos
    assert encode_completion(tok, "hello 世界") == hf("hello 世界").input_ids


def test_greedy_chat_answers_match_transformers(engine: LLMEngine, hf_model) -> None:
    prompts = [chat_ids(engine, q) for q in QUESTIONS]
    assert engine.generate(prompts, greedy(16)) == [hf_greedy(hf_model, p, 16) for p in prompts]


def test_staggered_concurrent_chats_match_transformers(engine: LLMEngine, hf_model) -> None:
    rng = random.Random(11)
    words = ["长城", "spring", "猫", "12", "🙂", "river", "天气", "code"]
    requests = [(chat_ids(engine, " ".join(rng.choices(words, k=rng.randint(1, 12)))), rng.randint(1, 20),
                 rng.randint(0, 10)) for _ in range(12)]
    got = run_staggered(engine, requests)
    for (prompt, max_tokens, _), tokens in zip(requests, got, strict=True):
        assert tokens == hf_greedy(hf_model, prompt, max_tokens)
    assert engine.block_manager.num_used_blocks == 0


def test_streamed_text_is_whole_characters_and_equals_decode(engine: LLMEngine, hf_tok) -> None:
    tok = engine.tokenizer
    assert isinstance(tok, HFTokenizer)
    rng = random.Random(3)
    for _ in range(200):
        ids = [rng.randrange(tok.vocab_size) for _ in range(rng.randint(1, 30))]
        stream = tok.stream()
        pieces = [stream.push(i) for i in ids]
        assert "".join(pieces) + stream.flush() == hf_tok.decode(ids, skip_special_tokens=True)
    for text in TORTURE:
        stream = tok.stream()
        pieces = [stream.push(i) for i in tok.encode(text)]
        assert "".join(pieces) + stream.flush() == text
        assert not any("\ufffd" in p for p in pieces), text  # no half of a character ever leaves
