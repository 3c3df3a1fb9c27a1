"""Streaming text must never show broken characters and must add up to decode(ids)."""

from __future__ import annotations

import pytest
from helpers_tokenizer import demo_pair
from hypothesis import given, settings
from hypothesis import strategies as st

from leitai_runtime.detokenizer import IncrementalDetokenizer
from leitai_runtime.tokenizer import Tokenizer, TokenKind

SP, GG = demo_pair()
REPLACEMENT = "\ufffd"


def byte_id(value: int) -> int:
    return 3 + value  # <0x00> is id 3 in the demo vocabulary


def stream(tokenizer: Tokenizer, ids: list[int], prompt_ids: tuple[int, ...] = ()) -> list[str]:
    detok = IncrementalDetokenizer(tokenizer, prompt_ids)
    return [detok.push(i) for i in ids] + [detok.flush()]


@pytest.mark.parametrize("tokenizer", [SP, GG], ids=["sentencepiece", "gguf"])
@pytest.mark.parametrize(
    "text",
    [
        "龘靐齉爩，罕见的汉字逐字节输出。",
        "表情符号😀🎉👍🏽和国旗🇨🇳也一样。",
        "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
        "Mixed 中文 and English, 数字 2023, newline\n结束",
    ],
)
def test_chinese_streams_token_by_token_without_broken_characters(tokenizer: Tokenizer, text: str) -> None:
    ids = tokenizer.encode(text)
    chunks = stream(tokenizer, ids)
    assert all(REPLACEMENT not in chunk for chunk in chunks)
    assert "".join(chunks) == tokenizer.decode(ids) == text


def test_the_stream_really_holds_byte_pieces() -> None:
    ids = SP.encode("龘")
    assert [SP.token_kind(i) for i in ids[-3:]] == [TokenKind.BYTE] * 3
    assert stream(SP, ids)[-4:] == ["", "", "龘", ""]


def test_a_split_character_is_emitted_once_complete() -> None:
    detok = IncrementalDetokenizer(SP)
    assert detok.push(byte_id(0xE4)) == ""
    assert detok.push(byte_id(0xB8)) == ""
    assert detok.push(byte_id(0xAD)) == "中"
    assert detok.flush() == ""


def test_first_piece_loses_its_space_prefix_and_prompt_does_not_change_that() -> None:
    ids = SP.encode("the answer")
    prompt = tuple(SP.encode("[INST] question [/INST]", add_bos=True))
    assert "".join(stream(SP, ids, prompt)) == "the answer" == SP.decode(ids)
    assert SP.id_to_piece(ids[0]).startswith("\u2581")


def test_control_tokens_print_nothing_and_do_not_reset_the_start() -> None:
    ids = [SP.bos_id, *SP.encode("hi there"), SP.eos_id]
    assert stream(SP, ids)[0] == ""
    assert "".join(stream(SP, ids)) == "hi there"


def test_bytes_that_can_never_form_a_character_become_replacements_like_sentencepiece() -> None:
    ids = [byte_id(0xE4), byte_id(0xB8), byte_id(0x41)]  # a 3-byte lead cut short by "A"
    assert "".join(stream(SP, ids)) == SP.decode(ids) == REPLACEMENT * 2 + "A"
    lonely = [byte_id(0xE4)]
    assert stream(SP, lonely) == ["", REPLACEMENT] and SP.decode(lonely) == REPLACEMENT


def test_an_unfinished_character_is_cut_by_a_normal_piece() -> None:
    ids = [byte_id(0xE4), *SP.encode("ok")]
    assert "".join(stream(GG, ids)) == SP.decode(ids)


ID_STRATEGY = st.one_of(
    st.integers(3, 258),  # byte pieces: most likely to split characters
    st.integers(0, SP.vocab_size - 1),
    st.sampled_from([byte_id(b) for b in (0xE4, 0xB8, 0xAD, 0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0, 0xC0)]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ID_STRATEGY, max_size=24))
def test_property_stream_concatenation_equals_sentencepiece_decode(ids: list[int]) -> None:
    chunks = stream(SP, ids)
    assert "".join(chunks) == SP.decode(ids)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_property_streaming_any_text_never_emits_a_replacement(text: str) -> None:
    ids = SP.encode(text)
    chunks = stream(SP, ids)
    assert all(REPLACEMENT not in chunk for chunk in chunks) or REPLACEMENT in text
    assert "".join(chunks) == SP.decode(ids)
