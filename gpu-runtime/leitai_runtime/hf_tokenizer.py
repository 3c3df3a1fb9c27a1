"""Tokenizers run by Hugging Face `tokenizers`: a `tokenizer.json`, or a GGUF "gpt2" vocabulary.

Byte-level BPE models (SmolLM, Llama-3, TinyLlama-style checkpoints) are not SentencePiece
models: their vocabulary spells bytes as printable characters and a regex splits text
before merging. The `tokenizers` library is the reference implementation, so it does the
work; this module only builds it from a checkpoint and adapts it to the runtime's protocol.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tokenizers import AddedToken, Regex, decoders, models, normalizers, pre_tokenizers
from tokenizers import Tokenizer as RustTokenizer

from leitai_runtime.tokenizer import TokenKind, _check_ids

log = logging.getLogger(__name__)

# llama.cpp's `tokenizer.ggml.pre` names whose splitting differs from plain GPT-2's regex.
_LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# Qwen2's: Llama 3's, but each digit is its own piece.
_QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_GPT2_PRE = ("default", "gpt2", "gpt-2")
_DIGITS_PRE = ("smollm", "starcoder", "refact")  # each digit is its own piece
_LLAMA3_PRE = ("llama-bpe", "llama3", "llama-v3", "smaug-bpe")
_QWEN2_PRE = ("qwen2",)


class HFTokenizer:
    """A `tokenizers.Tokenizer` with the runtime's `Tokenizer` protocol.

    `encode` treats text as text: a special token written in it (a user typing
    "<|im_end|>") is spelled out with ordinary pieces, so user content can never end a turn.
    `encode_special` parses special tokens, for chat templates' own markup.
    """

    add_space_prefix = False  # byte-level models keep the text's own spaces

    def __init__(self, tokenizer: RustTokenizer, *, bos_id: int | None, eos_id: int | None,
                 adds_bos: bool, extra_stop_ids: Sequence[int] = ()) -> None:
        self._special = tokenizer
        # A second instance that spells special tokens out: `encode_special_tokens` is a
        # property of the instance, and toggling it per call would not be thread-safe.
        self._plain = RustTokenizer.from_str(tokenizer.to_str())
        self._plain.encode_special_tokens = True
        self.vocab_size: int = tokenizer.get_vocab_size(with_added_tokens=True)
        if eos_id is None:
            raise ValueError("the tokenizer names no end-of-sequence token")
        _check_ids([eos_id] + ([bos_id] if bos_id is not None else []), self.vocab_size)
        self.eos_id: int = eos_id
        # Llama-family callers ask for BOS; a model without one (or one that never adds it) gets none.
        self.bos_id: int = bos_id if bos_id is not None else eos_id
        self.adds_bos = adds_bos and bos_id is not None
        self.special_ids = frozenset(
            i for i, t in tokenizer.get_added_tokens_decoder().items() if t.special)
        self.extra_stop_ids = tuple(extra_stop_ids)

    @classmethod
    def from_file(cls, path: Path, config: Mapping[str, Any] | None = None) -> HFTokenizer:
        """`tokenizer.json`, with BOS/EOS and add_bos_token from tokenizer_config.json (`config`)."""
        tokenizer = RustTokenizer.from_file(str(path))
        config = dict(config or {})
        bos = _token_id(tokenizer, config.get("bos_token"))
        eos = _token_id(tokenizer, config.get("eos_token"))
        # tokenizer.json's post-processor is what adds BOS when the model wants one
        probe = tokenizer.encode("a", add_special_tokens=True).ids
        adds_bos = bool(probe) and bos is not None and probe[0] == bos
        return cls(tokenizer, bos_id=bos, eos_id=eos, adds_bos=adds_bos)

    def pad_to(self, vocab_size: int) -> None:
        """Accept ids up to a model's larger `vocab_size`. Checkpoints pad their vocabulary
        (Qwen2: 151,936 rows for 151,665 tokens); a padding id has no token and decodes to
        nothing, as in transformers, instead of failing the request that sampled it."""
        self.vocab_size = max(self.vocab_size, vocab_size)

    @property
    def rust(self) -> RustTokenizer:
        """The underlying `tokenizers.Tokenizer` (special tokens parsed)."""
        return self._special

    def encode(self, text: str, add_bos: bool = False) -> list[int]:
        ids: list[int] = self._plain.encode(text, add_special_tokens=False).ids
        return [self.bos_id, *ids] if add_bos and self.adds_bos else ids

    def encode_special(self, text: str) -> list[int]:
        """Ids of text in which special tokens are markup (chat templates render them as text)."""
        return list(self._special.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: Sequence[int]) -> str:
        _check_ids(ids, self.vocab_size)
        return str(self._special.decode(list(ids), skip_special_tokens=True))

    def id_to_piece(self, token_id: int) -> str:
        _check_ids([token_id], self.vocab_size)
        return self._special.id_to_token(token_id) or ""  # a padding id has no piece

    def piece_to_id(self, piece: str) -> int | None:
        return self._special.token_to_id(piece)

    def token_kind(self, token_id: int) -> TokenKind:
        _check_ids([token_id], self.vocab_size)
        return TokenKind.CONTROL if token_id in self.special_ids else TokenKind.NORMAL

    def added_tokens(self) -> dict[str, int]:
        """Every added token's text (special or not) and its id."""
        return {t.content: i for i, t in self._special.get_added_tokens_decoder().items()}

    def stream(self) -> WindowDetokenizer:
        return WindowDetokenizer(self)


