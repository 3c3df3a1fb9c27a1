"""Stop strings on streamed text: never emitted, text cut before them, nothing lost."""

from __future__ import annotations

import pytest

from leitai_runtime.demo import demo_tokenizer_model
from leitai_runtime.text_output import TextStream
from leitai_runtime.tokenizer import SentencePieceTokenizer


@pytest.fixture(scope="module")
def tok():
    return SentencePieceTokenizer(demo_tokenizer_model())


def stream(tok, text: str, stop: tuple[str, ...]) -> tuple[list[str], bool, str]:
    ts = TextStream(tok, [], stop)
    pieces, stopped = [], False
    for token in tok.encode(text):
        new, stopped = ts.push(token)
        pieces.append(new)
        if stopped:
            break
    if not stopped:
        pieces.append(ts.finish())
    return pieces, stopped, ts.text


@pytest.mark.parametrize("text,stop,expected", [
    ("Hello world. The end is near.", ("end",), "Hello world. The "),
    ("你好，世界。我们走吧。", ("世界",), "你好，"),
    ("one two three", ("four",), "one two three"),
    ("a b### c", ("###", "b#"), "a "),
])
def test_stop_strings(tok, text, stop, expected):
    pieces, stopped, full = stream(tok, text, stop)
    assert "".join(pieces) == expected == full
    assert stopped == (expected != text)
    assert all(s not in "".join(pieces) for s in stop)


def test_without_stop_strings_text_equals_decode(tok):
    text = "混合 text 和 emoji 🙂 together"
    pieces, _, _ = stream(tok, text, ())
    assert "".join(pieces) == tok.decode(tok.encode(text))
    assert all("\ufffd" not in p for p in pieces)


@pytest.mark.parametrize("text,stop", [
    ("The capital of France is Paris.", (".ZZZ",)),
    ("你好，世界！", ("！？", "界！。")),
    ("one two three", ("three four", "e f")),
])
def test_finish_emits_what_was_held_back(tok, text, stop):
    """Generation ended by EOS or a stop token: the possible start of a stop string is text too."""
    ts = TextStream(tok, [], stop)
    pieces = [ts.push(token)[0] for token in tok.encode(text)]
    assert "".join(pieces) != text  # something was held back
    assert "".join(pieces) + ts.finish() == text == ts.text


def test_finish_after_a_stop_string_adds_nothing(tok):
    ts = TextStream(tok, [], ("世",))
    pieces, stopped = [], False
    for token in tok.encode("你好，世界龘"):
        new, stopped = ts.push(token)
        pieces.append(new)
        if stopped:
            break
    assert stopped and "".join(pieces) == "你好，"
    assert ts.finish() == "" and ts.text == "你好，"
