"""SentencePiece models for tokenizer tests, and their GGUF-vocabulary twins."""

from __future__ import annotations

import functools
import io
from typing import Any

import sentencepiece as spm
from helpers_model import tokenizer_model_bytes
from sentencepiece import sentencepiece_model_pb2

from leitai_runtime.demo_corpus import corpus_lines
from leitai_runtime.tokenizer import GGUFTokenizer, SentencePieceTokenizer, TokenKind


@functools.lru_cache(maxsize=8)
def train_spm(vocab_size: int = 1000, **options: Any) -> bytes:
    """A BPE model on the demo corpus with Llama's options, overridable (cached)."""
    settings: dict[str, Any] = dict(
        model_type="bpe", vocab_size=vocab_size, byte_fallback=True, character_coverage=1.0,
        normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=True,
        split_digits=True, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=1, minloglevel=2,
    )  # fmt: skip
    settings.update(options)
    spm.set_random_generator_seed(0)
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus_lines()), model_writer=out, **settings)
    return out.getvalue()


def with_unused_pieces(model: bytes, pieces: tuple[str, ...]) -> bytes:
    """The same model with some pieces marked UNUSED (as padding or retired tokens are)."""
    proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]  # generated code
    proto.ParseFromString(model)
    for entry in proto.pieces:
        if entry.piece in pieces:
            entry.type = sentencepiece_model_pb2.ModelProto.SentencePiece.UNUSED  # type: ignore[attr-defined]
    return proto.SerializeToString()


def gguf_twin(model: bytes, user_defined: tuple[str, ...] = ()) -> GGUFTokenizer:
    """A GGUFTokenizer from the pieces, scores and types llama.cpp's converter would store."""
    sp = spm.SentencePieceProcessor(model_proto=model)
    ours = SentencePieceTokenizer(model)
    types = []
    for i in range(sp.vocab_size()):
        kind = ours.token_kind(i)
        if kind is TokenKind.NORMAL and sp.id_to_piece(i) in user_defined:
            kind = TokenKind.USER_DEFINED
        types.append(int(kind))
    normalizer = _normalizer_options(sp)
    return GGUFTokenizer(
        [sp.id_to_piece(i) for i in range(sp.vocab_size())],
        [sp.get_score(i) for i in range(sp.vocab_size())],
        types,
        bos_id=sp.bos_id(),
        eos_id=sp.eos_id(),
        unk_id=sp.unk_id(),
        **normalizer,
    )


def _normalizer_options(sp: spm.SentencePieceProcessor) -> dict[str, bool]:
    # probe instead of parsing the protobuf: "a" gains "▁" with a dummy prefix; "a  b" keeps
    # its double space unless extra whitespace is removed
    return {
        "add_space_prefix": sp.encode("a", out_type=str)[0].startswith("\u2581"),
        "remove_extra_whitespaces": sp.decode(sp.encode("a  b")) == "a b",
    }


def demo_pair() -> tuple[SentencePieceTokenizer, GGUFTokenizer]:
    model = tokenizer_model_bytes()
    return SentencePieceTokenizer(model), gguf_twin(model)