class WindowDetokenizer:
    """Streams text by decoding a short window of ids and emitting what it adds.

    Works for any decoder (byte-level, Metaspace, byte fallback): the window starts at a
    token where the text so far was whole, and text ending in U+FFFD (a character whose
    bytes have not all arrived) is held until the next token completes it.
    """

    def __init__(self, tokenizer: HFTokenizer) -> None:
        self._tok = tokenizer
        self._ids: list[int] = []
        self._prefix = 0  # window start
        self._read = 0  # ids whose text has been emitted

    def push(self, token_id: int) -> str:
        self._ids.append(token_id)
        return self._advance(final=False)

    def flush(self) -> str:
        return self._advance(final=True)

    def _advance(self, final: bool) -> str:
        ids = self._ids
        before = self._tok.decode(ids[self._prefix:self._read])
        text = self._tok.decode(ids[self._prefix:])
        if len(text) <= len(before) or (text.endswith("\ufffd") and not final):
            return ""
        self._prefix, self._read = self._read, len(ids)
        return text[len(before):]


def hf_tokenizer_from_gguf(meta: Mapping[str, Any]) -> HFTokenizer:
    """A byte-level BPE tokenizer from GGUF metadata (`tokenizer.ggml.model == "gpt2"`).

    Built as llama.cpp reads the file: vocabulary and merges as stored, CONTROL tokens
    special, USER_DEFINED tokens added (not special), the splitting regex chosen by
    `tokenizer.ggml.pre`, BOS only when `tokenizer.ggml.add_bos_token` says so.
    """
    tokens: list[str] = list(meta["tokenizer.ggml.tokens"])
    merges_raw: list[str] = list(meta.get("tokenizer.ggml.merges") or [])
    types: list[int] = list(meta.get("tokenizer.ggml.token_type") or [int(TokenKind.NORMAL)] * len(tokens))
    if len(types) != len(tokens):
        raise ValueError(f"{len(tokens)} tokens but {len(types)} token types")
    if not merges_raw:
        raise ValueError("tokenizer.ggml.merges is missing or empty (a BPE vocabulary needs its merges)")
    vocab: dict[str, int] = {}
    for i, piece in enumerate(tokens):
        vocab.setdefault(piece, i)
    merges: list[tuple[str, str]] = []
    for k, merge in enumerate(merges_raw):
        left, sep, right = merge.partition(" ")
        if not sep:
            raise ValueError(f"merge {k} {merge!r} is not two pieces separated by a space")
        merges.append((left, right))
    tokenizer = RustTokenizer(models.BPE(vocab, merges, fuse_unk=False, byte_fallback=False))
    pre = str(meta.get("tokenizer.ggml.pre") or "default")
    tokenizer.pre_tokenizer = _gguf_pre_tokenizer(pre)
    if pre in _QWEN2_PRE:
        tokenizer.normalizer = normalizers.NFC()  # as Qwen2's own tokenizer.json does
    tokenizer.decoder = decoders.ByteLevel()
    special = [AddedToken(tokens[i], special=True, normalized=False)
               for i, kind in enumerate(types) if kind == TokenKind.CONTROL]
    added = [AddedToken(tokens[i], special=False, normalized=False)
             for i, kind in enumerate(types) if kind == TokenKind.USER_DEFINED]
    if special:
        tokenizer.add_special_tokens(special)
    if added:
        tokenizer.add_tokens(added)
    eot = [meta[key] for key in ("tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id") if key in meta]
    return HFTokenizer(tokenizer, bos_id=meta.get("tokenizer.ggml.bos_token_id"),
                       eos_id=meta.get("tokenizer.ggml.eos_token_id"),
                       adds_bos=bool(meta.get("tokenizer.ggml.add_bos_token", False)), extra_stop_ids=eot)


def _gguf_pre_tokenizer(pre: str) -> pre_tokenizers.PreTokenizer:
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if pre in _DIGITS_PRE:
        return pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
    if pre in _LLAMA3_PRE or pre in _QWEN2_PRE:
        return pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(_QWEN2_SPLIT if pre in _QWEN2_PRE else _LLAMA3_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
    if pre not in _GPT2_PRE:
        log.warning("GGUF tokenizer.ggml.pre %r is not known here; splitting text with GPT-2's regex", pre)
    return byte_level


def _token_id(tokenizer: RustTokenizer, token: Any) -> int | None:
    """tokenizer_config.json spells a token as a string or as {"content": ...}."""
    if isinstance(token, dict):
        token = token.get("content")
    if not isinstance(token, str):
        return None
    return tokenizer.token_to_id(token)


def read_tokenizer_config(path: Path) -> dict[str, Any]:
    """tokenizer_config.json as a dict ({} when absent)."""
    if not path.is_file():
        return {}
    config = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(config, dict):
        raise ValueError("tokenizer_config.json must hold a JSON object")
    return config

