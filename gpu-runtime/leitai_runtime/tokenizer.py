"""Tokenizers for Llama-family models: SentencePiece files and GGUF vocabularies.

Both follow SentencePiece's rules, so a model gives the same ids whether it was loaded
from `tokenizer.model` or from the vocabulary embedded in a GGUF file. Byte-level BPE
models (tokenizer.json, GGUF "gpt2") are in `hf_tokenizer`.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from leitai_runtime.detokenizer import StreamDetokenizer

SPACE = "\u2581"  # "▁": SentencePiece's visible stand-in for a space


class TokenKind(IntEnum):
    """Piece types; the numbers are SentencePiece's and GGUF's `tokenizer.ggml.token_type`."""

    NORMAL = 1
    UNKNOWN = 2
    CONTROL = 3
    USER_DEFINED = 4
    UNUSED = 5
    BYTE = 6


@runtime_checkable
class Tokenizer(Protocol):
    """What the runtime needs from a tokenizer. Ids are ints in [0, vocab_size)."""

    vocab_size: int
    bos_id: int
    eos_id: int
    add_space_prefix: bool  # SentencePiece's add_dummy_prefix: a "▁" is put before the text

    def encode(self, text: str, add_bos: bool = False) -> list[int]:
        """Ids of `text` (control tokens written in the text are plain characters)."""
        ...

    def decode(self, ids: Sequence[int]) -> str:
        """Text of `ids`; control tokens such as <s> and </s> decode to nothing."""
        ...

    def id_to_piece(self, token_id: int) -> str:
        """The vocabulary entry, e.g. "▁the", "<0x0A>", "</s>"."""
        ...

    def token_kind(self, token_id: int) -> TokenKind:
        """The piece's type (normal, byte, control, ...)."""
        ...

    def stream(self) -> StreamDetokenizer:
        """A fresh incremental detokenizer for one generation's ids."""
        ...


def _sentencepiece_stream(tokenizer: Tokenizer) -> StreamDetokenizer:
    from leitai_runtime.detokenizer import IncrementalDetokenizer  # imports this module

    return IncrementalDetokenizer(tokenizer)


def byte_piece_value(piece: str) -> int:
    """The byte a byte-fallback piece such as "<0xE4>" stands for."""
    return int(piece[3:5], 16)


class SentencePieceTokenizer:
    """A `tokenizer.model` file, run by the sentencepiece library itself."""

    def __init__(self, model: Path | str | bytes) -> None:
        # Imported here: the engine (and the GPU benchmark) must run where sentencepiece is absent.
        import sentencepiece as spm

        if isinstance(model, bytes):
            self._sp = spm.SentencePieceProcessor(model_proto=model)
        else:
            self._sp = spm.SentencePieceProcessor(model_file=str(model))
        self.vocab_size: int = self._sp.vocab_size()
        self.bos_id: int = self._sp.bos_id()
        self.eos_id: int = self._sp.eos_id()
        self.unk_id: int = self._sp.unk_id()
        if self.bos_id < 0 or self.eos_id < 0:
            raise ValueError("the SentencePiece model defines no <s> or </s> piece")
        # add_dummy_prefix lives in the model's normalizer spec; probing avoids parsing protobuf
        first = self._sp.encode("a", out_type=str)
        self.add_space_prefix: bool = bool(first) and first[0].startswith(SPACE)

    def encode(self, text: str, add_bos: bool = False) -> list[int]:
        ids: list[int] = self._sp.encode(text)
        return [self.bos_id, *ids] if add_bos else ids

    def decode(self, ids: Sequence[int]) -> str:
        _check_ids(ids, self.vocab_size)
        return str(self._sp.decode(list(ids)))

    def id_to_piece(self, token_id: int) -> str:
        _check_ids([token_id], self.vocab_size)
        return str(self._sp.id_to_piece(token_id))

    def score(self, token_id: int) -> float:
        return float(self._sp.get_score(token_id))

    def token_kind(self, token_id: int) -> TokenKind:
        _check_ids([token_id], self.vocab_size)
        sp = self._sp
        if sp.is_byte(token_id):
            return TokenKind.BYTE
        if sp.is_control(token_id):
            return TokenKind.CONTROL
        if sp.is_unknown(token_id):
            return TokenKind.UNKNOWN
        if sp.is_unused(token_id):
            return TokenKind.UNUSED
        return TokenKind.NORMAL

    def stream(self) -> StreamDetokenizer:
        return _sentencepiece_stream(self)


