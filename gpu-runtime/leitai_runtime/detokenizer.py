"""Streaming detokenization with SentencePiece's decoding rules.

Chinese characters and emoji outside the vocabulary come out of the model as several
byte-fallback pieces (<0xE4><0xB8><0xAD> is "中"). Emitting each piece as it arrives would
send broken UTF-8 to the browser, so bytes are held until they form a whole character.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from typing import Protocol

from leitai_runtime.tokenizer import SPACE, Tokenizer, TokenKind, byte_piece_value

_REPLACEMENT = "\ufffd"
_UNKNOWN_SURFACE = " \u2047 "  # what SentencePiece prints for <unk>


class StreamDetokenizer(Protocol):
    """Generated ids in, whole characters out; `flush` gives what is held at the end."""

    def push(self, token_id: int) -> str: ...

    def flush(self) -> str: ...


class IncrementalDetokenizer:
    """Turns generated ids into text one token at a time.

    The concatenation of every `push` and the final `flush` equals
    `tokenizer.decode(generated_ids)`: control tokens print nothing, the first piece loses
    its leading "▁" when the tokenizer adds a space prefix (as decoding an answer alone
    does), and bytes that can never form a character become U+FFFD, one per byte, exactly
    as SentencePiece does. A character split across byte pieces is never emitted in part.

    `prompt_ids` is the prompt the generation continues. It does not change the text (the
    answer is decoded on its own, like `decode(generated_ids)`); it is kept for callers
    that want it beside the stream.
    """

    def __init__(self, tokenizer: Tokenizer, prompt_ids: Sequence[int] = ()) -> None:
        self.tokenizer = tokenizer
        self.prompt_ids = tuple(prompt_ids)
        self._at_start = True
        self._pending = bytearray()  # bytes of the current run of byte pieces, not yet emitted

    def push(self, token_id: int) -> str:
        """Add one generated id; return the text it completes (possibly "")."""
        kind = self.tokenizer.token_kind(token_id)
        if kind == TokenKind.BYTE:
            self._at_start = False
            self._pending.append(byte_piece_value(self.tokenizer.id_to_piece(token_id)))
            return self._drain(final=False)
        # Any other piece ends a run of bytes; SentencePiece decodes each run on its own.
        text = self._drain(final=True)
        if kind == TokenKind.CONTROL:
            return text
        if kind == TokenKind.UNKNOWN:
            self._at_start = False
            return text + _UNKNOWN_SURFACE
        piece = self.tokenizer.id_to_piece(token_id)
        if self._at_start and self.tokenizer.add_space_prefix and piece.startswith(SPACE):
            piece = piece[1:]
        self._at_start = False
        return text + piece.replace(SPACE, " ")

    def flush(self) -> str:
        """Text still held at the end of the generation (an unfinished character: U+FFFD per byte)."""
        return self._drain(final=True)

    def _drain(self, final: bool) -> str:
        """Decode held bytes; keep an unfinished but still valid character unless `final`."""
        buf = self._pending
        out: list[str] = []
        i = 0
        while i < len(buf):
            length = _utf8_length(buf[i])
            chunk = bytes(buf[i : i + length])
            if length and len(chunk) == length:
                try:
                    out.append(chunk.decode("utf-8"))
                    i += length
                    continue
                except UnicodeDecodeError:
                    pass
            elif length and not final and _is_valid_prefix(chunk):
                break  # wait for the rest of this character
            out.append(_REPLACEMENT)
            i += 1
        del buf[:i]
        return "".join(out)


def _utf8_length(lead: int) -> int:
    """Bytes in the character a lead byte starts, or 0 if it cannot start one."""
    if lead < 0x80:
        return 1
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def _is_valid_prefix(chunk: bytes) -> bool:
    """True if more bytes could still make `chunk` a valid character (no surrogates, overlongs)."""
    try:
        codecs.utf_8_decode(chunk, "strict", False)
    except UnicodeDecodeError:
        return False
    return True
