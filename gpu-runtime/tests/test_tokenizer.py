"""GGUFTokenizer must give exactly SentencePiece's ids and text on the same vocabulary."""

from __future__ import annotations

import pytest
import sentencepiece as spm
from helpers_tokenizer import demo_pair, gguf_twin, train_spm, with_unused_pieces
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leitai_runtime.demo_corpus import corpus_lines
from leitai_runtime.tokenizer import GGUFTokenizer, SentencePieceTokenizer, Tokenizer, TokenKind

SP, GG = demo_pair()

FIXED = [
    "",
    " ",
    "   ",
    "hello",
    " hello",
    "hello ",
    "Hello,  world!   Two  spaces.",
    "你好，世界！",
    "我想预订今晚七点四个人的座位。",
    "龘靐齉爩 — rare characters fall back to bytes",
    "emoji 😀🎉👍🏽 and flags 🇨🇳",
    "mixed 中文 and English 混合 text",
    "line one\nline two\n\nline four\n",
    "\n",
    "\t tabs\tand\r\nCRLF",
    "digits 1234567890 and 3.14159, 2023年11月27日",
    "<s>not a control token</s> [INST] x [/INST]",
    "\u2581literal lower one eighth block",
    "ümlaut café naïve Ωμέγα",
    "\u3000ideographic space\u00a0nbsp",
    "\x00nul and \x7f del",
    "def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)",
    *corpus_lines()[:40],
]


@pytest.mark.parametrize("text", FIXED)
def test_fixed_strings_encode_and_decode_like_sentencepiece(text: str) -> None:
    ids = SP.encode(text)
    assert GG.encode(text) == ids
    # "▁" in the input cannot be told apart from an escaped space, so it comes back as " "
    assert GG.decode(ids) == SP.decode(ids) == text.replace("\u2581", " ")


def test_both_satisfy_the_protocol_and_agree_on_pieces() -> None:
    assert isinstance(SP, Tokenizer) and isinstance(GG, Tokenizer)
    assert (SP.vocab_size, SP.bos_id, SP.eos_id, SP.add_space_prefix) == (GG.vocab_size, 1, 2, True)
    for i in range(SP.vocab_size):
        assert SP.id_to_piece(i) == GG.id_to_piece(i)
        assert SP.token_kind(i) == GG.token_kind(i)
    assert SP.token_kind(0) is TokenKind.UNKNOWN and SP.token_kind(1) is TokenKind.CONTROL
    assert SP.id_to_piece(3 + 0xE4) == "<0xE4>" and SP.token_kind(3 + 0xE4) is TokenKind.BYTE


def test_add_bos() -> None:
    for tok in (SP, GG):
        assert tok.encode("hi", add_bos=True) == [tok.bos_id, *tok.encode("hi")]
        assert tok.encode("", add_bos=True) == [tok.bos_id]


def test_byte_fallback_spells_unknown_characters_as_utf8_bytes() -> None:
    pieces = [GG.id_to_piece(i) for i in GG.encode("龘")]
    assert pieces[-3:] == ["<0xE9>", "<0xBE>", "<0x98>"]


@pytest.mark.parametrize("bad", [-1, 2000, 10**6])
def test_out_of_range_ids_raise(bad: int) -> None:
    for tok in (SP, GG):
        with pytest.raises(ValueError, match="outside the vocabulary"):
            tok.decode([5, bad])
        with pytest.raises(ValueError):
            tok.id_to_piece(bad)


CORPUS_CHARS = "".join(sorted(set("".join(corpus_lines()))))
texts = st.text(
    alphabet=st.one_of(st.sampled_from(CORPUS_CHARS), st.sampled_from(" \n\t"), st.characters(codec="utf-8")),
    max_size=60,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_property_encode_matches_sentencepiece(text: str) -> None:
    ids = SP.encode(text)
    assert GG.encode(text) == ids
    assert GG.decode(ids) == text.replace("\u2581", " ")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, SP.vocab_size - 1), max_size=30))
def test_property_decode_matches_sentencepiece_on_any_ids(ids: list[int]) -> None:
    # random ids include broken byte runs, <unk>, <s> and </s> anywhere
    assert GG.decode(ids) == SP.decode(ids)


@pytest.mark.parametrize(
    "options",
    [{"add_dummy_prefix": False}, {"remove_extra_whitespaces": True}, {"user_defined_symbols": ["<tool>", "Leitai"]}],
    ids=["no-space-prefix", "remove-extra-whitespace", "user-defined"],
)
def test_normalizer_options_and_user_defined_pieces(options: dict[str, object]) -> None:
    model = train_spm(**{k: tuple(v) if isinstance(v, list) else v for k, v in options.items()})
    sp = SentencePieceTokenizer(model)
    gg = gguf_twin(model, user_defined=("<tool>", "Leitai"))
    for text in ["  two  spaces  ", "a<tool>b Leitai擂台 <tool>", "hello world", " x", "你好 世界", "   "]:
        assert gg.encode(text) == sp.encode(text), text
        assert gg.decode(sp.encode(text)) == sp.decode(sp.encode(text)), text


COMMON = tuple(SP.id_to_piece(i) for i in SP.encode("the answer 的 你好 ing re") if SP.id_to_piece(i) != "\u2581")
UNUSED_MODEL = with_unused_pieces(train_spm(), (*COMMON, "\u2581"))


def test_unused_pieces_merge_then_split_back_like_sentencepiece() -> None:
    sp, gg = SentencePieceTokenizer(UNUSED_MODEL), gguf_twin(UNUSED_MODEL)
    assert gg.token_kind(sp.encode("the")[0]) is not TokenKind.UNUSED
    for text in FIXED + ["the answer is there", "你好你好，我的朋友", "singing reading"]:
        assert gg.encode(text) == sp.encode(text), text
    ids = list(range(sp.vocab_size))
    assert gg.decode(ids) == sp.decode(ids)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_property_unused_pieces(text: str) -> None:
    assert gguf_twin(UNUSED_MODEL).encode(text) == SentencePieceTokenizer(UNUSED_MODEL).encode(text)


def test_vocabulary_without_byte_fallback_uses_unk() -> None:
    model = train_spm(byte_fallback=False)
    raw = spm.SentencePieceProcessor(model_proto=model)
    gg = gguf_twin(model)
    for text in ["龘x", "龘靐x", "a龘靐 龘", "😀😀", *FIXED]:
        assert gg.encode(text) == raw.encode(text), text
    assert gg.encode("龘靐x").count(0) == 1


def test_mismatched_vocabulary_lists_are_rejected() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        GGUFTokenizer(["<unk>", "<s>", "</s>"], [0.0, 0.0], [2, 3, 3], bos_id=1, eos_id=2)