class GGUFTokenizer:
    """A SentencePiece BPE vocabulary from GGUF metadata (llama.cpp's "llama" tokenizer model).

    Encoding is SentencePiece's BPE: split the text into characters, repeatedly merge the
    adjacent pair whose concatenation is a vocabulary piece with the highest score (the
    leftmost pair on ties), then spell symbols missing from the vocabulary as <0xXX> bytes.
    """

    def __init__(
        self,
        tokens: Sequence[str],
        scores: Sequence[float],
        token_types: Sequence[int],
        *,
        bos_id: int,
        eos_id: int,
        unk_id: int = 0,
        add_space_prefix: bool = True,
        remove_extra_whitespaces: bool = False,
    ) -> None:
        if not (len(tokens) == len(scores) == len(token_types)):
            raise ValueError(
                f"vocabulary lists differ in length: {len(tokens)} tokens, {len(scores)} scores, "
                f"{len(token_types)} token types"
            )
        self._pieces = list(tokens)
        self._scores = [float(s) for s in scores]
        self._kinds = [TokenKind(t) for t in token_types]
        self.vocab_size = len(self._pieces)
        _check_ids([bos_id, eos_id, unk_id], self.vocab_size)
        self.bos_id, self.eos_id, self.unk_id = bos_id, eos_id, unk_id
        self.add_space_prefix = add_space_prefix
        self.remove_extra_whitespaces = remove_extra_whitespaces
        # Only these kinds take part in merges and lookups, as in SentencePiece's pieces_ map.
        self._piece_ids: dict[str, int] = {}
        self._unused: set[str] = set()
        self._byte_ids: dict[int, int] = {}
        user_defined: list[str] = []
        for i, (piece, kind) in enumerate(zip(self._pieces, self._kinds, strict=True)):
            if kind in (TokenKind.NORMAL, TokenKind.USER_DEFINED, TokenKind.UNUSED):
                self._piece_ids.setdefault(piece, i)
            if kind is TokenKind.UNUSED:
                self._unused.add(piece)
            if kind is TokenKind.USER_DEFINED:
                user_defined.append(piece)
            if kind is TokenKind.BYTE:
                self._byte_ids[byte_piece_value(piece)] = i
        self._user_defined = sorted(user_defined, key=len, reverse=True)

    def encode(self, text: str, add_bos: bool = False) -> list[int]:
        ids = self._encode_text(text)
        return [self.bos_id, *ids] if add_bos else ids

    def decode(self, ids: Sequence[int]) -> str:
        # one decoder for whole and streamed text, so the two can never disagree
        stream = self.stream()
        return "".join(stream.push(i) for i in ids) + stream.flush()

    def stream(self) -> StreamDetokenizer:
        return _sentencepiece_stream(self)

    def id_to_piece(self, token_id: int) -> str:
        _check_ids([token_id], self.vocab_size)
        return self._pieces[token_id]

    def score(self, token_id: int) -> float:
        return self._scores[token_id]

    def token_kind(self, token_id: int) -> TokenKind:
        _check_ids([token_id], self.vocab_size)
        return self._kinds[token_id]

    def _encode_text(self, text: str) -> list[int]:
        if self.remove_extra_whitespaces:
            text = " ".join(part for part in text.split(" ") if part)
        if not text:
            return []
        text = text.replace(" ", SPACE)
        if self.add_space_prefix:
            text = SPACE + text
        symbols = self._split_symbols(text)
        ids: list[int] = []
        for symbol in _bpe_merge(symbols, self._piece_ids, self._scores, self._unused):
            piece_id = self._piece_ids.get(symbol)
            if piece_id is not None and symbol not in self._unused:
                ids.append(piece_id)
            elif self._byte_ids:
                ids.extend(self._byte_ids[b] for b in symbol.encode("utf-8"))
            elif not (ids and ids[-1] == self.unk_id):  # SentencePiece merges a run of unknowns
                ids.append(self.unk_id)
        return ids

    def _split_symbols(self, text: str) -> list[str]:
        """Characters, except that user-defined pieces stay whole (longest match first)."""
        if not self._user_defined:
            return list(text)
        symbols: list[str] = []
        pos = 0
        while pos < len(text):
            match = next((u for u in self._user_defined if text.startswith(u, pos)), text[pos])
            symbols.append(match)
            pos += len(match)
        return symbols


def _bpe_merge(symbols: list[str], piece_ids: dict[str, int], scores: list[float], unused: set[str]) -> list[str]:
    """SentencePiece's BPE: merge the best-scoring adjacent pair until none is in the vocabulary.

    Unused pieces take part in merging but are split back into the pair that formed them at
    the end, exactly as SentencePiece does (so they still block competing merges).
    """
    n = len(symbols)
    text = list(symbols)
    nxt = list(range(1, n + 1))  # n marks the end
    prv = list(range(-1, n - 1))
    heap: list[tuple[float, int, int, str]] = []
    unmerge: dict[str, tuple[str, str]] = {}

    def push_pair(left: int, right: int) -> None:
        if left < 0 or right >= n:
            return
        merged = text[left] + text[right]
        piece_id = piece_ids.get(merged)
        if piece_id is not None:
            heapq.heappush(heap, (-scores[piece_id], left, right, merged))
            if merged in unused:
                unmerge[merged] = (text[left], text[right])

    for i in range(n - 1):
        push_pair(i, i + 1)
    while heap:
        _, left, right, merged = heapq.heappop(heap)
        # Skip pairs made stale by an earlier merge of either side.
        if nxt[left] != right or text[left] + text[right] != merged:
            continue
        text[left], text[right] = merged, ""
        nxt[left] = nxt[right]
        if nxt[right] < n:
            prv[nxt[right]] = left
        push_pair(prv[left], left)
        push_pair(left, nxt[left])

    def resegment(symbol: str) -> list[str]:
        if symbol in unused and symbol in unmerge:
            left, right = unmerge[symbol]
            return resegment(left) + resegment(right)
        return [symbol]

    out: list[str] = []
    i = 0
    while i < n:
        out.extend(resegment(text[i]) if unmerge else [text[i]])
        i = nxt[i]
    return out


def _check_ids(ids: Sequence[int], vocab_size: int) -> None:
    for token_id in ids:
        if not 0 <= token_id < vocab_size:
            raise ValueError(f"token id {token_id} is outside the vocabulary (size {vocab_size})")
